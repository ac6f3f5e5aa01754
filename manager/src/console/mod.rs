//! The web console under `/console`: server-rendered pages (askama
//! templates in `web/templates`, CSS and a small script in `web/static`,
//! all compiled into the binary). Every read and change goes through the
//! REST API's handlers, so validation, roles and the event log have one
//! place each; this module owns only sign-in, forms and presentation.
//!
//! # Layout
//! * [`session`] — the session cookie and CSRF tokens; [`login`] — sign in and out.
//! * [`page`] — layout, error pages, formatting; [`chart`] — SVG charts.
//! * [`overview`] (overview, nodes, shards, events), [`databases`], [`users`].

pub mod chart;
pub mod databases;
pub mod login;
pub mod overview;
pub mod page;
pub mod session;
pub mod users;

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use crate::state::AppState;

const CSS: &str = include_str!("../../web/static/console.css");
const JS: &str = include_str!("../../web/static/console.js");
const ICON: &str = include_str!("../../web/static/icon.svg");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, content_type), (CACHE_CONTROL, "max-age=300")], body).into_response()
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route(
            "/console/static/console.css",
            get(|| async { asset("text/css; charset=utf-8", CSS) }),
        )
        .route(
            "/console/static/console.js",
            get(|| async { asset("text/javascript; charset=utf-8", JS) }),
        )
        .route(
            "/console/static/icon.svg",
            get(|| async { asset("image/svg+xml", ICON) }),
        )
        .route("/console/login", get(login::show).post(login::submit))
        .route("/console/logout", post(login::logout))
        .route("/console", get(overview::overview))
        .route("/console/nodes", get(overview::nodes))
        .route("/console/shards", get(overview::shards))
        .route("/console/events", get(overview::events))
        .route("/console/databases", get(databases::list).post(databases::create))
        .route("/console/databases/new", get(databases::new_form))
        .route("/console/databases/{uid}", get(databases::show))
        .route("/console/databases/{uid}/live", get(databases::live))
        .route(
            "/console/databases/{uid}/edit",
            get(databases::edit_form).post(databases::update),
        )
        .route(
            "/console/databases/{uid}/delete",
            get(databases::delete_confirm).post(databases::delete),
        )
        .route("/console/databases/{uid}/flush", post(databases::flush))
        .route(
            "/console/databases/{uid}/shards/{shard}/failover",
            post(databases::fail_over_shard),
        )
        .route("/console/actions/{uid}", get(databases::action))
        .route("/console/users", get(users::list).post(users::create))
        .route("/console/users/{uid}", post(users::change))
}
