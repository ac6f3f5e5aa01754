//! Signing in and out of the console with the REST API's users.

use std::time::Duration;

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth;
use crate::console::page::PageResult;
use crate::console::session::{self, Console, LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL};
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    username: String,
    error: Option<String>,
}

/// A sign-in form with a fresh CSRF pair (hidden field + cookie).
fn login_page(state: &AppState, status: StatusCode, username: String, error: Option<String>) -> Response {
    let csrf = auth::random_secret(16);
    let cookie = session::set_cookie(state, LOGIN_COOKIE, &csrf, Duration::from_secs(3600));
    session::with_cookies((status, LoginPage { csrf, username, error }).into_response(), [cookie])
}

pub async fn show(State(state): State<AppState>) -> Response {
    login_page(&state, StatusCode::OK, String::new(), None)
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    csrf: String,
}

pub async fn submit(State(state): State<AppState>, headers: HeaderMap, Form(form): Form<LoginForm>) -> Response {
    let expected = session::cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if !session::same_token(&form.csrf, expected) {
        let error = "The sign-in form expired; please try again.".to_owned();
        return login_page(&state, StatusCode::FORBIDDEN, form.username, Some(error));
    }
    match auth::login(&state, &form.username, &form.password).await {
        Ok(caller) => {
            let token = auth::new_session(&state, caller.uid, SESSION_TTL);
            tracing::info!(user = %caller.name, "console sign-in");
            session::with_cookies(
                Redirect::to("/console").into_response(),
                [
                    session::set_cookie(&state, SESSION_COOKIE, &token, SESSION_TTL),
                    session::set_cookie(&state, LOGIN_COOKIE, "", Duration::ZERO),
                ],
            )
        }
        Err(ApiError::Unauthorized) => login_page(
            &state,
            StatusCode::UNAUTHORIZED,
            form.username,
            Some("Wrong user name or password.".to_owned()),
        ),
        Err(e) => crate::console::page::PageError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    console: Console,
    Form(form): Form<CsrfForm>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    state.sessions().remove(&console.token);
    Ok(session::with_cookies(
        Redirect::to("/console/login").into_response(),
        [session::set_cookie(&state, SESSION_COOKIE, "", Duration::ZERO)],
    ))
}
