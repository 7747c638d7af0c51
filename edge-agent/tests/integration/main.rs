//! edge-agent integration tests: the router driven with `oneshot`, on a real SQLite file.

mod consent;
mod disclosure;
mod identify;
mod portal;
mod support;
