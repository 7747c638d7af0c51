//! Reading an edge database read-only, column by column, trusting none of its types.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::report::VerifyError;

/// Opens the database at `path` read-only (waiting up to 5 s for a writer's lock).
pub(super) fn open_read_only(path: &Path) -> Result<Connection, VerifyError> {
    let open = || {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        Ok(conn)
    };
    open().map_err(|source| VerifyError::Open {
        path: path.to_path_buf(),
        source,
    })
}

/// A column as text whatever its SQLite type (an attacker is not bound by the schema);
/// `None` for NULL.
pub(super) fn text(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Null => None,
        ValueRef::Integer(i) => Some(i.to_string()),
        ValueRef::Real(r) => Some(r.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    }
}

/// A size column; a negative or non-integer one reads as `u64::MAX`, which no checkpoint
/// note can match.
pub(super) fn size_column(value: ValueRef<'_>) -> u64 {
    match value {
        ValueRef::Integer(i) => u64::try_from(i).unwrap_or(u64::MAX),
        _ => u64::MAX,
    }
}
