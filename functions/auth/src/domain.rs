//! The auth service's domain types: ids, and the newtypes sign-up and login
//! input is parsed into (parse, don't validate: a `Password` that exists
//! meets the strength rules, an `EmailAddress` is normalised and well-formed).

use lite_core::{Problem, Violations};
use lite_http::Role;
use serde::Serialize;
use utoipa::ToSchema;

lite_core::define_id!(UserId, "usr");
lite_core::define_id!(SessionId, "ses");

/// A normalised e-mail address: trimmed, lower-case, `local@domain` with a
/// dotted DNS domain. Lower-casing the local part too is what users expect
/// (`Ann@x.com` and `ann@x.com` are one account), though RFC 5321 would
/// allow a server to tell them apart.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

pub const MAX_EMAIL_LEN: usize = 254;

impl EmailAddress {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err("is required".into());
        }
        if email.len() > MAX_EMAIL_LEN {
            return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
        }
        let invalid = || "is not a valid e-mail address".to_owned();
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        if local.is_empty() || local.len() > 64 || domain.contains('@') {
            return Err(invalid());
        }
        // RFC 5322 dot-atom (no quoted local parts: nobody types those).
        let atext = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~-".contains(c);
        let dot_atom_ok = local
            .split('.')
            .all(|part| !part.is_empty() && part.chars().all(atext));
        if !dot_atom_ok {
            return Err(invalid());
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            (1..=63).contains(&l.len())
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        let tld_ok = labels.last().is_some_and(|t| {
            t.len() >= 2 && (t.chars().all(|c| c.is_ascii_alphabetic()) || t.starts_with("xn--"))
        });
        if labels.len() < 2 || !labels.iter().all(label_ok) || !tld_ok {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A new password that meets the strength rules. Its `Debug` never shows it.
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(***)")
    }
}

impl Password {
    /// The rules (NIST SP 800-63B in spirit: length first, no composition
    /// theatre beyond refusing the obviously weak): 10 to 128 characters,
    /// at least two character classes (lower, upper, digit, other), at least
    /// five different characters, and not the e-mail address or its local
    /// part.
    pub fn new(raw: &str, email: Option<&EmailAddress>) -> Result<Self, String> {
        let chars = raw.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(format!("must be at least {MIN_PASSWORD_CHARS} characters"));
        }
        if chars > MAX_PASSWORD_CHARS {
            return Err(format!("must be at most {MAX_PASSWORD_CHARS} characters"));
        }
        let classes = [
            raw.chars().any(|c| c.is_lowercase()),
            raw.chars().any(|c| c.is_uppercase()),
            raw.chars().any(|c| c.is_numeric()),
            raw.chars().any(|c| !c.is_alphanumeric()),
        ];
        if classes.iter().filter(|c| **c).count() < 2 {
            return Err(
                "must mix at least two of: lower-case letters, upper-case letters, digits, symbols"
                    .into(),
            );
        }
        let mut distinct: Vec<char> = raw.chars().collect();
        distinct.sort_unstable();
        distinct.dedup();
        if distinct.len() < 5 {
            return Err("must use at least 5 different characters".into());
        }
        if let Some(email) = email {
            let lower = raw.trim().to_lowercase();
            if lower == email.as_str() || lower == email.local_part() {
                return Err("must not be your e-mail address".into());
            }
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

pub const MAX_NAME_CHARS: usize = 100;

/// A display name: trimmed, 1 to 100 characters, no control characters
/// (the rule of the users service, which keeps the profile).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    /// The profile owner's rule (`users::registration::parse_name`), so a
    /// name auth accepts is always a valid profile name.
    pub fn parse(raw: &str) -> Result<Self, String> {
        users::registration::parse_name(raw).map(Self)
    }

    /// A name for an account whose provider gave none usable: the claim if it
    /// parses (cut to the limit), else the e-mail's local part.
    pub fn or_fallback(raw: Option<&str>, email: &EmailAddress) -> Self {
        let cut = |s: &str| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>();
        raw.and_then(|r| Self::parse(&cut(r)).ok())
            .or_else(|| Self::parse(&cut(email.local_part())).ok())
            .unwrap_or_else(|| Self("Customer".into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A parsed sign-up: every field checked, every problem reported at once.
#[derive(Debug, Clone)]
pub struct Signup {
    pub email: EmailAddress,
    pub password: Password,
    pub name: DisplayName,
}

impl Signup {
    pub fn parse(email: &str, password: &str, name: &str) -> Result<Self, Problem> {
        let mut v = Violations::new();
        let email = v.check("email", EmailAddress::parse(email));
        let password = v.check("password", Password::new(password, email.as_ref()));
        let name = v.check("name", DisplayName::parse(name));
        v.into_result()?;
        match (email, password, name) {
            (Some(email), Some(password), Some(name)) => Ok(Self {
                email,
                password,
                name,
            }),
            _ => Err(Problem::internal()),
        }
    }
}

/// A parsed login attempt. The password is not held to the sign-up rules
/// (old accounts may predate them), only bounded.
pub struct Login {
    pub email: EmailAddress,
    pub password: String,
}

impl Login {
    pub fn parse(email: &str, password: &str) -> Result<Self, Problem> {
        let mut v = Violations::new();
        let email = v.check("email", EmailAddress::parse(email));
        if password.is_empty() {
            v.add("password", "is required");
        } else if password.chars().count() > MAX_PASSWORD_CHARS {
            v.add(
                "password",
                format!("must be at most {MAX_PASSWORD_CHARS} characters"),
            );
        }
        v.into_result()?;
        let email = email.ok_or_else(Problem::internal)?;
        Ok(Self {
            email,
            password: password.to_owned(),
        })
    }
}

/// An account as the API shows it (`user` in token responses).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, example = "usr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    pub id: UserId,
    #[schema(value_type = String, example = "ann@example.com")]
    pub email: EmailAddress,
    pub name: String,
    #[schema(value_type = Vec<String>, example = json!(["customer"]))]
    pub roles: Vec<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        let e = EmailAddress::parse("  Ann.Lee+shop@Example.COM ").unwrap();
        assert_eq!(e.as_str(), "ann.lee+shop@example.com");
        assert_eq!(e.local_part(), "ann.lee+shop");
        assert!(EmailAddress::parse("a@b.co").is_ok());
        assert!(EmailAddress::parse("a@xn--bcher-kva.xn--p1ai").is_ok());
        for bad in [
            "",
            "ann",
            "ann@",
            "@example.com",
            "ann@example",
            "ann@@example.com",
            "a b@example.com",
            "ann.@example.com",
            "an..n@example.com",
            "ann@-example.com",
            "ann@example.c",
            "ann@exa_mple.com",
            "ann@example.com.",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(EmailAddress::parse(&long).is_err());
    }

    #[test]
    fn password_rules() {
        let email = EmailAddress::parse("ann.lee@example.com").unwrap();
        assert!(Password::new("correct horse 42", Some(&email)).is_ok());
        assert!(Password::new("Tr0ub4dor&3", Some(&email)).is_ok());
        let err = |p: &str| Password::new(p, Some(&email)).unwrap_err();
        assert!(err("Sh0rt!").contains("at least 10"));
        assert!(err(&"aB1".repeat(43)).contains("at most 128"));
        assert!(err("abcdefghijkl").contains("two of"));
        assert!(err("12345678901").contains("two of"));
        assert!(err("aaaaaaaaa1").contains("5 different"));
        assert!(err("Ann.Lee@Example.com").contains("e-mail"));
        assert!(err("ann.lee@example.com").contains("e-mail"));
        let local = EmailAddress::parse("horse12345@example.com").unwrap();
        assert!(Password::new("Horse12345", Some(&local)).is_err());
        assert_eq!(
            format!("{:?}", Password::new("correct horse 42", None).unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn names() {
        assert_eq!(
            DisplayName::parse("  Ann Lee ").unwrap().as_str(),
            "Ann Lee"
        );
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(101)).is_err());
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert!(DisplayName::parse("a\u{7}b").is_err());
        let email = EmailAddress::parse("zed@example.com").unwrap();
        assert_eq!(DisplayName::or_fallback(None, &email).as_str(), "zed");
        assert_eq!(DisplayName::or_fallback(Some(" "), &email).as_str(), "zed");
        assert_eq!(
            DisplayName::or_fallback(Some(&"y".repeat(300)), &email)
                .as_str()
                .len(),
            100
        );
    }

    #[test]
    fn signup_reports_every_bad_field() {
        let p = Signup::parse("nope", "short", "").unwrap_err();
        let fields: Vec<_> = p.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["email", "password", "name"]);
    }
}
