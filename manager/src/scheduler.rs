//! Shard placement: a master and its replica never share a node, each shard
//! goes to the node with the most unallocated memory, and each gets the
//! lowest free port of its node's range. Pure: callers load and store.

use std::collections::{HashMap, HashSet};

/// A node that may receive shards.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub uid: i64,
    pub total_memory: i64,
    /// Memory already given to shards on this node.
    pub allocated: i64,
    pub ports: [u16; 2],
    pub used_ports: HashSet<u16>,
}

/// Where one shard goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// Slot range index, 0-based.
    pub idx: i64,
    pub role: &'static str,
    pub node_uid: i64,
    pub port: u16,
}

/// Why nothing could be placed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Insufficient(pub String);

/// Places `shards_count` masters (and as many replicas if `replication`),
/// each needing `shard_memory` bytes, on `nodes`.
///
/// # Errors
/// [`Insufficient`] when there are too few nodes, too little memory or no free port.
pub fn place(
    nodes: &[Candidate],
    shards_count: i64,
    replication: bool,
    shard_memory: i64,
) -> Result<Vec<Placement>, Insufficient> {
    let needed_nodes = if replication { 2 } else { 1 };
    if nodes.len() < needed_nodes {
        return Err(Insufficient(format!(
            "{} available node(s); a database{} needs at least {needed_nodes}",
            nodes.len(),
            if replication { " with replication" } else { "" }
        )));
    }
    let mut free: HashMap<i64, i64> = nodes.iter().map(|n| (n.uid, n.total_memory - n.allocated)).collect();
    let mut ports: HashMap<i64, HashSet<u16>> = nodes.iter().map(|n| (n.uid, n.used_ports.clone())).collect();
    let roles: &[&'static str] = if replication {
        &["master", "replica"]
    } else {
        &["master"]
    };
    let mut out = Vec::new();
    for idx in 0..shards_count {
        let mut used_here = Vec::new();
        for &role in roles {
            let node = nodes
                .iter()
                .filter(|n| !used_here.contains(&n.uid) && free[&n.uid] >= shard_memory)
                .filter(|n| free_port(n, &ports[&n.uid]).is_some())
                .max_by_key(|n| (free[&n.uid], -n.uid))
                .ok_or_else(|| {
                    Insufficient(format!(
                        "no node has {shard_memory} bytes of memory and a free shard port left for the {role} of shard {}",
                        idx + 1
                    ))
                })?;
            let port = free_port(node, &ports[&node.uid]).expect("filtered on a free port");
            ports
                .get_mut(&node.uid)
                .expect("every candidate has a port set")
                .insert(port);
            *free.get_mut(&node.uid).expect("every candidate has a free figure") -= shard_memory;
            used_here.push(node.uid);
            out.push(Placement {
                idx,
                role,
                node_uid: node.uid,
                port,
            });
        }
    }
    Ok(out)
}

fn free_port(node: &Candidate, used: &HashSet<u16>) -> Option<u16> {
    (node.ports[0]..=node.ports[1]).find(|p| !used.contains(p))
}

/// A node and port for one more shard needing `memory` bytes, on none of
/// the nodes in `exclude` (those holding the same slot range): the node with
/// the most unallocated memory, its lowest free port.
pub fn place_one(nodes: &[Candidate], exclude: &[i64], memory: i64) -> Option<(i64, u16)> {
    nodes
        .iter()
        .filter(|n| !exclude.contains(&n.uid) && n.total_memory - n.allocated >= memory)
        .filter_map(|n| free_port(n, &n.used_ports).map(|p| (n, p)))
        .max_by_key(|(n, _)| (n.total_memory - n.allocated, -n.uid))
        .map(|(n, p)| (n.uid, p))
}

/// The inclusive slot range of shard `idx` of `count` (docs/architecture.md).
pub fn slot_range(idx: i64, count: i64) -> (i64, i64) {
    (idx * 16384 / count, (idx + 1) * 16384 / count - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(uid: i64, gib: i64) -> Candidate {
        Candidate {
            uid,
            total_memory: gib << 30,
            allocated: 0,
            ports: [30000, 30002],
            used_ports: HashSet::new(),
        }
    }

    #[test]
    fn master_and_replica_on_different_nodes_balanced() {
        let nodes = [node(1, 4), node(2, 4), node(3, 4)];
        let p = place(&nodes, 2, true, 1 << 30).expect("fits");
        assert_eq!(p.len(), 4);
        for idx in 0..2 {
            let pair: Vec<_> = p.iter().filter(|x| x.idx == idx).collect();
            assert_ne!(pair[0].node_uid, pair[1].node_uid);
        }
        let mut per_node: HashMap<i64, i64> = HashMap::new();
        for x in &p {
            *per_node.entry(x.node_uid).or_default() += 1;
        }
        assert!(per_node.values().all(|&n| n <= 2), "{per_node:?}");
        assert_eq!(per_node.len(), 3);
    }

    #[test]
    fn ports_are_distinct_per_node_and_from_the_range() {
        let mut n = node(1, 4);
        n.used_ports.insert(30000);
        let p = place(&[n], 2, false, 1).expect("fits");
        assert_eq!(p.iter().map(|x| x.port).collect::<Vec<_>>(), vec![30001, 30002]);
        assert!(place(&[node(1, 4)], 4, false, 1).is_err(), "only three ports");
    }

    #[test]
    fn refuses_without_enough_nodes_or_memory() {
        assert!(place(&[node(1, 4)], 1, true, 1).is_err());
        assert!(place(&[node(1, 1), node(2, 1)], 1, false, 2 << 30).is_err());
        let mut full = node(1, 1);
        full.allocated = 1 << 30;
        assert!(place(&[full], 1, false, 1).is_err());
    }

    #[test]
    fn slot_ranges_cover_everything() {
        assert_eq!(slot_range(0, 1), (0, 16383));
        assert_eq!(slot_range(0, 2), (0, 8191));
        assert_eq!(slot_range(1, 2), (8192, 16383));
        assert_eq!(slot_range(2, 3), (10922, 16383));
    }
}
