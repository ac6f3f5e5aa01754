//! Console sign-in: the session cookie (a REST session token, so expiry and
//! "end every session of a user" stay in [`crate::auth`]), the CSRF token
//! bound to it, and the login CSRF cookie of the sign-in form.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Request};
use axum::response::{IntoResponse, Redirect, Response};
use subtle::ConstantTimeEq;

use crate::auth::{Caller, Permission, Role};
use crate::console::page::PageError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";
/// Name of the cookie that pairs with the sign-in form's CSRF field.
pub const LOGIN_COOKIE: &str = "tessera_login";
/// How long a console sign-in lasts.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);

/// The value of cookie `name` in `headers`.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Secure when served over HTTPS.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Duration) -> HeaderValue {
    let secure = if state.tls.is_some() { "; Secure" } else { "" };
    let text = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        max_age.as_secs()
    );
    HeaderValue::from_str(&text).expect("cookie names and hex values are valid header text")
}

/// `response` with `cookies` set.
pub fn with_cookies(mut response: Response, cookies: impl IntoIterator<Item = HeaderValue>) -> Response {
    for c in cookies {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

/// The CSRF token of a session: an HMAC of the session token under the
/// cluster secret, so it needs no storage and dies with the session.
pub fn csrf_token(state: &AppState, session: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, state.cluster_token.as_bytes());
    let tag = ring::hmac::sign(&key, format!("console-csrf:{session}").as_bytes());
    tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `presented` equals `expected`, in constant time.
pub fn same_token(presented: &str, expected: &str) -> bool {
    !expected.is_empty() && bool::from(presented.as_bytes().ct_eq(expected.as_bytes()))
}

/// A signed-in console user. Pages that need one redirect to the sign-in
/// page when the cookie is missing or its session has ended.
#[derive(Debug, Clone)]
pub struct Console {
    pub caller: Caller,
    pub token: String,
    pub csrf: String,
}

impl Console {
    /// # Errors
    /// [`PageError::Csrf`] unless `presented` is this session's CSRF token.
    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        if same_token(presented, &self.csrf) {
            Ok(())
        } else {
            Err(PageError::Csrf)
        }
    }

    pub fn can(&self, p: Permission) -> bool {
        self.caller.role.allows(p)
    }

    /// # Errors
    /// [`PageError::Forbidden`] if the role does not allow `p`.
    pub fn require(&self, p: Permission) -> Result<(), PageError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(PageError::Forbidden(self.caller.role))
        }
    }

    pub fn role(&self) -> Role {
        self.caller.role
    }
}

/// The answer when there is no valid session: to the sign-in page.
#[derive(Debug)]
pub struct SignIn;

impl IntoResponse for SignIn {
    fn into_response(self) -> Response {
        Redirect::to("/console/login").into_response()
    }
}

impl FromRequestParts<AppState> for Console {
    type Rejection = SignIn;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, SignIn> {
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or(SignIn)?.to_owned();
        // The REST API's bearer-token check is the one place sessions are
        // validated: ask it, with the cookie's token as the bearer.
        let (mut bearer, ()) = Request::builder()
            .header(AUTHORIZATION, format!("Bearer {token}"))
            .body(())
            .map_err(|_| SignIn)?
            .into_parts();
        let caller = Caller::from_request_parts(&mut bearer, state)
            .await
            .map_err(|_| SignIn)?;
        let csrf = csrf_token(state, &token);
        Ok(Console { caller, token, csrf })
    }
}
