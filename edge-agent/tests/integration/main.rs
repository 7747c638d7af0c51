//! edge-agent integration tests: the router driven with `oneshot`, on a real SQLite file.

mod card_trust;
mod consent;
mod disaster;
mod disclosure;
mod handoff;
mod idempotency;
mod identify;
mod log_proofs;
mod mtls;
mod pin;
mod portal;
mod request_bodies;
mod support;
mod tamper;
mod tls;
