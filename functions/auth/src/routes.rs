use crate::config::{AuthConfig, AuthState};
use crate::domain::{Login, Signup};
use crate::key_store;
use crate::keys::Jwks;
use crate::service::{self, TokenResponse};
use crate::throttle::{self, Charge};
use crate::AuthError;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use lite_http::deprecation::{self, Day, Deprecation};
use lite_http::extract::parse_json;
use lite_http::{Access, Authenticated, ClientIp, Json, Query, Role, RouteSpec, TableAccess};
use lite_ports::Context;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes as utoipa_routes};

pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "POST",
        path: "/v1/auth/signup",
        service: "auth",
        function: "auth-signup",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/auth/login",
        service: "auth",
        function: "auth-login",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/auth/refresh",
        service: "auth",
        function: "auth-refresh",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "POST",
        path: "/v1/auth/logout",
        service: "auth",
        function: "auth-logout",
        auth: Access::Bearer,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/auth/validate",
        service: "auth",
        function: "auth-validate",
        auth: Access::Bearer,
        // The session check reads the table.
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "GET",
        path: "/.well-known/jwks.json",
        service: "auth",
        function: "auth-jwks",
        auth: Access::Public,
        // Public keys are published in the table; this function never
        // touches the private key.
        table: TableAccess::Read,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/auth/google/start",
        service: "auth",
        function: "auth-google-start",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
    RouteSpec {
        method: "GET",
        path: "/v1/auth/google/callback",
        service: "auth",
        function: "auth-google-callback",
        auth: Access::Public,
        table: TableAccess::ReadWrite,
    },
];

pub fn routes() -> OpenApiRouter<AuthState> {
    OpenApiRouter::new()
        .routes(utoipa_routes!(signup))
        .routes(utoipa_routes!(login))
        .routes(utoipa_routes!(refresh))
        .routes(utoipa_routes!(logout))
        .routes(utoipa_routes!(validate))
        .routes(utoipa_routes!(jwks))
        .routes(utoipa_routes!(google_start))
        .routes(utoipa_routes!(google_callback))
}

/// Routes on their way out (README "API versions"). `GET /v1/auth/validate`
/// answers what the caller's own token already says (`sub`, `roles`, `exp`
/// are its claims) plus a session check that every protected route makes
/// anyway; `GET /v1/me` is the resource for "who is signed in" (what the
/// shop calls). Announced far ahead: deprecated from 2028, gone after 2028.
pub const DEPRECATED: &[Deprecation] = &[Deprecation {
    method: "GET",
    path: "/v1/auth/validate",
    deprecated: Day::new(2028, 1, 1),
    sunset: Day::new(2029, 1, 1),
    successor: "/v1/me",
}];

pub fn router(ctx: Context, config: AuthConfig) -> axum::Router {
    let router = routes()
        .with_state(AuthState::new(ctx, config))
        .split_for_parts()
        .0;
    deprecation::layer(router, DEPRECATED)
}

pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = routes().split_for_parts().1;
    deprecation::document(&mut doc, DEPRECATED);
    doc
}

/// Adds the `RateLimit-*` headers of `charges` to a success or a problem.
fn limited(result: Result<Response, AuthError>, charges: &[Charge]) -> Response {
    let mut response = match result {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    let refs: Vec<&Charge> = charges.iter().collect();
    response.headers_mut().extend(throttle::headers(&refs));
    response
}

/// `POST /v1/auth/signup` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SignupBody {
    #[schema(schema_with = schema::email, example = "ann@example.com")]
    email: String,
    /// 10 to 128 characters, at least two of: lower-case, upper-case,
    /// digits, symbols; at least 5 different characters; not the e-mail
    /// address or its local part.
    #[schema(schema_with = schema::new_password, example = "correct horse 42")]
    password: String,
    #[schema(schema_with = schema::name, example = "Ann Lee")]
    name: String,
}

/// The schemas of the credential fields, from the rules and bounds of
/// `domain` (`EmailAddress::parse`, `Password::new`, `DisplayName::parse`).
mod schema {
    use crate::domain::{MAX_EMAIL_LEN, MAX_NAME_CHARS, MAX_PASSWORD_CHARS, MIN_PASSWORD_CHARS};
    use lite_http::schema::{trimmed, trimmed_text, Chars};
    use utoipa::openapi::schema::{Object, ObjectBuilder, SchemaType, Type};

    fn string() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::Type(Type::String))
    }

    /// A dot-atom local part of at most 64 characters (no empty atoms),
    /// `@`, and at least two DNS labels, the last alphabetic or `xn--`;
    /// trimmed and lower-cased before it is checked.
    pub fn email() -> Object {
        const ATEXT: &str = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]";
        const LABEL: &str = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
        const TLD: &str = "(?:[A-Za-z]{2,63}|xn--[A-Za-z0-9-]{0,58}[A-Za-z0-9])";
        let local = format!(r"{ATEXT}{{1,64}}(?:\.{ATEXT}{{1,63}})*");
        string()
            // The lookahead bounds the local part to 64 characters.
            .pattern(Some(trimmed(&format!(
                r"(?=[^@]{{1,64}}@)(?:{local})@(?:{LABEL}\.)+{TLD}"
            ))))
            .max_length(Some(MAX_EMAIL_LEN))
            .description(Some("Compared case-insensitively"))
            .build()
    }

    /// `Password::new`: the lengths and "at least two character classes"
    /// are in the pattern; "at least 5 different characters" and "not the
    /// e-mail address" only in the description.
    pub fn new_password() -> Object {
        string()
            .min_length(Some(MIN_PASSWORD_CHARS))
            .max_length(Some(MAX_PASSWORD_CHARS))
            .pattern(Some(
                r"^(?![a-z]*$)(?![A-Z]*$)(?![0-9]*$)(?![^a-zA-Z0-9]*$)",
            ))
            .build()
    }

    /// A login password: checked against the account, only bounded here.
    pub fn password() -> Object {
        string()
            .min_length(Some(1))
            .max_length(Some(MAX_PASSWORD_CHARS))
            .build()
    }

    pub fn name() -> Object {
        trimmed_text(1, MAX_NAME_CHARS, Chars::NoControls)
    }
}

/// Creates an account and signs it in.
#[utoipa::path(
    post, path = "/v1/auth/signup", tag = "auth",
    request_body = SignupBody,
    responses(
        (status = 201, body = TokenResponse, headers(
            ("RateLimit-Limit" = i64, description = "Sign-ups allowed per address and hour"),
            ("RateLimit-Remaining" = i64, description = "Sign-ups left in this hour"),
        )),
        (status = 400, description = "Invalid e-mail, weak password or bad name (each field named)"),
        (status = 409, description = "The e-mail is registered already"),
        (status = 429, description = "Too many sign-ups from this address (`Retry-After`)"),
    )
)]
async fn signup(
    State(state): State<AuthState>,
    ip: ClientIp,
    Json(body): Json<SignupBody>,
) -> Response {
    let parsed = match Signup::parse(&body.email, &body.password, &body.name) {
        Ok(s) => s,
        Err(p) => return AuthError::Invalid(p).into_response(),
    };
    let (result, charges) = service::signup(&state, parsed, ip).await;
    limited(
        result.map(|t| (StatusCode::CREATED, Json(t)).into_response()),
        &charges,
    )
}

/// `POST /v1/auth/login` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LoginBody {
    #[schema(schema_with = schema::email, example = "ann@example.com")]
    email: String,
    #[schema(schema_with = schema::password, example = "correct horse 42")]
    password: String,
}

/// Signs in with e-mail and password.
#[utoipa::path(
    post, path = "/v1/auth/login", tag = "auth",
    request_body = LoginBody,
    responses(
        (status = 200, body = TokenResponse, headers(
            ("RateLimit-Limit" = i64, description = "Failed logins allowed in the window"),
            ("RateLimit-Remaining" = i64, description = "Failed logins left in the window"),
        )),
        (status = 400, description = "Malformed e-mail or missing password"),
        (status = 401, description = "Wrong e-mail or password (the same answer for an unknown e-mail)"),
        (status = 429, description = "Too many failed logins for this account or address (`Retry-After`)"),
    )
)]
async fn login(
    State(state): State<AuthState>,
    ip: ClientIp,
    Json(body): Json<LoginBody>,
) -> Response {
    let parsed = match Login::parse(&body.email, &body.password) {
        Ok(l) => l,
        Err(p) => return AuthError::Invalid(p).into_response(),
    };
    let (result, charges) = service::login(&state, parsed, ip).await;
    limited(result.map(|t| Json(t).into_response()), &charges)
}

/// `POST /v1/auth/refresh` body.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RefreshBody {
    refresh_token: String,
}

/// Trades a refresh token for a new token pair (the old refresh token is
/// spent; presenting it again revokes the whole login session).
#[utoipa::path(
    post, path = "/v1/auth/refresh", tag = "auth",
    request_body = RefreshBody,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, description = "Invalid, expired, spent or revoked refresh token"),
    )
)]
async fn refresh(
    State(state): State<AuthState>,
    Json(body): Json<RefreshBody>,
) -> Result<Json<TokenResponse>, AuthError> {
    Ok(Json(service::refresh(&state, &body.refresh_token).await?))
}

/// `POST /v1/auth/logout` body (optional).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct LogoutBody {
    /// Spent as well, when given.
    refresh_token: Option<String>,
}

/// Ends the caller's login session: its access and refresh tokens are
/// refused from now on.
#[utoipa::path(
    post, path = "/v1/auth/logout", tag = "auth",
    request_body(content = Option<LogoutBody>, description = "Optional"),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Signed out"),
    )
)]
async fn logout(
    State(state): State<AuthState>,
    Authenticated(claims): Authenticated,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, AuthError> {
    let refresh_token = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("application/json")
            });
        if !json {
            return Err(AuthError::Invalid(lite_core::Problem::new(
                lite_core::ErrorCode::UnsupportedMediaType,
                "Send the body as JSON with Content-Type: application/json.",
            )));
        }
        parse_json::<LogoutBody>(&body)?.refresh_token
    };
    service::logout(&state, &claims, refresh_token.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a valid access token says.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
struct Validation {
    #[schema(example = "usr_01JD3Z8Q4N5V2W6X7Y8Z9A0B1C")]
    sub: String,
    #[schema(example = "ann@example.com")]
    email: Option<String>,
    #[schema(value_type = Vec<String>, example = json!(["customer"]))]
    roles: Vec<Role>,
    /// Expiry, seconds since the epoch.
    exp: i64,
}

/// Checks the bearer token (signature, expiry, live session).
#[utoipa::path(
    get, path = "/v1/auth/validate", tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 200, body = Validation),
        (status = 401, description = "Missing, invalid, expired or revoked token"),
    )
)]
async fn validate(Authenticated(claims): Authenticated) -> Json<Validation> {
    Json(Validation {
        sub: claims.sub,
        email: claims.email,
        roles: claims.roles,
        exp: claims.exp,
    })
}

/// The public keys that verify access tokens (JWK Set; during a key
/// rotation, both keys).
#[utoipa::path(
    get, path = "/.well-known/jwks.json", tag = "auth",
    responses((status = 200, body = Jwks))
)]
async fn jwks(State(state): State<AuthState>) -> Result<Response, AuthError> {
    let set = key_store::published_jwks(state.ctx.store.as_ref(), state.ctx.clock.now()).await?;
    // Public and slow-changing: caches may keep it for five minutes (this
    // overrides the API's default `no-store`).
    Ok(([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response())
}

/// Starts Google sign-in: redirects to Google with `state`, `nonce` and a
/// PKCE challenge (S256).
#[utoipa::path(
    get, path = "/v1/auth/google/start", tag = "auth",
    responses(
        (status = 302, description = "To Google's authorization page", headers(("Location" = String, description = "The authorization URL"))),
        (status = 503, description = "Google sign-in is not configured, or Google is unreachable"),
    )
)]
async fn google_start(State(state): State<AuthState>) -> Result<Response, AuthError> {
    let url = service::google_start(&state).await?;
    Ok((StatusCode::FOUND, [(header::LOCATION, url)]).into_response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct CallbackQuery {
    /// The authorization code Google issued.
    code: Option<String>,
    /// The `state` of the sign-in this completes.
    state: Option<String>,
    /// Set by Google instead of `code` when the user declined.
    error: Option<String>,
}

/// Completes Google sign-in: answers tokens for the account with the
/// verified Google e-mail (created on first sign-in, without a password).
#[utoipa::path(
    get, path = "/v1/auth/google/callback", tag = "auth",
    params(CallbackQuery),
    responses(
        (status = 200, body = TokenResponse),
        (status = 400, description = "Missing, unknown, expired or reused state; code refused; sign-in declined"),
        (status = 401, description = "The Google identity token did not verify"),
        (status = 503, description = "Google sign-in is not configured, or Google is unreachable"),
    )
)]
async fn google_callback(
    State(state): State<AuthState>,
    Query(q): Query<CallbackQuery>,
) -> Result<Json<TokenResponse>, AuthError> {
    state.google()?;
    if let Some(error) = q.error {
        let error: String = error
            .chars()
            .filter(|c| c.is_ascii_graphic())
            .take(64)
            .collect();
        return Err(AuthError::Invalid(lite_core::Problem::new(
            lite_core::ErrorCode::BadRequest,
            format!("Google sign-in did not complete ({error})."),
        )));
    }
    let pending = q.state.ok_or(AuthError::BadState(
        "The sign-in state is missing; start again.",
    ))?;
    let code = q
        .code
        .ok_or_else(|| AuthError::Invalid(lite_core::Problem::field("code", "is required")))?;
    Ok(Json(
        service::google_callback(&state, &code, &pending).await?,
    ))
}
