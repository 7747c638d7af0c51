//! The export format (see the parent module): writing it from the database, reading it
//! back into a replay; and the FHIR `AuditEvent` export for other systems.

use std::io::{BufRead, Write};
use std::path::Path;

use myna_domain::access::AccessRecord;
use serde::{Deserialize, Serialize};

use super::replay::{Entry, PendingCheckpoint, Replay};
use super::report::{Stop, VerifyError};
use super::sqlite::{open_read_only, size_column, text};

/// Writes the log in the edge database at `path` as a verifiable export (module docs) to
/// `out`. Returns the number of entries written.
pub fn export_jsonl(path: &Path, out: impl Write) -> Result<u64, VerifyError> {
    let conn = open_read_only(path)?;
    let snapshot = conn.unchecked_transaction()?;
    let mut out = std::io::BufWriter::new(out);
    let mut entries =
        snapshot.prepare("SELECT seq, id, record_json FROM access_log ORDER BY seq")?;
    let mut checkpoints =
        snapshot.prepare("SELECT seq, tree_size, note FROM log_checkpoints ORDER BY seq")?;
    let mut checkpoints = checkpoints.query([])?;
    let mut next_checkpoint = read_export_checkpoint(checkpoints.next()?)?;
    let mut written = 0u64;
    let mut rows = entries.query([])?;
    loop {
        while let Some(line) = next_checkpoint.take_if(|c| due(c, written)) {
            write_line(&mut out, &line)?;
            next_checkpoint = read_export_checkpoint(checkpoints.next()?)?;
        }
        let Some(row) = rows.next()? else { break };
        let seq: i64 = row.get(0)?;
        let record_json = row.get_ref(2)?.as_bytes().unwrap_or_default();
        let record_json =
            std::str::from_utf8(record_json).map_err(|_| VerifyError::Unexportable {
                seq,
                reason: "its text is not UTF-8",
            })?;
        let line = ExportLine::Entry {
            seq,
            id: text(row.get_ref(1)?).unwrap_or_default(),
            record_json: record_json.to_string(),
        };
        write_line(&mut out, &line)?;
        written += 1;
    }
    while let Some(line) = next_checkpoint {
        write_line(&mut out, &line)?;
        next_checkpoint = read_export_checkpoint(checkpoints.next()?)?;
    }
    out.flush()?;
    Ok(written)
}

/// Writes the log in the edge database at `path` as FHIR bulk-data NDJSON `AuditEvent`s
/// ([`crate::fhir::audit_events_ndjson`]), for other systems; this is not verifiable.
/// Returns the number of events written.
pub fn export_fhir(path: &Path, out: impl Write) -> Result<u64, VerifyError> {
    let conn = open_read_only(path)?;
    let snapshot = conn.unchecked_transaction()?;
    let mut out = std::io::BufWriter::new(out);
    let mut stmt = snapshot.prepare("SELECT seq, record_json FROM access_log ORDER BY seq")?;
    let mut failure = None;
    let records = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get_ref(1)?.as_bytes().unwrap_or_default().to_vec(),
            ))
        })?
        .map(|row| -> Result<(u64, AccessRecord), VerifyError> {
            let (seq, json) = row?;
            let record = serde_json::from_slice(&json).map_err(|_| VerifyError::Unexportable {
                seq,
                reason: "it is not an access record",
            })?;
            Ok((u64::try_from(seq - 1).unwrap_or_default(), record))
        })
        .map_while(|row| row.map_err(|e| failure = Some(e)).ok());
    let written = crate::fhir::audit_events_ndjson(records, &mut out)?;
    if let Some(failure) = failure {
        return Err(failure);
    }
    out.flush()?;
    Ok(written)
}

/// One line of the export.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum ExportLine {
    Entry {
        seq: i64,
        id: String,
        record_json: String,
    },
    Checkpoint {
        seq: i64,
        tree_size: u64,
        note: String,
    },
}

fn due(line: &ExportLine, written: u64) -> bool {
    matches!(line, ExportLine::Checkpoint { tree_size, .. } if *tree_size <= written)
}

fn write_line(out: &mut impl Write, line: &ExportLine) -> Result<(), VerifyError> {
    serde_json::to_writer(&mut *out, line).map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    Ok(())
}

fn read_export_checkpoint(
    row: Option<&rusqlite::Row<'_>>,
) -> Result<Option<ExportLine>, VerifyError> {
    let Some(row) = row else { return Ok(None) };
    Ok(Some(ExportLine::Checkpoint {
        seq: row.get(0)?,
        tree_size: size_column(row.get_ref(1)?),
        note: text(row.get_ref(2)?).unwrap_or_default(),
    }))
}

/// Most checkpoint lines an export may hold ahead of the entries that bring the log to their
/// size: they wait in memory until the replay gets there.
pub const MAX_EARLY_CHECKPOINTS: usize = 65_536;

pub(super) fn replay_export(input: impl BufRead, replay: &mut Replay<'_>) -> Result<(), Stop> {
    for (n, line) in input.lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let parsed: ExportLine =
            serde_json::from_str(&line).map_err(|e| VerifyError::Malformed {
                line: n as u64 + 1,
                reason: format!("{:?} error at column {}", e.classify(), e.column()),
            })?;
        match parsed {
            ExportLine::Entry {
                seq,
                id,
                record_json,
            } => replay.entry(
                &Entry {
                    seq,
                    id,
                    record_json: record_json.as_bytes(),
                    columns: None,
                },
                |_, _| Ok(()),
            )?,
            ExportLine::Checkpoint { .. } if replay.pending.len() >= MAX_EARLY_CHECKPOINTS => {
                return Err(VerifyError::Malformed {
                    line: n as u64 + 1,
                    reason: format!(
                        "more than {MAX_EARLY_CHECKPOINTS} checkpoint lines ahead of their \
                         entries (each belongs after the entry that brings the log to its size)"
                    ),
                }
                .into());
            }
            ExportLine::Checkpoint {
                seq,
                tree_size,
                note,
            } => replay.offer(PendingCheckpoint {
                seq,
                tree_size,
                note,
                columns: None,
            })?,
        }
    }
    replay.finish()?;
    Ok(())
}
