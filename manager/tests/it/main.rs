//! Tests of tessera-manager: the REST API through `oneshot`, the reconciler
//! against in-process agents, and the real binaries end to end.

mod api;
mod e2e;
mod ha;
mod reconcile;
mod support;
mod tls;
