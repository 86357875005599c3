#!/usr/bin/env python3
"""End-to-end tests of the real function under cargo-lambda's Lambda emulator.

`cargo lambda watch` runs the function binary (`cargo run --release --bin jwt-authorizer`)
behind an emulated Lambda Runtime API and an invoke endpoint on 127.0.0.1; events go in
through `cargo lambda invoke --data-file` and through the invoke endpoint over HTTP, as a
Lambda service would send them. Tokens are real RS256 tokens minted now by the CLI.

Scenarios (each a fresh emulator with its own configuration):
  http   Clerk-like HTTP API config: valid -> allow with context; expired, wrong role, other
         key, tampered, alg none, no token, not JSON -> {"isAuthorized": false}; REST TOKEN
         valid -> IAM Allow, invalid -> error Unauthorized; REST REQUEST wrong role -> IAM Deny;
         one process serves them all; the cache-TTL warning is logged at cold start; no token
         is ever logged.
  iam    JWT_RESPONSE_FORMAT=iam: a 2.0 event gets an IAM Allow / Deny policy (an HTTP API
         documents no 401 for a function error: README, Status codes a client sees).
  badcfg JWT_LEEWAY_SECONDS=abc: no decision is ever served; the function logs the variable
         and exits 1; through the emulator's Runtime API (--only-lambda-apis, invocation queued
         first) the invocation is answered with the init error naming the variable.

  python3 tests/e2e/emulator.py [--cli target/release/jwt-authorizer-cli] [--timeout 600]

Needs cargo-lambda on PATH. Prints 'emulator: N passed, N failed'; exit 1 on any failure.
Every wait is bounded; the emulator's process group is killed on exit.
"""
import argparse, json, os, pathlib, signal, socket, subprocess, sys, tempfile, threading, time
import urllib.error, urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
EVENTS = ROOT / "demo" / "events"
ISSUER, AZP = "https://demo.clerk.accounts.dev", "https://app.example.com"
RESULTS = {"passed": 0, "failed": 0}
DEADLINE = [0.0]


def check(name, cond, detail=""):
    if cond:
        RESULTS["passed"] += 1
        print(f"ok   {name}")
    else:
        RESULTS["failed"] += 1
        print(f"FAIL {name}" + (f"\n     {detail}" if detail else ""))


def remaining():
    left = DEADLINE[0] - time.monotonic()
    if left <= 0:
        raise TimeoutError("emulator tests ran out of time")
    return left


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Emulator:
    """`cargo lambda watch` on 127.0.0.1:port with `env`, in its own process group."""

    def __init__(self, env, log_path, invoke_timeout, only_apis=False):
        self.port = free_port()
        self.log_path = log_path
        self.log = open(log_path, "wb")
        cmd = ["cargo", "lambda", "watch", "--ignore-changes", "--invoke-address", "127.0.0.1",
               "--invoke-port", str(self.port), "--timeout", str(invoke_timeout)]
        # --only-lambda-apis: the emulator serves the Runtime API at /.rt and we start the binary.
        cmd += ["--only-lambda-apis"] if only_apis else ["--release", "--bin", "jwt-authorizer"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        end = time.monotonic() + min(120, remaining())
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cargo lambda watch exited early:\n{self.text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise TimeoutError(f"cargo lambda watch did not listen on {self.port}:\n{self.text()}")

    def url(self, function="jwt-authorizer"):
        return f"http://127.0.0.1:{self.port}/2015-03-31/functions/{function}/invocations"

    def post(self, data: bytes, timeout=60, function="jwt-authorizer"):
        """(HTTP status, body bytes) from the invoke endpoint."""
        req = urllib.request.Request(self.url(function), data=data, method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=min(timeout, remaining())) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def invoke_cli(self, data_file, timeout=60):
        """`cargo lambda invoke --data-file`: (exit code, stdout, stderr)."""
        cmd = ["cargo", "lambda", "invoke", "jwt-authorizer", "--invoke-address", "127.0.0.1",
               "--invoke-port", str(self.port), "--data-file", str(data_file), "--output-format", "json"]
        p = subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=min(timeout, remaining()),
                           stdin=subprocess.DEVNULL)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def wait_log(self, needle, seconds=10):
        """The log once it contains `needle` (or as it is after `seconds`)."""
        end = time.monotonic() + min(seconds, remaining())
        while needle not in self.text() and time.monotonic() < end:
            time.sleep(0.1)
        return self.text()

    def text(self):
        self.log.flush()
        return pathlib.Path(self.log_path).read_text(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        self.log.close()


def mint(cli, claims, key="demo/demo.key.pem", extra=()):
    out = subprocess.run([cli, "mint", "--key", key, "--claims", json.dumps(claims), *extra],
                         cwd=ROOT, capture_output=True, check=True, timeout=30)
    return out.stdout.decode().strip()


def b64(data: bytes) -> str:
    import base64
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def event_file(tmp, template, authorization, name):
    text = (EVENTS / template).read_text()
    text = text.replace("{{AUTHORIZATION}}", json.dumps(authorization)[1:-1])
    json.loads(text)
    path = tmp / f"{name}.json"
    path.write_text(text)
    return path


def init_error_names(raw, var):
    """Whether `raw` is an init error body naming `var` (and not echoing a value)."""
    try:
        body = json.loads(raw)
    except ValueError:
        return False
    message = body.get("errorMessage", "") if isinstance(body, dict) else ""
    return body.get("errorType") == "Runtime.ConfigError" and var in message and "abc" not in message


def base_env():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JWT_", "AWS_LAMBDA_"))}
    env.update(JWT_PUBLIC_KEY=(ROOT / "demo" / "demo.pub.pem").read_text(), JWT_ISSUER=ISSUER,
               JWT_AUTHORIZED_PARTIES=AZP, JWT_REQUIRE="metadata.role=admin",
               JWT_CONTEXT_CLAIMS="email,role=metadata.role", AWS_LAMBDA_LOG_LEVEL="INFO")
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", default=str(ROOT / "target" / "release" / "jwt-authorizer-cli"))
    ap.add_argument("--timeout", type=float, default=600, help="overall bound, seconds")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs)")
    args = ap.parse_args()
    # A SIGTERM (e.g. from `timeout`) unwinds through the finally below, which stops the emulators.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    DEADLINE[0] = time.monotonic() + args.timeout
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="jwt-e2e-"))

    now = int(time.time())
    claims = lambda role: {"sub": "user_2abcDEMO", "iss": ISSUER, "azp": AZP, "email": "ada@example.com",
                           "metadata": {"role": role}}
    tokens = {
        "valid": mint(args.cli, claims("admin"), extra=["--ttl", "900"]),
        "viewer": mint(args.cli, claims("viewer"), extra=["--ttl", "900"]),
        "expired": mint(args.cli, claims("admin"), extra=["--now", str(now - 3600)]),
        "otherkey": mint(args.cli, claims("admin"), key="tests/fixtures/rsa2048-b.key.pem", extra=["--ttl", "900"]),
    }
    h, _, s = tokens["viewer"].split(".")
    tokens["tampered"] = f"{h}.{b64(json.dumps(claims('admin') | {'exp': now + 900}).encode())}.{s}"
    unsigned = json.dumps(claims("admin") | {"exp": now + 900}).encode()
    tokens["algnone"] = b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(unsigned) + "."
    ev = {}
    for name, tok in tokens.items():
        ev[f"v2-{name}"] = event_file(tmp, "http-api-v2.json", f"Bearer {tok}", f"v2-{name}")
        ev[f"token-{name}"] = event_file(tmp, "rest-token.json", f"Bearer {tok}", f"token-{name}")
        ev[f"request-{name}"] = event_file(tmp, "rest-request.json", f"Bearer {tok}", f"request-{name}")
    ev["v2-none"] = EVENTS / "http-api-v2-no-token.json"
    want_context = {"sub": "user_2abcDEMO", "email": "ada@example.com", "role": "admin"}
    stage = "arn:aws:execute-api:us-east-1:123456789012:qwerty9876/dev/*"

    emulators = []
    try:
        # --- http: the HTTP API configuration, plus REST events through the same function.
        env = base_env() | {"JWT_CACHE_TTL_SECONDS": "300"}
        emu = Emulator(env, tmp / "watch-http.log", invoke_timeout=60)
        emulators.append(emu)
        rc, out, err = emu.invoke_cli(ev["v2-valid"], timeout=300)  # first call may build the function
        body = json.loads(out) if rc == 0 else None
        check("http: cargo lambda invoke, valid token -> allow with context",
              body == {"isAuthorized": True, "context": want_context}, f"rc={rc} out={out} err={err[-500:]}")
        for name in ["expired", "viewer", "otherkey", "tampered", "algnone", "none"]:
            status, raw = emu.post(ev[f"v2-{name}"].read_bytes())
            check(f"http: {name} -> {{\"isAuthorized\": false}}",
                  status == 200 and json.loads(raw) == {"isAuthorized": False}, f"{status} {raw[:300]!r}")
        status, raw = emu.post(b"this is not json")
        check("http: not JSON -> {\"isAuthorized\": false}", status == 200 and json.loads(raw) == {"isAuthorized": False},
              f"{status} {raw[:300]!r}")

        rc, out, err = emu.invoke_cli(ev["token-valid"])
        body = json.loads(out) if rc == 0 else {}
        check("http: REST TOKEN valid -> IAM Allow on the stage, principalId = sub, context",
              rc == 0 and body.get("principalId") == "user_2abcDEMO" and body.get("context") == want_context
              and body.get("policyDocument", {}).get("Statement") == [
                  {"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [stage]}],
              f"rc={rc} out={out} err={err[-300:]}")
        rc, out, err = emu.invoke_cli(ev["token-expired"])
        check("http: REST TOKEN expired -> cargo lambda invoke fails with Unauthorized",
              rc != 0 and "Unauthorized" in err, f"rc={rc} out={out} err={err[-300:]}")
        for name in ["expired", "otherkey", "tampered", "algnone"]:
            status, raw = emu.post(ev[f"token-{name}"].read_bytes())
            body = json.loads(raw)
            check(f"http: REST TOKEN {name} -> error Unauthorized",
                  status >= 400 and body == {"errorType": "Unauthorized", "errorMessage": "Unauthorized"},
                  f"{status} {raw[:300]!r}")
        status, raw = emu.post(ev["request-viewer"].read_bytes())
        body = json.loads(raw)
        check("http: REST REQUEST wrong role -> IAM Deny (403) for the authentic sub",
              status == 200 and body.get("principalId") == "user_2abcDEMO"
              and body["policyDocument"]["Statement"][0]["Effect"] == "Deny", f"{status} {raw[:300]!r}")
        status, raw = emu.post(ev["v2-valid"].read_bytes())
        check("http: still serving after the bad events",
              status == 200 and json.loads(raw) == {"isAuthorized": True, "context": want_context}, f"{status} {raw[:300]!r}")
        log = emu.wait_log('reason="missing_token"')
        check("http: one function process served every invocation", log.count("spawning function instance") == 1,
              log[-1500:])
        check("http: cold-start warning for JWT_CACHE_TTL_SECONDS=300 > 60",
              "WARN" in log and "JWT_CACHE_TTL_SECONDS (300 s) exceeds JWT_TOKEN_LIFETIME_SECONDS (60 s)" in log,
              log[-1500:])
        for reason in ["expired", "rule_failed", "bad_signature", "alg_not_allowed", "missing_token"]:
            check(f"http: deny logged with reason {reason}", f'reason="{reason}"' in log or f"reason={reason}" in log)
        leaked = [n for n, t in tokens.items() if t.split(".")[1] in log or (t.split(".")[2] and t.split(".")[2] in log)]
        check("http: no token, claims segment or signature in the log", not leaked, f"leaked: {leaked}")
        emu.stop()

        # --- iam: payload 2.0 answered with IAM policies.
        emu = Emulator(base_env() | {"JWT_RESPONSE_FORMAT": "iam"}, tmp / "watch-iam.log", invoke_timeout=60)
        emulators.append(emu)
        status, raw = emu.post(ev["v2-valid"].read_bytes(), timeout=300)
        body = json.loads(raw)
        check("iam: 2.0 valid -> IAM Allow on the route's stage",
              status == 200 and body.get("principalId") == "user_2abcDEMO"
              and body["policyDocument"]["Statement"][0]["Effect"] == "Allow"
              and body["policyDocument"]["Statement"][0]["Resource"]
              == ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*"], f"{status} {raw[:300]!r}")
        status, raw = emu.post(ev["v2-expired"].read_bytes())
        body = json.loads(raw)
        check("iam: 2.0 expired -> IAM Deny on the route's stage (not the Unauthorized error)",
              status == 200 and body.get("principalId") == "user_2abcDEMO"
              and body["policyDocument"]["Statement"][0]["Effect"] == "Deny"
              and body["policyDocument"]["Statement"][0]["Resource"]
              == ["arn:aws:execute-api:us-east-1:123456789012:abcdef1234/prod/*"], f"{status} {raw[:300]!r}")
        check("iam: no cache-TTL warning without JWT_CACHE_TTL_SECONDS", "JWT_CACHE_TTL_SECONDS" not in emu.text())
        emu.stop()

        # --- badcfg: a broken configuration never serves a decision; the init error reaches the caller.
        bad_env = base_env() | {"JWT_LEEWAY_SECONDS": "abc"}
        emu = Emulator(bad_env, tmp / "watch-badcfg.log", invoke_timeout=15)
        emulators.append(emu)
        status, raw = emu.post(ev["v2-valid"].read_bytes(), timeout=300)
        log = emu.wait_log("exited code=1")
        # cargo lambda watch 1.9.2 leaves about half of the init-error reports unanswered; the
        # function then answers the pending invocation with the same error (function/handler.rs), so the
        # caller always gets Runtime.ConfigError naming the variable (issue 11).
        check("badcfg (watch): no decision served; Runtime.ConfigError naming the variable",
              init_error_names(raw, "JWT_LEEWAY_SECONDS"), f"{status} {raw[:300]!r}")
        check("badcfg (watch): the function logged the error naming the variable and exited 1",
              "invalid configuration: JWT_LEEWAY_SECONDS" in log and "exited code=1" in log, log[-1500:])
        emu.stop()

        # Deterministic: the emulator's Runtime API with the invocation queued first, then the binary.
        emu = Emulator(bad_env, tmp / "apis-badcfg.log", invoke_timeout=30, only_apis=True)
        emulators.append(emu)
        box = {}
        waiter = threading.Thread(target=lambda: box.update(r=emu.post(ev["v2-valid"].read_bytes(), 60, "_")))
        waiter.start()
        time.sleep(1.0)
        fn_env = bad_env | {"AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{emu.port}/.rt",
                            "AWS_LAMBDA_FUNCTION_NAME": "_", "AWS_LAMBDA_FUNCTION_VERSION": "1",
                            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128"}
        fn = subprocess.run([str(ROOT / "target" / "release" / "jwt-authorizer")], env=fn_env, capture_output=True,
                            stdin=subprocess.DEVNULL, timeout=min(60, remaining()))
        waiter.join(timeout=min(60, remaining()))
        status, raw = box.get("r", (None, b""))
        check("badcfg (runtime API): exit non-zero, invocation answered with Runtime.ConfigError naming the variable",
              fn.returncode != 0 and init_error_names(raw, "JWT_LEEWAY_SECONDS"),
              f"exit {fn.returncode}, {status} {raw[:300]!r}, stderr {fn.stderr[-500:]!r}")
        emu.stop()
    except Exception as e:  # noqa: BLE001 - report, then fail
        check("emulator run completed", False, f"{type(e).__name__}: {e}")
    finally:
        for emu in emulators:
            if not emu.log.closed:
                emu.stop()
        if not args.keep and RESULTS["failed"] == 0:
            for f in tmp.iterdir():
                f.unlink()
            tmp.rmdir()
        elif RESULTS["failed"]:
            print(f"logs kept in {tmp}")
    print(f"emulator: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
