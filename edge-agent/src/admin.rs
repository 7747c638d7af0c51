//! `edge-agent admin …`: administering a running (or stopped) edge from its host.
//!
//! Staff accounts — privacy officers and operators, who call the edge with a client
//! certificate naming `urn:myna:staff:<role>:<id>` — are added, disabled, enabled and
//! listed here; the access log's signing key is rotated here; and every such action is
//! listed with who did it. Each change and its entry in `admin_actions` commit in one
//! transaction, on a connection of the command's own beside the running service (SQLite
//! WAL; a write waits for the service's writer up to ten seconds).
//!
//! Edge accounts have no password and no second factor (the certificate is the
//! credential, checked by the TLS handshake against the CA and its CRLs), so there is
//! nothing to reset or unlock: `reset-second-factor` and `unlock` say so and what to do
//! instead (hospital-view's staff sign in with passwords and TOTP; its admin command has
//! them).
//!
//! # Example
//! ```no_run
//! use clap::Parser;
//! use edge_agent::admin::{AdminCommand, run};
//!
//! #[derive(Parser)]
//! struct Cli {
//!     #[command(subcommand)]
//!     command: AdminCommand,
//! }
//!
//! let cli = Cli::parse_from(["admin", "accounts", "add", "--id", "po-1", "--role", "officer"]);
//! let printed = run("/var/lib/myna-edge".as_ref(), "myna-edge.example/log", "alice", cli.command)?;
//! println!("{printed}");
//! # anyhow::Ok(())
//! ```

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{SecondsFormat, Utc};
use clap::{Subcommand, ValueEnum};
use myna_domain::client_identity::{ClientIdentity, StaffRole};

use crate::store::{AdminDb, StaffAccount};
use crate::transparency::key::{VERIFIER_KEYS_FILE, rotate};

/// File name of the edge's database inside the data directory.
pub const DATABASE_FILE: &str = "edge.sqlite3";

/// Longest display name accepted, in characters.
const MAX_NAME_CHARS: usize = 100;

/// An administrative command.
#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Staff accounts (privacy officers, operators).
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Replace the access log's signing key; checkpoints signed before stay verifiable.
    RotateLogKey,
    /// List every administrative action, oldest first, with who did it.
    Actions,
    /// Not on the edge: staff accounts here have no second factor (see the output).
    ResetSecondFactor {
        /// The account.
        #[arg(long)]
        id: String,
    },
    /// Not on the edge: staff accounts here are never locked (see the output).
    Unlock {
        /// The account.
        #[arg(long)]
        id: String,
    },
}

/// `admin accounts …`.
#[derive(Debug, Clone, Subcommand)]
pub enum AccountsCommand {
    /// Add an enabled account; its certificate must name `urn:myna:staff:<role>:<id>`.
    Add {
        /// Account id, as the certificate names it (ids are never reused).
        #[arg(long)]
        id: String,
        /// What the account may do.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// A name for administrators to recognise the account by.
        #[arg(long)]
        name: Option<String>,
    },
    /// Refuse the account's certificates from the next request on.
    Disable {
        /// Account id.
        #[arg(long)]
        id: String,
    },
    /// Accept the account's certificates again.
    Enable {
        /// Account id.
        #[arg(long)]
        id: String,
    },
    /// List every account: id, role, name, enabled, created.
    List,
}

/// A staff role on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// A privacy officer: the review queue and the security log.
    Officer,
    /// An operator: disaster declarations and the security log.
    Operator,
}

impl From<RoleArg> for StaffRole {
    fn from(role: RoleArg) -> Self {
        match role {
            RoleArg::Officer => StaffRole::Officer,
            RoleArg::Operator => StaffRole::Operator,
        }
    }
}

/// Runs `command` on the edge whose data directory is `data_dir` (its log's origin is
/// `log_origin`) as `actor`, and returns what to print. Errors name what to fix.
pub fn run(
    data_dir: &Path,
    log_origin: &str,
    actor: &str,
    command: AdminCommand,
) -> anyhow::Result<String> {
    if let AdminCommand::ResetSecondFactor { .. } | AdminCommand::Unlock { .. } = command {
        bail!(NO_SECOND_FACTOR);
    }
    if !data_dir.is_dir() {
        bail!(
            "data directory {} does not exist: check `data_dir` in the configuration file",
            data_dir.display()
        );
    }
    // Reading needs nobody named; every change is recorded with who made it.
    let reads_only = matches!(
        command,
        AdminCommand::Actions | AdminCommand::Accounts(AccountsCommand::List)
    );
    let actor = if reads_only {
        String::new()
    } else {
        checked_actor(actor)?
    };
    let database = data_dir.join(DATABASE_FILE);
    let mut db = AdminDb::open(&database)
        .with_context(|| format!("cannot open the edge database {}", database.display()))?;
    let now = Utc::now();
    match command {
        AdminCommand::Accounts(AccountsCommand::Add { id, role, name }) => {
            let role = StaffRole::from(role);
            let id = checked_id(role, &id)?;
            let name = name.map(|n| checked_name(&n)).transpose()?;
            db.write(|tx| tx.add_staff_account(&id, role, name.as_deref(), now, &actor))??;
            Ok(format!(
                "added {role} account `{id}`; its client certificate must name {}",
                ClientIdentity::Staff {
                    role,
                    id: id.clone()
                }
                .to_uri()
            ))
        }
        AdminCommand::Accounts(AccountsCommand::Disable { id }) => {
            let role = db.write(|tx| tx.set_staff_enabled(&id, false, now, &actor))??;
            Ok(format!(
                "disabled {role} account `{id}`: its certificates are refused from the next \
                 request on (revoke them at the CA as well if they were lost)"
            ))
        }
        AdminCommand::Accounts(AccountsCommand::Enable { id }) => {
            let role = db.write(|tx| tx.set_staff_enabled(&id, true, now, &actor))??;
            Ok(format!("enabled {role} account `{id}`"))
        }
        AdminCommand::Accounts(AccountsCommand::List) => {
            Ok(account_table(&db.read(|tx| tx.staff_accounts())?))
        }
        AdminCommand::RotateLogKey => {
            // The key files change inside the transaction recording it: a rotation that
            // fails before the files change records nothing. If the COMMIT itself fails
            // after they changed, the key has rotated unrecorded; the error says so, and
            // `log-verifier-keys` lists both keys either way (nothing becomes unverifiable).
            let rotation = db
                .write(|tx| {
                    let rotation = rotate(data_dir, log_origin)?;
                    let subject = format!("{} -> {}", rotation.old_key, rotation.new_key);
                    tx.append_admin_action(now, &actor, "log_key_rotated", &subject)?;
                    Ok(rotation)
                })
                .context(
                    "the rotation was not recorded; if `myna-log key --all` lists a new key, \
                     the key did rotate: restart the service and note the rotation by hand",
                )?;
            Ok(format!(
                "rotated the access log's signing key\n\
                 old key: {}\n\
                 new key: {}\n\
                 The old private key is destroyed; its verifier key stays in {} so the \
                 checkpoints it signed stay verifiable.\n\
                 Restart the edge-agent service now: until it restarts it signs with the key \
                 it loaded at start.\n\
                 Then give tablets and auditors the key list (myna-log key --data-dir {} --all).",
                rotation.old_key,
                rotation.new_key,
                data_dir.join(VERIFIER_KEYS_FILE).display(),
                data_dir.display()
            ))
        }
        AdminCommand::Actions => {
            let actions = db.read(|tx| tx.admin_actions())?;
            let mut out = String::from("seq\tat\tactor\taction\tsubject\n");
            for action in actions {
                let _ = writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    action.seq,
                    action.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    action.actor,
                    action.action,
                    action.subject
                );
            }
            Ok(out)
        }
        AdminCommand::ResetSecondFactor { .. } | AdminCommand::Unlock { .. } => {
            bail!(NO_SECOND_FACTOR)
        }
    }
}

const NO_SECOND_FACTOR: &str = "edge staff accounts have no password, no second factor and no \
    lockout: officers and operators present client certificates, checked against the CA and \
    its CRLs. For a lost or compromised certificate: `accounts disable --id ID`, revoke the \
    certificate at the CA, issue a new one naming the same id, then `accounts enable --id ID`. \
    (hospital-view's staff sign in with passwords and TOTP: `hospital-view admin` resets and \
    unlocks those.)";

/// The id as a certificate would name it: non-empty, at most 256 bytes, no control
/// characters (the identity URI's own rules).
fn checked_id(role: StaffRole, id: &str) -> anyhow::Result<String> {
    let uri = ClientIdentity::Staff {
        role,
        id: id.to_string(),
    }
    .to_uri();
    match ClientIdentity::from_uri(&uri) {
        Ok(_) if id.trim() == id => Ok(id.to_string()),
        Ok(_) => bail!("--id: no spaces at either end"),
        Err(e) => bail!("--id: {e} (1 to 256 bytes, no control characters)"),
    }
}

fn checked_name(name: &str) -> anyhow::Result<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        bail!("--name: 1 to {MAX_NAME_CHARS} characters");
    }
    if name.chars().any(char::is_control) {
        bail!("--name: no control characters");
    }
    Ok(name.to_string())
}

fn checked_actor(actor: &str) -> anyhow::Result<String> {
    let actor = actor.trim();
    if actor.is_empty() || actor.len() > 256 || actor.chars().any(char::is_control) {
        bail!(
            "--by NAME: say who is acting (1 to 256 bytes, no control characters; default \
             $SUDO_USER, else $USER)"
        );
    }
    Ok(actor.to_string())
}

/// The accounts as an aligned table.
fn account_table(accounts: &[StaffAccount]) -> String {
    let header = ["id", "role", "name", "enabled", "created"].map(String::from);
    let rows: Vec<[String; 5]> = accounts
        .iter()
        .map(|a| {
            [
                a.id.clone(),
                a.role.code().to_string(),
                a.display_name.clone().unwrap_or_else(|| "-".into()),
                if a.enabled { "yes" } else { "no" }.to_string(),
                format!(
                    "{} by {}",
                    a.created_at.to_rfc3339_opts(SecondsFormat::Secs, true),
                    a.created_by
                ),
            ]
        })
        .collect();
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
    }
    if rows.is_empty() {
        out.push_str("(no accounts)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AdminCommand,
    }

    fn admin(dir: &Path, actor: &str, args: &[&str]) -> anyhow::Result<String> {
        let cli = Cli::try_parse_from(std::iter::once("admin").chain(args.iter().copied()))?;
        run(dir, "edge.test/log", actor, cli.command)
    }

    #[test]
    fn accounts_are_added_listed_disabled_and_every_change_is_recorded_with_its_actor() {
        let dir = tempfile::tempdir().unwrap();
        let added = admin(
            dir.path(),
            "alice",
            &[
                "accounts", "add", "--id", "po-1", "--role", "officer", "--name", "佐藤",
            ],
        )
        .unwrap();
        assert!(added.contains("urn:myna:staff:officer:po-1"), "{added}");
        admin(
            dir.path(),
            "alice",
            &["accounts", "add", "--id", "op-1", "--role", "operator"],
        )
        .unwrap();
        let again = admin(
            dir.path(),
            "bob",
            &["accounts", "add", "--id", "po-1", "--role", "operator"],
        )
        .unwrap_err()
        .to_string();
        assert!(again.contains("exists already"), "{again}");
        admin(dir.path(), "bob", &["accounts", "disable", "--id", "po-1"]).unwrap();
        let list = admin(dir.path(), "bob", &["accounts", "list"]).unwrap();
        let rows: Vec<Vec<&str>> = list
            .lines()
            .map(|l| l.split_whitespace().take(4).collect())
            .collect();
        assert_eq!(
            rows,
            [
                ["id", "role", "name", "enabled"],
                ["op-1", "operator", "-", "yes"],
                ["po-1", "officer", "佐藤", "no"],
            ],
            "{list}"
        );
        assert!(list.contains(" by alice"), "{list}");
        let actions = admin(dir.path(), "carol", &["actions"]).unwrap();
        let recorded: Vec<Vec<&str>> = actions
            .lines()
            .skip(1)
            .map(|l| l.split('\t').skip(2).collect())
            .collect();
        assert_eq!(
            recorded,
            [
                ["alice", "account_added", "officer:po-1"],
                ["alice", "account_added", "operator:op-1"],
                ["bob", "account_disabled", "officer:po-1"],
            ]
        );
    }

    #[test]
    fn bad_input_names_the_flag_and_records_nothing() {
        let dir = tempfile::tempdir().unwrap();
        for (actor, args, flag) in [
            (
                "alice",
                &["accounts", "add", "--id", "", "--role", "officer"][..],
                "--id",
            ),
            (
                "alice",
                &["accounts", "add", "--id", "a\u{7}", "--role", "officer"],
                "--id",
            ),
            (
                "alice",
                &[
                    "accounts", "add", "--id", "po-2", "--role", "officer", "--name", " ",
                ],
                "--name",
            ),
            (
                "",
                &["accounts", "add", "--id", "po-2", "--role", "officer"],
                "--by",
            ),
            (
                "alice",
                &["accounts", "disable", "--id", "nobody"],
                "nobody",
            ),
            (
                "alice",
                &["reset-second-factor", "--id", "po-1"],
                "no second factor",
            ),
            ("alice", &["unlock", "--id", "po-1"], "no second factor"),
        ] {
            let error = admin(dir.path(), actor, args).unwrap_err().to_string();
            assert!(error.contains(flag), "{args:?}: {error}");
        }
        assert!(
            admin(
                dir.path(),
                "a",
                &["accounts", "add", "--id", "x", "--role", "root"]
            )
            .is_err()
        );
        let actions = admin(dir.path(), "carol", &["actions"]).unwrap();
        assert_eq!(actions.lines().count(), 1, "{actions}");
        let missing = run(
            &dir.path().join("absent"),
            "edge.test/log",
            "alice",
            AdminCommand::Actions,
        )
        .unwrap_err()
        .to_string();
        assert!(missing.contains("data_dir"), "{missing}");
    }
}
