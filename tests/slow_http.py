"""A deliberately slow HTTP server on loopback: it sends its answers a byte at a time.

``/body/<name>`` sends the status line and headers at once, then the body one byte every
``interval`` seconds; ``/headers/<name>`` drips the status line and headers too. Every
answer is bounded: after ``max_seconds`` the rest is sent at once, so a client without a
total deadline ends (late) instead of hanging a test run. Nothing listens beyond
127.0.0.1.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PNG = (Path(__file__).resolve().parent / "fixtures" / "coffee.png").read_bytes()


class _SlowHandler(BaseHTTPRequestHandler):
    server: SlowServer.HTTPServer
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.server.owner.connections += 1

    def do_GET(self) -> None:
        owner = self.server.owner
        owner.hits.append(self.path)
        drip_headers = self.path.startswith("/headers/")
        if not (drip_headers or self.path.startswith("/body/")):
            self.send_error(404)
            return
        body = owner.body
        head = (
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: image/png\r\n"
            f"Content-Length: {len(body)}\r\n"
            + ("" if owner.keep_alive else "Connection: close\r\n")
            + "\r\n"
        ).encode()
        started = time.monotonic()
        try:
            self._drip(head if drip_headers else b"", started)
            if not drip_headers:
                self.wfile.write(head)
                self.wfile.flush()
            self._drip(body, started)
        except OSError:
            pass  # the client gave up: what a deadline does
        finally:
            owner.finished.append(round(time.monotonic() - started, 2))

    def _drip(self, data: bytes, started: float) -> None:
        owner = self.server.owner
        for index in range(len(data)):
            if owner.closing.is_set() or time.monotonic() - started > owner.max_seconds:
                self.wfile.write(data[index:])  # bounded: the rest at once
                break
            self.wfile.write(data[index : index + 1])
            self.wfile.flush()
            time.sleep(owner.interval)
        self.wfile.flush()

    def log_message(self, *args) -> None:
        pass


class SlowServer:
    """``with SlowServer(interval=0.5) as slow: slow.url("body", "a.png")``."""

    class HTTPServer(ThreadingHTTPServer):
        daemon_threads = True
        owner: SlowServer

    def __init__(
        self, *, interval: float = 0.5, max_seconds: float = 30.0, body: bytes = PNG
    ) -> None:
        self.interval = interval
        self.max_seconds = max_seconds
        self.body = body
        self.keep_alive = False
        self.hits: list[str] = []
        self.connections = 0
        # Seconds each answer lasted, as the server saw it (the client hanging up ends it).
        self.finished: list[float] = []
        self.closing = threading.Event()
        self.server = self.HTTPServer(("127.0.0.1", 0), _SlowHandler)
        self.server.owner = self
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, kind: str, name: str = "slow.png") -> str:
        """The link of an answer that drips its ``kind`` ("body" or "headers")."""
        return f"{self.origin}/{kind}/{name}"

    def __enter__(self) -> SlowServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()
