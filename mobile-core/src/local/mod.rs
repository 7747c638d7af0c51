//! The tablet's own durable state: one SQLite file in the app's private storage.
//!
//! | Table | Holds | Until |
//! |---|---|---|
//! | `sessions` | each incident's steps with their times (to resume after the app is killed; sealed: a consent note is free text) and the card certificate, sealed | the certificate: close; the steps: kept |
//! | `outbox` | every write for the edge, in order, each with a client-generated id, sealed | delivered + [`KEEP_FINISHED`]; rejected: kept |
//! | `summary_cache` | the emergency summary once fetched, sealed | close, or [`SUMMARY_TTL`] after the fetch |
//! | `access_records` | this tablet's own accesses to patient data (fetched, shown again) | kept (no personal data) |
//!
//! Everything about the patient is sealed ([`seal`]) under the [`StorageKey`] the app keeps
//! in the platform key store; `secure_delete` overwrites what is deleted. The file is
//! opened like the servers' (WAL, `synchronous=FULL`): a step, a queued write or an access
//! record the API reported is on disk, across power loss.
//!
//! Every statement runs under one mutex on one connection; they are short (one row, one
//! fsync), so async callers run them in place. The store does no I/O but SQLite: sending
//! the outbox is [`crate::delivery`]'s.
//!
//! # Layout
//! - [`store`]: [`LocalStore`] itself: the connection, the schema, the wipe.
//! - [`sessions`]: each incident's saved steps ([`SavedIncident`]).
//! - [`summary_copy`]: the sealed summary copy and the tablet's own access records.
//! - [`outbox`]: the queue of writes for the edge ([`QueuedWrite`]).
//! - [`seal`]: sealing under the [`StorageKey`].

pub mod outbox;
pub mod seal;
pub mod sessions;
pub mod store;
pub mod summary_copy;

pub use outbox::{QueuedWrite, WriteKind, WriteState};
pub use seal::StorageKey;
pub use sessions::SavedIncident;
pub use store::{KEEP_FINISHED, LocalStore, SUMMARY_TTL};
pub use summary_copy::{LocalAccessKind, LocalAccessRecord};

#[cfg(test)]
mod tests;
