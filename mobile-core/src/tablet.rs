//! [`Tablet`]: the app's one handle on the core: the tablet's local store and its
//! deliverer to the edge, from which incidents are started or resumed and the outbox is
//! delivered. Every incident it starts shares its deliverer, so one pass at a time sends
//! the outbox.

use std::path::Path;
use std::sync::Arc;

use crate::delivery::{Delivery, DeliveryReport};
use crate::edge::EdgeClient;
use crate::error::MobileError;
use crate::incident::EmergencyIncident;
use crate::local::{LocalAccessRecord, LocalStore, QueuedWrite, SavedIncident, StorageKey};

/// The tablet: one local store, one deliverer to one edge.
#[derive(Debug, Clone)]
pub struct Tablet {
    delivery: Delivery,
}

impl Tablet {
    /// Opens the tablet's store at `path` (created on first start) sealed with `key`, for
    /// the edge `edge`.
    pub fn open(path: &Path, key: &StorageKey, edge: EdgeClient) -> Result<Self, MobileError> {
        Ok(Self::with_store(
            Arc::new(LocalStore::open(path, key)?),
            edge,
        ))
    }

    /// A tablet on an already open store.
    pub fn with_store(store: Arc<LocalStore>, edge: EdgeClient) -> Self {
        Tablet {
            delivery: Delivery::new(store, edge),
        }
    }

    /// Starts a new incident for `crew_member_id`, saved from its first step.
    pub fn start_incident(&self, crew_member_id: String) -> Result<EmergencyIncident, MobileError> {
        EmergencyIncident::start_with(self.delivery.clone(), crew_member_id)
    }

    /// Picks up incident `incident_id` where it was when the app stopped.
    pub fn resume_incident(&self, incident_id: &str) -> Result<EmergencyIncident, MobileError> {
        EmergencyIncident::resume_with(self.delivery.clone(), incident_id)
    }

    /// Incidents started on this tablet and not closed, oldest first.
    pub fn unfinished_incidents(&self) -> Result<Vec<SavedIncident>, MobileError> {
        self.store().unfinished_incidents()
    }

    /// Every write in the outbox, oldest first.
    pub fn queued_writes(&self) -> Result<Vec<QueuedWrite>, MobileError> {
        self.store().queued_writes(None)
    }

    /// Writes not delivered yet.
    pub fn pending_writes(&self) -> Result<u32, MobileError> {
        self.store().pending_count()
    }

    /// This tablet's own accesses to patient data, newest first, at most `limit`.
    pub fn access_records(&self, limit: u32) -> Result<Vec<LocalAccessRecord>, MobileError> {
        self.store().access_records(limit)
    }

    /// One delivery pass over the outbox (writes whose backoff has ended).
    pub async fn deliver_due(&self) -> Result<DeliveryReport, MobileError> {
        self.delivery.deliver_due().await
    }

    /// Sends every pending write now, backoffs or not: call it when the platform reports
    /// that the network is back.
    pub async fn deliver_now(&self) -> Result<DeliveryReport, MobileError> {
        self.delivery.deliver_now().await
    }

    /// Delivers the outbox in the background until `stop` completes: at once when a write
    /// is queued, and again as each backoff ends. Also wipes summary copies past their
    /// time limit.
    pub async fn run_delivery(&self, stop: impl std::future::Future<Output = ()>) {
        self.delivery.run(stop).await;
    }

    /// The local store.
    pub fn store(&self) -> &Arc<LocalStore> {
        self.delivery.store()
    }

    /// The deliverer.
    pub fn delivery(&self) -> &Delivery {
        &self.delivery
    }
}
