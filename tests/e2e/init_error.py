#!/usr/bin/env python3
"""Runs the function binary once with a broken configuration against a minimal Lambda Runtime
API on 127.0.0.1 and checks what Lambda would see at init: a POST /runtime/init/error whose
body names the variable (and not its value), no GET /next, and a non-zero exit.

  init_error.py --bin PATH [--runner 'qemu-aarch64-static -L /usr/aarch64-linux-gnu'] \
      --var JWT_LEEWAY_SECONDS --value abc

Exit 0 when all of that holds. Bounded: the binary gets --timeout seconds to exit.
"""
import argparse, json, os, subprocess, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SEEN = []


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        SEEN.append(("GET", self.path, b""))
        self._answer(500, b'{"errorMessage":"init_error.py serves no events"}')

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        SEEN.append(("POST", self.path, body, self.headers.get("Lambda-Runtime-Function-Error-Type")))
        self._answer(202, b'{"status":"OK"}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--runner", default="")
    ap.add_argument("--var", required=True)
    ap.add_argument("--value", required=True)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("JWT_")}
    env.update(
        JWT_PUBLIC_KEY=open(os.path.join(os.path.dirname(__file__), "..", "..", "demo", "demo.pub.pem")).read(),
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{srv.server_address[1]}",
        AWS_LAMBDA_FUNCTION_NAME="jwt-authorizer", AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_LAMBDA_FUNCTION_VERSION="1", AWS_REGION="us-east-1",
    )
    env[args.var] = args.value
    cmd = args.runner.split() + [args.bin]
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=args.timeout)
    srv.shutdown()

    problems = []
    posts = [s for s in SEEN if s[0] == "POST"]
    if p.returncode == 0:
        problems.append("exit code 0")
    if any(s[0] == "GET" for s in SEEN):
        problems.append("asked for an event (GET /next) despite the broken configuration")
    if len(posts) != 1 or not posts[0][1].endswith("/runtime/init/error"):
        problems.append(f"expected one POST /runtime/init/error, saw {[s[1] for s in posts]}")
    else:
        body = json.loads(posts[0][2])
        if body.get("errorType") != "Runtime.ConfigError" or args.var not in body.get("errorMessage", ""):
            problems.append(f"init error body {body}")
        if posts[0][3] != "Runtime.ConfigError":
            problems.append(f"error-type header {posts[0][3]!r}")
        if len(args.value) >= 3 and args.value in posts[0][2].decode():
            problems.append("the init error echoes the configured value")
    log = p.stderr.decode(errors="replace")
    if args.var not in log:
        problems.append("the log does not name the variable")
    if len(args.value) >= 3 and args.value in log:
        problems.append("the log echoes the configured value")
    if problems:
        print("init_error: FAIL: " + "; ".join(problems))
        print(log[-2000:])
        return 1
    print(f"init_error: {args.var} -> POST /runtime/init/error ({json.loads(posts[0][2])['errorMessage']}), exit {p.returncode}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
