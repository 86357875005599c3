#!/usr/bin/env bash
# Benchmarks (issues 3, 9, 11), called by .ci/run; docs/performance.md explains every figure.
# Everything runs from the repository alone; the tables come from the same code a run by hand
# uses (benches/report.py, and the load generator benches/loadgen).
#  1. criterion, quick mode: every stage, the end-to-end decision and the peers (ring's
#     verify alone, the jsonwebtoken crate) in one run -> a table of medians and ratios.
#  2. instruction counts (gungraun + valgrind; deterministic) -> FAILS when the hot path
#     exceeds 1.08 x ring's verify counted in the same run (ES256, ES384, Ed25519: 1.05 x
#     ring's verify of the same algorithm), or the cached decision exceeds
#     5,000 instructions (limits in benches/report.py).
#  3. the load generator (benches/loadgen, a Rust Runtime API server) against the real binary
#     and the empty lambda_runtime functions (benches/empty-fn), interleaved rounds:
#     - one invocation at a time -> FAILS when CPU/invoke exceeds 0.6 x the empty function's,
#       or peak RSS 3.5 MiB (3 MiB before ES*/EdDSA and the key-fetching TLS client); cold starts printed;
#     - Lambda Managed Instances: mixed real events with AWS_LAMBDA_MAX_CONCURRENCY=1, 2, 8 vs
#       the empty run_concurrent function with 8 -> FAILS on any wrong, lost or doubled answer
#       or more connections than workers, and (issue 9, CONCURRENCY_GATES, on by default) when
#       8 workers serve < 1.0 x its invocations/s, use > 0.5 x its CPU per invocation (printed
#       next to the floor: the generator's instant function alone), or peak at > 4.5 MiB RSS.
#       2 workers ÷ 1 is reported.
#  4. the shared decision cache under contention (benches/shared_cache.rs): a cached decision
#     with 8 threads hammering it vs 1, CPU per decision (target <= 2x; printed).
#     Next to every figure: the generator's own capacity (against --instant-function).
#     (limits in benches/loadgen/main.rs)
# BENCH_QUICK=0 runs criterion's full sampling instead of --quick.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export CARGO_TERM_COLOR=never
OUT="$ROOT/target/bench-report"
mkdir -p "$OUT"

# ---- tools: valgrind (Debian) and gungraun-runner (same version as the gungraun library)
if ! command -v valgrind >/dev/null; then
  (apt-get update -qq && apt-get install -y -qq valgrind) >/dev/null
fi
GG_VERSION=$(awk '/^name = "gungraun"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
if [ "$(gungraun-runner --version 2>/dev/null | awk '{print $NF}')" != "$GG_VERSION" ]; then
  echo "installing gungraun-runner $GG_VERSION"
  cargo install gungraun-runner --version "$GG_VERSION" --locked --quiet
fi
export PATH="$HOME/.cargo/bin:$PATH"

# ---- 1. criterion
echo "== criterion (one run: stages, decide, peers)"
quick=(--quick)
[ "${BENCH_QUICK:-1}" = "0" ] && quick=()
rm -rf target/criterion
cargo bench --locked --bench hot_path -- --noplot "${quick[@]}" > "$OUT/criterion.txt" 2>&1 \
  || { tail -50 "$OUT/criterion.txt"; exit 1; }
python3 benches/report.py criterion

# ---- 2. instruction counts (the gate)
echo "== instruction counts (gungraun/callgrind)"
cargo bench --locked --bench instructions -- --output-format=json > "$OUT/instructions.json" 2> "$OUT/instructions.log" \
  || { tail -50 "$OUT/instructions.log"; exit 1; }
python3 benches/report.py instructions "$OUT/instructions.json"

# ---- 3. the load generator: per invocation, cold start, Managed Instances
echo "== Runtime API load generator (benches/loadgen)"
cargo build --locked --release --bin jwt-authorizer --quiet
CARGO_TARGET_DIR="$ROOT/target/empty-fn" cargo build --locked --release --quiet \
  --manifest-path benches/empty-fn/Cargo.toml
export CONCURRENCY_GATES=${CONCURRENCY_GATES:-1}
cargo bench --locked --bench loadgen -- suite --gate --ours "$ROOT/target/release/jwt-authorizer" \
  --empty "$ROOT/target/empty-fn/release/empty-fn" \
  --empty-concurrent "$ROOT/target/empty-fn/release/empty-fn-concurrent" \
  --json "$OUT/loadgen.json" 2> "$OUT/loadgen.log" || { tail -30 "$OUT/loadgen.log"; exit 1; }

# ---- 4. the shared decision cache under contention (printed, not gated: a timing)
echo "== shared decision cache: 8 threads vs 1 (benches/shared_cache.rs)"
cargo bench --locked --bench shared_cache > "$OUT/shared_cache.txt" 2>&1 || { tail -30 "$OUT/shared_cache.txt"; exit 1; }
grep -v -E '^\s+(Compiling|Finished|Running)' "$OUT/shared_cache.txt"
echo "== charts (benches/charts.py): this run's, and docs/charts against docs/bench/figures.json"
python3 benches/charts.py report "$OUT"
python3 benches/charts.py check
echo "bench: 4 passed, 0 failed"
