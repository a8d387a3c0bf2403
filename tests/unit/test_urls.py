"""Canonical URLs: the key that makes a re-submission free."""

from __future__ import annotations

import pytest

from app.errors import FetchBlocked, InvalidRequest
from app.services.urls import canonical_url


@pytest.mark.parametrize(
    ("given", "canonical"),
    [
        ("HTTPS://News.Example.COM/a/b", "https://news.example.com/a/b"),
        ("https://news.example.com:443/a", "https://news.example.com/a"),
        ("http://news.example.com:8080/a", "http://news.example.com:8080/a"),
        ("https://news.example.com/a#comments", "https://news.example.com/a"),
        ("https://news.example.com", "https://news.example.com/"),
        ("https://x.example/a?utm_source=t&id=7&fbclid=z", "https://x.example/a?id=7"),
        ("https://x.example/a?q=%E6%97%A5&b=1", "https://x.example/a?q=%E6%97%A5&b=1"),
        ("http://[::1]:8080/p", "http://[::1]:8080/p"),
    ],
)
def test_canonical_form(given: str, canonical: str) -> None:
    assert canonical_url(given) == canonical


def test_non_http_schemes_and_credentials_are_blocked() -> None:
    with pytest.raises(FetchBlocked):
        canonical_url("javascript:alert(1)")
    with pytest.raises(FetchBlocked):
        canonical_url("https://user:pw@x.example/")


def test_urls_without_host_or_with_bad_port_are_invalid() -> None:
    with pytest.raises(InvalidRequest):
        canonical_url("https:///path")
    with pytest.raises(InvalidRequest):
        canonical_url("https://x.example:99999/")
