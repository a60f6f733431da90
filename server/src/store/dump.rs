//! A backup when the store is an embedded replica: the primary's own SQL dump, loaded into a
//! new database file (the same kind of file a single-file backup is) and checked.
//!
//! Why the dump: `VACUUM INTO` on a replica is a write, which libsql sends to the primary
//! (the file would land on the primary's host, if anywhere), and the replica's own file must
//! not be read by anything but libsql while it syncs. Litestream on the primary's file would
//! write to it behind sqld's back (its own tables and checkpoints), which sqld's replication
//! log never sees. sqld serves `GET /dump`: the whole database as SQL text, read in one
//! transaction (so one consistent state), in the sqlite3 shell's format. It is read as it
//! arrives, a statement at a time (`sqlite3_complete` finds where each ends: schema
//! statements span lines, triggers hold semicolons), so memory stays at one statement.
//!
//! Here the dump must end with its `COMMIT` (not cut short); the backup then checks the copy
//! (`maintenance`): `PRAGMA integrity_check`, and each table holding exactly as many rows as
//! the dump inserted into it. The primary cannot be frozen for a comparison as a local
//! backup's source is; the dump's own transaction is the consistent state.

use std::{collections::HashMap, path::Path, sync::Arc, time::Duration};

use futures_util::StreamExt;

use super::{Conn, StoreError, config::Primary, timing::QueryTimings};

/// Longest wait for the primary to accept the connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest silence while the dump streams (a stalled primary fails the backup, not hangs it).
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Loads the primary's dump into a new database at `dest`; a connection to the copy, and
/// the rows the dump inserted into each table (for the caller's checks).
pub(super) async fn load_primary(
    primary: &Primary,
    dest: &Path,
    timings: Arc<QueryTimings>,
) -> Result<(Conn, HashMap<String, i64>), StoreError> {
    let fail = |reason: String| StoreError::Backup {
        path: dest.to_path_buf(),
        reason,
    };
    let url = format!("{}/dump", http_base(primary.url()));
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let mut request = client.get(&url);
    if !primary.auth_token().is_empty() {
        request = request.bearer_auth(primary.auth_token());
    }
    let response = request
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| fail(format!("the primary's dump ({url}): {}", e.without_url())))?;

    let db = libsql::Builder::new_local(dest)
        .build()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let copy = Conn {
        conn: db.connect().map_err(|e| fail(e.to_string()))?,
        timings,
        remote: false,
    };
    let mut loader = Loader::default();
    let mut body = response.bytes_stream();
    let mut pending = Vec::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| fail(format!("the dump stopped: {}", e.without_url())))?;
        pending.extend_from_slice(&chunk);
        let Some(last) = pending.iter().rposition(|b| *b == b'\n') else {
            continue;
        };
        let lines: Vec<u8> = pending.drain(..=last).collect();
        let lines = String::from_utf8(lines).map_err(|e| fail(e.to_string()))?;
        for line in lines.split_inclusive('\n') {
            if let Some(statement) = loader.push(line) {
                copy.execute_batch("maintenance.backup_load", &statement)
                    .await?;
            }
        }
    }
    let rest = String::from_utf8(pending).map_err(|e| fail(e.to_string()))?;
    if let Some(statement) = loader.push(&rest) {
        copy.execute_batch("maintenance.backup_load", &statement)
            .await?;
    }
    if !loader.committed || !loader.statement.trim().is_empty() {
        return Err(fail("the dump was cut short (no COMMIT at its end)".into()));
    }
    Ok((copy, loader.inserted))
}

/// The server's HTTP address: `libsql://` is HTTPS.
fn http_base(url: &str) -> String {
    let url = url.trim_end_matches('/');
    match url.strip_prefix("libsql://") {
        Some(rest) => format!("https://{rest}"),
        None => url.to_owned(),
    }
}

/// Cuts the dump's lines into statements and counts the rows inserted per table.
#[derive(Default)]
struct Loader {
    statement: String,
    inserted: HashMap<String, i64>,
    committed: bool,
}

impl Loader {
    /// Adds a line; a whole statement once it ends.
    fn push(&mut self, line: &str) -> Option<String> {
        self.statement.push_str(line);
        let trimmed = self.statement.trim_end();
        if !trimmed.ends_with(';') || !complete(trimmed) {
            return None;
        }
        let statement = requote_schema_row(std::mem::take(&mut self.statement));
        let head = statement.trim();
        self.committed = head.eq_ignore_ascii_case("COMMIT;");
        if let Some(table) = inserted_into(head) {
            *self.inserted.entry(table).or_default() += 1;
        }
        Some(statement)
    }
}

/// How the dump writes a virtual table (full-text search): a row of `sqlite_schema` with
/// `writable_schema` on, its shadow tables following as plain tables.
const SCHEMA_ROW: &str = "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) VALUES(";

/// sqld 0.24.32 writes a virtual table's `CREATE` text into that row without doubling its
/// quotes (`…,0,'CREATE VIRTUAL TABLE t USING fts5(body, content='notes')');`), which is not
/// valid SQL: such a text is quoted again here. A text already quoted (every `'` doubled)
/// is left alone, so a sqld that fixes this changes nothing.
fn requote_schema_row(statement: String) -> String {
    let Some(values) = statement.trim().strip_prefix(SCHEMA_ROW) else {
        return statement;
    };
    let Some(at) = values.find(",0,'") else {
        return statement;
    };
    let Some(sql) = values[at + 4..].strip_suffix("');") else {
        return statement;
    };
    if quoted(sql) {
        return statement;
    }
    format!(
        "{SCHEMA_ROW}{}{}');\n",
        &values[..at + 4],
        sql.replace('\'', "''")
    )
}

/// Whether every `'` in `text` is doubled (the inside of a valid SQL string).
fn quoted(text: &str) -> bool {
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\'' && chars.next() != Some('\'') {
            return false;
        }
    }
    true
}

/// The table an `INSERT INTO name VALUES(…)` of the dump writes to.
fn inserted_into(statement: &str) -> Option<String> {
    let rest = statement.strip_prefix("INSERT INTO ")?;
    let name = match rest.chars().next()? {
        quote @ ('"' | '\'') => rest[1..].split(quote).next()?,
        _ => rest.split([' ', '(']).next()?,
    };
    Some(name.to_owned())
}

/// Whether `sql` ends with a whole statement, by SQLite's own rule (strings, comments and
/// trigger bodies taken into account).
fn complete(sql: &str) -> bool {
    let Ok(sql) = std::ffi::CString::new(sql) else {
        return false;
    };
    // SAFETY: `sql` is a NUL-terminated string that lives until the call returns;
    // sqlite3_complete only reads it and keeps no pointer to it.
    unsafe { libsql::ffi::sqlite3_complete(sql.as_ptr()) != 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_end_where_sqlite_says_not_at_every_semicolon() {
        let dump = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n\
            CREATE TABLE t(a INTEGER PRIMARY KEY,\n  b TEXT);\n\
            INSERT INTO t VALUES(1,replace('x;\\ny','\\n',char(10)));\n\
            INSERT INTO \"odd name\" VALUES(1);\n\
            CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n  UPDATE t SET b = 'z;';\nEND;\n\
            COMMIT;\n";
        let mut loader = Loader::default();
        let statements: Vec<String> = dump
            .split_inclusive('\n')
            .filter_map(|line| loader.push(line))
            .collect();
        assert_eq!(statements.len(), 7, "{statements:#?}");
        assert!(statements[2].contains("b TEXT"));
        assert!(statements[5].starts_with("CREATE TRIGGER") && statements[5].contains("END;"));
        assert_eq!(loader.inserted.get("t"), Some(&1));
        assert_eq!(loader.inserted.get("odd name"), Some(&1));
        assert!(loader.committed);
    }

    #[test]
    fn a_virtual_tables_schema_row_is_quoted_once() {
        let as_sqld_writes = "INSERT INTO sqlite_schema(type,name,tbl_name,rootpage,sql) \
            VALUES('table','g','g',0,'CREATE VIRTUAL TABLE g USING fts5 (\n  s, content='u'\n)');\n";
        let mut loader = Loader::default();
        let statements: Vec<String> = as_sqld_writes
            .split_inclusive('\n')
            .filter_map(|line| loader.push(line))
            .collect();
        assert_eq!(statements.len(), 1, "{statements:?}");
        assert!(
            statements[0]
                .ends_with("0,'CREATE VIRTUAL TABLE g USING fts5 (\n  s, content=''u''\n)');\n"),
            "{}",
            statements[0]
        );
        assert_eq!(
            requote_schema_row(statements[0].clone()),
            statements[0],
            "not twice"
        );
    }

    #[test]
    fn a_dump_cut_before_its_commit_is_not_complete() {
        let mut loader = Loader::default();
        for line in "BEGIN TRANSACTION;\nINSERT INTO t VALUES(1);\n".split_inclusive('\n') {
            loader.push(line);
        }
        assert!(!loader.committed);
    }

    #[test]
    fn libsql_urls_are_https() {
        assert_eq!(http_base("libsql://db.example/"), "https://db.example");
        assert_eq!(http_base("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }
}
