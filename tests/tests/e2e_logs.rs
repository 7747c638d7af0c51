//! End-to-end: the tracing output of a whole incident carries ids, never personal data
//! or secrets. Its own test binary, because it installs the process-wide subscriber.

use std::io::Write;
use std::sync::{Arc, Mutex};

use e2e::Fixture;
use myna_domain::consent::{ConsentState, DifficultyReason};
use myna_domain::records::MedicalRecord;
use simulations::stack::LOCAL_EDGE_TOKEN;

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

    let f = Fixture::start(40).await;
    let (seed, today, index) = (f.seed, f.today, f.patient(0));
    let unconscious = ConsentState::Difficult {
        reason: DifficultyReason::Unconscious,
    };
    let report = f.dispatcher.run(f.plan(index, unconscious)).await.unwrap();
    assert!(report.handoff.delivered);
    let device_token = f.stack.device_token(1);
    f.stack.stop().await.unwrap();

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
        device_token,
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
