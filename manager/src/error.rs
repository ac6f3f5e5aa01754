//! The one error type of the REST API and how it renders: JSON
//! `{"error_code", "description"}` with a status code. Internal details are
//! logged, never sent.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed or a field is invalid.
    #[error("{description}")]
    BadRequest { code: &'static str, description: String },
    /// No credentials, or wrong ones.
    #[error("authentication required")]
    Unauthorized,
    /// The credentials are valid but the user's role does not allow this.
    #[error("the user's role does not allow this operation")]
    Forbidden,
    /// The object does not exist.
    #[error("{description}")]
    NotFound { code: &'static str, description: String },
    /// The request is valid but cannot be carried out as asked.
    #[error("{description}")]
    NotAcceptable { code: &'static str, description: String },
    /// The request conflicts with the current state.
    #[error("{description}")]
    Conflict { code: &'static str, description: String },
    /// A bug or an unavailable resource on the manager's side.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// The JSON body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `port_unavailable`.
    pub error_code: String,
    /// What went wrong, for people.
    pub description: String,
}

impl ApiError {
    pub fn bad_request(code: &'static str, description: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            description: description.into(),
        }
    }
    pub fn not_found(code: &'static str, description: impl Into<String>) -> Self {
        Self::NotFound {
            code,
            description: description.into(),
        }
    }
    pub fn not_acceptable(code: &'static str, description: impl Into<String>) -> Self {
        Self::NotAcceptable {
            code,
            description: description.into(),
        }
    }
    pub fn conflict(code: &'static str, description: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            description: description.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            Self::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            Self::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden => (StatusCode::FORBIDDEN, "insufficient_permissions"),
            Self::NotFound { code, .. } => (StatusCode::NOT_FOUND, code),
            Self::NotAcceptable { code, .. } => (StatusCode::NOT_ACCEPTABLE, code),
            Self::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal_error"),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("database query failed"))
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let code = match r {
            JsonRejection::JsonSyntaxError(_) => "invalid_json",
            JsonRejection::MissingJsonContentType(_) => "invalid_content_type",
            JsonRejection::BytesRejection(_) => "request_too_large",
            _ => "invalid_schema",
        };
        Self::bad_request(code, r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        Self::bad_request("invalid_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        Self::bad_request("invalid_query", r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let description = match &self {
            Self::Internal(e) => {
                tracing::error!(error = format!("{e:#}"), "request failed");
                "internal error; the manager's log has the details".to_owned()
            }
            other => other.to_string(),
        };
        let mut response = (
            status,
            axum::Json(ErrorBody {
                error_code: code.to_owned(),
                description,
            }),
        )
            .into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Basic realm=\"tessera\""),
            );
        }
        response
    }
}

/// A JSON body whose rejections are [`ApiError`]s (400 with a clear message).
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Path parameters whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct Path<T>(pub T);

/// A query string whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct Query<T>(pub T);
