//! uniffi's view of foreign types this crate's exported records hold (feature `uniffi`):
//! a [`Uuid`] crosses as its text form, lowercase hyphenated, and is parsed back.
//! Crates that export these records declare the same with
//! `uniffi::use_remote_type!(mobile_core::Uuid)` (with `uuid::Uuid` in scope).

use uuid::Uuid;

uniffi::custom_type!(Uuid, String, {
    remote,
    lower: |id| id.to_string(),
    try_lift: |text| Ok(text.parse()?),
});
