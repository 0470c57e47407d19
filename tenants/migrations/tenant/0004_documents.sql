-- Requirements documents of a version (flow 9) and the AI ingestion proposal built from them.
-- The files themselves live under DATA_DIR/files/<tenant_id>/<document id>; the client's file
-- name is metadata only.

CREATE TABLE documents (
    id            TEXT PRIMARY KEY,               -- UUID v7, also the file's name on disk
    automation_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    file_name     TEXT NOT NULL,                  -- as the client sent it (display only)
    kind          TEXT NOT NULL CHECK (kind IN ('txt', 'md', 'pdf', 'docx')),
    content_type  TEXT NOT NULL,                  -- sniffed from the bytes
    size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
    sha256        TEXT NOT NULL,
    uploaded_by   TEXT,
    created_at    TEXT NOT NULL,
    FOREIGN KEY (automation_id, version) REFERENCES versions (automation_id, number)
);

CREATE INDEX documents_by_version ON documents (automation_id, version, id);

-- At most one ingestion per version: the newest document set's. `job_key` names the job that
-- may write it; a job for an older document set finds another key and leaves the row alone.
CREATE TABLE ingestions (
    automation_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    job_key       TEXT NOT NULL,
    proposal      TEXT,                           -- JSON blueprint, when done
    confidence    REAL,
    notes         TEXT NOT NULL DEFAULT '[]',     -- JSON array of strings
    error         TEXT,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (automation_id, version),
    FOREIGN KEY (automation_id, version) REFERENCES versions (automation_id, number)
);
