//! Declared disasters (see [`myna_domain::disaster`]).

use chrono::{DateTime, Utc};
use myna_domain::disaster::{AreaCode, DisasterDeclaration};
use rusqlite::params;

use super::tx::{Tx, parse_time, sortable_time};
use crate::error::{Error, Result};

/// Declarations kept in a listing.
const LIST_LIMIT: u32 = 500;

fn declaration(
    row: &rusqlite::Row<'_>,
) -> rusqlite::Result<(String, String, String, String, String)> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
    ))
}

fn decode(raw: (String, String, String, String, String)) -> Result<DisasterDeclaration> {
    let (id, name, area, starts_at, ends_at) = raw;
    Ok(DisasterDeclaration {
        id: uuid::Uuid::parse_str(&id).map_err(|_| Error::Corrupt("disaster id".into()))?,
        name,
        area: AreaCode::parse(&area).ok_or_else(|| Error::Corrupt("disaster area".into()))?,
        starts_at: parse_time(&starts_at)?,
        ends_at: parse_time(&ends_at)?,
    })
}

impl Tx<'_> {
    /// Stores a declaration.
    pub fn insert_disaster(&self, declared: &DisasterDeclaration, at: DateTime<Utc>) -> Result<()> {
        self.tx.execute(
            "INSERT INTO disaster_declarations (id, name, area, starts_at, ends_at, declared_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                declared.id.to_string(),
                declared.name,
                declared.area.as_str(),
                sortable_time(declared.starts_at),
                sortable_time(declared.ends_at),
                sortable_time(at),
            ],
        )?;
        Ok(())
    }

    /// Every declaration, newest period first (at most 500).
    pub fn disasters(&self) -> Result<Vec<DisasterDeclaration>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT id, name, area, starts_at, ends_at FROM disaster_declarations
             ORDER BY starts_at DESC, declared_at DESC LIMIT ?1",
        )?;
        let rows = statement.query_map([LIST_LIMIT], declaration)?;
        rows.map(|row| decode(row?)).collect()
    }

    /// The declarations covering a crew in `area` at `at`.
    pub fn disasters_covering(
        &self,
        area: &AreaCode,
        at: DateTime<Utc>,
    ) -> Result<Vec<DisasterDeclaration>> {
        let mut statement = self.tx.prepare_cached(
            "SELECT id, name, area, starts_at, ends_at FROM disaster_declarations
             WHERE starts_at <= ?1 AND ends_at > ?1 ORDER BY starts_at DESC",
        )?;
        let rows = statement.query_map([sortable_time(at)], declaration)?;
        let mut covering = Vec::new();
        for row in rows {
            let declared = decode(row?)?;
            // The area prefix is checked in Rust, by the same rule the domain states.
            if declared.covers(area, at) {
                covering.push(declared);
            }
        }
        Ok(covering)
    }
}
