//! End-to-end: the tracing output of a whole incident carries ids, never personal data
//! or secrets. Its own test binary, because it installs the process-wide subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::records::MedicalRecord;
use myna_domain::wire::Vitals;
use simulations::scenario::{Dispatcher, IncidentPlan, carded_patients};
use simulations::stack::{LOCAL_EDGE_TOKEN, LocalStack, StackConfig};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn e2e_logs_carry_incident_ids_but_no_personal_data_or_secrets() {
    let captured = Captured::default();
    let writer = captured.clone();
    tracing_subscriber::fmt()
        .with_env_filter(
            "debug,edge_agent=trace,hospital_view=trace,mobile_core=trace,simulations=trace",
        )
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let dir = tempfile::tempdir().unwrap();
    let stack = LocalStack::start(StackConfig::ephemeral(dir.path().to_path_buf(), 40))
        .await
        .unwrap();
    let seed = stack.edge_config.dataset.seed;
    let today = Utc::now().date_naive();
    let dispatcher =
        Dispatcher::new(seed, today, stack.edge_url.clone(), stack.device_token(1)).unwrap();
    let index = carded_patients(seed, today, 1)[0];
    let report = dispatcher
        .run(IncidentPlan {
            patient_index: index,
            consent: ConsentState::Difficult {
                reason: DifficultyReason::Unconscious,
            },
            hospital_id: stack.hospitals[0].id.clone(),
            chief_complaint: "意識障害 Unresponsive".into(),
            eta_minutes: 9,
            vitals: Vitals::default(),
        })
        .await
        .unwrap();
    assert!(report.handoff.delivered);
    stack.stop().await.unwrap();

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains(&report.incident_id),
        "request spans carry the incident id"
    );
    assert!(
        logs.contains("summary disclosed"),
        "the disclosure is traced"
    );

    let patient = population::patient(seed, index, today);
    let mut forbidden = vec![
        patient.header.name.clone(),
        patient.address.clone(),
        patient.header.birth_date.to_string(),
        patient.card.as_ref().unwrap().serial_hex(),
        stack_device_token(),
        LOCAL_EDGE_TOKEN.to_string(),
    ];
    for record in &patient.records {
        match record {
            MedicalRecord::DrugInformation(m) | MedicalRecord::Prescription(m) => {
                forbidden.push(m.drug.clone())
            }
            MedicalRecord::Diagnosis(d) => forbidden.push(d.name.clone()),
            MedicalRecord::DrugAllergy(a) | MedicalRecord::OtherAllergy(a) => {
                forbidden.push(a.substance.clone())
            }
            _ => {}
        }
    }
    for text in forbidden {
        assert!(!logs.contains(&text), "tracing output contains {text:?}");
    }
}

fn stack_device_token() -> String {
    edge_agent::config::Config::local(".".into()).devices[0]
        .token
        .clone()
}
