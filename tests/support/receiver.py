"""A webhook receiver on loopback: records every POST, answers as a test scripts it."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Answer:
    """One answer: its status, after how long, with which headers."""

    status: int = 200
    delay: float = 0.0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b"ok"


@dataclass(frozen=True)
class Received:
    """One request as it arrived."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """The running receiver: its URL, the answers still scripted per path, what came."""

    base_url: str
    scripts: defaultdict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        """Absolute URL of a path on this receiver."""
        return f"{self.base_url}{path}"

    def script(self, path: str, *answers: Answer) -> None:
        """The next answers at `path`, in order; 200 once they are used up."""
        self.scripts[path].extend(answers)

    def at(self, path: str) -> list[Received]:
        """What arrived at `path`, in order."""
        with self.lock:
            return [r for r in self.received if r.path == path]

    async def wait_for(self, path: str, count: int, within: float = 15.0) -> list[Received]:
        """Until `count` requests have arrived at `path` (or fail the test); the event loop
        keeps running meanwhile (the app under test delivers on it)."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"{len(self.at(path))} requests at {path}, expected {count}")

    def wait_for_blocking(self, path: str, count: int, timeout: float = 30.0) -> list[Received]:
        """`wait_for` for a test whose app runs in other processes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.at(path)
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise AssertionError(f"{len(self.at(path))} requests at {path}, expected {count}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        receiver = self.server.receiver
        with receiver.lock:
            receiver.received.append(
                Received(
                    self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time()
                )
            )
            scripted = receiver.scripts[self.path]
            answer = scripted.popleft() if scripted else Answer()
        if answer.delay:
            time.sleep(answer.delay)
        try:
            self.send_response(answer.status)
            for name, value in answer.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the sender gave up first (its timeout)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: Receiver


class ReceiverServer:
    """`with ReceiverServer() as receiver:` a receiver on a free loopback port."""

    def __enter__(self) -> Receiver:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        host, port = self._server.server_address[:2]
        self._server.receiver = Receiver(f"http://{host}:{port}")
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self._server.receiver

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
