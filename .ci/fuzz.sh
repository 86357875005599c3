#!/usr/bin/env bash
# Builds every cargo-fuzz target in fuzz/ and runs each for a bounded time from a copy of
# its committed corpus (fuzz/corpus/<target>/ is never modified). Any crash, timeout or
# out-of-memory fails the script; the crashing input is printed as hex, base64 and Debug.
#
#   bash .ci/fuzz.sh                    # FUZZ_SECONDS=40 per target (11 targets: ~7.5 min + build)
#   FUZZ_SECONDS=600 bash .ci/fuzz.sh   # a longer run; see docs/fuzzing.md for campaigns
#   FUZZ_TARGETS="token event" bash .ci/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${FUZZ_SECONDS:-40}
toolchain=${FUZZ_TOOLCHAIN:-nightly}

if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  echo "fuzz: installing the $toolchain toolchain (cargo-fuzz needs nightly for -Zsanitizer)"
  rustup toolchain install "$toolchain" --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
rustup run "$toolchain" rustc --version
cargo fuzz --version

# fuzz/Cargo.lock should pin the same versions as the crate's Cargo.lock (fuzz what ships).
if command -v python3 >/dev/null; then
  python3 - <<'PY' || true
import re
def versions(path):
    found = {}
    for name, version in re.findall(r'name = "([^"]+)"\nversion = "([^"]+)"', open(path).read()):
        found.setdefault(name, set()).add(version)
    return found
main, fuzz = versions("Cargo.lock"), versions("fuzz/Cargo.lock")
drift = sorted(n for n in fuzz if n in main and not fuzz[n] <= main[n])
if drift:
    print("fuzz: WARNING: fuzz/Cargo.lock differs from Cargo.lock for: " + ", ".join(drift))
    print("      (cd fuzz && cargo update -p NAME --precise VERSION) to fuzz the shipped versions")
PY
fi

echo "fuzz: building all targets"
(cd fuzz && cargo "+$toolchain" fuzz build)
targets=${FUZZ_TARGETS:-$(cd fuzz && cargo "+$toolchain" fuzz list)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failed=()
summary=()
for t in $targets; do
  mkdir -p "$work/$t/corpus" "$work/$t/artifacts"
  cp -R "fuzz/corpus/$t/." "$work/$t/corpus/"
  log="$work/$t/log"
  echo "fuzz: $t for ${seconds}s from $(ls "$work/$t/corpus" | wc -l) seed(s)"
  status=0
  # http: the reader must never allocate near its limits on small inputs.
  limits=""; [ "$t" = http ] && limits="-malloc_limit_mb=64"
  # A target's dictionary, when it has one (fuzz/dicts/<target>.dict).
  dict=""; [ -f "fuzz/dicts/$t.dict" ] && dict="-dict=dicts/$t.dict"
  (cd fuzz && cargo "+$toolchain" fuzz run "$t" "$work/$t/corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 $limits $dict -print_final_stats=1 \
    -artifact_prefix="$work/$t/artifacts/") >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
  summary+=("$(printf '%-10s %-6s execs=%-10s %s' "$t" "$([ $status -eq 0 ] && echo ok || echo FAIL)" "${execs:-?}" "$cov")")
  if [ "$status" -ne 0 ]; then
    failed+=("$t")
    echo "fuzz: $t FAILED (exit $status); from the libFuzzer log:"
    grep -E -A8 'panicked at|ERROR: |SUMMARY: |Test unit written|ALARM|out-of-memory' "$log" | grep -v '^ *#[0-9]* 0x' | head -80 || tail -40 "$log"
    for a in "$work/$t/artifacts"/*; do
      [ -f "$a" ] || continue
      echo "---- artifact $(basename "$a") ($(wc -c <"$a") bytes)"
      echo "hex:"
      od -An -tx1 -v "$a" | head -200
      echo "base64:"
      base64 -w0 "$a" | head -c 20000
      echo
      echo "Debug (cargo fuzz fmt):"
      (cd fuzz && cargo "+$toolchain" fuzz fmt "$t" "$a" 2>&1 | grep -Ev '^ *(Compiling|Finished|Running|Blocking) ' | head -200) || true
      mkdir -p "$root/fuzz/artifacts/$t"
      cp "$a" "$root/fuzz/artifacts/$t/"
      echo "kept as fuzz/artifacts/$t/$(basename "$a"); reproduce: cd fuzz && cargo +nightly fuzz run $t artifacts/$t/$(basename "$a")"
    done
  fi
done

echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz: crashes in: ${failed[*]}"
  exit 1
fi
echo "fuzz: no crash"
