//! Integration tests of the `simulations` crate.
//!
//! - `pcsc`, `pcsc_pin`, `pcsc_readers`: the software card in a real pcscd through the
//!   vpcd driver, read with mobile-core's PC/SC transport (needs `scripts/pcscd.sh
//!   start`; `scripts/test-all.sh` does it). `pcsc` holds their shared fixtures.
//! - `day`: a sped-up national day through the real services, with faults (`pilot_mix`).
//! - `stack`: the local stack's edge trusts the development card CA and honours its CRL.

mod crash;
mod day;
mod pcsc;
mod pcsc_pin;
mod pcsc_readers;
mod stack;
