#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian 12 machine (idempotent; apt-get as root)
# and runs every check and test of the workspace. CI (.ci/run) calls exactly this script.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests need. Each later stage adds its own here.
# - gcc and libc6-dev build the bundled SQLite, ring and aws-lc (rustls' other crypto
#   provider, which fantoccini pulls in; built with cc, no cmake needed);
# - pkg-config and libpcsclite-dev let the `pcsc` crate link against pcsc-lite;
# - pcscd and vsmartcard-vpcd are the real PC/SC daemon and its virtual reader driver,
#   which the software My Number card plugs into for the `pcsc_` tests;
# - chromium and chromium-driver (chromedriver) run the `browser_` tests of the ER
#   dashboard headless, and fonts-noto-cjk renders their Japanese text in screenshots;
# - python3 runs mobile-ffi's `python_bindings` test: the generated Python bindings of the
#   tablet core driving a scene, as the Kotlin/Swift apps would (standard library only);
#   python3-venv holds the OpenAPI validator below.
APT_PACKAGES=(ca-certificates gcc libc6-dev pkg-config libpcsclite-dev pcscd vsmartcard-vpcd
    chromium chromium-driver fonts-noto-cjk python3 python3-venv)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    as_root=()
    [ "$(id -u)" -eq 0 ] || as_root=(sudo)
    "${as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# The PC/SC tests talk to a real pcscd with the vpcd driver. Start it if it is not
# running, and stop it on exit only if this script started it.
./scripts/pcscd.sh start
trap './scripts/pcscd.sh stop' EXIT

cargo fmt --all --check
# The edge's OpenAPI document as committed (docs/openapi.json; the `openapi_` tests hold it
# to the code and the route table) must pass an independent validator as OpenAPI 3.1:
# openapi-spec-validator, pinned, in a virtual environment of its own.
OPENAPI_VALIDATOR_VERSION=0.9.0
validator_env="${XDG_CACHE_HOME:-$HOME/.cache}/myna/openapi-spec-validator-$OPENAPI_VALIDATOR_VERSION"
if [ ! -x "$validator_env/bin/openapi-spec-validator" ]; then
    rm -rf "$validator_env"
    python3 -m venv "$validator_env"
    "$validator_env/bin/pip" install --quiet --disable-pip-version-check \
        "openapi-spec-validator==$OPENAPI_VALIDATOR_VERSION"
fi
"$validator_env/bin/openapi-spec-validator" --schema 3.1 docs/openapi.json
# The README's run command builds with the Rust toolchain and a C compiler alone:
# pcsc-lite (libpcsclite-dev, pkg-config) stays out of `simulations` unless its `pcsc`
# feature is on. The tests turn it on for the PC/SC benchmarks' code.
if cargo tree --locked -p simulations -e normal,build --prefix none | grep -q '^pcsc-sys '; then
    echo "simulations links pcsc-lite without its pcsc feature: myna-local would not build on a machine without libpcsclite-dev" >&2
    exit 1
fi
cargo clippy --workspace --all-targets --locked --features simulations/pcsc -- -D warnings
cargo clippy -p simulations --bins --locked -- -D warnings
cargo test --workspace --locked --features simulations/pcsc
