"""Canonical URLs: the key that makes a re-submission free."""

from __future__ import annotations

import pytest

from app.errors import FetchBlocked, InvalidRequest
from app.services.reports.urls import canonical_url


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


@pytest.mark.parametrize(
    ("amp", "article"),
    [
        ("https://news.example/2026/12/story/amp/", "https://news.example/2026/12/story/"),
        ("https://news.example/2026/12/story/amp", "https://news.example/2026/12/story"),
        ("https://news.example/2026/12/story/AMP/", "https://news.example/2026/12/story/"),
        ("https://news.example/a/story.amp.html", "https://news.example/a/story.html"),
        ("https://news.example/a/story.amp", "https://news.example/a/story"),
        ("https://news.example/a/story?amp", "https://news.example/a/story"),
        ("https://news.example/a/story?amp=1&id=7", "https://news.example/a/story?id=7"),
        ("https://news.example/a/story?outputType=amp", "https://news.example/a/story"),
        ("https://news.example/a/story?amp_js_v=0.1&usqp=mq331AQ", "https://news.example/a/story"),
        ("https://news.example/a/story/amp/?utm_source=x#top", "https://news.example/a/story/"),
    ],
)
def test_amp_variants_are_the_article_they_render(amp: str, article: str) -> None:
    assert canonical_url(amp) == article


@pytest.mark.parametrize(
    "url",
    [
        "https://physics.example/example/ampere",
        "https://summer.example/camp/",
        "https://gear.example/reviews/guitar-amp.html",
        "https://gear.example/amp/marshall-jcm800",
        "https://news.example/a/story?amp=0",
        "https://news.example/a/story?outputType=json",
        "https://news.example/files/.amp",
        "https://amp.example/",
    ],
)
def test_urls_that_merely_contain_amp_are_kept(url: str) -> None:
    assert canonical_url(url) == url
