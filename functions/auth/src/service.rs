//! The auth operations behind the routes: sign-up, login, refresh, logout,
//! Google sign-in, and the admin bootstrap.

use crate::accounts::{self, Account, EMAIL_CLAIM_OP};
use crate::config::AuthState;
use crate::domain::{
    DisplayName, EmailAddress, Login, Password, SessionId, Signup, UserId, UserView,
};
use crate::keys::SigningKeys;
use crate::sessions::{self, Method, RefreshToken};
use crate::throttle::{self, Charge};
use crate::{password, AuthError};
use chrono::{DateTime, Utc};
use lite_core::{Ids, Problem};
use lite_http::auth::{AUDIENCE, ISSUER};
use lite_http::{Claims, ClientIp, Role};
use lite_metrics::{LoginMethod, LoginOutcome};
use lite_ports::Context;
use lite_store::optimistic::{self, lost_race, Attempt, POLICY};
use lite_store::{Store, StoreError, TxOp};
use serde::Serialize;
use utoipa::ToSchema;

/// Access-token lifetime.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// What sign-up, login, refresh and Google sign-in answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenResponse {
    pub user: UserView,
    /// EdDSA JWT; send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    /// Opaque; single use: `POST /v1/auth/refresh` answers a new one.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
}

/// The profile's current name (the users service owns it); the name given
/// at sign-up when the profile cannot be read.
async fn display_name(store: &dyn Store, account: &Account) -> String {
    match users::read::profile(store, account.id.as_str()).await {
        Ok(Some(profile)) => profile.name,
        Ok(None) => account.name.clone(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the profile; using the sign-up name");
            account.name.clone()
        }
    }
}

fn issue(
    keys: &SigningKeys,
    ids: &dyn Ids,
    account: &Account,
    name: String,
    sid: &SessionId,
    refresh: &RefreshToken,
    now: DateTime<Utc>,
) -> Result<TokenResponse, AuthError> {
    let iat = now.timestamp();
    let claims = Claims {
        sub: account.id.to_string(),
        email: Some(account.email.to_string()),
        roles: account.roles.clone(),
        sid: sid.to_string(),
        jti: ids.next().to_string(),
        iat,
        exp: iat + ACCESS_TTL_SECS,
        iss: ISSUER.into(),
        aud: AUDIENCE.into(),
    };
    let access_token = keys
        .sign(&claims)
        .map_err(|e| AuthError::Keys(e.to_string()))?;
    Ok(TokenResponse {
        user: UserView {
            id: account.id.clone(),
            email: account.email.clone(),
            name,
            roles: account.roles.clone(),
        },
        access_token,
        refresh_token: refresh.as_str().to_owned(),
        expires_in: ACCESS_TTL_SECS,
    })
}

/// Opens a session for `account` (one transaction, plus `extra` ops) and
/// answers its tokens.
async fn open_session(
    state: &AuthState,
    account: &Account,
    name: String,
    method: Method,
    extra: Vec<TxOp>,
) -> Result<TokenResponse, AuthError> {
    let keys = state.signing_keys().await?;
    let ctx = &state.ctx;
    let now = ctx.clock.now();
    let session = sessions::open(ctx.ids.as_ref(), &account.id, method, now);
    let mut ops = extra;
    ops.extend(session.ops);
    match ctx.store.transact(ops).await {
        Ok(()) => {}
        Err(e) if e.failed_on(EMAIL_CLAIM_OP) => return Err(AuthError::EmailTaken),
        Err(e) => return Err(e.into()),
    }
    issue(
        &keys,
        ctx.ids.as_ref(),
        account,
        name,
        &session.sid,
        &session.refresh,
        now,
    )
}

/// `POST /v1/auth/signup`: one transaction creates the credentials, the
/// e-mail claim (409 when taken), the profile and preferences, the
/// `user.registered.v1` event and the first session.
pub async fn signup(
    state: &AuthState,
    signup: Signup,
    ip: ClientIp,
) -> (Result<TokenResponse, AuthError>, Vec<Charge>) {
    let store = state.ctx.store.as_ref();
    let now = state.ctx.clock.now();
    let charge = match throttle::charge(
        store,
        state.limits.signup_per_ip,
        &throttle::ip_subject(ip.0),
        now,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => return (Err(e.into()), vec![]),
    };
    if charge.exceeded() {
        let retry_after = charge.reset_in;
        return (Err(AuthError::RateLimited { retry_after }), vec![charge]);
    }
    (create_with_password(state, signup).await, vec![charge])
}

async fn create_with_password(
    state: &AuthState,
    signup: Signup,
) -> Result<TokenResponse, AuthError> {
    // Load the keys before writing anything: a key problem must not leave
    // an account behind that the caller never got tokens for.
    state.signing_keys().await?;
    let hash = password::hash(&signup.password)
        .await
        .map_err(AuthError::Internal)?;
    let account = Account {
        id: UserId::generate(state.ctx.ids.as_ref()),
        email: signup.email,
        name: signup.name.as_str().to_owned(),
        roles: vec![Role::Customer],
        password_hash: Some(hash),
        google_subject: None,
    };
    let ops = accounts::create_ops(&state.ctx, &account, state.ctx.clock.now());
    let name = account.name.clone();
    open_session(state, &account, name, Method::Password, ops).await
}

/// `POST /v1/auth/login`. Both counters (account, address) are charged
/// first; a success gives both charges back, so only failures count. An
/// unknown e-mail does the same reads and the same argon2 work as a wrong
/// password, and gets the same answer.
pub async fn login(
    state: &AuthState,
    login: Login,
    ip: ClientIp,
) -> (Result<TokenResponse, AuthError>, Vec<Charge>) {
    let store = state.ctx.store.as_ref();
    let now = state.ctx.clock.now();
    let ip_subject = throttle::ip_subject(ip.0);
    let (per_account, per_ip) = tokio::join!(
        throttle::charge(
            store,
            state.limits.login_per_account,
            login.email.as_str(),
            now
        ),
        throttle::charge(store, state.limits.login_per_ip, &ip_subject, now),
    );
    let (mut per_account, mut per_ip) = match (per_account, per_ip) {
        (Ok(a), Ok(i)) => (a, i),
        (Err(e), _) | (_, Err(e)) => return (Err(e.into()), vec![]),
    };
    if per_account.exceeded() || per_ip.exceeded() {
        let retry_after = [&per_account, &per_ip]
            .iter()
            .filter(|c| c.exceeded())
            .map(|c| c.reset_in)
            .max()
            .unwrap_or(1);
        tracing::warn!(ip = %ip_subject, "login rate limited");
        lite_metrics::login(LoginMethod::Password, LoginOutcome::Throttled);
        return (
            Err(AuthError::RateLimited { retry_after }),
            vec![per_account, per_ip],
        );
    }
    let result = check_password(state, &login).await;
    let result = match result {
        Ok(account) => {
            let name = display_name(store, &account).await;
            open_session(state, &account, name, Method::Password, vec![]).await
        }
        Err(e) => Err(e),
    };
    count_login(LoginMethod::Password, &result);
    if !matches!(result, Err(AuthError::WrongCredentials)) {
        let (a, i) = tokio::join!(
            throttle::refund(store, &mut per_account),
            throttle::refund(store, &mut per_ip)
        );
        if let Err(e) = a.and(i) {
            tracing::warn!(error = %e, "cannot refund a login charge");
        }
    }
    (result, vec![per_account, per_ip])
}

async fn check_password(state: &AuthState, login: &Login) -> Result<Account, AuthError> {
    let account = accounts::by_email(state.ctx.store.as_ref(), &login.email).await?;
    let hash = account.as_ref().and_then(|a| a.password_hash.as_deref());
    let matched = password::verify(&login.password, hash)
        .await
        .map_err(AuthError::Internal)?;
    match account {
        Some(account) if matched => Ok(account),
        _ => Err(AuthError::WrongCredentials),
    }
}

/// `POST /v1/auth/refresh`: rotates the refresh token. A spent token is
/// reuse: the session is revoked and the caller gets 401.
pub async fn refresh(state: &AuthState, presented: &str) -> Result<TokenResponse, AuthError> {
    let ctx = &state.ctx;
    let store = ctx.store.as_ref();
    let now = ctx.clock.now();
    let token = RefreshToken::parse(presented).ok_or(AuthError::InvalidRefreshToken)?;
    let stored = sessions::find_refresh(store, &token)
        .await?
        .ok_or(AuthError::InvalidRefreshToken)?;
    if stored.spent {
        reuse_detected(store, &stored.sid, now).await?;
        return Err(AuthError::InvalidRefreshToken);
    }
    if stored.expires_at <= now.timestamp()
        || !sessions::is_live(store, &stored.sid, stored.user.as_str(), now).await?
    {
        return Err(AuthError::InvalidRefreshToken);
    }
    let account = accounts::by_id(store, &stored.user)
        .await?
        .ok_or(AuthError::InvalidRefreshToken)?;
    let keys = state.signing_keys().await?;
    let name = display_name(store, &account).await;
    let next = sessions::new_refresh_token();
    let ops = sessions::rotate(&token, &next, &account.id, &stored.sid, now);
    match store.transact(ops).await {
        Ok(()) => issue(
            &keys,
            ctx.ids.as_ref(),
            &account,
            name,
            &stored.sid,
            &next,
            now,
        ),
        // Spent by a concurrent refresh: the same token was presented twice.
        Err(e) if e.failed_on(sessions::SPEND_OP) => {
            reuse_detected(store, &stored.sid, now).await?;
            Err(AuthError::InvalidRefreshToken)
        }
        // Revoked meanwhile.
        Err(e) if e.failed_on(sessions::SESSION_OP) => Err(AuthError::InvalidRefreshToken),
        Err(e) => Err(e.into()),
    }
}

async fn reuse_detected(
    store: &dyn Store,
    sid: &SessionId,
    now: DateTime<Utc>,
) -> Result<(), AuthError> {
    tracing::warn!(session = %sid, "refresh token reused; revoking the session");
    sessions::revoke(store, sid, "refresh token reuse", now).await?;
    Ok(())
}

/// `POST /v1/auth/logout`: revokes the caller's session (and spends the
/// refresh token, if given and of this session).
pub async fn logout(
    state: &AuthState,
    claims: &Claims,
    refresh: Option<&str>,
) -> Result<(), AuthError> {
    let store = state.ctx.store.as_ref();
    let now = state.ctx.clock.now();
    let sid = SessionId::parse(&claims.sid).ok_or(AuthError::InvalidRefreshToken)?;
    sessions::revoke(store, &sid, "logout", now).await?;
    if let Some(token) = refresh.and_then(RefreshToken::parse) {
        sessions::spend(store, &token, &sid, now).await?;
    }
    Ok(())
}

/// `GET /v1/auth/google/start`: the provider URL to redirect to.
pub async fn google_start(state: &AuthState) -> Result<String, AuthError> {
    let google = state.google()?;
    google
        .start(state.ctx.store.as_ref(), state.ctx.clock.now())
        .await
}

/// `GET /v1/auth/google/callback`: the account with the verified e-mail
/// (linked to the Google subject on first use), or a new one without a
/// password.
pub async fn google_callback(
    state: &AuthState,
    code: &str,
    pending: &str,
) -> Result<TokenResponse, AuthError> {
    let result = google_sign_in(state, code, pending).await;
    count_login(LoginMethod::Google, &result);
    result
}

/// `logins{method, outcome}` for a sign-in that got past throttling:
/// a session is `success`; refused credentials, state, code or identity
/// are `failure`; our own faults (store, provider unreachable, not
/// configured) are no sign-in outcome and count nothing.
fn count_login(method: LoginMethod, result: &Result<TokenResponse, AuthError>) {
    let outcome = match result {
        Ok(_) => LoginOutcome::Success,
        Err(
            AuthError::WrongCredentials
            | AuthError::BadState(_)
            | AuthError::CodeRejected
            | AuthError::IdentityRejected(_),
        ) => LoginOutcome::Failure,
        Err(AuthError::RateLimited { .. }) => LoginOutcome::Throttled,
        Err(_) => return,
    };
    lite_metrics::login(method, outcome);
}

async fn google_sign_in(
    state: &AuthState,
    code: &str,
    pending: &str,
) -> Result<TokenResponse, AuthError> {
    let google = state.google()?;
    let store = state.ctx.store.as_ref();
    let identity = google
        .callback(store, state.ctx.clock.now(), code, pending)
        .await?;
    // Two rounds: a concurrent first sign-in may create the account between
    // our read and our write.
    for _ in 0..2 {
        let now = state.ctx.clock.now();
        match accounts::by_email(store, &identity.email).await? {
            Some(account) => {
                match &account.google_subject {
                    Some(subject) if subject != &identity.subject => {
                        return Err(AuthError::IdentityRejected(
                            "the account is linked to another Google identity".into(),
                        ))
                    }
                    Some(_) => {}
                    None => {
                        match accounts::link_google(store, &account, &identity.subject, now).await {
                            Ok(()) | Err(StoreError::ConditionFailed) => {}
                            Err(e) => return Err(e.into()),
                        }
                    }
                }
                let name = display_name(store, &account).await;
                return open_session(state, &account, name, Method::Google, vec![]).await;
            }
            None => {
                let account = Account {
                    id: UserId::generate(state.ctx.ids.as_ref()),
                    name: DisplayName::or_fallback(identity.name.as_deref(), &identity.email)
                        .as_str()
                        .to_owned(),
                    email: identity.email.clone(),
                    roles: vec![Role::Customer],
                    password_hash: None,
                    google_subject: Some(identity.subject.clone()),
                };
                let ops = accounts::create_ops(&state.ctx, &account, now);
                let name = account.name.clone();
                match open_session(state, &account, name, Method::Google, ops).await {
                    Err(AuthError::EmailTaken) => continue,
                    other => return other,
                }
            }
        }
    }
    Err(AuthError::Internal(
        "the account kept changing during Google sign-in".into(),
    ))
}

/// What [`ensure_admin`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminBootstrap {
    /// A new account with roles customer and admin.
    Created(UserId),
    /// An existing account got the admin role (its password is unchanged).
    Promoted(UserId),
    /// The account was an administrator already.
    Unchanged(UserId),
}

impl AdminBootstrap {
    pub fn user_id(&self) -> &UserId {
        match self {
            AdminBootstrap::Created(id)
            | AdminBootstrap::Promoted(id)
            | AdminBootstrap::Unchanged(id) => id,
        }
    }
}

/// Makes sure an administrator account with `email` exists: creates it
/// (roles customer + admin, `password`, which must meet the sign-up rules)
/// or adds the admin role to the existing account with that e-mail (whose
/// password is left alone). Idempotent; safe to run at every start-up and
/// from several processes at once.
pub async fn ensure_admin(
    ctx: &Context,
    email: &str,
    password: &str,
) -> Result<AdminBootstrap, AuthError> {
    let email = EmailAddress::parse(email).map_err(|m| Problem::field("email", m))?;
    let store = ctx.store.as_ref();
    let email = &email;
    optimistic::retry(&POLICY, move |_| async move {
        let now = ctx.clock.now();
        match accounts::by_email(store, email).await? {
            Some(account) if account.roles.contains(&Role::Admin) => {
                Ok(Attempt::Done(AdminBootstrap::Unchanged(account.id)))
            }
            Some(account) => {
                let mut roles = account.roles.clone();
                roles.push(Role::Admin);
                match accounts::set_roles(store, &account, &account.roles, &roles, now).await {
                    Ok(()) => Ok(Attempt::Done(AdminBootstrap::Promoted(account.id))),
                    Err(e) if lost_race(&e, &[]) => Ok(Attempt::Retry),
                    Err(e) => Err(e.into()),
                }
            }
            None => {
                let password = Password::new(password, Some(email))
                    .map_err(|m| Problem::field("password", m))?;
                let hash = password::hash(&password)
                    .await
                    .map_err(AuthError::Internal)?;
                let account = Account {
                    id: UserId::generate(ctx.ids.as_ref()),
                    email: email.clone(),
                    name: "Administrator".into(),
                    roles: vec![Role::Customer, Role::Admin],
                    password_hash: Some(hash),
                    google_subject: None,
                };
                match store
                    .transact(accounts::create_ops(ctx, &account, now))
                    .await
                {
                    Ok(()) => Ok(Attempt::Done(AdminBootstrap::Created(account.id))),
                    // Created concurrently: promote that account instead.
                    Err(e) if lost_race(&e, &[EMAIL_CLAIM_OP]) => Ok(Attempt::Retry),
                    Err(e) => Err(e.into()),
                }
            }
        }
    })
    .await
}
