//! Prints the edge's OpenAPI 3.1 document, as `GET /openapi.json` serves it:
//! `cargo run -p edge-agent --bin edge-openapi > docs/openapi.json` refreshes the
//! committed copy (a test fails while it differs).

fn main() {
    print!("{}", edge_agent::api::openapi::document_json());
}
