//! The exported API tested from a foreign language, as the issue asks: the Python bindings
//! are generated from the `libmobile_ffi` cargo built for this test, and
//! `tests/python/scenario.py` (the app) drives four incidents through them against the real
//! local stack, its card transport written in Python and backed by the software card.
//!
//! The Rust side starts the stack, issues the scenario's cards with the CA the edge trusts
//! (the Python process cannot: the CA lives in this process), runs Python, and then checks
//! the edge's access log for what the scenario did.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use myna_domain::access::{AccessAction, AccessOutcome, AccessRecord, DenialReason, ViewerRole};
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::identity::AssuranceLevel;
use rsa::pkcs8::EncodePrivateKey;
use simulations::scenario::carded_patients;
use simulations::stack::{LocalStack, StackConfig};
use soft_card::{dev_pin, generate_card_key};
use uniffi::{GenerateOptions, TargetLanguage};

/// Longest the Python scenario may run.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(180);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_bindings_drive_the_scene_workflow_against_a_live_edge() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::start(StackConfig::ephemeral(dir.path().join("stack"), 40))
        .await
        .unwrap();

    let bindings = dir.path().join("bindings");
    generate_python_bindings(&bindings);
    let cards = dir.path().join("cards.json");
    let patient_ids = write_cards(&stack, &cards).await;
    let results_path = dir.path().join("results.json");

    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/scenario.py");
    let scenario_started = Instant::now();
    let run = tokio::process::Command::new(python())
        .arg(&scenario)
        .env("PYTHONPATH", &bindings)
        .env("MYNA_EDGE_URL", &stack.edge_url)
        .env("MYNA_DEVICE_TOKEN", stack.device_token(1))
        .env("MYNA_HOSPITAL_ID", &stack.hospitals[0].id)
        .env("MYNA_CARDS", &cards)
        .env("MYNA_RESULTS", &results_path)
        .env("MYNA_STORE_DIR", dir.path())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(SCENARIO_TIMEOUT, run)
        .await
        .expect("the Python scenario finishes in time")
        .expect("python3 starts (Debian package python3)");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "scenario.py failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains("6 workflows passed"), "{stdout}");

    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&results_path).unwrap()).unwrap();
    let incident = |name: &str| results[name]["incident_id"].as_str().unwrap().to_string();
    let log = access_log(&stack.edge_database());
    let log_for = |id: &str| -> Vec<&AccessRecord> {
        log.iter()
            .filter(|r| r.incident.is_some_and(|i| i.to_string() == id))
            .collect()
    };

    // Consent given: one disclosure to the crew, of exactly the kinds Python saw, and the
    // relay to the hospital.
    let given = log_for(&incident("given"));
    let views: Vec<_> = given
        .iter()
        .filter(|r| r.viewer.role == ViewerRole::Paramedic && r.action == AccessAction::ViewSummary)
        .collect();
    assert_eq!(views.len(), 1, "one crew view: {given:#?}");
    let AccessOutcome::Disclosed { kinds } = &views[0].outcome else {
        panic!("the crew's view disclosed records: {:#?}", views[0]);
    };
    let mut logged_kinds: Vec<String> = kinds.iter().map(|k| k.as_str().to_string()).collect();
    logged_kinds.sort();
    let mut python_kinds: Vec<String> =
        serde_json::from_value(results["given"]["kinds"].clone()).unwrap();
    python_kinds.sort();
    assert_eq!(logged_kinds, python_kinds);
    assert_eq!(views[0].consent, Some(ConsentState::Given));
    assert_eq!(
        views[0].patient.as_ref().map(|p| p.0.as_str()),
        Some(patient_ids[0].as_str())
    );
    assert_eq!(
        results["given"]["patient_id"].as_str(),
        Some(patient_ids[0].as_str())
    );
    assert!(
        given.iter().any(
            |r| r.viewer.role == ViewerRole::ReceivingHospital && r.outcome.disclosed_records()
        ),
        "the hospital got the summary: {given:#?}"
    );

    // Where the crew found the patient reached the hospital's stored notice; the refused
    // incident's handoff left it out (the field's default) and so does the notice.
    let hospital_db = stack.hospital_database(0).unwrap();
    assert_eq!(
        stored_scene(&hospital_db, &incident("given")).await,
        Some(Some("home".to_string()))
    );
    assert_eq!(
        stored_scene(&hospital_db, &incident("refused")).await,
        Some(None)
    );

    // The summary shown again from the tablet's copy reached the log once, under the id the
    // tablet gave it.
    let view_id = results["given"]["view_id"].as_str().unwrap();
    let shown_again: Vec<_> = given
        .iter()
        .filter(|r| r.id.0.to_string() == view_id)
        .collect();
    assert_eq!(shown_again.len(), 1, "{given:#?}");
    assert!(
        matches!(shown_again[0].action, AccessAction::ViewOnDevice { .. }),
        "{:#?}",
        shown_again[0]
    );

    // Offline, killed, back: the queued open and consent arrived (once: the log has one
    // crew view, with consent), and the summary was fetched after them.
    let offline = log_for(&incident("offline"));
    let offline_views: Vec<_> = offline
        .iter()
        .filter(|r| r.action == AccessAction::ViewSummary)
        .collect();
    assert_eq!(offline_views.len(), 1, "{offline:#?}");
    assert_eq!(offline_views[0].consent, Some(ConsentState::Given));
    assert_eq!(
        incident_assurance(&stack.edge_database(), &incident("offline")),
        Some(AssuranceLevel::CardAndPhoto)
    );

    // Disaster mode outside a declaration: refused, and the refusal logged.
    let disaster = log_for(&incident("disaster"));
    assert_eq!(disaster.len(), 1, "{disaster:#?}");
    assert_eq!(
        disaster[0].outcome,
        AccessOutcome::Denied {
            reason: DenialReason::OutsideDeclaredDisaster
        }
    );

    // Refused: the refusal is logged, the summary was never even asked for, the hospital
    // got the patient without records.
    let refused = log_for(&incident("refused"));
    let outcomes: Vec<_> = refused.iter().map(|r| r.outcome.clone()).collect();
    assert_eq!(
        outcomes,
        [AccessOutcome::Refused, AccessOutcome::RelayedWithoutRecords],
        "{refused:#?}"
    );
    assert!(
        refused
            .iter()
            .all(|r| r.action != AccessAction::ViewSummary),
        "no summary request reached the edge after the refusal"
    );

    // Card-link failures and a photo mismatch: the incident never reached the edge.
    assert!(log_for(&incident("link_failures")).is_empty());

    // PIN verified, consent difficult: disclosed without consent, identity PinVerified.
    let pin = log_for(&incident("pin"));
    let view = pin
        .iter()
        .find(|r| r.action == AccessAction::ViewSummary)
        .expect("the PIN incident's summary view is logged");
    assert!(view.outcome.disclosed_records());
    assert_eq!(
        view.consent,
        Some(ConsentState::Difficult {
            reason: DifficultyReason::Other("intubated".into())
        })
    );
    assert_eq!(
        incident_assurance(&stack.edge_database(), &incident("pin")),
        Some(AssuranceLevel::PinVerified)
    );

    stack.stop().await.unwrap();
    eprintln!(
        "python_bindings: scenario passed in {:.1} s (test total {:.1} s)",
        scenario_started.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}

/// Python 3: Debian's (`/usr/bin/python3`, scripts/test-all.sh installs it), else the
/// first `python3` on `PATH`.
fn python() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("python3")
    }
}

/// The `libmobile_ffi` cdylib cargo built for this test run: `cargo test` builds the
/// package's library with all its crate types into the same `deps` directory as this test
/// executable (and, with the `test-card` feature of this crate's dev-dependency on itself,
/// with [`mobile_ffi::TestCard`]).
fn cdylib() -> PathBuf {
    let name = format!(
        "{}mobile_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    [deps.join(&name), deps.parent().unwrap().join(&name)]
        .into_iter()
        .find(|path| path.exists())
        .unwrap_or_else(|| panic!("{name} not found next to {}", exe.display()))
}

/// Generates the Python bindings from the cdylib (uniffi library mode) into `out`, with a
/// copy of the library beside them, where the generated module loads it from.
fn generate_python_bindings(out: &Path) {
    let library = cdylib();
    let utf8 = |p: &Path| p.to_str().expect("UTF-8 path").to_string().into();
    uniffi::generate(GenerateOptions {
        languages: vec![TargetLanguage::Python],
        source: utf8(&library),
        out_dir: utf8(out),
        config_override: None,
        format: false,
        crate_filter: None,
        metadata_no_deps: true,
    })
    .expect("Python bindings generated");
    std::fs::copy(&library, out.join(library.file_name().unwrap())).unwrap();
    let module = std::fs::read_to_string(out.join("mobile_ffi.py")).unwrap();
    assert!(
        module.contains("class TestCard"),
        "{} was built without the `test-card` feature (a concurrent `cargo build`?); \
         run this test through `cargo test`",
        library.display()
    );
}

/// Issues the scenario's three cards, for the first three carded patients: a fresh key
/// each, a certificate with the patient's card serial signed by the CA the edge trusts,
/// and the patient's development PIN. Writes them as JSON (hex DER) to `path`; returns the
/// patients' ids.
async fn write_cards(stack: &LocalStack, path: &Path) -> Vec<String> {
    let cards = std::sync::Arc::clone(&stack.cards);
    let (json, ids) = tokio::task::spawn_blocking(move || {
        let (seed, today) = (cards.seed(), cards.today());
        let mut json = Vec::new();
        let mut ids = Vec::new();
        for index in carded_patients(seed, today, 3) {
            let patient = population::patient(seed, index, today);
            let facts = patient.card.as_ref().unwrap();
            let key = generate_card_key().unwrap();
            let certificate = cards
                .issuer()
                .issue_for_key(&key, &facts.serial, facts.not_before, facts.not_after)
                .unwrap();
            json.push(serde_json::json!({
                "certificate": hex(&certificate),
                "key": hex(key.to_pkcs8_der().unwrap().as_bytes()),
                "pin": dev_pin(&patient),
            }));
            ids.push(patient.header.id.0.clone());
        }
        (json, ids)
    })
    .await
    .unwrap();
    std::fs::write(path, serde_json::to_vec(&json).unwrap()).unwrap();
    ids
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every access record, oldest first, straight from the edge's SQLite file.
fn access_log(database: &Path) -> Vec<AccessRecord> {
    let conn = rusqlite::Connection::open(database).unwrap();
    let mut stmt = conn
        .prepare("SELECT record_json FROM access_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|json| serde_json::from_str(&json.unwrap()).unwrap())
        .collect()
}

/// The scene in the notice hospital `database` stored for `incident_id`: `None` when no
/// notice arrived within a few seconds, `Some(None)` for a notice without one.
async fn stored_scene(database: &Path, incident_id: &str) -> Option<Option<String>> {
    for _ in 0..50 {
        let conn = rusqlite::Connection::open(database).unwrap();
        let found = conn.query_row(
            "SELECT json_extract(notice_json, '$.scene') FROM arrivals WHERE incident_id = ?1",
            [incident_id],
            |r| r.get::<_, Option<String>>(0),
        );
        match found {
            Ok(scene) => return Some(scene),
            Err(rusqlite::Error::QueryReturnedNoRows) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    }
    None
}

/// How strongly the edge identified the patient of `incident_id`.
fn incident_assurance(database: &Path, incident_id: &str) -> Option<AssuranceLevel> {
    let conn = rusqlite::Connection::open(database).unwrap();
    conn.query_row(
        "SELECT assurance FROM incidents WHERE id = ?1",
        [incident_id],
        |r| r.get::<_, String>(0),
    )
    .ok()
    .map(|json| serde_json::from_str(&json).unwrap())
}
