-- The plugin registry (ARCHITECTURE.md, "Plugins (wasmtime)"). The binaries themselves live in
-- DATA_DIR/plugins/<sha256>.wasm; these tables hold what was installed, every change of what runs
-- (replayed at start-up to rebuild the in-memory registry), the current per-workspace pins, and a
-- bounded sample of real calls for shadow runs.

CREATE TABLE plugins (
    id            TEXT PRIMARY KEY,             -- UUID v7
    sha256        TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('pricing', 'validation', 'ingestion')),
    version       TEXT NOT NULL,
    manifest      TEXT NOT NULL,                -- the manifest as JSON
    size_bytes    INTEGER NOT NULL,
    installed_at  TEXT NOT NULL,                -- RFC 3339 UTC
    installed_by  TEXT NOT NULL                 -- "system", "inbox", "cli" or an ops user's email
) STRICT;
CREATE UNIQUE INDEX plugins_kind_name_version ON plugins (kind, name, version);

-- Append-only, replayed oldest first (seq order) by the registry at start-up.
CREATE TABLE plugin_activations (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    action     TEXT NOT NULL CHECK (action IN ('activate', 'rollback', 'pin', 'unpin')),
    sha256     TEXT,                            -- in effect after the change (NULL after unpin)
    previous   TEXT,                            -- in effect before
    tenant_id  TEXT,                            -- pins only
    actor      TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;

-- The current pins (derived from plugin_activations, kept in the same transaction).
CREATE TABLE plugin_pins (
    tenant_id  TEXT NOT NULL,
    kind       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    pinned_by  TEXT NOT NULL,
    pinned_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind)
) STRICT;

-- Inputs and outputs of recent real calls, the cases of a shadow run. Pruned to the latest N
-- per kind on every write.
CREATE TABLE plugin_calls (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    tenant_id  TEXT,
    sha256     TEXT NOT NULL,
    input      TEXT NOT NULL,                   -- JSON
    output     TEXT NOT NULL,                   -- JSON
    at         TEXT NOT NULL
) STRICT;
CREATE INDEX plugin_calls_kind ON plugin_calls (kind, id);
