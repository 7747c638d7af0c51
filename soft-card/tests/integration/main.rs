//! Integration tests of the `soft-card` crate: the software card in a real pcscd through
//! the vpcd driver, read with mobile-core's PC/SC transport (needs `scripts/pcscd.sh
//! start`; `scripts/test-all.sh` does it).
//!
//! - `pcsc`: the shared fixtures (vpcd slots, cards) and the PIN-less reads.
//! - `pcsc_pin`: the PIN paths.
//! - `pcsc_readers`: readers and cards coming and going.

mod pcsc;
mod pcsc_pin;
mod pcsc_readers;
