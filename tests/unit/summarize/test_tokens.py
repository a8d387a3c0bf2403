"""tiktoken's cl100k_base from the vendored file, without the network."""

from __future__ import annotations

import hashlib
import socket

import pytest

from app.services.summarize import tokens


def test_the_vendored_file_is_the_official_one() -> None:
    assert hashlib.sha256(tokens.BPE_FILE.read_bytes()).hexdigest() == tokens.BPE_SHA256


def test_the_encoding_loads_with_the_network_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tiktoken tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    tokens.encoding.cache_clear()
    try:
        enc = tokens.encoding()
    finally:
        tokens.encoding.cache_clear()
    # Token ids published for cl100k_base: "hello world" is [15339, 1917].
    assert enc.encode_ordinary("hello world") == [15339, 1917]
    assert enc.n_vocab == 100277


def test_counts() -> None:
    assert tokens.count_tokens("") == 0
    assert tokens.count_tokens("<|endoftext|>") > 1  # an article's lookalike is plain text
