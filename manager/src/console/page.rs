//! What every console page shares: the layout (who is signed in, the CSRF
//! token, the navigation), the error pages, and number formatting.

use askama::Template;
use askama_web::WebTemplate;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::{Permission, Role};
use crate::console::session::Console;
use crate::error::ApiError;

/// The frame around every signed-in page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub title: String,
    /// Which navigation entry is current.
    pub active: &'static str,
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub can_edit_db: bool,
    pub can_manage_users: bool,
    pub can_view_logs: bool,
}

impl Layout {
    pub fn new(console: &Console, active: &'static str, title: impl Into<String>) -> Self {
        Layout {
            title: title.into(),
            active,
            user: console.caller.name.clone(),
            role: console.role().as_str(),
            csrf: console.csrf.clone(),
            can_edit_db: console.can(Permission::EditDb),
            can_manage_users: console.can(Permission::ManageUsers),
            can_view_logs: console.can(Permission::ViewLogs),
        }
    }
}

/// A page that could not be shown, rendered as an HTML page with its status.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("your role ({}) does not allow this", .0.as_str())]
    Forbidden(Role),
    #[error("the form was sent without a valid security token; reload the page and try again")]
    Csrf,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Api(#[from] ApiError),
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage {
    status: u16,
    heading: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading) = match &self {
            PageError::Forbidden(_) | PageError::Api(ApiError::Forbidden) => (StatusCode::FORBIDDEN, "Not allowed"),
            PageError::Csrf => (StatusCode::FORBIDDEN, "Form expired"),
            PageError::NotFound(_) | PageError::Api(ApiError::NotFound { .. }) => (StatusCode::NOT_FOUND, "Not found"),
            PageError::Api(ApiError::Unauthorized) => (StatusCode::UNAUTHORIZED, "Sign in again"),
            PageError::Api(ApiError::Internal(_)) => (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong"),
            PageError::Api(_) => (StatusCode::CONFLICT, "Cannot do that now"),
        };
        let message = match self {
            PageError::Api(ApiError::Forbidden) => "your role does not allow this".to_owned(),
            PageError::Api(ApiError::Internal(e)) => {
                tracing::error!(error = format!("{e:#}"), "console page failed");
                "internal error; the manager's log has the details".to_owned()
            }
            other => other.to_string(),
        };
        (
            status,
            ErrorPage {
                status: status.as_u16(),
                heading,
                message,
            },
        )
            .into_response()
    }
}

/// Result alias of console handlers.
pub type PageResult<T> = Result<T, PageError>;

/// `n` bytes for people: `1.5 GiB`.
pub fn bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v.abs() >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A rate or count for people: `12.3k`.
pub fn number(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{:.1}M", v / 1e6)
    } else if v.abs() >= 1e4 {
        format!("{:.1}k", v / 1e3)
    } else if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A latency given in microseconds, for people: `85 µs`, `1.25 ms`; 0 (no
/// traffic) is a dash.
pub fn latency(usec: f64) -> String {
    if usec <= 0.0 {
        "—".to_owned()
    } else if usec < 1000.0 {
        format!("{usec:.0} µs")
    } else if usec < 1e6 {
        format!("{:.2} ms", usec / 1e3)
    } else {
        format!("{:.2} s", usec / 1e6)
    }
}

/// A percentage of `part` in `whole`, 0 when `whole` is 0.
pub fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        (part.saturating_mul(100) / whole).clamp(0, 100)
    }
}

/// The CSS class of a status badge.
pub fn badge(status: &str) -> &'static str {
    match status {
        "active" | "running" | "ok" | "completed" | "up" => "ok",
        "pending" | "active-change-pending" | "starting" | "unknown" => "warn",
        _ => "bad",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(64 << 20), "64.0 MiB");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(12_345.0), "12.3k");
        assert_eq!(latency(0.0), "—");
        assert_eq!(latency(84.6), "85 µs");
        assert_eq!(latency(1250.0), "1.25 ms");
        assert_eq!(latency(2.5e6), "2.50 s");
        assert_eq!(percent(95, 100), 95);
        assert_eq!(percent(1, 0), 0);
        assert_eq!(badge("active"), "ok");
        assert_eq!(badge("down"), "bad");
    }
}
