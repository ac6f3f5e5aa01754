//! Failover of a master shard to its replica: automatic (the watchdog found
//! the master failed) or planned (`POST /v1/shards/{uid}/actions/failover`,
//! `POST /v1/bdbs/{uid}/actions/failover`), and the re-creation of a lost
//! node's replicas elsewhere. Each step is an event in the log and a metric.
//!
//! A failover promotes the replica with the highest replication offset:
//! roles are swapped in SQLite with a new topology epoch, the replica's agent
//! gets its master spec (`REPLICAOF NO ONE`) at once, then the epoch is
//! published so proxies switch; the reconciler makes the old master a
//! replica of the new one whenever its node answers. A planned failover
//! first pauses writes on the master (`CLIENT PAUSE WRITE`) and waits until
//! the replica's offset reaches the master's, so no acknowledged write is
//! lost; it gives up (and unpauses) if the replica does not catch up.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::post;

use crate::actions;
use crate::agent::ShardStatus;
use crate::auth::{Caller, Permission};
use crate::bdbs::ActionStarted;
use crate::error::{ApiError, ApiResult, Json, Path};
use crate::logs;
use crate::scheduler;
use crate::state::{AppState, bump_epoch};

/// Longest a planned failover pauses writes while the replica catches up.
pub const CATCH_UP: Duration = Duration::from_secs(2);
/// Timeout of one RESP call to a shard during a failover.
const SHARD_CALL: Duration = Duration::from_millis(500);

/// How long an agent holds a crashed master before restarting it: long
/// enough for the watchdog to notice and promote the replica first.
pub fn restart_hold_ms(failover_timeout_ms: i64) -> u64 {
    u64::try_from(failover_timeout_ms.saturating_mul(2).saturating_add(2_000)).unwrap_or(0)
}

/// How long an agent without contact with the manager lets a master take
/// writes without a replica keeping up: past the failover timeout, so a
/// master is fenced about when the manager may have replaced it.
pub fn fence_after_ms(failover_timeout_ms: i64) -> u64 {
    u64::try_from(failover_timeout_ms.saturating_add(1_000)).unwrap_or(0)
}

/// Why a failover happens.
#[derive(Debug, Clone)]
pub enum Trigger {
    /// The watchdog saw the master failed since this instant.
    Detected(Instant),
    /// A user asked for it: planned, no acknowledged write lost.
    Planned(String),
}

impl Trigger {
    fn kind(&self) -> &'static str {
        match self {
            Trigger::Detected(_) => "automatic",
            Trigger::Planned(_) => "planned",
        }
    }

    fn user(&self) -> &str {
        match self {
            Trigger::Detected(_) => "system",
            Trigger::Planned(user) => user,
        }
    }
}

/// A shard with where it runs.
#[derive(Debug, Clone, sqlx::FromRow)]
struct Placed {
    uid: i64,
    bdb_uid: i64,
    idx: i64,
    role: String,
    node_uid: i64,
    addr: String,
    password: Option<String>,
    /// Its node is in maintenance mode (about to be taken down).
    maintenance: bool,
}

const SELECT_PLACED: &str = "SELECT s.uid, s.bdb_uid, s.idx, s.role, s.node_uid, n.addr || ':' || s.port AS addr, b.password, n.maintenance \
     FROM shards s JOIN nodes n ON n.uid = s.node_uid JOIN bdbs b ON b.uid = s.bdb_uid";

/// What a failover did.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Promoted {
    pub bdb_uid: i64,
    /// The shard that was master.
    pub old_master: i64,
    /// The replica now master.
    pub new_master: i64,
    /// The topology epoch that routes to the new master.
    pub epoch: i64,
}

/// The replica of master `uid` to promote: the running one with the
/// highest replication offset, one off a node in maintenance on a tie. A
/// planned failover waits for its replica to catch up with its link up
/// ([`catch_up`]), so there staying off such a node comes first. An
/// automatic one never picks a replica its agent does not report synced
/// (one still in its first sync): promoted, its empty dataset would replace
/// the master's everywhere once the old master resyncs from it.
fn pick<'a>(
    uid: i64,
    replicas: &'a [Placed],
    status: impl Fn(&Placed) -> Option<&'a ShardStatus>,
    planned: bool,
) -> ApiResult<&'a Placed> {
    let running: Vec<(&ShardStatus, &Placed)> = replicas
        .iter()
        .filter_map(|r| status(r).filter(|s| s.status == "running").map(|s| (s, r)))
        .collect();
    if running.is_empty() {
        return Err(ApiError::conflict(
            "no_replica",
            format!("shard {uid} has no running replica to promote"),
        ));
    }
    running
        .into_iter()
        .filter(|(s, _)| planned || s.synced)
        .max_by_key(|(s, r)| {
            let (first, second) = if planned {
                (i64::from(!r.maintenance), s.repl_offset)
            } else {
                (s.repl_offset, i64::from(!r.maintenance))
            };
            (first, second, -r.uid)
        })
        .map(|(_, r)| r)
        .ok_or_else(|| {
            ApiError::conflict(
                "replica_not_synced",
                format!(
                    "no replica of shard {uid} has finished its first sync with it: promoting one would lose the dataset; the master is restarted instead"
                ),
            )
        })
}

/// Fails master shard `uid` over to its best replica.
///
/// # Errors
/// No such master, no running replica, a planned failover whose replica did
/// not catch up, or a database failure. Nothing changed in those cases.
pub async fn fail_over(state: &AppState, uid: i64, trigger: Trigger) -> ApiResult<Promoted> {
    let _one_at_a_time = state.failover_lock.lock().await;
    let started = match &trigger {
        Trigger::Detected(since) => *since,
        Trigger::Planned(_) => Instant::now(),
    };
    let object = format!("shard:{uid}");
    let result = promote(state, uid, &trigger).await;
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => logs::error_code(e),
    };
    logs::record(
        state,
        trigger.user(),
        &format!("shard_failover_{}", trigger.kind()),
        &object,
        &outcome,
    )
    .await;
    if let Ok(p) = &result {
        let seconds = started.elapsed().as_secs_f64();
        state.metrics.record_failover(p, trigger.kind(), seconds);
        tracing::warn!(
            old_master = p.old_master,
            new_master = p.new_master,
            epoch = p.epoch,
            kind = trigger.kind(),
            "failover done in {seconds:.3} s"
        );
    }
    result
}

async fn promote(state: &AppState, uid: i64, trigger: &Trigger) -> ApiResult<Promoted> {
    let master: Placed = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT_PLACED} WHERE s.uid = ?")))
        .bind(uid)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("shard_not_found", format!("there is no shard {uid}")))?;
    if master.role != "master" {
        return Err(ApiError::conflict(
            "not_a_master",
            format!("shard {uid} is a replica; fail over its master"),
        ));
    }
    let replicas: Vec<Placed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_PLACED} WHERE s.bdb_uid = ? AND s.idx = ? AND s.role = 'replica'"
    )))
    .bind(master.bdb_uid)
    .bind(master.idx)
    .fetch_all(&state.db)
    .await?;
    let planned = matches!(trigger, Trigger::Planned(_));
    let replica = {
        let live = state.live();
        pick(uid, &replicas, |r| live.shard(r.node_uid, r.uid), planned)?.clone()
    };
    if planned {
        catch_up(&master, &replica).await?;
    }
    let mut tx = state.write_tx().await?;
    // Three steps: (bdb, idx, role) is unique.
    for (role, shard) in [
        ("demoting", master.uid),
        ("master", replica.uid),
        ("replica", master.uid),
    ] {
        sqlx::query("UPDATE shards SET role = ? WHERE uid = ?")
            .bind(role)
            .bind(shard)
            .execute(&mut *tx)
            .await?;
    }
    let epoch = bump_epoch(&mut tx).await?;
    tx.commit().await?;
    let specs = crate::reconciler::load_specs(state).await?;
    let urls: std::collections::HashMap<i64, String> =
        sqlx::query_as::<_, (i64, String)>("SELECT uid, agent_url FROM nodes")
            .fetch_all(&state.db)
            .await?
            .into_iter()
            .collect();
    let put = |shard: &Placed| {
        let url = urls.get(&shard.node_uid).cloned();
        let spec = specs.iter().find(|(_, s)| s.uid == shard.uid).map(|(_, s)| s.clone());
        let (agents, uid) = (state.agents.clone(), shard.uid);
        async move {
            let (Some(url), Some(spec)) = (url, spec) else { return };
            if let Err(e) = agents.put_shard(&url, &spec).await {
                // The reconciler retries.
                tracing::warn!(shard = uid, role = %spec.role, "cannot apply the new role at once: {e}");
            }
        }
    };
    put(&replica).await;
    state.publish_epoch(epoch);
    logs::record(
        state,
        "system",
        "shard_promoted",
        &format!("shard:{}", replica.uid),
        "ok",
    )
    .await;
    if planned {
        // Demote (directly: the agent applies specs asynchronously) before
        // unpausing, so the writes held by the pause are refused by a
        // replica instead of landing on a second master.
        let (host, port) = replica.addr.rsplit_once(':').unwrap_or((replica.addr.as_str(), ""));
        let demoted = crate::shard_client::call(
            &master.addr,
            master.password.as_deref(),
            &[&["REPLICAOF", host, port], &["CLIENT", "UNPAUSE"]],
            SHARD_CALL,
        )
        .await;
        if let Err(e) = demoted {
            tracing::warn!(shard = master.uid, "cannot demote the old master at once: {e:#}");
        }
        put(&master).await;
    } else if state.live().node_up(master.node_uid) {
        // A paused or hung master whose agent still answers: fence it now.
        tokio::spawn(put(&master));
    }
    Ok(Promoted {
        bdb_uid: master.bdb_uid,
        old_master: master.uid,
        new_master: replica.uid,
        epoch,
    })
}

/// Pauses writes on `master` and waits until `replica` has everything.
async fn catch_up(master: &Placed, replica: &Placed) -> ApiResult<()> {
    let pause_ms = (CATCH_UP + Duration::from_secs(3)).as_millis().to_string();
    let password = master.password.as_deref();
    crate::shard_client::call(
        &master.addr,
        password,
        &[&["CLIENT", "PAUSE", &pause_ms, "WRITE"]],
        SHARD_CALL,
    )
    .await
    .map_err(|e| {
        ApiError::conflict(
            "master_unreachable",
            format!("cannot pause writes on shard {}: {e:#}", master.uid),
        )
    })?;
    let deadline = Instant::now() + CATCH_UP;
    loop {
        // The replica's offset counts only with its link up: one still in
        // its first sync may show the offset of an empty dataset.
        let offsets = tokio::join!(
            crate::shard_client::repl_offset(&master.addr, password, SHARD_CALL),
            crate::shard_client::synced_offset(&replica.addr, password, SHARD_CALL),
        );
        if let (Ok(m), Ok(Some(r))) = &offsets
            && r >= m
        {
            return Ok(());
        }
        if Instant::now() >= deadline {
            let _ = crate::shard_client::call(&master.addr, password, &[&["CLIENT", "UNPAUSE"]], SHARD_CALL).await;
            return Err(ApiError::conflict(
                "replica_behind",
                format!(
                    "the replica (shard {}) did not catch up with the master (shard {}) within {CATCH_UP:?} (master offset, replica offset if its link is up): {offsets:?}",
                    replica.uid, master.uid
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Moves the replicas of lost node `node_uid` to other nodes (when one has
/// the memory and a port), with a new topology epoch. Returns how many
/// could not move for want of room (the caller retries them later).
///
/// # Errors
/// A database failure.
pub async fn recreate_replicas(state: &AppState, node_uid: i64) -> ApiResult<usize> {
    let _one_at_a_time = state.failover_lock.lock().await;
    let lost: Vec<Placed> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT_PLACED} WHERE s.node_uid = ? AND s.role = 'replica' AND b.status NOT IN ('delete-pending', 'creation-failed')"
    )))
    .bind(node_uid)
    .fetch_all(&state.db)
    .await?;
    let mut stuck = 0;
    for shard in lost {
        let mut tx = state.write_tx().await?;
        let nodes = crate::bdbs::candidates(state, &mut tx, true).await?;
        let busy: Vec<i64> = sqlx::query_scalar("SELECT node_uid FROM shards WHERE bdb_uid = ? AND idx = ?")
            .bind(shard.bdb_uid)
            .bind(shard.idx)
            .fetch_all(&mut *tx)
            .await?;
        let memory: i64 = sqlx::query_scalar("SELECT memory_size / shards_count FROM bdbs WHERE uid = ?")
            .bind(shard.bdb_uid)
            .fetch_one(&mut *tx)
            .await?;
        let Some((node, port)) = scheduler::place_one(&nodes, &busy, memory) else {
            tracing::warn!(
                shard = shard.uid,
                node = node_uid,
                "no node can take the replica of a lost node"
            );
            logs::record(
                state,
                "system",
                "replica_recreate",
                &format!("shard:{}", shard.uid),
                "insufficient_resources",
            )
            .await;
            stuck += 1;
            continue;
        };
        sqlx::query("UPDATE shards SET node_uid = ?, port = ? WHERE uid = ?")
            .bind(node)
            .bind(i64::from(port))
            .bind(shard.uid)
            .execute(&mut *tx)
            .await?;
        let epoch = bump_epoch(&mut tx).await?;
        tx.commit().await?;
        state.publish_epoch(epoch);
        tracing::warn!(
            shard = shard.uid,
            from = node_uid,
            to = node,
            port,
            "replica re-created on another node"
        );
        logs::record(
            state,
            "system",
            "replica_recreate",
            &format!("shard:{}", shard.uid),
            "ok",
        )
        .await;
    }
    Ok(stuck)
}

/// Logs (event `old_master_rejoin`) and counts (metrics) the writes that a
/// replaced master had alone, as its agent measured them when it demoted
/// it. Once per demotion: the event log is the memory, so a restarted
/// manager does not count it again.
pub async fn record_demotion(state: &AppState, status: &ShardStatus) {
    let Some(d) = &status.demoted else { return };
    let description = match d.discarded_bytes {
        Some(0) => return,
        Some(n) => format!(
            "the old master had {n} bytes of writes its replacement never got (history {} up to offset {}); discarded as it became a replica",
            d.replid, d.offset
        ),
        None => format!(
            "the new master does not continue the old master's history ({} up to offset {}); all of it was replaced as it became a replica",
            d.replid, d.offset
        ),
    };
    let object = format!("shard:{}", status.uid);
    let known: Result<Option<i64>, _> = sqlx::query_scalar(
        "SELECT uid FROM events WHERE action = 'old_master_rejoin' AND object = ? AND description = ?",
    )
    .bind(&object)
    .bind(&description)
    .fetch_optional(&state.db)
    .await;
    if !matches!(known, Ok(None)) {
        return;
    }
    tracing::warn!(shard = status.uid, "{description}");
    state
        .metrics
        .record_rejoin(status.bdb_uid, d.discarded_bytes.unwrap_or(0));
    logs::record_described(state, "system", "old_master_rejoin", &object, "ok", Some(&description)).await;
}

/// Planned failover of one master shard.
#[utoipa::path(post, path = "/v1/shards/{uid}/actions/failover", tag = "shards", params(("uid" = i64, Path)),
    responses((status = 200, body = ActionStarted), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn shard_failover(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
) -> ApiResult<Json<ActionStarted>> {
    caller.require(Permission::EditDb)?;
    let bdb: Option<i64> = sqlx::query_scalar("SELECT bdb_uid FROM shards WHERE uid = ?")
        .bind(uid)
        .fetch_optional(&state.db)
        .await?;
    let result = fail_over(&state, uid, Trigger::Planned(caller.name.clone())).await;
    finish_action(&state, "shard_failover", bdb, result.map(drop)).await
}

/// Planned failover of every master shard of a database.
#[utoipa::path(post, path = "/v1/bdbs/{uid}/actions/failover", tag = "bdbs", params(("uid" = i64, Path)),
    responses((status = 200, body = ActionStarted), (status = 404, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn bdb_failover(
    State(state): State<AppState>,
    caller: Caller,
    Path(uid): Path<i64>,
) -> ApiResult<Json<ActionStarted>> {
    caller.require(Permission::EditDb)?;
    let masters: Vec<i64> =
        sqlx::query_scalar("SELECT uid FROM shards WHERE bdb_uid = ? AND role = 'master' ORDER BY idx")
            .bind(uid)
            .fetch_all(&state.db)
            .await?;
    if masters.is_empty() {
        return Err(ApiError::not_found(
            "db_not_found",
            format!("there is no database {uid} with shards"),
        ));
    }
    let mut result = Ok(());
    for master in masters {
        if let Err(e) = fail_over(&state, master, Trigger::Planned(caller.name.clone())).await {
            result = Err(e);
            break;
        }
    }
    finish_action(&state, "bdb_failover", Some(uid), result).await
}

async fn finish_action(
    state: &AppState,
    name: &str,
    bdb: Option<i64>,
    result: ApiResult<()>,
) -> ApiResult<Json<ActionStarted>> {
    let (status, error) = match &result {
        Ok(()) => ("completed", None),
        Err(e) => ("failed", Some(e.to_string())),
    };
    let mut conn = state.db.acquire().await?;
    let action = actions::start(&mut conn, name, bdb, status).await?;
    if let Some(error) = error {
        sqlx::query("UPDATE actions SET error = ? WHERE uid = ?")
            .bind(error)
            .bind(action)
            .execute(&mut *conn)
            .await?;
    }
    result.map(|()| {
        Json(ActionStarted {
            action_uid: action.to_string(),
        })
    })
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/shards/{uid}/actions/failover", post(shard_failover))
        .route("/v1/bdbs/{uid}/actions/failover", post(bdb_failover))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(uid: i64, maintenance: bool) -> Placed {
        Placed {
            uid,
            bdb_uid: 1,
            idx: 0,
            role: "replica".into(),
            node_uid: uid,
            addr: format!("127.0.0.1:{}", 20000 + uid),
            password: None,
            maintenance,
        }
    }

    fn status(uid: i64, status: &str, synced: bool, repl_offset: i64) -> ShardStatus {
        serde_json::from_value(serde_json::json!({
            "uid": uid, "bdb_uid": 1, "port": 20000 + uid, "role": "replica", "status": status,
            "pid": 1, "last_exit": null, "master_link_status": "down", "repl_offset": repl_offset,
            "rdb_last_bgsave_status": "ok", "aof_last_write_status": "ok", "synced": synced
        }))
        .expect("status")
    }

    fn picked(replicas: &[Placed], statuses: &[ShardStatus], planned: bool) -> Result<i64, String> {
        pick(9, replicas, |r| statuses.iter().find(|s| s.uid == r.uid), planned)
            .map(|r| r.uid)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_synced_replica_with_the_highest_offset_is_promoted() {
        let replicas = [replica(1, false), replica(2, false), replica(3, false)];
        let statuses = [
            status(1, "running", true, 100),
            // Ahead, but its process is not running.
            status(2, "restarting", true, 500),
            // Ahead, but never in sync with this master.
            status(3, "running", false, 900),
        ];
        assert_eq!(picked(&replicas, &statuses, false), Ok(1));
        // A planned failover checks the link itself (catch_up).
        assert_eq!(picked(&replicas, &statuses, true), Ok(3));
    }

    #[test]
    fn offsets_come_first_unless_planned_then_staying_off_maintenance() {
        let replicas = [replica(1, true), replica(2, false)];
        let statuses = [status(1, "running", true, 200), status(2, "running", true, 100)];
        assert_eq!(picked(&replicas, &statuses, false), Ok(1));
        assert_eq!(picked(&replicas, &statuses, true), Ok(2));
        // A tie: the one off maintenance.
        let statuses = [status(1, "running", true, 100), status(2, "running", true, 100)];
        assert_eq!(picked(&replicas, &statuses, false), Ok(2));
    }

    #[test]
    fn a_replica_that_never_synced_is_never_promoted() {
        let replicas = [replica(1, false)];
        let refused = picked(&replicas, &[status(1, "running", false, 0)], false).expect_err("refused");
        assert!(refused.contains("finished its first sync"), "{refused}");
        let none = picked(&replicas, &[status(1, "stopped", true, 0)], false).expect_err("refused");
        assert!(none.contains("no running replica"), "{none}");
        let unknown = picked(&replicas, &[], true).expect_err("refused");
        assert!(unknown.contains("no running replica"), "{unknown}");
    }
}
