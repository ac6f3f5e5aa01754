//! The agent's side of registration and heartbeats: registers with the
//! manager (keeping the uid it gets), then posts a heartbeat with the
//! shards' statuses every second. An unreachable manager is retried with
//! backoff forever; it never stops the agent.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::StatusCode;

use super::Agent;
use super::spec::{HeartbeatReply, Registered};

const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Registers, then heartbeats; registers again when the manager no longer
/// knows the node. Runs until aborted.
pub async fn run(agent: Arc<Agent>) {
    let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("cannot create the HTTP client for the manager: {e}");
            return;
        }
    };
    let base = agent.config().manager.trim_end_matches('/').to_owned();
    loop {
        let uid = register(&agent, &client, &base).await;
        heartbeat(&agent, &client, &base, uid).await;
    }
}

async fn register(agent: &Agent, client: &reqwest::Client, base: &str) -> u64 {
    let mut backoff = MIN_BACKOFF;
    loop {
        match try_register(agent, client, base).await {
            Ok(uid) => {
                tracing::info!(node = uid, manager = base, "registered with the manager");
                if let Err(e) = agent.set_uid(uid) {
                    tracing::error!("{e:#}: a restarted agent will register as a new node");
                }
                return uid;
            }
            Err(e) => {
                tracing::warn!(manager = base, "cannot register: {e:#}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn try_register(agent: &Agent, client: &reqwest::Client, base: &str) -> anyhow::Result<u64> {
    let reply = client
        .post(format!("{base}/v1/internal/nodes"))
        .bearer_auth(&agent.config().token)
        .json(&agent.node_info())
        .send()
        .await?
        .error_for_status()?;
    let registered: Registered = reply.json().await.context("the manager's answer is not {\"uid\": N}")?;
    Ok(registered.uid)
}

/// Posts heartbeats until the manager answers 404 (it does not know `uid`).
async fn heartbeat(agent: &Agent, client: &reqwest::Client, base: &str, uid: u64) {
    let url = format!("{base}/v1/internal/nodes/{uid}/heartbeat");
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        let sent = client
            .post(&url)
            .bearer_auth(&agent.config().token)
            .json(&agent.heartbeat())
            .send()
            .await;
        let problem = match sent {
            Ok(r) if r.status().is_success() => match r.json::<HeartbeatReply>().await {
                Ok(reply) => {
                    agent.record_contact(Some(reply.masters));
                    None
                }
                Err(e) => Some(format!("the manager's answer is not {{\"masters\": [uid…]}}: {e}")),
            },
            Ok(r) if r.status() == StatusCode::NOT_FOUND => {
                tracing::warn!(node = uid, "the manager does not know this node; registering again");
                return;
            }
            Ok(r) => Some(format!("the manager answered {}", r.status())),
            Err(e) => Some(format!("{:#}", anyhow::Error::from(e))),
        };
        if problem.is_some() {
            agent.record_contact(None);
        }
        match problem {
            Some(why) if !failing => {
                tracing::warn!(
                    manager = base,
                    "heartbeat failed: {why}; retrying every {HEARTBEAT_EVERY:?}"
                );
                failing = true;
            }
            Some(why) => tracing::debug!("heartbeat failed: {why}"),
            None if failing => {
                tracing::info!(manager = base, "heartbeats reach the manager again");
                failing = false;
            }
            None => {}
        }
    }
}
