//! The tablet's log witness against real edges: it accepts a log that grows, and notices a
//! log that was rolled back or rewritten even when the checkpoints carry the right key.

use e2e::Fixture;
use mobile_core::{EdgeClient, LogWitness, MobileError};
use myna_domain::consent::ConsentState;
use myna_domain::fixtures::unknown_patient_denial;

/// Another edge that signs with the genuine log key but holds `entries` different records:
/// what a stolen key or a restored old database looks like from a tablet.
async fn forged_edge(
    genuine_key_file: &std::path::Path,
    dir: &std::path::Path,
    entries: u32,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(
        genuine_key_file,
        dir.join(edge_agent::transparency::KEY_FILE),
    )
    .unwrap();
    let config = edge_agent::config::Config::local(dir.to_path_buf());
    let state = edge_agent::AppState::open(config, edge_agent::clock::system()).unwrap();
    let population = simulations::load::Population::local(3);
    simulations::load::load(&state.store, population, state.clock.now().date_naive()).unwrap();
    for n in 0..entries {
        state
            .store
            .write(move |tx| tx.append_access(&unknown_patient_denial(u64::from(n))))
            .await
            .unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        edge_agent::run(listener, state, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    (url, stop, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2e_tablet_witness_accepts_growth_and_catches_rollback_and_rewrite() {
    let f = Fixture::start(200).await;
    let dir = tempfile::tempdir().unwrap();
    let state_file = dir.path().join("last-checkpoint");
    let edge = EdgeClient::new(f.stack.edge_url.clone(), f.stack.device_token(1)).unwrap();
    let witness = LogWitness::new(&f.stack.log_key, Some(state_file.clone())).unwrap();

    f.dispatcher
        .run(f.plan(f.patient(0), ConsentState::Given))
        .await
        .unwrap();
    let first = witness.check(&edge).await.unwrap();
    assert_eq!(first.previous_size, None);
    assert!(
        first.size >= 2,
        "summary and relay are logged: {}",
        first.size
    );

    f.dispatcher
        .run(f.plan(f.patient(1), ConsentState::Given))
        .await
        .unwrap();
    // A tablet restarted since: the witness comes back from its file.
    let witness = LogWitness::new(&f.stack.log_key, Some(state_file.clone())).unwrap();
    let grown = witness.check(&edge).await.unwrap();
    assert_eq!(grown.previous_size, Some(first.size));
    assert!(grown.size > first.size);

    let key_file = f
        .stack
        .edge_config
        .data_dir
        .join(edge_agent::transparency::KEY_FILE);
    // Fewer entries than the tablet saw: a rollback.
    let (url, stop, task) = forged_edge(&key_file, &dir.path().join("short"), 1).await;
    let short = EdgeClient::new(url, f.stack.device_token(1)).unwrap();
    match witness.check(&short).await {
        Err(MobileError::LogInconsistent {
            previous_size,
            size,
            ..
        }) => {
            assert_eq!((previous_size, size), (grown.size, 1));
        }
        other => panic!("rollback not caught: {other:?}"),
    }
    let _ = stop.send(());
    task.await.unwrap();

    // More entries, but not the ones the tablet saw: a rewritten history.
    let entries = u32::try_from(grown.size).unwrap() + 5;
    let (url, stop, task) = forged_edge(&key_file, &dir.path().join("long"), entries).await;
    let rewritten = EdgeClient::new(url, f.stack.device_token(1)).unwrap();
    match witness.check(&rewritten).await {
        Err(MobileError::LogInconsistent { previous_size, .. }) => {
            assert_eq!(previous_size, grown.size);
        }
        other => panic!("rewritten history not caught: {other:?}"),
    }
    let _ = stop.send(());
    task.await.unwrap();

    // The genuine edge still checks out against what the tablet kept.
    let again = witness.check(&edge).await.unwrap();
    assert_eq!(again.previous_size, Some(grown.size));
    f.stack.stop().await.unwrap();
}
