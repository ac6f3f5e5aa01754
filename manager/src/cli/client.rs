//! The REST client of the `tessera` command: one authenticated call to the
//! manager's `/v1` API, with answers and failures classified for exit codes.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

/// Why a command failed; each kind has its own exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line is invalid.
    #[error("{0}")]
    Usage(String),
    /// Missing or wrong credentials, or a role that does not allow the call.
    #[error("{0}")]
    Auth(String),
    /// The object (or the endpoint) does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The manager refused the request as given (invalid, conflicting).
    #[error("{0}")]
    Rejected(String),
    /// The manager failed, or something else went wrong.
    #[error("{0}")]
    Failed(String),
    /// The manager cannot be reached.
    #[error("{0}")]
    Unreachable(String),
}

impl CliError {
    /// The process exit code of this failure (documented in `tessera --help`).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Failed(_) => 1,
            Self::Usage(_) => 2,
            Self::Auth(_) => 3,
            Self::NotFound(_) => 4,
            Self::Rejected(_) => 5,
            Self::Unreachable(_) => 6,
        }
    }
}

/// A logged-in client of one manager.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    url: String,
    user: String,
    password: Option<String>,
}

impl Client {
    /// A client of the manager at `url` (`http(s)://host:port`).
    ///
    /// # Errors
    /// The HTTP client cannot be built.
    pub fn new(url: &str, user: &str, password: Option<String>) -> Result<Client, CliError> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60))
            .build()
            .map_err(|e| CliError::Failed(format!("cannot build the HTTP client: {e}")))?;
        Ok(Client {
            http,
            url: url.trim_end_matches('/').to_owned(),
            user: user.to_owned(),
            password,
        })
    }

    /// The manager's base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `GET path`.
    ///
    /// # Errors
    /// See [`Client::call`].
    pub async fn get(&self, path: &str) -> Result<Value, CliError> {
        self.call(Method::GET, path, None).await
    }

    /// Calls `method path` with an optional JSON body and returns the JSON
    /// answer (`null` for an empty one).
    ///
    /// # Errors
    /// A [`CliError`] by the answer's status, with the server's description.
    pub async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Value, CliError> {
        let mut req = self
            .http
            .request(method.clone(), format!("{}{path}", self.url))
            .basic_auth(&self.user, self.password.as_deref());
        if let Some(body) = body {
            req = req.json(body);
        }
        let answer = req
            .send()
            .await
            .map_err(|e| CliError::Unreachable(format!("cannot reach the manager at {}: {e}", self.url)))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| CliError::Unreachable(format!("reading the answer of {method} {path}: {e}")))?;
        if status.is_success() {
            return if text.trim().is_empty() {
                Ok(Value::Null)
            } else {
                serde_json::from_str(&text)
                    .map_err(|e| CliError::Failed(format!("{method} {path}: the answer is not JSON: {e}")))
            };
        }
        let error: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let description = error["description"].as_str().unwrap_or(text.trim());
        let code = error["error_code"].as_str().unwrap_or("");
        let message = format!(
            "{method} {path}: {description} (HTTP {}{}{code})",
            status.as_u16(),
            if code.is_empty() { "" } else { " " }
        );
        Err(match status.as_u16() {
            401 => CliError::Auth(format!(
                "{message}; give --user/--password (or TESSERA_USER/TESSERA_PASSWORD)"
            )),
            403 => CliError::Auth(message),
            404 | 405 => CliError::NotFound(message),
            400..=499 => CliError::Rejected(message),
            _ => CliError::Failed(message),
        })
    }
}
