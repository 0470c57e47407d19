"""Two `wrk` hosts behind HAProxy; one workspace moved from host A to host B under write load
(deploy/two-hosts/demo.sh runs this; README "Two hosts" explains it).

- HAProxy routes `{slug}.{base}` by a placement map (a map file, changed at runtime through
  its runtime API socket); anything not in the map goes to host A.
- Both hosts open the same control.db (host B's data directory links control.db, keys/ and
  plugins/ to host A's); each has its own tenants/ directory, replicated by its own Litestream to
  a local S3 (moto) under its own prefix.
- The move: A fences the workspace (503 + Retry-After; in-flight requests drained), A's replica
  is restored until it equals A's file, the copy lands in B's tenants/, the map flips to B.

It prints the writes the client had acknowledged and lost (must be 0), and the longest time
the client saw 503s, next to the Retry-After it was told.
"""

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import lab  # noqa: E402

SLUG = "acme"
RETRY_AFTER = 1

HAPROXY_CFG = """global
    stats socket {sock} mode 600 level admin
    maxconn 512

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend public
    bind 127.0.0.1:{port}
    # The host name without port, lower-cased, looked up in the placement map.
    http-request set-var(txn.site) req.hdr(host),field(1,:),lower
    use_backend %[var(txn.site),map({map},host_a)]

backend host_a
    server a 127.0.0.1:{port_a}

backend host_b
    server b 127.0.0.1:{port_b}
"""

# Host B's Litestream: its own workspace files only (host A's replicates the shared control.db).
LITESTREAM_B = """dbs:
  - dir: ${WRK_DATA_DIR}/tenants
    pattern: "*.db"
    watch: true
    replica:
      type: s3
      bucket: ${LITESTREAM_BUCKET}
      path: ${LITESTREAM_PREFIX}/tenants
      endpoint: ${LITESTREAM_S3_ENDPOINT}
      region: us-east-1
      force-path-style: true
      sync-interval: 1s
"""


class HAProxy(lab.Proc):
    def __init__(self, work, port_a, port_b):
        self.port = lab.free_port()
        self.sock = work / "haproxy.sock"
        self.map = work / "placement.map"
        self.map.write_text("")
        cfg = work / "haproxy.cfg"
        cfg.write_text(HAPROXY_CFG.format(sock=self.sock, port=self.port, map=self.map,
                                          port_a=port_a, port_b=port_b))
        super().__init__("haproxy", ["haproxy", "-db", "-f", cfg], work)
        lab.wait_for("haproxy", lambda: self.sock.exists() and self._answers())

    def _answers(self):
        try:
            return "Name:" in self.api("show info")
        except OSError:
            return False

    def api(self, command):
        """One command on the runtime API socket; its answer."""
        with socket.socket(socket.AF_UNIX) as s:
            s.connect(str(self.sock))
            s.sendall(command.encode() + b"\n")
            out = b""
            while chunk := s.recv(65536):
                out += chunk
        return out.decode()

    def place(self, site, backend):
        """Routes `site` to `backend` from now on (and in the file, for a restart)."""
        verb = "set" if self.placed(site) else "add"
        answer = self.api(f"{verb} map {self.map} {site} {backend}")
        if answer.strip():
            raise RuntimeError(f"haproxy {verb} map: {answer.strip()}")
        lines = [ln for ln in self.map.read_text().splitlines() if not ln.startswith(f"{site} ")]
        self.map.write_text("".join(f"{ln}\n" for ln in lines + [f"{site} {backend}"]))

    def placed(self, site):
        """The backend the running proxy routes `site` to (`None` when not in the map)."""
        answer = self.api(f"get map {self.map} {site}")
        if "found=yes" not in answer:
            return None
        return answer.split('value="', 1)[1].split('"', 1)[0]


class Writer(threading.Thread):
    """Light write load on one workspace through the proxy: one automation at a time, `rate`
    a second. A 503 is waited out for its Retry-After and the same write sent again."""

    def __init__(self, port, host, token, rate):
        super().__init__(daemon=True)
        self.client = lab.Client(port, host, token)
        self.pause = 1.0 / rate
        self.stop = threading.Event()
        self.acked = set()
        self.refused = 0
        self.errors = 0
        self.max_retry_after = 0
        self.windows = []  # seconds from the first 503 of a run to the next success
        self.failure = None

    def run(self):
        i = 0
        unavailable_since = None
        while not self.stop.is_set():
            name = f"load {i}"
            try:
                status, headers, body = self.client.post("/api/automations", {"name": name})
            except OSError:
                self.errors += 1
                time.sleep(0.05)
                continue
            if status == 201:
                self.acked.add(name)
                if unavailable_since is not None:
                    self.windows.append(time.monotonic() - unavailable_since)
                    unavailable_since = None
                i += 1
                time.sleep(self.pause)
            elif status == 503 and headers.get("Retry-After"):
                self.refused += 1
                wait = int(headers["Retry-After"])
                self.max_retry_after = max(self.max_retry_after, wait)
                if unavailable_since is None:
                    unavailable_since = time.monotonic()
                time.sleep(wait)
            else:
                self.failure = f"{status} {body!r}"
                return


def all_names(client):
    names, cursor = set(), None
    while True:
        path = "/api/automations?limit=200" + (f"&cursor={cursor}" if cursor else "")
        page = client.expect(200, "GET", path)
        names |= {a["name"] for a in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return names


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=float, default=20, help="writes per second (default 20)")
    ap.add_argument("--before", type=float, default=3, help="seconds of load before the move")
    ap.add_argument("--after", type=float, default=3, help="seconds of load after the move")
    args = ap.parse_args()
    lab.need("litestream", "moto_server", "haproxy")
    work = lab.newest_workdir("two-hosts")
    data_a, data_b = work / "host-a", work / "host-b"
    procs = []
    try:
        s3 = lab.S3(work)
        procs.append(s3)
        host_a = lab.Wrk("host-a", work, data_a)
        procs.append(host_a)
        # Host B shares the control plane: the same control.db (SQLite follows the link, so its
        # -wal and -shm are host A's too), signing keys and plugin binaries.
        (data_b / "tenants").mkdir(parents=True)
        for shared in ("control.db", "keys", "plugins"):
            (data_b / shared).symlink_to(data_a / shared)
        host_b = lab.Wrk("host-b", work, data_b)
        procs.append(host_b)
        procs.append(lab.Litestream("litestream-a", work, data_a, s3, "host-a"))
        (work / "litestream-b.yml").write_text(LITESTREAM_B)
        procs.append(lab.Litestream("litestream-b", work, data_b, s3, "host-b",
                                    config=work / "litestream-b.yml"))
        proxy = HAProxy(work, host_a.port, host_b.port)
        procs.append(proxy)
        site = f"{SLUG}.localhost"
        proxy.place(site, "host_a")
        lab.log(f"haproxy on :{proxy.port}; host A :{host_a.port}, host B :{host_b.port}; "
                f"{site} -> {proxy.placed(site)}")

        apex = lab.Client(proxy.port, "localhost")
        token, tenant = lab.owner_with_workspace(apex, SLUG, "owner@example.com")
        ops_a = host_a.client("ops.localhost")
        ops_a = ops_a.with_token(lab.ops_token(ops_a, host_a.create_ops_admin()))

        writer = Writer(proxy.port, site, token, args.rate)
        writer.start()
        time.sleep(args.before)
        lab.log(f"moving {SLUG} ({tenant}) from host A to host B; "
                f"{len(writer.acked)} writes acknowledged so far")

        moved = time.monotonic()
        fence = ops_a.expect(200, "PUT", f"/api/ops/tenants/{tenant}/fence",
                             {"retry_after_secs": RETRY_AFTER})
        if not fence["drained"]:
            lab.fail("host A still had requests on the workspace after 10 s")
        # Host A writes nothing more to the file: what it holds now is what B must get.
        on_a = lab.automation_names(lab.tenant_file(data_a, tenant))
        took = lab.caught_up(s3, "host-a", tenant, on_a, work)
        lab.log(f"fenced on A; the replica caught up with A's {len(on_a)} rows in {took:.1f} s")
        lab.restore(s3, "host-a", tenant, lab.tenant_file(data_b, tenant))
        proxy.place(site, "host_b")
        acked_at_flip = len(writer.acked)
        lab.log(f"restored on B; map flipped: {site} -> {proxy.placed(site)} "
                f"({time.monotonic() - moved:.1f} s after the fence)")

        time.sleep(args.after)
        writer.stop.set()
        writer.join(30)
        if writer.failure:
            lab.fail(f"a write failed: {writer.failure}")
        client = lab.Client(proxy.port, site, token)
        served_by_b = all_names(client)
        lost = writer.acked - served_by_b
        window = max(writer.windows, default=0.0)
        lab.log(f"acknowledged writes: {len(writer.acked)} ({len(writer.acked) - acked_at_flip} "
                f"after the flip, by host B: host A still refuses the workspace); served by "
                f"host B now: {len(served_by_b)}; 503 answers: {writer.refused}; connection "
                f"errors: {writer.errors}")
        status = host_a.client(site).with_token(token).get("/api/me")[0]
        if status != 503:
            lab.fail(f"host A answered {status} for the moved workspace, not 503")
        integrity = lab.integrity(lab.tenant_file(data_b, tenant))
        print(f"lost writes: {len(lost)}")
        print(f"longest Retry-After window: {window:.1f} s (Retry-After: {writer.max_retry_after} s)")
        print(f"integrity_check on host B: {integrity}")
        if lost or integrity != "ok":
            lab.fail(f"lost {sorted(lost)[:10]}; integrity {integrity}")
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    main()
