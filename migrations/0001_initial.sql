-- Tessera manager state: the desired state of the cluster.

CREATE TABLE cluster (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    name TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    created_time TEXT NOT NULL
);
INSERT INTO cluster (id, name, epoch, created_time)
VALUES (1, 'tessera', 1, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));

CREATE TABLE users (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    email TEXT,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL
);

CREATE TABLE nodes (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    addr TEXT NOT NULL,
    agent_url TEXT NOT NULL UNIQUE,
    version TEXT NOT NULL,
    total_memory INTEGER NOT NULL,
    cores INTEGER NOT NULL,
    free_disk INTEGER NOT NULL,
    port_min INTEGER NOT NULL,
    port_max INTEGER NOT NULL,
    maintenance INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE bdbs (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    memory_size INTEGER NOT NULL,
    shards_count INTEGER NOT NULL,
    replication INTEGER NOT NULL,
    data_persistence TEXT NOT NULL,
    aof_policy TEXT NOT NULL,
    snapshot_policy TEXT NOT NULL,
    port INTEGER NOT NULL UNIQUE,
    eviction_policy TEXT NOT NULL,
    password TEXT,
    password_hash TEXT,
    tls_mode TEXT NOT NULL,
    status TEXT NOT NULL,
    created_time TEXT NOT NULL
);

-- One row per shard process. `idx` is the slot range (0-based) it serves.
CREATE TABLE shards (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    bdb_uid INTEGER NOT NULL REFERENCES bdbs (uid) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    role TEXT NOT NULL,
    node_uid INTEGER NOT NULL REFERENCES nodes (uid),
    port INTEGER NOT NULL,
    UNIQUE (node_uid, port),
    UNIQUE (bdb_uid, idx, role)
);

CREATE TABLE actions (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    bdb_uid INTEGER,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    created_time TEXT NOT NULL,
    updated_time TEXT NOT NULL
);

CREATE TABLE events (
    uid INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    user TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    outcome TEXT NOT NULL
);
