#!/usr/bin/env bash
# Builds the tablet core's library (mobile-ffi, release) for this machine and generates its
# Kotlin, Swift and Python bindings from it with the workspace's own uniffi-bindgen (the
# same uniffi version as the library's scaffolding), into
#   target/bindings/kotlin   uniffi/{mobile_ffi,mobile_core,myna_domain}/*.kt
#   target/bindings/swift    {mobile_ffi,mobile_core,myna_domain}.swift, their FFI headers
#                            and module maps
#   target/bindings/python   mobile_ffi.py, mobile_core.py, myna_domain.py, with a copy of
#                            the library beside them
# The bindings do not depend on the target: generate them once here, and build the
# library for each Android ABI / iOS target separately (docs/tablet-app.md).
#
#   scripts/bindings.sh            all three languages
#   scripts/bindings.sh kotlin     only the ones named (kotlin, swift, python)
set -euo pipefail
cd "$(dirname "$0")/.."

languages=("$@")
((${#languages[@]})) || languages=(kotlin swift python)
target_dir="${CARGO_TARGET_DIR:-target}"
case "$(uname -s)" in
    Darwin) library="$target_dir/release/libmobile_ffi.dylib" ;;
    *) library="$target_dir/release/libmobile_ffi.so" ;;
esac

# The generator first: building it builds the library too (with the `cli` feature), so
# the app's library is built after it, without that feature.
cargo build --release --locked -p mobile-ffi --features cli --bin uniffi-bindgen
cargo build --release --locked -p mobile-ffi --lib

for language in "${languages[@]}"; do
    out="$target_dir/bindings/$language"
    rm -rf "$out"
    "$target_dir/release/uniffi-bindgen" generate --library "$library" \
        --language "$language" --out-dir "$out" --no-format
    # Python loads the library from the module's own directory.
    [ "$language" != python ] || cp "$library" "$out/"
    echo "$language bindings: $out"
done
