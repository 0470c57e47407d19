#!/usr/bin/env python3
"""Fuzzes the API of a real `wrk` with schemathesis, against each host's own OpenAPI document.

Starts $CARGO_TARGET_DIR/debug/wrk (target/ by default, or $WRK_BIN) on port 0 with a temporary data directory, creates an
account, a workspace and an ops user through the API and the CLI, then runs `schemathesis run`
against the apex, workspace and ops documents with a token, every check, a fixed seed and a bounded
budget. Exits non-zero when any run reports a failure. Cleans up the server and the data directory.

Usage: scripts/schemathesis.py [--bin PATH] [--max-examples N] [--seed N]
"""

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Where cargo builds: $CARGO_TARGET_DIR (relative to the repo, as scripts/test runs cargo there), or
# target/. CI builds outside the clone.
TARGET = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR") or "target")
PASSWORD = "fuzz-password-1234"


def request(port, host, method, path, body=None, token=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    req.add_header("Host", host)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw and raw[:1] in b"{[" else raw)
    except urllib.error.HTTPError as e:
        raw = e.read()
        raise SystemExit(f"{method} {host}{path}: {e.code} {raw[:500]!r}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("WRK_BIN", os.path.join(TARGET, "debug", "wrk")))
    ap.add_argument("--max-examples", type=int, default=int(os.environ.get("FUZZ_MAX_EXAMPLES", "10")))
    ap.add_argument("--seed", type=int, default=int(os.environ.get("FUZZ_SEED", "20261203")))
    ap.add_argument("--workers", default=os.environ.get("FUZZ_WORKERS", "1"))
    ap.add_argument("--only", choices=["apex", "tenant", "ops"], action="append")
    ap.add_argument("extra", nargs="*", help="passed to schemathesis run")
    args = ap.parse_args()

    data_dir = tempfile.mkdtemp(prefix="wrk-fuzz-")
    out_dir = os.path.join(TARGET, "schemathesis")
    os.makedirs(out_dir, exist_ok=True)
    env = dict(os.environ)
    env.update(
        WRK_LISTEN="127.0.0.1:0",
        WRK_BASE_DOMAIN="localhost:0",
        WRK_DATA_DIR=data_dir,
        WRK_EMAIL_VERIFICATION="false",
        # The fuzzer sends thousands of requests to /api/auth/*; the per-IP limit has its own tests.
        WRK_AUTH_RATE_LIMIT="1000000",
        WRK_LOG=env.get("WRK_LOG", "warn"),
    )
    for k in [k for k in env if k.startswith("WRK_") and k not in (
            "WRK_LISTEN", "WRK_BASE_DOMAIN", "WRK_DATA_DIR", "WRK_EMAIL_VERIFICATION",
            "WRK_AUTH_RATE_LIMIT", "WRK_LOG")]:
        del env[k]
    log = open(os.path.join(out_dir, "server.log"), "w")
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=data_dir, start_new_session=True)
    failed = []
    try:
        addr_file = os.path.join(data_dir, "listen.addr")
        deadline = time.time() + 60
        while not os.path.exists(addr_file) or not open(addr_file).read().strip():
            if server.poll() is not None or time.time() > deadline:
                raise SystemExit(f"wrk did not start; see {out_dir}/server.log")
            time.sleep(0.1)
        port = int(open(addr_file).read().strip().rsplit(":", 1)[1])
        apex = f"localhost:{port}"
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                if time.time() > deadline:
                    raise SystemExit("wrk never became ready")
                time.sleep(0.1)

        # An account with a workspace, a workspace token, an ops user and an ops token.
        email = "fuzz-owner@example.com"
        request(port, apex, "POST", "/api/auth/signup",
                {"email": email, "password": PASSWORD, "name": "Fuzz Owner"})
        _, login = request(port, apex, "POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        account_token = login["access_token"]
        request(port, apex, "POST", "/api/account/workspaces",
                {"name": "Fuzz Works", "subdomain": "fuzz"}, token=account_token)
        tenant = f"fuzz.localhost:{port}"
        _, tlogin = request(port, tenant, "POST", "/api/auth/login", {"email": email, "password": PASSWORD})
        tenant_token = tlogin["access_token"]
        # Something to find in the lists.
        request(port, tenant, "POST", "/api/automations",
                {"name": "Nightly stock sync", "description": "fuzz"}, token=tenant_token)
        subprocess.run([args.bin, "ops", "create-user", "--email", "fuzz-ops@example.com",
                        "--role", "ops_admin", "--password", PASSWORD],
                       env=env, cwd=data_dir, check=True, stdout=subprocess.DEVNULL)
        ops = f"ops.localhost:{port}"
        _, ologin = request(port, ops, "POST", "/api/ops/auth/login",
                            {"email": "fuzz-ops@example.com", "password": PASSWORD})
        ops_token = ologin["access_token"]

        hosts = [("apex", apex, account_token), ("tenant", tenant, tenant_token), ("ops", ops, ops_token)]
        for name, host, token in hosts:
            if args.only and name not in args.only:
                continue
            _, doc = request(port, host, "GET", "/api/openapi.json")
            schema = os.path.join(out_dir, f"{name}.openapi.json")
            with open(schema, "w") as f:
                json.dump(doc, f, indent=1)
            report = os.path.join(out_dir, f"{name}.txt")
            cmd = [
                "schemathesis", "--config-file", os.path.join(ROOT, "scripts", "schemathesis.d", "schemathesis.toml"),
                "run", schema,
                "--url", f"http://127.0.0.1:{port}",
                "-H", f"Host: {host}",
                "-H", f"Authorization: Bearer {token}",
                "--checks", "all",
                "--seed", str(args.seed),
                "--max-examples", str(args.max_examples),
                "--workers", str(args.workers),
                "--request-timeout", "30",
                "--no-color",
                *args.extra,
            ]
            print(f"\n==> schemathesis: {name} host ({host})", flush=True)
            st_env = dict(os.environ)
            st_env["SCHEMATHESIS_HOOKS"] = "schemathesis_hooks"
            st_env["PYTHONPATH"] = os.pathsep.join(
                p for p in [os.path.join(ROOT, "scripts", "schemathesis.d"), os.environ.get("PYTHONPATH", "")] if p)
            with open(report, "w") as rep:
                proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=st_env, cwd=out_dir)
                for line in proc.stdout:
                    sys.stdout.write(line)
                    rep.write(line)
                proc.wait()
            if proc.returncode != 0:
                failed.append(name)
    finally:
        try:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
        shutil.rmtree(data_dir, ignore_errors=True)
    if failed:
        print(f"\nschemathesis reported failures on: {', '.join(failed)} (reports in {os.path.join(TARGET, 'schemathesis')})")
        sys.exit(1)
    print("\nschemathesis: no failures on any host")


if __name__ == "__main__":
    main()
