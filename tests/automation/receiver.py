"""A webhook receiver on loopback for the tests: records every request and answers each path
from a script of statuses (then 200); `/redirect` answers 302 to `redirect_to`."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def signed_by(self, secret: str) -> bool:
        ts = self.headers["x-jobmonitor-timestamp"]
        digest = hmac.new(secret.encode(), f"{ts}.".encode() + self.body, hashlib.sha256)
        return self.headers["x-jobmonitor-signature"] == f"v1={digest.hexdigest()}"


@dataclass
class Receiver:
    base: str = ""
    script: dict[str, list[int]] = field(default_factory=dict)
    redirect_to: str = ""
    received: list[Received] = field(default_factory=list)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.received if r.path == path]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.received.append(Received(self.path, headers, body))
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", state.redirect_to)
            else:
                statuses = state.script.get(self.path) or [200]
                self.send_response(statuses.pop(0) if len(statuses) > 1 else statuses[0])
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
