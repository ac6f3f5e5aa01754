//! The OpenAPI 3 document of the REST API, generated from the handlers and
//! types (`GET /v1/openapi.json`).

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tessera manager REST API", description = "Databases, nodes, shards, users and cluster of a Tessera cluster."),
    paths(
        crate::bdbs::list, crate::bdbs::get_one, crate::bdbs::post, crate::bdbs::put_one, crate::bdbs::delete, crate::bdbs::flush,
        crate::cluster::get_cluster, crate::cluster::put_cluster, crate::cluster::cluster_stats, crate::cluster::bdb_stats,
        crate::nodes::list, crate::nodes::get_one, crate::nodes::action,
        crate::shards::list, crate::shards::get_one,
        crate::failover::shard_failover, crate::failover::bdb_failover,
        crate::users::list, crate::users::get_one, crate::users::post, crate::users::put, crate::users::delete, crate::users::authorize,
        crate::actions::list, crate::actions::get_one,
        crate::logs::list,
        crate::internal::register, crate::internal::heartbeat, crate::internal::topology,
        crate::metrics::scrape,
    ),
    modifiers(&Security),
    security(("basic" = []), ("bearer" = [])),
)]
struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    }
}

/// The document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[utoipa::path(get, path = "/v1/openapi.json", tag = "meta", security(), responses((status = 200, description = "This document")))]
pub async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}
