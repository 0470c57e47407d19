"""A workspace restored from its Litestream replica after its file is deleted, with no
acknowledged write lost (deploy/litestream/test.sh runs this).

1. moto (S3), `wrk serve` and `litestream replicate` with deploy/litestream/litestream.yml;
2. a workspace created while Litestream runs (picked up by `watch`), and writes to it, each
   acknowledged with 201;
3. the workspace fenced (no more writes, in-flight ones finished), the replica polled until it
   holds every acknowledged write;
4. the server and Litestream stopped, the file (and its -wal, -shm) deleted;
5. the file restored from the replica, the server started again: every acknowledged write is
   there and `PRAGMA integrity_check` is ok.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import lab  # noqa: E402

WRITES = 40


def main():
    lab.need("litestream", "moto_server")
    work = lab.newest_workdir("litestream")
    data = work / "data"
    procs = []
    try:
        s3 = lab.S3(work)
        procs.append(s3)
        wrk = lab.Wrk("wrk", work, data)
        procs.append(wrk)
        stream = lab.Litestream("litestream", work, data, s3, "host-a")
        procs.append(stream)
        apex = wrk.client("localhost")
        token, tenant = lab.owner_with_workspace(apex, "acme", "owner@example.com")
        lab.log(f"workspace acme = {tenant}; {WRITES} writes")
        acme = wrk.client("acme.localhost").with_token(token)
        acked = set()
        for i in range(WRITES):
            name = f"write {i}"
            status, _, _ = acme.post("/api/automations", {"name": name})
            if status == 201:
                acked.add(name)
        if len(acked) != WRITES:
            lab.fail(f"only {len(acked)} of {WRITES} writes were acknowledged")
        ops = wrk.client("ops.localhost")
        ops = ops.with_token(lab.ops_token(ops, wrk.create_ops_admin()))
        fence = ops.expect(200, "PUT", f"/api/ops/tenants/{tenant}/fence",
                           {"retry_after_secs": 2})
        if not fence["drained"]:
            lab.fail("the fence did not drain")
        took = lab.caught_up(s3, "host-a", tenant, acked, work)
        lab.log(f"the replica holds all {len(acked)} acknowledged writes ({took:.1f} s after the fence)")

        wrk.stop()
        stream.stop()
        path = lab.tenant_file(data, tenant)
        lab.remove_db(path)
        lab.log(f"deleted {path.name}; restoring it from the replica")
        lab.restore(s3, "host-a", tenant, path)
        check = lab.integrity(path)
        wrk = lab.Wrk("wrk-restored", work, data)
        procs.append(wrk)
        acme = wrk.client("acme.localhost").with_token(token)
        status, _, page = acme.get("/api/automations?limit=200")
        if status != 200:
            lab.fail(f"the restored workspace answered {status}")
        names = {a["name"] for a in page["items"]}
        lost = acked - names
        lab.log(f"restored: {len(names)} automations, lost acknowledged writes: {len(lost)}, "
                f"integrity_check: {check}")
        if lost or check != "ok":
            lab.fail(f"lost {sorted(lost)}; integrity {check}")
        print("litestream restore: 1 passed, 0 failed")
    finally:
        for p in reversed(procs):
            p.stop()


if __name__ == "__main__":
    main()
