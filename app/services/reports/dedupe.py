"""Dedupe: which page may speak for which URL, and which two texts tell one story.

Two questions, both asked after a page is fetched:

- ``accepted_canonical``: a page's ``<link rel=canonical>`` names the URL the article is
  stored under elsewhere; it is believed only on the page's own site, so that no page can
  claim another site's article (and be answered with that article's summary).
- ``story_tokens`` and ``similarity``: the same story rewritten by two newsrooms shares
  few sentences but nearly all its names, numbers and identifiers; two stories on one
  topic share vocabulary but few of those. So the shingles compared are the distinctive
  tokens of the text, and their Jaccard similarity is the score. docs/dedupe.md has the
  measurement behind ``NEAR_DUPLICATE``.

Exact Jaccard on sets of tens of tokens costs microseconds, and a day holds tens of items:
MinHash would only add estimation error in a gap that is about 0.2 wide.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import SecdigestError
from app.models import Article, Report, ReportItem
from app.services.reports.urls import canonical_url

if TYPE_CHECKING:
    import tldextract

# Measured on tests/fixtures/dedupe (docs/dedupe.md): same story from 0.44, different
# stories up to 0.23. A little above the midpoint: a wrong merge hides a story from the
# digest, a missed one only shows it twice (and curation can fix that).
NEAR_DUPLICATE = 0.35
# Below this many distinctive tokens on either side the score is too coarse to trust
# (one shared name out of three is 0.33); identical texts still merge by content hash.
MIN_TOKENS = 6
# Stored per article; a long report keeps the tokens of lowest hash (a bottom-k sketch),
# which leaves the estimate exact whenever both sets are smaller than this.
MAX_TOKENS = 256

_LATIN = r"0-9A-Za-z\u00c0-\u024f"
# A word of Latin letters and digits, with inner dots, hyphens, slashes and apostrophes:
# CVE-2026-21877, 131.0.6778.108, /remote/login, Microsoft's.
_WORD = re.compile(rf"[{_LATIN}](?:[{_LATIN}\-./'’]*[{_LATIN}])?")
# A number with the counter after it (3412件, 12月): in Japanese the counter is what makes a
# bare day-of-month distinctive enough.
_NUMBER_UNIT = re.compile(r"\d[\d,.]*[\u3400-\u9fff]")
# Japanese has no capitals. Katakana words are names and loanwords; runs of three kanji or
# more are mostly proper nouns and compounds (北浜精機, 東大阪市, 生産管理). Kanji bigrams
# and hiragana were measured too: they made same-topic stories look closer, not further.
_KATAKANA = re.compile(r"[\u30a0-\u30ff]{2,}")
_KANJI = re.compile(r"[\u3400-\u9fff]{3,}")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3})")
_SENTENCE_END = frozenset('.!?:;"“「(')
# Capitalised only because they open a sentence, even before a name ("The Akira gang").
_OPENER_WORDS = (
    "a an the this that these those its their his her our in on at for by as but and or "
    "after before when while since according"
)
_OPENERS = frozenset(_OPENER_WORDS.split())


def _sentence_initial(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return index < 0 or text[index] in _SENTENCE_END


def _distinctive(word: str, *, initial: bool, before_name: bool) -> bool:
    # Names (capitalised mid-sentence), acronyms, and anything with a digit: what a
    # rewrite keeps. A sentence's first word is capitalised whatever it is, so it counts
    # only as the first word of a longer name ("Meridian Mobile said").
    if any(c.isdigit() for c in word) or (len(word) > 1 and word.isupper()):
        return True
    if not word[0].isupper():
        return False
    return not initial or (before_name and word.casefold() not in _OPENERS)


def _rank(token: str) -> bytes:
    return hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()


def story_tokens(text: str) -> list[str]:
    """The distinctive tokens of an article body, at most MAX_TOKENS, in a stable order.

    Give the body, not the headline: headlines are often in Title Case, where every word
    looks like a name.
    """
    text = _THOUSANDS.sub("", unicodedata.normalize("NFKC", text))
    found: set[str] = set()
    matches = list(_WORD.finditer(text))
    for index, match in enumerate(matches):
        word = match.group()
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        if len(word) < 2:
            continue
        following = matches[index + 1] if index + 1 < len(matches) else None
        before_name = (
            following is not None
            and following.group()[0].isupper()
            and text[match.end() : following.start()] == " "
        )
        initial = _sentence_initial(text, match.start())
        if _distinctive(word, initial=initial, before_name=before_name):
            found.add(word.casefold())
    found.update(m.group() for m in _NUMBER_UNIT.finditer(text))
    found.update(_KATAKANA.findall(text))
    found.update(_KANJI.findall(text))
    return sorted(found, key=_rank)[:MAX_TOKENS]


def similarity(first: Iterable[str], second: Iterable[str]) -> float:
    """Jaccard similarity of two token lists from ``story_tokens`` (bottom-k past the cap)."""
    a, b = set(first), set(second)
    if not a or not b:
        return 0.0
    union = sorted(a | b, key=_rank)[:MAX_TOKENS]
    return sum(1 for token in union if token in a and token in b) / len(union)


def near_duplicate(first: list[str], second: list[str]) -> bool:
    """Whether two token lists tell the same story (both long enough to judge)."""
    if min(len(first), len(second)) < MIN_TOKENS:
        return False
    return similarity(first, second) >= NEAR_DUPLICATE


@cache
def _suffixes() -> tldextract.TLDExtract:
    import tldextract  # noqa: PLC0415 - ~200 ms; only the pipeline needs it, not every command

    # The snapshot bundled with the package, never fetched, private suffixes included:
    # a.github.io and b.github.io are two sites.
    return tldextract.TLDExtract(
        suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True
    )


def _site(url: str) -> tuple[str, ...] | None:
    parts = urlsplit(url)
    try:
        host, port = (parts.hostname or "").rstrip("."), parts.port
    except ValueError:
        return None
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        owned = _suffixes()(host).top_domain_under_public_suffix
        if owned:
            return (owned,)
    # An address or a name under no public suffix (localhost, intranet): one site per
    # host and port, nothing wider.
    return (host, str(port or ""))


def same_site(first: str, second: str) -> bool:
    """Whether two URLs belong to one registrable domain (one host:port for addresses)."""
    site = _site(first)
    return site is not None and site == _site(second)


def accepted_canonical(declared: str | None, *, final_url: str | None) -> str | None:
    """The canonical form of the URL a page declares canonical, if the page may speak for it."""
    if not declared or not final_url:
        return None
    try:
        key = canonical_url(declared)
    except SecdigestError:
        return None
    return key if same_site(key, final_url) else None


async def find_known(session: AsyncSession, key: str) -> Article | None:
    """The article stored under a URL, or whose page named that URL as its canonical."""
    stored = await session.scalar(select(Article).where(Article.url == key))
    if stored is not None:
        return stored
    claimed = await session.scalars(
        select(Article).where(Article.canonical_url == key).order_by(Article.id).limit(5)
    )
    # Checked again on read: rows stored before this check existed hold what the page said.
    for article in claimed:
        if same_site(key, article.final_url or article.url or ""):
            return article
    return None


async def find_text(session: AsyncSession, digest: str, *, url: str | None) -> Article | None:
    """The stored article of a submitted text (``digest``: its content hash).

    Without a URL, the text's own article (its text key). With one, the URL is the key, as
    for a page: its article, when it holds this same text (another text for that URL is a
    rewrite, not a repeat).
    """
    if url is None:
        return await session.scalar(select(Article).where(Article.text_key == digest))
    return await session.scalar(
        select(Article).where(Article.url == url, Article.content_hash == digest)
    )


def source_of(article: Article) -> dict[str, Any] | None:
    """How an article is listed as another source of an item, or None without a URL."""
    url = article.url or article.final_url
    return {"title": article.title, "url": url} if url else None


def add_source(item: ReportItem, source: dict[str, Any]) -> None:
    """List a source under an item once (by URL); a known source gets its newer title."""
    if source["url"] == item.url:
        return
    sources = [dict(s) for s in item.sources]
    for known in sources:
        if known.get("url") == source["url"]:
            known.update(source)
            break
    else:
        sources.append(dict(source))
    # A new list, not an in-place change: JSON columns only notice assignment.
    item.sources = sources


def listed_as_source(report: Report, url: str) -> ReportItem | None:
    """The item of a report that already lists ``url`` among its other sources."""
    return next(
        (item for item in report.items if any(s.get("url") == url for s in item.sources)), None
    )


async def story_twin(
    session: AsyncSession, report: Report, article: Article, *, refresh: bool = False
) -> tuple[ReportItem, float] | None:
    """The article entry of a report that tells the same story as ``article``, with its score.

    The article's tokens are stored on it; those of articles placed before the tokens
    existed are computed in memory (writing them would lock rows other requests may hold).
    """
    if article.story_tokens is None or refresh:
        article.story_tokens = story_tokens(article.text)
    candidates = {
        item.article_id: item
        for item in report.items
        if item.kind == "article" and item.article_id not in (None, article.id)
    }
    if not candidates:
        return None
    rows = (
        await session.execute(
            select(Article.id, Article.content_hash, Article.story_tokens).where(
                Article.id.in_(candidates)
            )
        )
    ).all()
    missing = [row.id for row in rows if row.story_tokens is None]
    texts: dict[int, str] = {}
    if missing:
        found = await session.execute(
            select(Article.id, Article.text).where(Article.id.in_(missing))
        )
        texts = {row.id: row.text for row in found}
    best: tuple[ReportItem, float] | None = None
    for row in rows:
        if row.content_hash == article.content_hash:
            score = 1.0  # the same text under another URL
        else:
            tokens = (
                row.story_tokens if row.story_tokens is not None else story_tokens(texts[row.id])
            )
            if not near_duplicate(article.story_tokens, tokens):
                continue
            score = similarity(article.story_tokens, tokens)
        if best is None or score > best[1]:
            best = (candidates[row.id], score)
    return best


async def known_elsewhere(
    session: AsyncSession, key: str, *, final_url: str, declared: str | None
) -> Article | None:
    """After a fetch: the stored article this page turned out to be, reached by a redirect
    (the final URL) or named by its rel=canonical on its own site; None for a new page."""
    seen = {key}
    for candidate in (_key_or_none(final_url), accepted_canonical(declared, final_url=final_url)):
        if candidate is None or candidate in seen:
            continue
        seen.add(candidate)
        known = await find_known(session, candidate)
        if known is not None:
            return known
    return None


def _key_or_none(url: str) -> str | None:
    try:
        return canonical_url(url)
    except SecdigestError:
        return None
