//! Integration tests of the `simulations` crate.
//!
//! - `pcsc`: the software card in a real pcscd through the vpcd driver (needs
//!   `scripts/pcscd.sh start`; `scripts/test-all.sh` does it).
//! - `stack`: the local stack's edge trusts the development card CA and honours its CRL.

mod pcsc;
mod stack;
