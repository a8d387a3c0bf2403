"""Connect only where the guard said: an httpx transport whose sockets go to pinned addresses.

Why a network backend and not "send the request to the IP with a Host header": the URL,
the Host header, TLS SNI and certificate checks all stay the hostname's and are done by
httpx/httpcore exactly as for any request, and the connection pool stays keyed by hostname
(a pool keyed by IP would reuse a TLS connection made for one name for another name on
the same CDN address). Only the TCP connect changes: it goes to the addresses the guard
checked for this fetch, held in a ContextVar so that concurrent fetches (tasks) never see
each other's pins. A connect with no pin is refused, so code that forgets the guard fails
closed instead of doing its own DNS lookup.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from types import MappingProxyType
from typing import Any

import httpcore
import httpx

from app.errors import FetchBlocked
from app.services.fetch.netguard import IPAddress, Target

_Pins = Mapping[tuple[str, int], tuple[IPAddress, ...]]
_PINS: ContextVar[_Pins] = ContextVar("secdigest_fetch_pins", default=MappingProxyType({}))


@contextmanager
def pinned(target: Target) -> Iterator[None]:
    """Within this block, connections to the target's host:port go to its checked addresses."""
    pins = {**_PINS.get(), (target.host, target.port): target.addresses}
    token = _PINS.set(MappingProxyType(pins))
    try:
        yield
    finally:
        _PINS.reset(token)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Dial the pinned addresses of a host, in the resolver's order; nothing else."""

    def __init__(self, inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Connect to the first pinned address that answers (no DNS lookup happens here)."""
        addresses = _PINS.get().get((host, port))
        if not addresses:
            raise FetchBlocked(f"{host}:{port} was not checked by the guard; not connecting")
        failure: Exception | None = None
        # Dual-stack hosts often list an IPv6 address first that a container cannot reach.
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Never: a fetch goes over TCP to a checked address."""
        raise FetchBlocked("unix sockets are not fetched from")

    async def sleep(self, seconds: float) -> None:
        """Wait as the wrapped backend waits (used between connection retries)."""
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, with a connection pool that dials through PinnedBackend."""

    def __init__(self, *, verify: ssl.SSLContext | bool = True, limits: httpx.Limits) -> None:
        context = (
            verify
            if isinstance(verify, ssl.SSLContext)
            else httpx.create_ssl_context(verify=verify, trust_env=False)
        )
        super().__init__(verify=context, trust_env=False, limits=limits)
        # httpx has no parameter for httpcore's network backend, so its pool is replaced.
        # Refuse to start rather than run unpinned if a later httpx renames the attribute.
        if not isinstance(getattr(self, "_pool", None), httpcore.AsyncConnectionPool):
            raise RuntimeError("this httpx has no _pool to pin; fetches would not be guarded")
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )
