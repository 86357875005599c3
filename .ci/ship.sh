#!/usr/bin/env bash
# Shipping checks (issue 5), called by .ci/run: the Graviton artifact is built and tested,
# the deployment templates are linted and checked, and the real function runs under
# cargo-lambda's Lambda emulator. Installs what it needs (Debian: qemu-user-static,
# libc6-arm64-cross, libc6-dev-arm64-cross, gcc-aarch64-linux-gnu; PyPI, pinned, in a
# virtualenv: cargo-lambda, aws-sam-cli, cfn-lint; rustup: the aarch64 target). Every step
# is bounded.
#
#   bash .ci/ship.sh                   SHIP_ARM64_UNIT_TESTS=0 skips the qemu `cargo test --lib`
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
step() { printf '\n---- ship: %s (t+%ss)\n' "$1" "$(($(date +%s) - t0))"; }
export SAM_CLI_TELEMETRY=0 CARGO_TERM_COLOR=never
export SHIP_VENV=${SHIP_VENV:-$HOME/.cache/jwt-authorizer/ship-venv}
QEMU="qemu-aarch64-static -L /usr/aarch64-linux-gnu"
# The Runtime API load generator (benches/loadgen); built already when bench.sh ran first.
export LOADGEN="cargo bench --locked --quiet --bench loadgen --"

step "tools"
need=()
command -v qemu-aarch64-static > /dev/null || need+=(qemu-user-static)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || need+=(libc6-arm64-cross)
command -v aarch64-linux-gnu-gcc > /dev/null || need+=(gcc-aarch64-linux-gnu)
# C headers for -sys crates built for aarch64 (ring; aws-lc-sys via a dev-dependency).
[ -e /usr/aarch64-linux-gnu/include/stdlib.h ] || need+=(libc6-dev-arm64-cross)
if [ ${#need[@]} -gt 0 ]; then
  echo "apt-get install ${need[*]}"
  timeout 600 apt-get update -qq
  DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends "${need[@]}" > /dev/null
fi
[ -x "$SHIP_VENV/bin/python" ] || python3 -m venv "$SHIP_VENV"
# aws-sam-cli 1.170.0 brings aws-sam-translator 1.115.0 (pinned here too): both know
# AWS::Serverless::CapacityProvider and CapacityProviderConfig (template-managed-instances.yaml).
timeout 900 "$SHIP_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
  cargo-lambda==1.9.2 aws-sam-cli==1.170.0 aws-sam-translator==1.115.0 cfn-lint==1.58.0
export PATH="$SHIP_VENV/bin:$PATH"
timeout 300 rustup target add aarch64-unknown-linux-gnu > /dev/null
echo "$(cargo lambda --version); $(sam --version); $(cfn-lint --version); $(qemu-aarch64-static --version | head -1)"

step "x86_64 release build (the CLI mints tokens; the emulator runs the function)"
timeout 1200 cargo build --release --locked --bins

step "arm64 build: scripts/build-arm64.sh"
SHIP_SKIP_INSTALL=1 timeout 1800 bash scripts/build-arm64.sh

step "arm64 checks under qemu: scripts/arm64-checks.sh"
timeout 600 bash scripts/arm64-checks.sh

if [ "${SHIP_ARM64_UNIT_TESTS:-1}" = 1 ]; then
  step "arm64 unit tests under qemu: cargo test --target aarch64-unknown-linux-gnu --lib"
  CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc \
    CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="$QEMU" \
    CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc \
    timeout 1200 cargo test --locked --target aarch64-unknown-linux-gnu --lib
fi

step "templates: cfn-lint, sam validate --lint, offline SAM transform checks, sam build"
timeout 300 cfn-lint template.yaml template-rest.yaml template-managed-instances.yaml template-websocket.yaml
for t in template.yaml template-rest.yaml template-managed-instances.yaml template-websocket.yaml; do
  timeout 300 sam validate --lint --template-file "$t" --region us-east-1
done
timeout 300 python3 -m unittest discover -s tests/e2e -p 'test_*.py'
samdir=$(mktemp -d)
trap 'rm -rf "$samdir"' EXIT
# What a user runs (`sam build --beta-features`): it must produce the bootstrap we tested.
timeout 1200 sam build --beta-features --template-file template.yaml --build-dir "$samdir" AuthorizerFunction > "$samdir.log" 2>&1 ||
  { cat "$samdir.log"; exit 1; }
rm -f "$samdir.log"
cmp "$samdir/AuthorizerFunction/bootstrap" target/lambda/jwt-authorizer/unzipped/bootstrap
echo "sam build: AuthorizerFunction/bootstrap is byte-identical to the bootstrap in bootstrap.zip"

step "emulator end-to-end: tests/e2e/emulator.py (cargo lambda watch + invoke)"
timeout 900 python3 tests/e2e/emulator.py --timeout 840

step "sizes and x86_64 cold start"
# Cold starts through the load generator: it signs a token with the demo key, configures the
# function with the matching public key, and checks that every first answer is that allow.
cargo build --locked --release --quiet --bin jwt-authorizer
OUT_COLD=$(mktemp)
timeout 300 $LOADGEN cold --bin target/release/jwt-authorizer --runs 30 > "$OUT_COLD"
python3 - << 'PY'
import os
size = lambda p: os.path.getsize(p)
print(f"arm64 bootstrap.zip            {size('target/lambda/jwt-authorizer/bootstrap.zip'):>9} bytes")
print(f"arm64 bootstrap (in the zip)   {size('target/lambda/jwt-authorizer/unzipped/bootstrap'):>9} bytes")
print(f"x86_64 jwt-authorizer          {size('target/release/jwt-authorizer'):>9} bytes")
PY
sed 's/^/x86_64 cold start (30 spawns): /' "$OUT_COLD"
rm -f "$OUT_COLD"

step "ship done"
