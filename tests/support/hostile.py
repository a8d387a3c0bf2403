"""A hostile web site on loopback (bombs, drips, loops, lies), and a canary nobody may reach."""

from __future__ import annotations

import contextlib
import ipaddress
import select
import socket
import ssl
import struct
import tempfile
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from app.services.fetch.netguard import IPAddress, Resolver

SITE_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "site"
MB = 1024 * 1024
_FILLER = b"<p>" + b"A" * (64 * 1024 - 7) + b"</p>\n"


@cache
def bomb(encoding: str, compressed_bytes: int) -> bytes:
    """About compressed_bytes of gzip or raw deflate that inflate ~1000 times (zeros).

    Made cheaply: after a full flush the compressor starts afresh, so every further MB of
    zeros compresses to the same bytes, which are repeated. No trailer: no reader that
    respects a cap ever gets there.
    """
    wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else -zlib.MAX_WBITS
    zeros = bytes(MB)
    packer = zlib.compressobj(9, zlib.DEFLATED, wbits)
    head = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    piece = packer.compress(zeros) + packer.flush(zlib.Z_FULL_FLUSH)
    return head + piece * max(1, (compressed_bytes - len(head)) // len(piece))


def _page(name: str) -> bytes:
    return (SITE_DIR / name).read_bytes()


@dataclass(frozen=True)
class Seen:
    """One request the hostile server received."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hostile: HostileServer

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        seen = Seen(path, parse_qs(query), {k.lower(): v for k, v in self.headers.items()})
        self.hostile.seen.append(seen)
        self.close_connection = True
        # The client hanging up mid-body is exactly what a bounded client should do.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, ssl.SSLError):
            ROUTES.get(path, _not_found)(self, seen)

    def head(self, status: int, *headers: tuple[str, str]) -> None:
        """Status line and headers; the connection closes after the body."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Connection", "close")
        self.end_headers()

    def reply(self, status: int, body: bytes, *headers: tuple[str, str]) -> None:
        """A whole response with its length."""
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers = (("Content-Type", "text/html; charset=utf-8"), *headers)
        self.head(status, *headers, ("Content-Length", str(len(body))))
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        """A 302 to location."""
        self.reply(302, b"", ("Location", location))

    def wait(self, seconds: float) -> bool:
        """Sleep unless the server is stopping; whether it is still running."""
        return not self.hostile.stopping.wait(seconds)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is for failures."""


Route = Callable[[_Handler, Seen], None]
_HTML = ("Content-Type", "text/html; charset=utf-8")


def _not_found(h: _Handler, seen: Seen) -> None:
    h.reply(404, b"not found")


def _big(declared: bool, chunked: bool) -> Route:
    def route(h: _Handler, seen: Seen) -> None:
        count = 50 * MB // len(_FILLER)
        if declared:
            h.head(200, _HTML, ("Content-Length", str(count * len(_FILLER))))
        elif chunked:
            h.head(200, _HTML, ("Transfer-Encoding", "chunked"))
        else:
            h.head(200, _HTML)  # the body ends when the connection does
        for _ in range(count):
            if chunked:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(_FILLER), _FILLER))
            else:
                h.wfile.write(_FILLER)
        if chunked:
            h.wfile.write(b"0\r\n\r\n")

    return route


def _bomb(encoding: str, compressed_bytes: int, declared: bool) -> Route:
    def route(h: _Handler, seen: Seen) -> None:
        body = bomb(encoding, compressed_bytes)
        length = (("Content-Length", str(len(body))),) if declared else ()
        h.head(200, _HTML, ("Content-Encoding", encoding), *length)
        view = memoryview(body)
        for start in range(0, len(body), 64 * 1024):
            h.wfile.write(view[start : start + 64 * 1024])

    return route


def _encoded(encoding: str, body: bytes) -> Route:
    def route(h: _Handler, seen: Seen) -> None:
        h.reply(200, body, _HTML, ("Content-Encoding", encoding))

    return route


def _drip(h: _Handler, seen: Seen) -> None:
    h.head(200, _HTML, ("Content-Length", "100000"))
    while h.wait(h.hostile.drip_interval):
        h.wfile.write(b"<")
        h.wfile.flush()


def _drip_headers(h: _Handler, seen: Seen) -> None:
    for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 100_000:
        if not h.wait(h.hostile.drip_interval):
            return
        h.wfile.write(bytes([byte]))
        h.wfile.flush()


def _close_before_answer(h: _Handler, seen: Seen) -> None:
    """Read the request, answer nothing: the connection closes when the handler returns."""


def _close_mid_answer(h: _Handler, seen: Seen) -> None:
    h.head(200, _HTML, ("Content-Length", "100000"))
    h.wfile.write(b"<html><body><p>The first half of the pa")


def _reset(h: _Handler, seen: Seen) -> None:
    # SO_LINGER 0: close() sends a TCP reset instead of a FIN, as a crashed or hostile
    # middlebox does.
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()


def _garbage(h: _Handler, seen: Seen) -> None:
    # Not a status line: another protocol on the port, or a broken proxy.
    h.wfile.write(b"\x00\x01\x02 this is not HTTP at all \xff\xfe\r\n\r\n")


def _bad_chunks(h: _Handler, seen: Seen) -> None:
    h.head(200, _HTML, ("Transfer-Encoding", "chunked"))
    h.wfile.write(b"zz-not-a-chunk-size\r\n<p>text</p>\r\n0\r\n\r\n")


def _page_route(body: bytes, content_type: str = "text/html; charset=utf-8") -> Route:
    def route(h: _Handler, seen: Seen) -> None:
        h.reply(200, body, ("Content-Type", content_type))

    return route


def _cookie_gate(h: _Handler, seen: Seen) -> None:
    # Like the consent walls of some news sites: no cookie, no page.
    if "gate=passed" in seen.headers.get("cookie", ""):
        h.reply(200, _page("english-news.html"))
    else:
        h.reply(302, b"", ("Location", "/cookie-set"))


def _nested_divs() -> bytes:
    text = _page("english-news.html").split(b"<body", 1)[-1].split(b">", 1)[-1]
    text = text.split(b"</body>", 1)[0]
    return b"<html><body>" + b"<div>" * 100_000 + text + b"</div>" * 100_000 + b"</body></html>"


def _binary() -> bytes:
    # Every byte value, NUL included: the shape of an image or an archive.
    return b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 800


_SJIS = _page("jp-sjis.html")
_ARTICLE = _page("english-news.html")

ROUTES: dict[str, Route] = {
    "/article": _page_route(_ARTICLE),
    "/big-declared": _big(declared=True, chunked=False),
    "/big-undeclared": _big(declared=False, chunked=False),
    "/big-chunked": _big(declared=False, chunked=True),
    "/gzip-bomb": _bomb("gzip", MB, declared=True),
    "/gzip-bomb-undeclared": _bomb("gzip", 10 * MB, declared=False),
    "/deflate-bomb": _bomb("deflate", 10 * MB, declared=False),
    "/gzip-article": _encoded("gzip", zlib.compress(_ARTICLE, wbits=31)),
    "/deflate-article": _encoded("deflate", zlib.compress(_ARTICLE)),
    "/raw-deflate-article": _encoded("deflate", zlib.compress(_ARTICLE, wbits=-15)),
    "/brotli": _encoded("br", b"\x1b\x00\x00\x00" * 64),
    # A gzip header, then bytes that are no deflate stream.
    "/broken-gzip": _encoded("gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + b"\xff" * 64),
    "/close-before-answer": _close_before_answer,
    "/close-mid-answer": _close_mid_answer,
    "/reset": _reset,
    "/garbage": _garbage,
    "/bad-chunks": _bad_chunks,
    "/drip": _drip,
    "/drip-headers": _drip_headers,
    "/loop": lambda h, seen: h.redirect("/loop"),
    "/loop-a": lambda h, seen: h.redirect("/loop-b"),
    "/loop-b": lambda h, seen: h.redirect("/loop-a"),
    "/redirect": lambda h, seen: h.redirect(seen.query["to"][0]),
    "/to-private": lambda h, seen: h.redirect("http://10.0.0.1/admin"),
    "/to-metadata": lambda h, seen: h.redirect("http://169.254.169.254/latest/meta-data/"),
    "/to-metadata-v6": lambda h, seen: h.redirect("http://[fd00:ec2::254]/latest/meta-data/"),
    "/to-file": lambda h, seen: h.redirect("file:///etc/passwd"),
    "/cookie-set": lambda h, seen: h.reply(
        302, b"", ("Location", "/cookie-gate"), ("Set-Cookie", "gate=passed; Path=/")
    ),
    "/cookie-gate": _cookie_gate,
    "/binary-as-html": _page_route(_binary()),
    "/sjis-labelled-utf8": _page_route(_SJIS, "text/html; charset=utf-8"),
    "/utf8-labelled-sjis": _page_route(
        _SJIS.decode("cp932").encode("utf-8"), "text/html; charset=Shift_JIS"
    ),
    "/nested-divs": _page_route(_nested_divs()),
}


@dataclass
class HostileServer:
    """The hostile site in a background thread: `with HostileServer() as hostile:`."""

    tls: ssl.SSLContext | None = None
    drip_interval: float = 1.0
    seen: list[Seen] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        handler = type("Handler", (_Handler,), {"hostile": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        if self.tls is not None:
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        self.port = int(self._server.server_address[1])
        scheme = "https" if self.tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        """Absolute URL of a path, optionally under another host name (for a stub resolver)."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://{host}:{self.port}{path}"

    def paths(self) -> list[str]:
        """The paths requested so far, in order."""
        return [s.path for s in self.seen]

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class Canary:
    """A loopback port that counts connections: every blocked fetch must leave it at zero.

    Nothing accepts until connections() is asked, so a connection is counted whether or
    not anyone answered it (the kernel completes the handshake and queues it).
    """

    def __init__(self, address: str = "127.0.0.1", port: int = 0) -> None:
        # Another loopback address can share a port with a server on 127.0.0.1: a second
        # answer of a rebinding DNS then reaches the canary, not the server.
        self._socket = socket.create_server((address, port), backlog=128)
        self._socket.setblocking(False)
        self.address = address
        self.port = int(self._socket.getsockname()[1])
        self._count = 0

    def url(self, path: str = "/", host: str | None = None) -> str:
        """A URL that reaches the canary."""
        return f"http://{host or self.address}:{self.port}{path}"

    def connections(self) -> int:
        """How many connections have been made to the canary so far."""
        while select.select([self._socket], [], [], 0.05)[0]:
            connection, _ = self._socket.accept()
            connection.close()
            self._count += 1
        return self._count

    def close(self) -> None:
        """Stop listening."""
        self._socket.close()


@dataclass(frozen=True)
class Tls:
    """A server context for a host name, a client context trusting only its CA, SNI seen."""

    server: ssl.SSLContext
    client: ssl.SSLContext
    sni: list[str | None]


def tls_for(hostname: str) -> Tls:
    """A throwaway CA and a certificate for hostname (no network, no files left behind)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def cert(subject: str, key: ec.EllipticCurvePrivateKey, ca: bool) -> x509.CertificateBuilder:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if not ca:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
        return builder

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = cert("test CA", ca_key, ca=True).sign(ca_key, hashes.SHA256())
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(hostname, key, ca=False).sign(ca_key, hashes.SHA256())

    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        chain = Path(tmp) / "chain.pem"
        chain.write_bytes(
            leaf.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        server.load_cert_chain(chain)
    sni: list[str | None] = []

    def remember_sni(_sock: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> None:
        sni.append(name)

    server.sni_callback = remember_sni
    client = ssl.create_default_context(
        cadata=ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    )
    return Tls(server=server, client=client, sni=sni)


class StubResolver:
    """DNS played by the test: each host answers its lists of addresses in turn.

    `StubResolver({"rebind.test": [["8.8.8.8"], ["10.0.0.1"]]})` answers a public address
    first and a private one after that, as a rebinding DNS server would.
    """

    def __init__(
        self, answers: dict[str, list[list[str]]], fallback: Resolver | None = None
    ) -> None:
        self._answers = answers
        self._fallback = fallback  # for the hosts it does not know (e.g. the system's)
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        """The next answer for host (the last one repeats); none for unknown hosts."""
        self.calls.append((host, port))
        if host not in self._answers and self._fallback is not None:
            return list(await self._fallback(host, port))
        answers = self._answers.get(host, [[]])
        answer = answers[min(len(self.calls_for(host)) - 1, len(answers) - 1)]
        return [ipaddress.ip_address(a) for a in answer]

    def calls_for(self, host: str) -> list[tuple[str, int]]:
        """The lookups made for one host."""
        return [call for call in self.calls if call[0] == host]
