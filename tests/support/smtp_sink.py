#!/usr/bin/env python3
"""A real SMTP server for black-box tests (aiosmtpd).

Usage: smtp_sink.py --dir DIR [--port PORT]

Listens on 127.0.0.1:PORT (0 = any free port) and prints the bound port as the first line of
stdout. Every message received is saved into DIR as NNNN-<id>.eml (the raw bytes) and, next to it,
NNNN-<id>.json: {"mail_from", "rcpt_tos", "to", "subject", "message_id", "text", "html"} with the
MIME parts already decoded. Files appear atomically (written under a temporary name, then renamed).
Runs until killed.
"""

import argparse
import asyncio
import email
import email.policy
import itertools
import json
import os
import sys
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, directory):
        self.directory = directory
        self.counter = itertools.count(1)

    def _write(self, name, data):
        tmp = os.path.join(self.directory, "." + name + ".tmp")
        with open(tmp, "wb") as f:
            f.write(data)
        os.rename(tmp, os.path.join(self.directory, name))

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        text = html = None
        for part in msg.walk():
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain" and text is None:
                text = part.get_content()
            elif ctype == "text/html" and html is None:
                html = part.get_content()
        base = "%04d-%s" % (next(self.counter), uuid.uuid4().hex[:8])
        summary = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "to": str(msg.get("To", "")),
            "from": str(msg.get("From", "")),
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "text": text,
            "html": html,
        }
        self._write(base + ".eml", raw)
        self._write(base + ".json", json.dumps(summary).encode("utf-8"))
        return "250 Message accepted for delivery"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="sink.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=args.port,
    )
    port = server.sockets[0].getsockname()[1]
    print(port, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
