"""schemathesis hooks for scripts/schemathesis.py: a serializer for raw `application/wasm` bodies
(POST /api/ops/plugins takes a plugin binary as the whole body)."""

import schemathesis


@schemathesis.serializer("application/wasm")
def wasm(ctx, value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    return str(value).encode("utf-8", "surrogatepass")
