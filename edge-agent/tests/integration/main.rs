//! edge-agent integration tests: the router driven with `oneshot`, on a real SQLite file.

mod accounts;
mod authz;
mod card_trust;
mod consent;
mod disaster;
mod disclosure;
mod handoff;
mod hardening;
mod idempotency;
mod identify;
mod log_proofs;
mod mtls;
mod openapi;
mod pin;
mod portal;
mod portal_sign_in;
mod production;
mod readyz;
mod request_bodies;
mod review;
mod support;
mod tamper;
mod tls;
