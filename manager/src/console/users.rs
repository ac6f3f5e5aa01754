//! Users and roles: create, change a role, reset a password — through the
//! REST API's user handlers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::auth::{Permission, Role};
use crate::console::databases::{After, Opt, options};
use crate::console::page::{Layout, PageError, PageResult};
use crate::console::session::Console;
use crate::error::{ApiError, Json};
use crate::state::AppState;
use crate::users::{NewUser, User, UserUpdate};

const ROLES: [(&str, &str); 5] = [
    ("admin", "Admin — everything"),
    ("cluster_member", "Cluster member — all but users"),
    ("cluster_viewer", "Cluster viewer — read cluster, databases, log"),
    ("db_member", "Database member — manage databases"),
    ("db_viewer", "Database viewer — read only"),
];

/// A user in the table, with the role choices of its row.
#[derive(Debug, Clone)]
pub struct UserRow {
    pub uid: i64,
    pub name: String,
    pub email: String,
    pub role: &'static str,
    pub roles: Vec<Opt>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    form: NewUserForm,
    roles: Vec<Opt>,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn page(
    state: &AppState,
    console: &Console,
    form: NewUserForm,
    error: Option<String>,
    notice: Option<&'static str>,
) -> PageResult<UsersPage> {
    let Json(users) = crate::users::list(State(state.clone()), console.caller.clone()).await?;
    let role = if form.role.is_empty() {
        "db_viewer".to_owned()
    } else {
        form.role.clone()
    };
    Ok(UsersPage {
        layout: Layout::new(console, "users", "Users and roles"),
        users: users
            .iter()
            .map(|u: &User| UserRow {
                uid: u.uid,
                name: u.name.clone(),
                email: u.email.clone().unwrap_or_default(),
                role: u.role.as_str(),
                roles: options(&ROLES, u.role.as_str()),
            })
            .collect(),
        roles: options(&ROLES, &role),
        form,
        error,
        notice,
    })
}

pub async fn list(State(state): State<AppState>, console: Console, Query(after): Query<After>) -> PageResult<Response> {
    console.require(Permission::ManageUsers)?;
    Ok(page(&state, &console, NewUserForm::default(), None, after.notice())
        .await?
        .into_response())
}

/// The REST error a person can act on, or the error page.
fn problem(e: ApiError) -> PageResult<String> {
    match e {
        ApiError::BadRequest { description, .. }
        | ApiError::Conflict { description, .. }
        | ApiError::NotAcceptable { description, .. } => Ok(description),
        other => Err(PageError::Api(other)),
    }
}

fn role(value: &str) -> PageResult<Role> {
    Role::parse(value)
        .map_err(|_| PageError::Api(ApiError::bad_request("invalid_role", format!("unknown role {value:?}"))))
}

pub async fn create(
    State(state): State<AppState>,
    console: Console,
    Form(mut form): Form<NewUserForm>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::ManageUsers)?;
    let new = NewUser {
        name: form.name.trim().to_owned(),
        email: Some(form.email.trim().to_owned()).filter(|e| !e.is_empty()),
        role: role(&form.role)?,
        password: form.password.clone(),
    };
    match crate::users::post(State(state.clone()), console.caller.clone(), Json(new)).await {
        Ok(_) => Ok(Redirect::to("/console/users?done=user-created").into_response()),
        Err(e) => {
            let error = problem(e)?;
            form.password.clear();
            let p = page(&state, &console, form, Some(error), None).await?;
            Ok((StatusCode::BAD_REQUEST, p).into_response())
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct UserChange {
    #[serde(default)]
    csrf: String,
    role: Option<String>,
    password: Option<String>,
}

/// Changes a user's role or resets their password (which ends their sessions).
pub async fn change(
    State(state): State<AppState>,
    console: Console,
    Path(uid): Path<i64>,
    Form(form): Form<UserChange>,
) -> PageResult<Response> {
    console.check_csrf(&form.csrf)?;
    console.require(Permission::ManageUsers)?;
    let update = UserUpdate {
        email: None,
        role: form.role.as_deref().map(role).transpose()?,
        password: form.password,
    };
    match crate::users::put(
        State(state.clone()),
        console.caller.clone(),
        crate::error::Path(uid),
        Json(update),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/console/users?done=user-updated").into_response()),
        Err(e) => {
            let error = problem(e)?;
            let p = page(&state, &console, NewUserForm::default(), Some(error), None).await?;
            Ok((StatusCode::BAD_REQUEST, p).into_response())
        }
    }
}
