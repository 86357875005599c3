#!/usr/bin/env bash
# The arm64 build, run under qemu-aarch64 (user mode) with the Debian arm64 glibc:
#  1. the arm64 CLI `demo` gives the same decisions as the x86_64 one;
#  2. `check` on the demo events, with real tokens minted now by the x86_64 CLI, exits 0 for
#     allow and 1 for deny, and prints byte-identical responses to the x86_64 CLI;
#  3. the arm64 Lambda binary serves 20 invocations from a local Lambda Runtime API
#     (the load generator, benches/loadgen) and answers an allow; with a broken configuration it posts
#     /runtime/init/error naming the variable (tests/e2e/init_error.py).
# Needs: scripts/build-arm64.sh outputs, target/release/jwt-authorizer-cli, qemu-user-static,
# libc6-arm64-cross. Every step is bounded by `timeout`.
set -euo pipefail
cd "$(dirname "$0")/.."

QEMU_BIN=${QEMU_BIN:-qemu-aarch64-static}
QEMU="$QEMU_BIN -L /usr/aarch64-linux-gnu"
X86_CLI=target/release/jwt-authorizer-cli
ARM_CLI=target/lambda/jwt-authorizer-cli/bootstrap
ARM_BIN=target/lambda/jwt-authorizer/unzipped/bootstrap  # unpacked from bootstrap.zip
LOADGEN=${LOADGEN:-cargo bench --locked --quiet --bench loadgen --}
for f in "$X86_CLI" "$ARM_CLI" "$ARM_BIN"; do
  [ -e "$f" ] || { echo "arm64-checks: missing $f" >&2; exit 2; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }

# 1. demo: same decision lines (verdict, case, reason) on both architectures.
decisions() { grep -E '^(ALLOW|DENY)' | sed -E 's/ +[0-9.]+ µs\/event$//; s/ +$//'; }
timeout 60 $QEMU "$ARM_CLI" demo > "$work/demo.arm64"
timeout 60 "$X86_CLI" demo > "$work/demo.x86"
if [ "$(decisions < "$work/demo.arm64" | wc -l)" -eq 8 ] &&
  diff <(decisions < "$work/demo.arm64") <(decisions < "$work/demo.x86") > /dev/null; then
  ok "demo: arm64 decisions = x86_64 decisions ($(grep -c '^ALLOW' "$work/demo.arm64") allow, $(grep -c '^DENY' "$work/demo.arm64") deny)"
else
  bad "demo differs"; diff <(decisions < "$work/demo.arm64") <(decisions < "$work/demo.x86") || true
fi

# 2. check on the demo events.
export JWT_PUBLIC_KEY="$(cat demo/demo.pub.pem)"
export JWT_ISSUER=https://demo.clerk.accounts.dev
export JWT_AUTHORIZED_PARTIES=https://app.example.com
export JWT_REQUIRE=metadata.role=admin
export JWT_CONTEXT_CLAIMS=email,role=metadata.role
now=$(date +%s)
claims() { # role
  printf '{"sub":"user_2abcDEMO","iss":"https://demo.clerk.accounts.dev","azp":"https://app.example.com","email":"ada@example.com","metadata":{"role":"%s"}}' "$1"
}
valid=$("$X86_CLI" mint --key demo/demo.key.pem --claims "$(claims admin)" --ttl 600)
viewer=$("$X86_CLI" mint --key demo/demo.key.pem --claims "$(claims viewer)" --ttl 600)
expired=$("$X86_CLI" mint --key demo/demo.key.pem --claims "$(claims admin)" --now $((now - 3600)))
otherkey=$("$X86_CLI" mint --key tests/fixtures/rsa2048-b.key.pem --claims "$(claims admin)" --ttl 600)
fill() { # template token out
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
template, token, out = sys.argv[1:]
text = open(template).read().replace("{{AUTHORIZATION}}", json.dumps("Bearer " + token)[1:-1])
json.loads(text)
open(out, "w").write(text)
PY
}
cases=(
  "http-api-v2 valid 0" "http-api-v2 viewer 1" "http-api-v2 expired 1" "http-api-v2 otherkey 1"
  "rest-token valid 0" "rest-token expired 1" "rest-request valid 0" "rest-request viewer 1"
)
for c in "${cases[@]}"; do
  read -r event tok want <<< "$c"
  fill "demo/events/$event.json" "${!tok}" "$work/$event-$tok.json"
done
cp demo/events/http-api-v2-no-token.json "$work/http-api-v2-none.json"
cases+=("http-api-v2 none 1")
for c in "${cases[@]}"; do
  read -r event tok want <<< "$c"
  f="$work/$event-$tok.json"
  set +e
  timeout 60 $QEMU "$ARM_CLI" check --event "$f" > "$work/arm.out" 2> "$work/arm.err"; arm=$?
  timeout 60 "$X86_CLI" check --event "$f" > "$work/x86.out" 2> /dev/null; x86=$?
  set -e
  if [ "$arm" = "$want" ] && [ "$x86" = "$want" ] && cmp -s "$work/arm.out" "$work/x86.out"; then
    ok "check $event/$tok: exit $arm, $(tail -1 "$work/arm.err")"
  else
    bad "check $event/$tok: arm64 exit $arm, x86_64 exit $x86, want $want"; cat "$work/arm.out" "$work/arm.err"
  fi
done

# 3. the Lambda binary against a local Runtime API: the load generator, with the environment
# above; its first invocation (the warm-up) is the cold start, then `--n` more on that process.
lg() { timeout 300 $LOADGEN invoke --bin "$ARM_BIN" --runner "$QEMU" "$@" > /dev/null; }
rm -f "$work/lg-v2.json" "$work/lg-rest.json"
lg --event "$work/http-api-v2-valid.json" --warm 1 --n 20 --json "$work/lg-v2.json" || true
if python3 - "$work/lg-v2.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
body = json.loads(r["first_answer"])
assert body == {"isAuthorized": True, "context": {"sub": "user_2abcDEMO", "email": "ada@example.com", "role": "admin"}}, body
assert r["answered"] == 21 and r["errors_posted"] == 0 and r["problems"] == [], r
print(f"      under qemu (not a real timing): {r['init_ms']:.1f} ms to first /next, "
      f"{1e6 / r['invocations_per_s']:.0f} us per round trip")
PY
then ok "lambda binary: cold start answers an HTTP API allow with context; then 20 more invocations, no errors"; else bad "lambda binary (HTTP API)"; cat "$work/lg-v2.json" || true; fi

lg --event "$work/rest-token-valid.json" --warm 1 --n 1 --json "$work/lg-rest.json" || true
if python3 - "$work/lg-rest.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
body = json.loads(r["first_answer"])
st = body["policyDocument"]["Statement"]
assert r["errors_posted"] == 0 and r["problems"] == [], r
assert body["principalId"] == "user_2abcDEMO", body
assert st == [{"Action": ["execute-api:Invoke"], "Effect": "Allow",
               "Resource": ["arn:aws:execute-api:us-east-1:123456789012:qwerty9876/dev/*"]}], st
PY
then ok "lambda binary: REST TOKEN allow policy"; else bad "lambda binary (REST TOKEN)"; cat "$work/lg-rest.json" || true; fi

# Lambda Managed Instances: AWS_LAMBDA_MAX_CONCURRENCY=4, four workers (threads) on arm64,
# each parking its own GET /next on its own connection; every answer the allow with context.
rm -f "$work/lg-mi.json"
lg --event "$work/http-api-v2-valid.json" --concurrency 4 --warm 4 --n 40 --json "$work/lg-mi.json" || true
if python3 - "$work/lg-mi.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
body = json.loads(r["first_answer"])
assert body["isAuthorized"] is True and body["context"]["sub"] == "user_2abcDEMO", body
assert r["answered"] == 44 and r["errors_posted"] == 0 and r["problems"] == [], r
assert r["connections"] == 4 and r["parked_before_first"] == 4, r
PY
then ok "lambda binary: 4 workers (AWS_LAMBDA_MAX_CONCURRENCY=4), 4 connections, 4 GET /next parked, 44 answers"; else bad "lambda binary (Managed Instances, 4 workers)"; cat "$work/lg-mi.json" || true; fi

# A broken configuration: no event is asked for, /runtime/init/error names the variable.
if timeout 120 python3 tests/e2e/init_error.py --bin "$ARM_BIN" --runner "$QEMU" --var JWT_LEEWAY_SECONDS --value abc; then
  ok "lambda binary: bad JWT_LEEWAY_SECONDS -> /runtime/init/error, exit non-zero"
else
  bad "lambda binary (bad config)"
fi

echo "arm64: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
