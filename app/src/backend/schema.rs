//! The database schema, as versioned migrations applied at start.
//!
//! Ids are UUIDv7 text (sortable, safe to generate anywhere); every table also has an
//! explicit `seq INTEGER PRIMARY KEY` because the full-text indexes refer to rows by rowid
//! and VACUUM may renumber implicit rowids. Timestamps are microseconds since the epoch.
//! Full-text search uses FTS5's trigram tokenizer, which matches substrings of any script,
//! Chinese included, without a word segmenter.

use server::store::Migration;

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "stories and nodes",
        sql: r#"
CREATE TABLE stories (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_progress', 'completed', 'archived')),
    tags TEXT NOT NULL DEFAULT '[]',
    node_count INTEGER NOT NULL DEFAULT 0,
    word_count INTEGER NOT NULL DEFAULT 0,
    read_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX stories_by_updated ON stories (updated_at, id);
CREATE INDEX stories_by_created ON stories (created_at, id);
CREATE INDEX stories_by_title ON stories (title, id);
CREATE INDEX stories_by_status ON stories (status, updated_at, id);
CREATE INDEX stories_by_reads ON stories (read_count);

CREATE TABLE story_tags (
    tag TEXT NOT NULL,
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    PRIMARY KEY (tag, story_id)
) WITHOUT ROWID;
CREATE INDEX story_tags_by_story ON story_tags (story_id);

CREATE TABLE nodes (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES nodes (id),
    position INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('chapter', 'scene', 'choice', 'text', 'ending')),
    title TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    choice_label TEXT,
    word_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX nodes_by_parent ON nodes (story_id, parent_id, position);
CREATE INDEX nodes_by_parent_id ON nodes (parent_id);

CREATE VIRTUAL TABLE stories_fts USING fts5 (
    title, summary, content = 'stories', content_rowid = 'seq', tokenize = 'trigram'
);
CREATE TRIGGER stories_fts_insert AFTER INSERT ON stories BEGIN
    INSERT INTO stories_fts (rowid, title, summary) VALUES (new.seq, new.title, new.summary);
END;
CREATE TRIGGER stories_fts_delete AFTER DELETE ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, summary)
    VALUES ('delete', old.seq, old.title, old.summary);
END;
CREATE TRIGGER stories_fts_update AFTER UPDATE OF title, summary ON stories BEGIN
    INSERT INTO stories_fts (stories_fts, rowid, title, summary)
    VALUES ('delete', old.seq, old.title, old.summary);
    INSERT INTO stories_fts (rowid, title, summary) VALUES (new.seq, new.title, new.summary);
END;

CREATE VIRTUAL TABLE nodes_fts USING fts5 (
    title, content, content = 'nodes', content_rowid = 'seq', tokenize = 'trigram'
);
CREATE TRIGGER nodes_fts_insert AFTER INSERT ON nodes BEGIN
    INSERT INTO nodes_fts (rowid, title, content) VALUES (new.seq, new.title, new.content);
END;
CREATE TRIGGER nodes_fts_delete AFTER DELETE ON nodes BEGIN
    INSERT INTO nodes_fts (nodes_fts, rowid, title, content)
    VALUES ('delete', old.seq, old.title, old.content);
END;
CREATE TRIGGER nodes_fts_update AFTER UPDATE OF title, content ON nodes BEGIN
    INSERT INTO nodes_fts (nodes_fts, rowid, title, content)
    VALUES ('delete', old.seq, old.title, old.content);
    INSERT INTO nodes_fts (rowid, title, content) VALUES (new.seq, new.title, new.content);
END;
"#,
    },
    Migration {
        version: 2,
        name: "asynchronous node search index",
        // Tokenizing node text into trigrams inside every insert made batch inserts 7x slower
        // (20k instead of 150k+ nodes/s, measured). Writes now only queue the node's rowid; the
        // search indexer drains the queue in the background, and searches read the queue too,
        // so a node is findable the moment its write commits. The index is contentless (the
        // text lives in `nodes` only) with delete support, so a queued rowid can be re-indexed
        // without knowing its old text.
        sql: r#"
DROP TRIGGER nodes_fts_insert;
DROP TRIGGER nodes_fts_delete;
DROP TRIGGER nodes_fts_update;
DROP TABLE nodes_fts;
CREATE VIRTUAL TABLE nodes_fts USING fts5 (
    title, content, content = '', contentless_delete = 1, tokenize = 'trigram'
);
CREATE TABLE nodes_fts_pending (seq INTEGER PRIMARY KEY);
INSERT INTO nodes_fts_pending (seq) SELECT seq FROM nodes;
CREATE TRIGGER nodes_fts_queue_insert AFTER INSERT ON nodes BEGIN
    INSERT OR IGNORE INTO nodes_fts_pending (seq) VALUES (new.seq);
END;
CREATE TRIGGER nodes_fts_queue_update AFTER UPDATE OF title, content ON nodes BEGIN
    INSERT OR IGNORE INTO nodes_fts_pending (seq) VALUES (new.seq);
END;
CREATE TRIGGER nodes_fts_queue_delete AFTER DELETE ON nodes BEGIN
    INSERT OR IGNORE INTO nodes_fts_pending (seq) VALUES (old.seq);
END;

-- A story's nodes (the tree query) and a node's children (siblings, subtrees, and the
-- foreign-key check when a parent is deleted) each get one index.
DROP INDEX nodes_by_parent;
DROP INDEX nodes_by_parent_id;
CREATE INDEX nodes_by_story ON nodes (story_id);
CREATE INDEX nodes_by_parent ON nodes (parent_id, position);
"#,
    },
    Migration {
        version: 3,
        name: "task queue",
        sql: server::tasks::SCHEMA,
    },
    Migration {
        version: 4,
        name: "notifications and backups",
        // Notifications are what finished tasks tell the user; backups are the verified
        // copies the backup task made (the files live in the backup directory).
        sql: r#"
CREATE TABLE notifications (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    level TEXT NOT NULL CHECK (level IN ('success', 'failure')),
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    link TEXT,
    task_id INTEGER,
    created_at INTEGER NOT NULL,
    read_at INTEGER
);
CREATE INDEX notifications_unread ON notifications (seq) WHERE read_at IS NULL;

CREATE TABLE backups (
    seq INTEGER PRIMARY KEY,
    file TEXT NOT NULL UNIQUE,
    bytes INTEGER NOT NULL,
    integrity TEXT NOT NULL,
    row_counts TEXT NOT NULL,
    took_ms REAL NOT NULL,
    created_at INTEGER NOT NULL
);
"#,
    },
    Migration {
        version: 5,
        name: "task public ids and owners",
        sql: server::tasks::SCHEMA_PUBLIC_IDS,
    },
    Migration {
        version: 6,
        name: "private notifications",
        // Notifications name their task by its public id and belong to the task's owner.
        // Those made before owners existed have none: only operators see them.
        sql: r#"
ALTER TABLE notifications ADD COLUMN task_uid TEXT;
ALTER TABLE notifications ADD COLUMN owner TEXT;
UPDATE notifications SET task_uid = (SELECT uid FROM tasks WHERE tasks.id = notifications.task_id);
UPDATE notifications SET link = CASE
    WHEN task_uid IS NULL THEN NULL
    ELSE '/api/tasks/' || task_uid || '/result' END
 WHERE link LIKE '/api/tasks/%';
CREATE INDEX notifications_by_owner ON notifications (owner, seq);
-- One notification per task: a task's notification is made after the task's own commit and
-- made again at start if a crash came between the two, so it must be idempotent.
DELETE FROM notifications WHERE task_uid IS NOT NULL AND seq NOT IN
    (SELECT min(seq) FROM notifications WHERE task_uid IS NOT NULL GROUP BY task_uid);
CREATE UNIQUE INDEX notifications_one_per_task ON notifications (task_uid)
    WHERE task_uid IS NOT NULL;
"#,
    },
    Migration {
        version: 7,
        name: "web vitals minute rollups",
        // One row per minute and page: that minute's beacons of the page as JSON (navigation
        // counts, and per metric a DDSketch and counts per rating), kept for 7 days.
        sql: "CREATE TABLE vitals_minutes (
    minute INTEGER NOT NULL,
    page INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (minute, page)
) WITHOUT ROWID;",
    },
    Migration {
        version: 8,
        name: "alert thresholds",
        // Thresholds an operator changed (`PUT /api/admin/alerts`); the rest are defaults.
        sql: "CREATE TABLE alert_thresholds (
    name TEXT PRIMARY KEY,
    threshold REAL NOT NULL
) WITHOUT ROWID;",
    },
    Migration {
        version: 9,
        name: "metrics history minutes",
        // One row per minute: the dashboard's history point rolled up over that minute, as
        // JSON, kept for 7 days (`backend::history_days`).
        sql: "CREATE TABLE metrics_minutes (
    at_unix_ms INTEGER PRIMARY KEY,
    point TEXT NOT NULL
);",
    },
    Migration {
        version: 10,
        name: "story covers",
        // Uploaded originals by content hash (kept for re-encoding and exports, never
        // served) and their variants, in the database so that backups and replication
        // carry them and a story's delete removes them in one transaction. `cover_hash`
        // is the cover shown; `cover_pending` the upload whose variants are being made.
        sql: "CREATE TABLE media (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    content_type TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    color TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    original BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE media_variants (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL REFERENCES media (hash) ON DELETE CASCADE,
    width INTEGER NOT NULL,
    format TEXT NOT NULL CHECK (format IN ('avif', 'webp', 'jpeg')),
    data BLOB NOT NULL,
    encode_ms REAL NOT NULL,
    UNIQUE (hash, width, format)
);
ALTER TABLE stories ADD COLUMN cover_hash TEXT;
ALTER TABLE stories ADD COLUMN cover_pending TEXT;
CREATE INDEX stories_by_cover ON stories (cover_hash) WHERE cover_hash IS NOT NULL;
CREATE INDEX stories_by_cover_pending ON stories (cover_pending) WHERE cover_pending IS NOT NULL;",
    },
    Migration {
        version: 11,
        name: "sibling groups",
        // A sibling group is `story_id = ? AND parent_id IS ?`: for the top level
        // (`parent_id IS NULL`) `nodes_by_parent` held every story's top-level nodes, so
        // counting or shifting one story's chapters scanned them all.
        sql: "CREATE INDEX nodes_by_siblings ON nodes (story_id, parent_id, position);",
    },
    Migration {
        version: 12,
        name: "accounts, sessions, owners and collaborators",
        // Every story gets an owner; the ones written before accounts go to the demo
        // account (which has no password: nobody signs in as it) and stay public.
        // Sessions are keyed by the SHA-256 of their token (a copy of the database signs
        // nobody in); `public_id` is what the sessions list shows and a revoke names.
        sql: r#"
CREATE TABLE accounts (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    handle TEXT NOT NULL,
    handle_key TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    roles TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);
CREATE TABLE account_sessions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    public_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    device TEXT NOT NULL DEFAULT ''
);
CREATE INDEX account_sessions_by_account ON account_sessions (account_id);
CREATE TABLE collaborators (
    story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
    added_at INTEGER NOT NULL,
    PRIMARY KEY (story_id, account_id)
) WITHOUT ROWID;
CREATE INDEX collaborators_by_account ON collaborators (account_id, story_id);
INSERT INTO accounts (id, handle, handle_key, password_hash, roles, created_at)
    VALUES ('00000000-0000-7000-8000-000000000001', 'demo', 'demo', NULL, '[]', 0);
ALTER TABLE stories ADD COLUMN owner_id TEXT REFERENCES accounts (id);
ALTER TABLE stories ADD COLUMN visibility TEXT NOT NULL DEFAULT 'public'
    CHECK (visibility IN ('public', 'private'));
UPDATE stories SET owner_id = '00000000-0000-7000-8000-000000000001' WHERE owner_id IS NULL;
CREATE INDEX stories_by_owner ON stories (owner_id, updated_at);
"#,
    },
    Migration {
        version: 13,
        name: "passkeys",
        // A passkey as webauthn-rs keeps it (JSON), keyed by its credential id; `id` is
        // what the account page names. A ceremony is the state between the two requests
        // of a registration or a sign-in, used once, swept when expired.
        sql: r#"
CREATE TABLE passkeys (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    credential_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    passkey TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_used INTEGER
);
CREATE INDEX passkeys_by_account ON passkeys (account_id);
CREATE TABLE passkey_ceremonies (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('register', 'signin')),
    state TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX passkey_ceremonies_by_account ON passkey_ceremonies (account_id, expires_at);
CREATE INDEX passkey_ceremonies_by_expiry ON passkey_ceremonies (expires_at);
"#,
    },
    Migration {
        version: 14,
        name: "notifications by owner and age",
        // An owner's unread count reads this partial index, not the table; the sweep of old
        // notifications reads them by age.
        sql: r#"
CREATE INDEX notifications_unread_by_owner ON notifications (owner) WHERE read_at IS NULL;
CREATE INDEX notifications_by_age ON notifications (created_at);
"#,
    },
    Migration {
        version: 15,
        name: "task shares per owner",
        sql: server::tasks::SCHEMA_OWNER_SHARE,
    },
    Migration {
        version: 16,
        name: "story byte counts",
        // The bytes of node text a story holds, kept by every write like its node count, so
        // that its bound is checked without reading its nodes.
        sql: r#"
ALTER TABLE stories ADD COLUMN byte_count INTEGER NOT NULL DEFAULT 0;
UPDATE stories SET byte_count = (
    SELECT COALESCE(sum(length(CAST(title AS BLOB)) + length(CAST(content AS BLOB))
        + COALESCE(length(CAST(choice_label AS BLOB)), 0)), 0)
    FROM nodes WHERE nodes.story_id = stories.id
);
"#,
    },
];

/// The account the demo library and every story written before accounts belong to.
pub const DEMO_ACCOUNT: &str = "00000000-0000-7000-8000-000000000001";
