//! `myna-log`: checks and exports the edge's access log offline; a thin shell over
//! [`edge_agent::verify`].
//!
//! - `myna-log verify (--db FILE | --export FILE) (--key KEY... | --key-file FILE)
//!   [--checkpoint FILE]...`: after a key rotation, give every key the log has had
//!   (`--key` repeated, or the data directory's `log-verifier-keys` as `--key-file`).
//! - `myna-log export --db FILE [--format jsonl|fhir] [--out FILE]`
//! - `myna-log key --data-dir DIR [--all]`
//!
//! Exit status: 0 the log is intact (or the export/key was written), 1 `verify` found a
//! problem (printed), 2 nothing could be checked or written (missing file, bad key,
//! malformed export, a `--checkpoint` file that is not a checkpoint signed by the key).
//! Entries after the last signed checkpoint are intact as far as the file can tell but no
//! signature vouches for them: `verify` prints a `WARNING:` line and still exits 0, since a
//! fresh log has such a tail until the edge signs its next checkpoint. No tracing subscriber is installed: stdout may carry an export, and
//! the library logs nothing here.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use edge_agent::verify::{self, Report, VerifyError};
use myna_domain::transparency::{LogSigner, LogVerifier, hash_to_base64};

/// Checks and exports the edge-agent's tamper-evident access log.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Replays the log and checks every signed checkpoint; exit 1 on a finding.
    Verify(VerifyArgs),
    /// Writes the log for other systems or for `verify --export`.
    Export(ExportArgs),
    /// Prints the verifier key of the signing key in a data directory.
    Key {
        /// The edge's data directory (holding the signing key file).
        #[arg(long)]
        data_dir: PathBuf,
        /// Every key the log has had (its `log-verifier-keys`), oldest first, the current
        /// one last.
        #[arg(long)]
        all: bool,
    },
}

#[derive(Args)]
struct VerifyArgs {
    /// The edge's SQLite file (opened read-only).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "export",
        conflicts_with = "export"
    )]
    db: Option<PathBuf>,
    /// A JSON-lines export written by `myna-log export --format jsonl`.
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    /// The log's verifier key (`origin+id+base64`). Repeat it for each key of a log whose
    /// key was rotated: a checkpoint signed by any of them is accepted, by no other key.
    #[arg(
        long,
        required_unless_present = "key_file",
        conflicts_with = "key_file"
    )]
    key: Vec<String>,
    /// A file holding the verifier key, or one key per line (the data directory's
    /// `log-verifier-keys` lists every key the log has had).
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// A signed checkpoint kept outside the log file (a tablet's saved state, an earlier
    /// `GET /v1/log/checkpoint`): the log must still hold what it signed. Repeatable.
    #[arg(long = "checkpoint", value_name = "FILE")]
    checkpoints: Vec<PathBuf>,
}

#[derive(Args)]
struct ExportArgs {
    /// The edge's SQLite file (opened read-only).
    #[arg(long, value_name = "FILE")]
    db: PathBuf,
    /// `jsonl`: verifiable entries and checkpoints; `fhir`: NDJSON AuditEvents.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    format: Format,
    /// Where to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Jsonl,
    Fhir,
}

/// Could not do what was asked: exit 2.
struct Failure(String);

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(error: E) -> Self {
        Failure(error.to_string())
    }
}

fn main() -> ExitCode {
    let outcome = match Cli::parse().command {
        Command::Verify(args) => run_verify(&args),
        Command::Export(args) => run_export(&args).map(|()| true),
        Command::Key { data_dir, all } => print_key(&data_dir, all).map(|()| true),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(Failure(message)) => {
            eprintln!("myna-log: {message}");
            ExitCode::from(2)
        }
    }
}

/// Prints the report; `Ok(false)` on a finding.
fn run_verify(args: &VerifyArgs) -> Result<bool, Failure> {
    let key = match (args.key.as_slice(), &args.key_file) {
        ([], Some(file)) => std::fs::read_to_string(file)
            .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?,
        ([], None) => return Err(Failure("--key or --key-file is required".into())),
        (keys, _) => keys.join("\n"),
    };
    let key = LogVerifier::new(&key).map_err(|e| {
        Failure(format!(
            "verifier key: {e} (one `origin+id+base64` key, or several keys of one log, one per line)"
        ))
    })?;
    let trusted = args
        .checkpoints
        .iter()
        .map(|file| read_checkpoint(file))
        .collect::<Result<Vec<_>, _>>()?;
    let report = match (&args.db, &args.export) {
        (Some(db), _) => verify::verify_db_with(db, &key, &trusted),
        (None, Some(export)) => {
            let file = File::open(export)
                .map_err(|e| Failure(format!("cannot open {}: {e}", export.display())))?;
            verify::verify_export_with(BufReader::new(file), &key, &trusted)
        }
        (None, None) => return Err(Failure("--db or --export is required".into())),
    };
    let report = report.map_err(|error| match error {
        VerifyError::TrustedCheckpoint { index, source } => Failure(format!(
            "--checkpoint {}: {source}",
            args.checkpoints[index - 1].display()
        )),
        other => other.into(),
    })?;
    println!("{}", summary(&report));
    Ok(report.finding.is_none())
}

/// A signed checkpoint note from a file, as `GET /v1/log/checkpoint` returned it; blank
/// lines an editor added at the end are dropped.
fn read_checkpoint(file: &Path) -> Result<String, Failure> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| Failure(format!("cannot read {}: {e}", file.display())))?;
    Ok(format!("{}\n", text.trim_end()))
}

fn summary(report: &Report) -> String {
    let root = report
        .root
        .as_ref()
        .map_or_else(|| "none (empty log)".into(), hash_to_base64);
    let Some(finding) = &report.finding else {
        let mut text = format!(
            "ok: {} entries, {} checkpoints, root {root}",
            report.entries, report.checkpoints
        );
        if report.trusted_checkpoints > 0 {
            text += &format!("; {} given checkpoint(s) match", report.trusted_checkpoints);
        }
        if report.unsigned_entries > 0 {
            let first = report.entries - report.unsigned_entries;
            text += &format!(
                "\nWARNING: the last {} entries (seq {}..={}) are not covered by any signed \
                 checkpoint: they cannot be vouched for without a newer checkpoint (fetch \
                 GET /v1/log/checkpoint from the edge, or pass one kept elsewhere with \
                 --checkpoint FILE); whoever had the file could have rewritten them",
                report.unsigned_entries,
                first + 1,
                report.entries
            );
        }
        return text;
    };
    format!(
        "TAMPERED: {finding} (replayed {} entries and {} checkpoints before it)",
        report.entries, report.checkpoints
    )
}

fn run_export(args: &ExportArgs) -> Result<(), Failure> {
    let out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(
            File::create(path)
                .map_err(|e| Failure(format!("cannot create {}: {e}", path.display())))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let written = match args.format {
        Format::Jsonl => verify::export_jsonl(&args.db, out)?,
        Format::Fhir => verify::export_fhir(&args.db, out)?,
    };
    if args.out.is_some() {
        eprintln!("exported {written} entries");
    }
    Ok(())
}

/// Prints the public half of the existing signing key (with `all`, every verifier key
/// the log has had); never creates one.
fn print_key(data_dir: &Path, all: bool) -> Result<(), Failure> {
    if all {
        let path = data_dir.join(edge_agent::transparency::VERIFIER_KEYS_FILE);
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Failure(format!("no key list at {}: {e}", path.display())))?;
        print!("{text}");
        return Ok(());
    }
    let path = data_dir.join(edge_agent::transparency::KEY_FILE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Failure(format!("no signing key at {}: {e}", path.display())))?;
    let signer =
        LogSigner::parse(&text).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    println!("{}", signer.verifier_key());
    Ok(())
}
