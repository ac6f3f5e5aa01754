# The Tessera image: one multi-call `tessera` binary that is the manager,
# the agent, the node, the proxy and the admin CLI
# (`docker run tessera tessera-node --port 6379`, `… tessera-manager --help`).
#
#   docker build -t tessera .          (or: docker compose build)
#
# Base images: rust:1-slim-bookworm and debian:bookworm-slim from Docker Hub;
# on a machine without a registry, scripts/docker-base.sh builds both locally.

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
# A binary built beforehand on a machine of the same Debian release is used as
# is (scripts/compose-test.sh puts its build there); otherwise build it here.
RUN if [ -x docker/prebuilt/tessera ]; then \
        cp docker/prebuilt/tessera /usr/local/bin/tessera; \
    else \
        cargo build --release --locked --bin tessera \
        && cp target/release/tessera /usr/local/bin/tessera; \
    fi

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin tessera \
    && mkdir -p /data /secrets \
    && chown tessera:tessera /data /secrets
# Root certificates: the HTTP clients load the system's trust store at start.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/local/bin/tessera /usr/local/bin/tessera
COPY docker/entrypoint.sh /usr/local/bin/docker-entrypoint
USER tessera
WORKDIR /data
VOLUME ["/data"]
# Console/REST/metrics of the manager, agent API, proxy metrics, database endpoints.
EXPOSE 8080 9101 9115 12000-12019
ENTRYPOINT ["docker-entrypoint"]
CMD ["--help"]
