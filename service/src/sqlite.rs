//! Opening SQLite with the durability the access log and the outboxes rely on.

use std::path::Path;
use std::time::Duration;

use rusqlite::Connection;

/// Page cache of a durable connection, in KiB (SQLite's negative `cache_size`).
const DURABLE_CACHE_KIB: i64 = -32 * 1024;

/// Opens (creating if needed) a SQLite file for durable writes: WAL journal,
/// `synchronous=FULL` (a commit is on disk before the caller answers anyone, across power
/// loss, not only process crashes), foreign keys on, 5 s busy timeout, and a page cache of
/// up to 32 MiB (SQLite's default 2 MiB made the edge's writer re-read the records and log
/// indexes from the OS on every lookup: a seventh of its time at national load).
///
/// The file is created readable by its owner only (0600), and SQLite gives its WAL and SHM
/// files the database file's mode, so they are private too, whatever the umask.
pub fn open_durable(path: &Path) -> rusqlite::Result<Connection> {
    create_private(path).map_err(|e| {
        rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!("creating {}: {e}", path.display())),
        )
    })?;
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "cache_size", DURABLE_CACHE_KIB)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Creates an empty file with mode 0600 if `path` does not exist yet.
fn create_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durable_connection_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let conn = open_durable(&dir.path().join("t.sqlite3")).unwrap();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!((mode.as_str(), sync), ("wal", 2));
    }

    #[test]
    fn production_database_wal_and_shm_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let conn = open_durable(&path).unwrap();
        conn.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        for name in ["t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}: {mode:o}");
        }
    }
}
