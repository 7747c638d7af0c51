//! `uniffi-bindgen`, the same version as the scaffolding in `libmobile_ffi`: generates the
//! Kotlin, Swift and Python bindings from the built library (library mode).
//!
//! ```text
//! cargo run -p mobile-ffi --features cli --bin uniffi-bindgen -- \
//!     generate --library target/release/libmobile_ffi.so --language kotlin --out-dir out
//! ```
//! `scripts/bindings.sh` runs it for all three languages.

fn main() {
    uniffi::uniffi_bindgen_main()
}
