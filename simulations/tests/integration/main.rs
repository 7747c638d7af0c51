//! Integration tests of the `simulations` crate.
//!
//! - `crash`: the crash harness against the `myna-edge` binary of this package.
//! - `day`: a sped-up national day through the real services, with faults (`pilot_mix`).
//! - `stack`: the local stack's edge trusts the development card CA and honours its CRL.

mod crash;
mod day;
mod stack;
