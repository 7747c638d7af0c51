//! The local stack's card trust: the edge accepts the cards of the process's development
//! CA, refuses those on the CRL the stack installed, and refuses another CA's cards.

use std::sync::Arc;

use mobile_core::MobileError;
use simulations::scenario::{carded_patients, tap};
use simulations::stack::{LocalStack, StackConfig};
use soft_card::{DevCardIssuer, SoftwareCard};

#[tokio::test]
async fn stack_edge_trusts_the_dev_ca_and_honours_its_crl() {
    let dir = tempfile::tempdir().unwrap();
    let seed = simulations::load::LOCAL_SEED;
    let today = chrono::Utc::now().date_naive();
    let patients = carded_patients(seed, today, 2);
    let mut config = StackConfig::ephemeral(dir.path().to_path_buf(), 40);
    config.revoked_patients = vec![patients[1]];
    let stack = LocalStack::start(config).await.unwrap();
    let dispatcher = stack.dispatcher(1);

    // A card of the trusted CA, not revoked: identified.
    let incident = dispatcher.incident("crew-0001").unwrap();
    tap(&incident, dispatcher.card(patients[0]).await.unwrap())
        .await
        .unwrap();
    incident.confirm_identity(true).await.unwrap();

    // The same CA, but on the CRL.
    let incident = dispatcher.incident("crew-0001").unwrap();
    tap(&incident, dispatcher.card(patients[1]).await.unwrap())
        .await
        .unwrap();
    let error = incident.confirm_identity(true).await.unwrap_err();
    assert!(matches!(error, MobileError::CardRevoked), "{error:?}");

    // A patient's serial on a certificate from another CA: a forgery.
    let facts = population::patient(seed, patients[0], today).card.unwrap();
    let forged = tokio::task::spawn_blocking(move || {
        let other = DevCardIssuer::generate().unwrap();
        let der = other
            .issue(&facts.serial, facts.not_before, facts.not_after)
            .unwrap();
        Arc::new(SoftwareCard::new(der))
    })
    .await
    .unwrap();
    let incident = dispatcher.incident("crew-0001").unwrap();
    tap(&incident, forged).await.unwrap();
    let error = incident.confirm_identity(true).await.unwrap_err();
    assert!(matches!(error, MobileError::CardUntrusted), "{error:?}");
    stack.stop().await.unwrap();
}
