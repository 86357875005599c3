#!/usr/bin/env bash
# Builds the Graviton (arm64) release artifact from a fresh machine:
#   target/lambda/jwt-authorizer/bootstrap.zip    the Lambda function (provided.al2023, Handler bootstrap)
#   target/lambda/jwt-authorizer/unzipped/bootstrap  the zip's executable, unpacked for the checks
#   target/lambda/jwt-authorizer-cli/bootstrap    the CLI for aarch64 (tests run it under qemu)
# Installs what it needs: cargo-lambda from PyPI (it brings zig, the cross linker) into a
# virtualenv, and the Rust aarch64 target. Prints the sizes.
#
#   scripts/build-arm64.sh            # uses/creates $SHIP_VENV (default ~/.cache/jwt-authorizer/ship-venv)
#   SHIP_SKIP_INSTALL=1 scripts/build-arm64.sh   # cargo-lambda already on PATH
set -euo pipefail
cd "$(dirname "$0")/.."

# Pinned so CI is reproducible; bump deliberately.
CARGO_LAMBDA_VERSION=1.9.2
SHIP_VENV=${SHIP_VENV:-$HOME/.cache/jwt-authorizer/ship-venv}

if [ "${SHIP_SKIP_INSTALL:-0}" != 1 ]; then
  if [ ! -x "$SHIP_VENV/bin/python" ]; then
    python3 -m venv "$SHIP_VENV"
  fi
  "$SHIP_VENV/bin/python" -m pip install --quiet --disable-pip-version-check "cargo-lambda==$CARGO_LAMBDA_VERSION"
  export PATH="$SHIP_VENV/bin:$PATH"
  rustup target add aarch64-unknown-linux-gnu >/dev/null
fi
command -v cargo-lambda >/dev/null || { echo "cargo-lambda not found (pip install cargo-lambda)" >&2; exit 2; }

# The function, zipped for Lambda, and the CLI (not zipped) for the qemu checks.
timeout 1200 cargo lambda build --release --locked --arm64 --output-format zip --bin jwt-authorizer
timeout 600 cargo lambda build --release --locked --arm64 --bin jwt-authorizer-cli

zip=target/lambda/jwt-authorizer/bootstrap.zip
cli=target/lambda/jwt-authorizer-cli/bootstrap
for f in "$zip" "$cli"; do
  [ -s "$f" ] || { echo "missing build output: $f" >&2; exit 1; }
done
# The zip holds one executable `bootstrap` (what Lambda runs); unpack it for the checks.
bin=target/lambda/jwt-authorizer/unzipped/bootstrap
rm -rf "$(dirname "$bin")"
python3 - "$zip" "$(dirname "$bin")" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.namelist() == ["bootstrap"], z.namelist()
    info = z.getinfo("bootstrap")
    assert (info.external_attr >> 16) & 0o111, "bootstrap is not executable in the zip"
    path = z.extract(info, sys.argv[2])
    os.chmod(path, 0o755)
PY
for f in "$bin" "$cli"; do
  readelf -h "$f" | grep -q 'Machine:.*AArch64' || { echo "$f is not an aarch64 executable" >&2; exit 1; }
done
printf 'arm64 artifact sizes (bytes):\n  %-44s %s\n  %-44s %s\n  %-44s %s\n' \
  "$zip" "$(stat -c %s "$zip")" "bootstrap in the zip (the function)" "$(stat -c %s "$bin")" \
  "$cli" "$(stat -c %s "$cli")"
