//! Simulations: the software My Number card, the incident scenario driver, and the local
//! stack that runs the whole system in one process on loopback.
//!
//! # Layout
//! - [`soft_card`]: a software My Number card answering APDUs (JPKI and card-info
//!   applications, PINs, RSA signing), and a development card issuer (RSA CA, CRLs).
//! - [`vpicc`]: plugs a software card into a real pcscd through the vsmartcard `vpcd`
//!   virtual reader driver.
//! - [`load`]: loading the synthetic population into an edge's store (`Store::import`).
//! - [`stack`]: edge-agent plus two hospital-view instances, on loopback ports.
//! - [`front`]: a TCP proxy that takes a service's network away (fault injection).
//! - [`scenario`]: one ambulance incident driven through `mobile-core`, card tap to handoff.
#![warn(missing_docs)]

pub mod crash;
pub mod day;
pub mod fleet;
pub mod front;
pub mod load;
pub mod scenario;
pub mod soft_card;
pub mod stack;
pub mod vpicc;
