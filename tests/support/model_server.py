"""An OpenAI-compatible chat completions server on loopback, scripted per test.

The real openai client (through instructor) talks HTTP to it, so tests exercise the same
request and response shapes a provider sees. ``POST /v1/chat/completions`` answers each
request with the next `Reply` of the script (then `ModelServer.default`), shaped for
the mode the request shows: a tool call when it carries ``tools``, JSON content when it
asks for a ``response_format``, a fenced ```json block otherwise (md_json). Every request
body is recorded.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_ENTRY: dict[str, Any] = {
    "title": "Fake browser updates push the SpiderPouch loader",
    "bullets": [
        "A campaign uses compromised WordPress sites to show fake browser update pages.",
        "Victims download a ZIP archive with a JavaScript file that installs SpiderPouch.",
        "The loader contacts its command-and-control server and fetches the Lumma stealer.",
    ],
    "recommendations": ["Block the listed indicators at the proxy."],
    "other": ["The operators were not attributed."],
    "model_recommendations": ["Teach users that browsers never update from a web page."],
    "section": "malware_campaign",
    "cves": [],
    "attack_techniques": ["T1189"],
}


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a body (entry or raw text), headers, a delay."""

    status: int = 200
    entry: dict[str, Any] | None = None
    raw: str | None = None  # model output as text instead of the JSON of `entry`
    headers: tuple[tuple[str, str], ...] = ()
    delay: float = 0.0
    usage: tuple[int, int] = (120, 80)
    finish: str | None = None  # finish_reason, when not the mode's usual one


def ok(entry: dict[str, Any] | None = None, *, usage: tuple[int, int] = (120, 80)) -> Reply:
    """A valid answer with ``entry`` (the default entry, changed by the test if need be)."""
    return Reply(entry=dict(DEFAULT_ENTRY if entry is None else entry), usage=usage)


def status(code: int, *, retry_after: str | float | None = None) -> Reply:
    """An error status with an OpenAI-style error body and, optionally, Retry-After."""
    headers = (("Retry-After", str(retry_after)),) if retry_after is not None else ()
    return Reply(status=code, headers=headers)


def invalid_json() -> Reply:
    """A 200 whose model output is not JSON at all."""
    return Reply(raw='{"title": "unterminated, "bullets": [')


def truncated() -> Reply:
    """A valid-looking answer that stopped at max_tokens (finish_reason "length")."""
    return Reply(raw='{"title": "Fake browser', finish="length")


def hang(seconds: float) -> Reply:
    """An answer that comes only after ``seconds`` (the client gives up first)."""
    return Reply(entry=dict(DEFAULT_ENTRY), delay=seconds)


@dataclass
class ModelServer:
    """The running server: its base URL, script, default reply and the requests seen."""

    base_url: str
    script: deque[Reply] = field(default_factory=deque)
    default: Reply = field(default_factory=ok)
    requests: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _released: threading.Event = field(default_factory=threading.Event)

    def queue(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self.script.extend(replies)

    def reset(self) -> None:
        """Forget the script and the requests; wake any request still hanging."""
        self._released.set()
        with self._lock:
            self.script.clear()
            self.requests.clear()
            self.default = ok()
            self._released = threading.Event()

    @property
    def calls(self) -> int:
        """How many chat completion requests arrived."""
        with self._lock:
            return len(self.requests)

    def prompt_text(self, index: int = -1) -> str:
        """Every message of one request, joined: what the model was shown."""
        with self._lock:
            messages = self.requests[index]["messages"]
        return "\n".join(str(m.get("content") or "") for m in messages)

    def _next(self, body: dict[str, Any]) -> tuple[Reply, threading.Event]:
        with self._lock:
            self.requests.append(body)
            reply = self.script.popleft() if self.script else self.default
            return reply, self._released


def completion(body: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """The chat.completion object for ``reply``, shaped for the request's mode."""
    text = reply.raw if reply.raw is not None else json.dumps(reply.entry, ensure_ascii=False)
    message: dict[str, Any] = {"role": "assistant", "content": None}
    finish = "stop"
    if body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        call = {"id": "call_1", "type": "function", "function": {"name": name, "arguments": text}}
        message["tool_calls"] = [call]
        finish = "tool_calls"
    elif body.get("response_format"):
        message["content"] = text
    else:
        message["content"] = f"Here is the entry.\n```json\n{text}\n```"
    prompt, answer = reply.usage
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": body.get("model", "test-model"),
        "choices": [{"index": 0, "message": message, "finish_reason": reply.finish or finish}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": answer,
            "total_tokens": prompt + answer,
        },
    }


def _handler(server: ModelServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                self._send(404, {"error": {"message": "not found", "type": "invalid_request"}})
                return
            reply, released = server._next(body)
            # A hang ends early when the test resets the server, so no thread outlives it.
            if reply.delay and released.wait(reply.delay):
                return
            if reply.status != 200:
                error = {"message": f"scripted {reply.status}", "type": "server_error"}
                self._send(reply.status, {"error": error}, reply.headers)
                return
            self._send(200, completion(body, reply), reply.headers)

        def _send(
            self, code: int, payload: dict[str, Any], headers: tuple[tuple[str, str], ...] = ()
        ) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode()
            try:
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a deadline): nothing to tell it

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_model_server(server_type: type[ModelServer] = ModelServer) -> Iterator[ModelServer]:
    """Start the server on 127.0.0.1 (a free port) in a thread; stop it on exit. A subclass
    of ModelServer may answer from what it is asked (its `_next`)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    httpd.daemon_threads = True
    host, port = httpd.server_address[:2]
    server = server_type(base_url=f"http://{host!s}:{port}/v1")
    httpd.RequestHandlerClass = _handler(server)
    thread = threading.Thread(target=httpd.serve_forever, name="model-server", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.reset()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
