//! Who is calling: HTTP Basic or bearer-token users with roles (401 when
//! unauthenticated, 403 when the role does not allow the operation), and the
//! cluster token of agents and proxies.

use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Session};

/// A user's role, as Redis Enterprise names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ClusterMember,
    ClusterViewer,
    DbMember,
    DbViewer,
}

/// What an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read nodes, shards, cluster settings and stats.
    ViewCluster,
    /// Change cluster settings, run node actions.
    EditCluster,
    /// Read databases and their actions and stats.
    ViewDb,
    /// Create, change, flush and delete databases.
    EditDb,
    /// Read the event log.
    ViewLogs,
    /// Manage users.
    ManageUsers,
}

impl Role {
    pub fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::ClusterMember => p != ManageUsers,
            Role::ClusterViewer => matches!(p, ViewCluster | ViewDb | ViewLogs),
            Role::DbMember => matches!(p, ViewCluster | ViewDb | EditDb),
            Role::DbViewer => matches!(p, ViewCluster | ViewDb),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ClusterMember => "cluster_member",
            Role::ClusterViewer => "cluster_viewer",
            Role::DbMember => "db_member",
            Role::DbViewer => "db_viewer",
        }
    }

    pub fn parse(s: &str) -> anyhow::Result<Self> {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .map_err(|_| anyhow::anyhow!("unknown role {s:?} in the users table"))
    }
}

/// An authenticated user.
#[derive(Debug, Clone)]
pub struct Caller {
    pub uid: i64,
    pub name: String,
    pub role: Role,
}

impl Caller {
    /// # Errors
    /// [`ApiError::Forbidden`] if the role does not allow `p`.
    pub fn require(&self, p: Permission) -> ApiResult<()> {
        if self.role.allows(p) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

#[derive(sqlx::FromRow)]
struct Credentials {
    uid: i64,
    name: String,
    role: String,
    password_hash: String,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or(ApiError::Unauthorized)?;
        if let Some(token) = header.strip_prefix("Bearer ") {
            let uid = {
                let mut sessions = state.sessions();
                let now = Instant::now();
                sessions.retain(|_, s| s.expires > now);
                sessions
                    .get(token.trim())
                    .map(|s| s.user_uid)
                    .ok_or(ApiError::Unauthorized)?
            };
            let user: Option<Credentials> =
                sqlx::query_as("SELECT uid, name, role, password_hash FROM users WHERE uid = ?")
                    .bind(uid)
                    .fetch_optional(&state.db)
                    .await?;
            let user = user.ok_or(ApiError::Unauthorized)?;
            return Ok(Caller {
                uid: user.uid,
                name: user.name,
                role: Role::parse(&user.role)?,
            });
        }
        let encoded = header.strip_prefix("Basic ").ok_or(ApiError::Unauthorized)?;
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .map_err(|_| ApiError::Unauthorized)?;
        let decoded = String::from_utf8(decoded).map_err(|_| ApiError::Unauthorized)?;
        let (name, password) = decoded.split_once(':').ok_or(ApiError::Unauthorized)?;
        login(state, name, password).await
    }
}

/// Checks a user name and password.
///
/// # Errors
/// [`ApiError::Unauthorized`] if the user does not exist or the password is wrong.
pub async fn login(state: &AppState, name: &str, password: &str) -> ApiResult<Caller> {
    let user: Option<Credentials> = sqlx::query_as("SELECT uid, name, role, password_hash FROM users WHERE name = ?")
        .bind(name)
        .fetch_optional(&state.db)
        .await?;
    let Some(user) = user else {
        return Err(ApiError::Unauthorized);
    };
    let password = password.to_owned();
    let hash = user.password_hash.clone();
    let ok = tokio::task::spawn_blocking(move || verify_password(&hash, &password))
        .await
        .map_err(|e| anyhow::anyhow!("password check panicked: {e}"))?;
    if !ok {
        return Err(ApiError::Unauthorized);
    }
    Ok(Caller {
        uid: user.uid,
        name: user.name,
        role: Role::parse(&user.role)?,
    })
}

/// Hands out a bearer token for `user` valid for `ttl`.
pub fn new_session(state: &AppState, user_uid: i64, ttl: Duration) -> String {
    let token = random_secret(32);
    state.sessions().insert(
        token.clone(),
        Session {
            user_uid,
            expires: Instant::now() + ttl,
        },
    );
    token
}

/// Ends every session of a user (deleted, or password changed).
pub fn end_sessions(state: &AppState, user_uid: i64) {
    state.sessions().retain(|_, s| s.user_uid != user_uid);
}

/// `n` random bytes, hex-encoded.
pub fn random_secret(n: usize) -> String {
    use rand::RngCore;
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An argon2id PHC string for `password`.
///
/// # Errors
/// Only if the system's random source fails.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("cannot hash a password: {e}"))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// The caller presented the cluster token (agents and proxies).
#[derive(Debug)]
pub struct ClusterToken;

impl FromRequestParts<AppState> for ClusterToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let presented = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(ApiError::Unauthorized)?;
        if bool::from(presented.trim().as_bytes().ct_eq(state.cluster_token.as_bytes())) {
            Ok(ClusterToken)
        } else {
            Err(ApiError::Unauthorized)
        }
    }
}
