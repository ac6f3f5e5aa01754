//! The OpenAPI 3 document of the REST API, generated from the handlers and
//! types (`GET /v1/openapi.json`).

use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};

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
    modifiers(&Security, &CommonErrors),
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

/// The answers any operation can give besides its own, documented once
/// here: 400 when its path, query or body does not parse, and 401/403 when
/// it needs a login.
struct CommonErrors;

impl utoipa::Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let error = |description: &str| -> RefOr<Response> {
            let json = ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build();
            ResponseBuilder::new()
                .description(description)
                .content("application/json", json)
                .build()
                .into()
        };
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.put, &mut item.post, &mut item.delete]
                .into_iter()
                .flatten()
            {
                let takes_input = op.request_body.is_some() || op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                let public = op
                    .security
                    .as_ref()
                    .is_some_and(|s| s.iter().all(|r| *r == SecurityRequirement::default()));
                let responses = &mut op.responses.responses;
                if takes_input {
                    responses
                        .entry("400".into())
                        .or_insert_with(|| error("The path, query or body is malformed"));
                }
                if !public {
                    responses
                        .entry("401".into())
                        .or_insert_with(|| error("No valid credentials"));
                    responses
                        .entry("403".into())
                        .or_insert_with(|| error("The caller's role does not allow this"));
                }
            }
        }
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
