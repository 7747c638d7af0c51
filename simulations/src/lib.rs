//! Simulations: the software My Number card, the incident scenario driver, and the local
//! stack that runs the whole system in one process on loopback.
//!
//! # Layout
//! - [`soft_card`]: a software My Number card answering APDUs, and a development card issuer.
//! - [`stack`]: edge-agent plus two hospital-view instances, on loopback ports.
//! - [`scenario`]: one ambulance incident driven through `mobile-core`, card tap to handoff.
#![warn(missing_docs)]

pub mod scenario;
pub mod soft_card;
pub mod stack;
