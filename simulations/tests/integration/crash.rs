//! The real edge process (`myna-edge`, the edge-agent binary built in this package): killed
//! with SIGKILL under load it loses no acknowledged access record and leaves a file whose
//! log replays; a failing append at process level answers 503 without patient data.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use simulations::crash::{CrashConfig, run};

fn edge_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_myna-edge"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_kill_restart_under_load_keeps_every_acknowledged_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = CrashConfig::new(edge_binary(), dir.path().to_path_buf());
    config.cycles = 50;
    config.tablets = 6;
    config.seed = 20_261_125;
    let started = Instant::now();
    let report = run(config).await.unwrap();
    eprintln!("{report}took {:.1} s", started.elapsed().as_secs_f64());
    assert!(report.failures.is_empty(), "{report}");
    assert_eq!(report.cycles, 50);
    assert!(
        report.acknowledged > 0,
        "no load reached the edge: {report}"
    );
    assert_eq!(report.found, report.acknowledged);
    assert!(report.log_entries >= report.acknowledged);
}

mod injected_failure {
    use super::*;
    use myna_domain::consent::ConsentState;
    use myna_domain::wire::{ConsentRequest, IdentityEvidenceDto, OpenIncidentRequest};
    use simulations::scenario::carded_patients;
    use soft_card::{DevCardIssuer, generate_card_key};

    /// The real process on a temp dir with one carded patient's certificate.
    struct Running {
        child: std::process::Child,
        url: String,
        dir: tempfile::TempDir,
        patient: population::SyntheticPatient,
        card: Vec<u8>,
    }

    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    async fn start() -> Running {
        let dir = tempfile::tempdir().unwrap();
        let seed = simulations::load::LOCAL_SEED;
        let today = chrono::Utc::now().date_naive();
        let index = carded_patients(seed, today, 1)[0];
        let patient = population::patient(seed, index, today);
        let facts = patient.card.clone().unwrap();
        let ca_file = dir.path().join("card-ca.der");
        let card = tokio::task::spawn_blocking({
            let ca_file = ca_file.clone();
            move || {
                let issuer = DevCardIssuer::new().unwrap();
                std::fs::write(&ca_file, issuer.ca_certificate_der()).unwrap();
                issuer
                    .issue_for_key(
                        &generate_card_key().unwrap(),
                        &facts.serial,
                        facts.not_before,
                        facts.not_after,
                    )
                    .unwrap()
            }
        })
        .await
        .unwrap();
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = std::process::Command::new(edge_binary())
            .args([
                "--dev",
                "--metrics-listen",
                "127.0.0.1:0",
                "--listen",
                &addr.to_string(),
                "--patients",
                "20",
                "--data-dir",
            ])
            .arg(dir.path())
            .arg("--card-ca")
            .arg(&ca_file)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let running = Running {
            child,
            url: format!("http://{addr}"),
            dir,
            patient,
            card,
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while reqwest::get(format!("{}/healthz", running.url))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "the edge did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        running
    }

    impl Running {
        fn database(&self) -> rusqlite::Connection {
            let conn = rusqlite::Connection::open(self.dir.path().join("edge.sqlite3")).unwrap();
            conn.busy_timeout(Duration::from_secs(10)).unwrap();
            conn
        }

        fn access_rows(&self) -> i64 {
            self.database()
                .query_row("SELECT COUNT(*) FROM access_log", [], |r| r.get(0))
                .unwrap()
        }
    }

    #[tokio::test]
    async fn crash_injected_append_failure_is_503_without_patient_data() {
        let edge = start().await;
        let client = reqwest::Client::new();
        let token = "dev-device-token-1";
        let incident = uuid::Uuid::new_v4();
        let response = client
            .post(format!("{}/v1/incidents", edge.url))
            .bearer_auth(token)
            .json(&OpenIncidentRequest {
                incident_id: myna_domain::access::IncidentId(incident),
                crew_member_id: "crew-0001".into(),
                identity: IdentityEvidenceDto::card_with_photo(&edge.card, true),
            })
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
        let response = client
            .put(format!("{}/v1/incidents/{incident}/consent", edge.url))
            .bearer_auth(token)
            .json(&ConsentRequest::from_domain(&ConsentState::Given))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let summary = format!("{}/v1/incidents/{incident}/summary", edge.url);
        let before = edge.access_rows();

        // A second connection adds a trigger; the server's connection sees the new schema
        // at its next statement, as it would see a full disk at its next write.
        edge.database()
            .execute_batch(
                "CREATE TRIGGER injected_failure BEFORE INSERT ON access_log
                 BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END;",
            )
            .unwrap();
        let response = client
            .get(&summary)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert_eq!(status, 503, "{text}");
        let body: serde_json::Value = serde_json::from_str(&text).unwrap();
        let keys: Vec<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["code", "message"], "{text}");
        assert_eq!(body["code"], "storage_unavailable");
        assert_eq!(body["message"], "records service temporarily unavailable");
        let header = &edge.patient.header;
        let mut personal = vec![
            header.id.0.clone(),
            header.name.clone(),
            header.birth_date.to_string(),
            edge.patient.address.clone(),
        ];
        for record in &edge.patient.records {
            string_leaves(&serde_json::to_value(record).unwrap(), &mut personal);
        }
        for value in personal.iter().filter(|v| v.chars().count() >= 4) {
            assert!(!text.contains(value.as_str()), "{value:?} in {text}");
        }
        assert_eq!(edge.access_rows(), before, "no access record for the 503");

        edge.database()
            .execute_batch("DROP TRIGGER injected_failure")
            .unwrap();
        let response = client
            .get(&summary)
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["summary"]["patient"]["id"], header.id.0);
        assert_eq!(edge.access_rows(), before + 1);
    }

    /// Every string in `value` (record texts: drug names, diagnoses, lab values as text).
    fn string_leaves(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(text) => out.push(text.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| string_leaves(v, out)),
            serde_json::Value::Object(fields) => {
                fields.values().for_each(|v| string_leaves(v, out))
            }
            _ => {}
        }
    }
}
