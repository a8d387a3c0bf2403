"""The HTTP server's own answers: uvicorn's protocol, made to speak problem+json.

A request that cannot even be parsed (a bad request line, a bad header) never reaches the
application: uvicorn answers it itself with a text/plain 400. Clients of this API read
every error as application/problem+json, so the protocol `serve` runs (httptools, which
uvicorn[standard] brings and uvicorn's "auto" would pick) is subclassed to answer that one
case in the same format. `serve` also turns off uvicorn's `server` header: the software and
its version are nobody's business.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.errors import PROBLEM_JSON

_BAD_REQUEST = json.dumps(
    {
        "type": "/problems/bad-request",
        "title": "Bad request",
        "status": 400,
        "detail": "the HTTP request could not be parsed",
    }
).encode("ascii")
_HEADERS = [
    (b"content-type", PROBLEM_JSON.encode("ascii")),
    (b"content-length", str(len(_BAD_REQUEST)).encode("ascii")),
    (b"connection", b"close"),
]


class ProblemHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with its own 400 as problem+json."""

    def send_400_response(self, msg: str) -> None:
        # `msg` is uvicorn's wording ("Invalid HTTP request received."), which it logs.
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in [*self.server_state.default_headers, *_HEADERS]:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", _BAD_REQUEST])
        self.transport.write(b"".join(content))
        self.transport.close()
