-- High availability: failure detection thresholds and per-database durability.

-- A master shard that has not answered the manager's probes for this long is failed over.
ALTER TABLE cluster ADD COLUMN failover_timeout_ms INTEGER NOT NULL DEFAULT 1500;
-- A node silent for this long loses its replicas: they are re-created elsewhere.
ALTER TABLE cluster ADD COLUMN node_lost_timeout_ms INTEGER NOT NULL DEFAULT 30000;

-- `async` (a write is acknowledged by the master alone) or `sync` (once a replica has it too).
ALTER TABLE bdbs ADD COLUMN durability TEXT NOT NULL DEFAULT 'async';
