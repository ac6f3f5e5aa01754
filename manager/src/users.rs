//! `/v1/users`: user accounts, their roles, and bearer tokens.

use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::routing;
use serde::{Deserialize, Serialize};

use crate::auth::{self, Caller, Permission, Role};
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::logs::audit;
use crate::state::AppState;

/// A user as the API shows it (never the password).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct User {
    pub uid: i64,
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    uid: i64,
    name: String,
    email: Option<String>,
    role: String,
}

impl TryFrom<UserRow> for User {
    type Error = ApiError;
    fn try_from(r: UserRow) -> ApiResult<User> {
        Ok(User {
            uid: r.uid,
            name: r.name,
            email: r.email,
            role: Role::parse(&r.role)?,
        })
    }
}

/// A new user.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// Login name (unique).
    pub name: String,
    pub email: Option<String>,
    pub role: Role,
    pub password: String,
}

/// Changes to a user; absent fields stay as they are.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub email: Option<String>,
    pub role: Option<Role>,
    pub password: Option<String>,
}

/// Credentials exchanged for a bearer token.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorize {
    pub username: String,
    pub password: String,
    /// Seconds the token stays valid (default 3600, at most 86400).
    pub ttl: Option<u64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Token {
    /// Send as `Authorization: Bearer <access_token>`.
    pub access_token: String,
}

const MIN_PASSWORD: usize = 8;

fn check_password(password: &str) -> ApiResult<()> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::bad_request(
            "password_too_short",
            format!("a password needs at least {MIN_PASSWORD} characters"),
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> ApiResult<()> {
    if name.is_empty() || name.len() > 128 || name.contains(':') || name.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "invalid_name",
            "a user name is 1 to 128 characters, without ':' or control characters",
        ));
    }
    Ok(())
}

/// Creates a user with a hashed password. Used by the API and at first start.
///
/// # Errors
/// `name_already_exists` (409), or a database failure.
pub async fn create(state: &AppState, new: &NewUser) -> ApiResult<User> {
    let password = new.password.clone();
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(|e| anyhow::anyhow!("password hashing panicked: {e}"))??;
    let uid: Option<i64> = sqlx::query_scalar(
        "INSERT INTO users (name, email, role, password_hash) VALUES (?, ?, ?, ?) \
         ON CONFLICT (name) DO NOTHING RETURNING uid",
    )
    .bind(&new.name)
    .bind(&new.email)
    .bind(new.role.as_str())
    .bind(hash)
    .fetch_optional(&state.db)
    .await?;
    let uid = uid.ok_or_else(|| {
        ApiError::conflict(
            "name_already_exists",
            format!("a user named {:?} already exists", new.name),
        )
    })?;
    Ok(User {
        uid,
        name: new.name.clone(),
        email: new.email.clone(),
        role: new.role,
    })
}

async fn load(state: &AppState, uid: i64) -> ApiResult<User> {
    let row: Option<UserRow> = sqlx::query_as("SELECT uid, name, email, role FROM users WHERE uid = ?")
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    row.ok_or_else(|| ApiError::not_found("user_not_found", format!("there is no user {uid}")))?
        .try_into()
}

/// Every user.
#[utoipa::path(get, path = "/v1/users", tag = "users",
    responses((status = 200, body = [User]), (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Vec<User>>> {
    caller.require(Permission::ManageUsers)?;
    let rows: Vec<UserRow> = sqlx::query_as("SELECT uid, name, email, role FROM users ORDER BY uid")
        .fetch_all(&state.db)
        .await?;
    Ok(Json(rows.into_iter().map(User::try_from).collect::<ApiResult<_>>()?))
}

/// One user (any user may read their own).
#[utoipa::path(get, path = "/v1/users/{uid}", tag = "users", params(("uid" = i64, Path)),
    responses((status = 200, body = User), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<Json<User>> {
    if caller.uid != uid {
        caller.require(Permission::ManageUsers)?;
    }
    load(&state, uid).await.map(Json)
}

/// Creates a user.
#[utoipa::path(post, path = "/v1/users", tag = "users", request_body = NewUser,
    responses((status = 200, body = User), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn post(State(state): State<AppState>, caller: Caller, Json(new): Json<NewUser>) -> ApiResult<Json<User>> {
    caller.require(Permission::ManageUsers)?;
    let result = async {
        check_name(&new.name)?;
        check_password(&new.password)?;
        create(&state, &new).await
    }
    .await;
    audit(&state, &caller, "user_create", &format!("user:{}", new.name), result)
        .await
        .map(Json)
}

/// Changes a user's email, role or password (any user may change their own password).
#[utoipa::path(put, path = "/v1/users/{uid}", tag = "users", params(("uid" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = User), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
        (status = 406, body = crate::error::ErrorBody)))]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
    Json(update): Json<UserUpdate>,
) -> ApiResult<Json<User>> {
    if caller.uid != uid || update.role.is_some() || update.email.is_some() {
        caller.require(Permission::ManageUsers)?;
    }
    let result = async {
        let mut user = load(&state, uid).await?;
        if let Some(role) = update.role {
            if user.role == Role::Admin && role != Role::Admin {
                ensure_other_admin(&state, uid).await?;
            }
            user.role = role;
        }
        if let Some(email) = update.email {
            user.email = Some(email);
        }
        let hash = match update.password {
            Some(password) => {
                check_password(&password)?;
                let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
                    .await
                    .map_err(|e| anyhow::anyhow!("password hashing panicked: {e}"))??;
                Some(hash)
            }
            None => None,
        };
        sqlx::query("UPDATE users SET email = ?, role = ?, password_hash = COALESCE(?, password_hash) WHERE uid = ?")
            .bind(&user.email)
            .bind(user.role.as_str())
            .bind(&hash)
            .bind(uid)
            .execute(&state.db)
            .await?;
        if hash.is_some() {
            auth::end_sessions(&state, uid);
        }
        Ok(user)
    }
    .await;
    audit(&state, &caller, "user_update", &format!("user:{uid}"), result)
        .await
        .map(Json)
}

async fn ensure_other_admin(state: &AppState, uid: i64) -> ApiResult<()> {
    let others: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND uid != ?")
        .bind(uid)
        .fetch_one(&state.db)
        .await?;
    if others == 0 {
        return Err(ApiError::not_acceptable(
            "last_admin",
            "the cluster must keep at least one admin user",
        ));
    }
    Ok(())
}

/// Deletes a user and ends their sessions.
#[utoipa::path(delete, path = "/v1/users/{uid}", tag = "users", params(("uid" = i64, Path)),
    responses((status = 200), (status = 404, body = crate::error::ErrorBody), (status = 406, body = crate::error::ErrorBody)))]
pub async fn delete(State(state): State<AppState>, caller: Caller, Path(uid): Path<i64>) -> ApiResult<()> {
    caller.require(Permission::ManageUsers)?;
    let result = async {
        let user = load(&state, uid).await?;
        if user.role == Role::Admin {
            ensure_other_admin(&state, uid).await?;
        }
        sqlx::query("DELETE FROM users WHERE uid = ?")
            .bind(uid)
            .execute(&state.db)
            .await?;
        auth::end_sessions(&state, uid);
        Ok(())
    }
    .await;
    audit(&state, &caller, "user_delete", &format!("user:{uid}"), result).await
}

/// Exchanges a user name and password for a bearer token.
#[utoipa::path(post, path = "/v1/users/authorize", tag = "users", request_body = Authorize,
    responses((status = 200, body = Token), (status = 401, body = crate::error::ErrorBody)))]
pub async fn authorize(State(state): State<AppState>, Json(req): Json<Authorize>) -> ApiResult<Json<Token>> {
    let ttl = req.ttl.unwrap_or(3600);
    if ttl == 0 || ttl > 86_400 {
        return Err(ApiError::bad_request("invalid_ttl", "ttl is 1 to 86400 seconds"));
    }
    let caller = auth::login(&state, &req.username, &req.password).await?;
    let access_token = auth::new_session(&state, caller.uid, Duration::from_secs(ttl));
    Ok(Json(Token { access_token }))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/users", routing::get(list).post(post))
        .route("/v1/users/authorize", routing::post(authorize))
        .route("/v1/users/{uid}", routing::get(get_one).put(put).delete(delete))
}
