//! Simulations: the incident scenario driver, the local stack that runs the whole system
//! in one process on loopback, the national day and the crash harness. The software My
//! Number card they tap is the `soft-card` crate.
//!
//! # Layout
//! - [`load`]: loading the synthetic population into an edge's store (`Store::import`).
//! - [`stack`]: edge-agent plus two hospital-view instances, on loopback ports.
//! - [`front`]: a TCP proxy that takes a service's network away (fault injection).
//! - [`scenario`]: one ambulance incident driven through `mobile-core`, card tap to handoff.
//! - [`fleet`]: the ambulance fleet (headquarters, units, their tablets' devices).
//! - [`day`]: a sped-up day of incidents through the real services, with faults, and its
//!   report and plots.
//! - [`crash`]: the real edge process SIGKILLed under load and restarted, and the checks
//!   that must hold after every restart.
#![warn(missing_docs)]

pub mod crash;
pub mod day;
pub mod fleet;
pub mod front;
pub mod load;
pub mod scenario;
pub mod stack;
