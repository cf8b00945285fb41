"""A small HTTP server on loopback that serves what the fetch tests need."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


class Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
    hits: list[str] = []

    def do_GET(self) -> None:
        self.hits.append(self.path)
        status, headers, body = self.routes.get(self.path, (404, {}, b"not found"))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


class LoopbackServer:
    def __init__(self) -> None:
        handler = type("RouteHandler", (Handler,), {"routes": {}, "hits": []})
        self.handler = handler
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the loop to look again: every 0.5 s by default, half a
        # second of each test's teardown.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def route(self, path: str, body: bytes, status: int = 200, **headers: str) -> str:
        self.handler.routes[path] = (
            status,
            {k.replace("_", "-"): v for k, v in headers.items()},
            body,
        )
        return self.origin + path

    @property
    def hits(self) -> list[str]:
        return self.handler.hits

    def __enter__(self) -> LoopbackServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
