//! A sped-up day through the real services (edge and hospital-views over mTLS, tablets
//! with their stores on disk), with every default fault: the mix the edge and the
//! hospitals recorded matches the FY2024 pilot and nothing is lost.

use simulations::day::{self, DayConfig, faults, load};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pilot_mix_holds_and_every_incident_is_in_the_log_through_faults() {
    let dir = tempfile::tempdir().unwrap();
    let report = day::run(DayConfig {
        seed: 9,
        dispatches: 500,
        hqs: 10,
        units: 60,
        patients: 3_000,
        // The day in about 35 s.
        speedup: 2_500.0,
        faults: faults::default_faults(),
        data_dir: dir.path().join("run"),
        progress: false,
    })
    .await
    .unwrap();
    let v = &report.verification;
    assert!(v.ok(), "{}", report.markdown());
    // Most dispatches use the card (8% have none at hand), and each left its records.
    assert!(v.card_uses >= 440, "{}", report.markdown());
    assert_eq!(report.mix.incidents, v.card_uses);
    assert_eq!(v.handoffs, v.card_uses);
    assert!(v.expected_records >= 2 * v.card_uses);
    // At home is counted from where the crews said they found the patient, in the notices
    // the hospitals stored: every delivered handoff says it.
    assert_eq!(report.mix.scenes_recorded, v.delivered_once);
    // The mix as the system recorded it, within ±2 points of the pilot.
    for (name, got, pilot) in [
        ("elderly", report.mix.elderly, load::PILOT_ELDERLY),
        ("at home", report.mix.at_home, load::PILOT_AT_HOME),
        ("no consent", report.mix.no_consent, load::PILOT_NO_CONSENT),
    ] {
        assert!(
            (got - pilot).abs() <= 0.02,
            "{name}: {got:.3} against the pilot's {pilot:.3}\n{}",
            report.markdown()
        );
    }
    // The faults were felt: the offline HQ's summaries waited for signal, and the queues
    // held writes meanwhile.
    assert!(
        report
            .queues
            .iter()
            .any(|q| q.tablet_outbox > 0 || q.relay_outbox > 0),
        "no queue ever held anything: were the faults injected?"
    );
    // The officer reviewed in office hours.
    assert!(report.review.iter().any(|r| r.reviewed > 0));
    let plots = day::plots::write_all(&report, &dir.path().join("plots")).unwrap();
    for plot in plots {
        let svg = std::fs::read_to_string(&plot).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{}",
            plot.display()
        );
    }
}
