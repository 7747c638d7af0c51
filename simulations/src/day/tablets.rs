//! The units' tablets: each a real `mobile_core::Tablet` with its own sealed SQLite store
//! on disk, reaching the edge over mTLS with its own client certificate (through its
//! headquarters' [`Front`](crate::front::Front) when that one's network can fail).
//!
//! A tablet is opened when its unit gets a call and closed when it has no incident and
//! nothing left to deliver: 5,334 open stores would hold three file descriptors each.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use mobile_core::Tablet;
use mobile_core::local::StorageKey;

use crate::scenario::TabletTls;

/// How one unit reaches the edge.
#[derive(Debug, Clone)]
pub struct Link {
    /// The edge's URL as this unit dials it (a front's, when its network can fail).
    pub url: String,
    /// The tablet's bearer token (refused over mTLS; sent anyway, as the app does).
    pub token: String,
    /// The CA and the tablet's client certificate.
    pub tls: TabletTls,
}

/// Tablets by unit.
pub struct Tablets {
    dir: PathBuf,
    key: StorageKey,
    links: Vec<Link>,
    open: Mutex<HashMap<usize, OpenTablet>>,
}

struct OpenTablet {
    tablet: Arc<Tablet>,
    /// Incidents running on it.
    users: usize,
}

impl Tablets {
    /// Tablets for `links` (one per unit), their stores in `dir`.
    pub fn new(dir: PathBuf, links: Vec<Link>) -> anyhow::Result<Tablets> {
        std::fs::create_dir_all(&dir)?;
        Ok(Tablets {
            dir,
            key: StorageKey::random(),
            links,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Unit `unit`'s tablet, opened if needed, held until [`Tablets::release`].
    pub fn checkout(&self, unit: usize) -> anyhow::Result<Arc<Tablet>> {
        let mut open = self.lock();
        if let Some(entry) = open.get_mut(&unit) {
            entry.users += 1;
            return Ok(Arc::clone(&entry.tablet));
        }
        let link = self
            .links
            .get(unit)
            .ok_or_else(|| anyhow::anyhow!("no unit {unit}"))?;
        let edge = link.tls.edge_client(link.url.clone(), link.token.clone())?;
        let path = self.dir.join(format!("tablet-{unit:04}.sqlite3"));
        let tablet = Arc::new(Tablet::open(&path, &self.key, edge)?);
        open.insert(
            unit,
            OpenTablet {
                tablet: Arc::clone(&tablet),
                users: 1,
            },
        );
        Ok(tablet)
    }

    /// An incident on unit `unit` is over (its tablet stays open while writes wait).
    pub fn release(&self, unit: usize) {
        if let Some(entry) = self.lock().get_mut(&unit) {
            entry.users = entry.users.saturating_sub(1);
        }
    }

    /// One pass as the app does when the platform reports signal: every open tablet with
    /// queued writes sends them now. Closes tablets with no incident and nothing queued.
    /// Returns the writes still queued afterwards, over all tablets.
    pub async fn deliver(&self) -> u64 {
        let open: Vec<(usize, Arc<Tablet>)> = self
            .lock()
            .iter()
            .map(|(unit, t)| (*unit, Arc::clone(&t.tablet)))
            .collect();
        let mut queued = 0;
        let mut idle = Vec::new();
        for (unit, tablet) in open {
            let mut pending = tablet.pending_writes().unwrap_or(0);
            if pending > 0 {
                let _ = tablet.deliver_now().await;
                pending = tablet.pending_writes().unwrap_or(pending);
            }
            queued += u64::from(pending);
            if pending == 0 {
                idle.push(unit);
            }
        }
        let mut open = self.lock();
        for unit in idle {
            // Checked again under the lock: an incident may have come and gone since the
            // pass above and left a write behind (closing then would strand it on disk).
            let idle =
                |t: &OpenTablet| t.users == 0 && t.tablet.pending_writes().is_ok_and(|n| n == 0);
            if open.get(&unit).is_some_and(idle) {
                open.remove(&unit);
            }
        }
        queued
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<usize, OpenTablet>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
