"""The benchmark's articles: the summarization sets of the shared bench data, in order.

``DIR/summarize/<set>/src/NAME.txt`` is an article, ``<set>/ref/NAME.txt`` the summary
its authors (cti_blog) or CTISum's annotators wrote; ``<set>/meta.jsonl`` gives its URL.
The ctisum_* sets share their sources (two references per text). Then the extraction
benchmark's security pages (``DIR/extract/security/html/*.html.gz``: English and Japanese
news, advisories and vendor posts), read by the pipeline's own extractor: no reference, so
no ROUGE, but grounding, Japanese output, tokens and latency on real pages.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from app.services.extract import extract_article
from app.services.summarize.sentences import segment

SECURITY_PAGES = "security_pages"


class BenchDataError(Exception):
    """The data folder is missing or holds no set; the message says which folder."""


@dataclass(frozen=True, slots=True)
class Article:
    """One article of a set and the reference summary it is scored against."""

    set: str
    name: str
    text: str
    reference: str  # "" for a page with no reference (the injection set)
    url: str | None = None
    title: str | None = None  # what the pipeline passes with an extracted page
    source_lang: str = "en"

    @property
    def id(self) -> str:
        """``cti_blog/eset__...``: unique over the sets."""
        return f"{self.set}/{self.name}"

    @property
    def text_hash(self) -> str:
        """SHA-256 of what the engine reads (title, language, text): a cached result of
        another input is not reused."""
        plain = self.title is None and self.source_lang == "en"
        head = "" if plain else f"{self.title or ''}\0{self.source_lang}\0"
        return hashlib.sha256((head + self.text).encode("utf-8")).hexdigest()


def data_dir(shared: Path) -> Path:
    """The summarization data under the shared bench folder (or that folder itself)."""
    return shared / "summarize" if (shared / "summarize").is_dir() else shared


def _urls(folder: Path) -> dict[str, str]:
    meta = folder / "meta.jsonl"
    if not meta.is_file():
        return {}
    urls: dict[str, str] = {}
    for line in meta.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if isinstance(row.get("url"), str):
                urls[str(row["name"])] = row["url"]
    return urls


def load_articles(
    shared: Path, *, limit: int | None = None, sets: tuple[str, ...] = ()
) -> list[Article]:
    """Every article with a reference, set by set (sorted), names sorted; the first ``limit``."""
    data = data_dir(shared)
    if not data.is_dir():
        raise BenchDataError(f"{data}: no such folder (--shared names the bench data)")
    folders = sorted(p for p in data.iterdir() if (p / "src").is_dir() and (p / "ref").is_dir())
    pages = shared / "extract" / "security" / "html"
    known = {p.name for p in folders} | ({SECURITY_PAGES} if pages.is_dir() else set())
    if sets:
        missing = sorted(set(sets) - known)
        if missing:
            raise BenchDataError(f"{data}: no set {', '.join(missing)}")
        folders = [p for p in folders if p.name in sets]
    with_pages = pages.is_dir() and (not sets or SECURITY_PAGES in sets)
    if not folders and not with_pages:
        raise BenchDataError(f"{data}: no <set>/src and <set>/ref folders")
    articles: list[Article] = []
    for folder in folders:
        urls = _urls(folder)
        for src in sorted((folder / "src").glob("*.txt")):
            ref = folder / "ref" / src.name
            if ref.is_file():
                articles.append(
                    Article(
                        set=folder.name,
                        name=src.stem,
                        text=src.read_text(encoding="utf-8"),
                        reference=ref.read_text(encoding="utf-8"),
                        url=urls.get(src.stem),
                    )
                )
    if with_pages:
        articles.extend(security_pages(pages))
    return articles[:limit] if limit is not None else articles


def security_pages(folder: Path) -> list[Article]:
    """The security pages as the pipeline reads them (charset, main text, title, language)."""
    found: list[Article] = []
    for path in sorted(folder.glob("*.html.gz")):
        name = path.name.removesuffix(".html.gz")
        page = extract_article(gzip.decompress(path.read_bytes()))
        if not page.text.strip():
            continue
        found.append(
            Article(
                set=SECURITY_PAGES,
                name=name,
                text=page.text,
                reference="",
                title=page.title,
                source_lang=page.lang or "en",
            )
        )
    return found


def lead(text: str, k: int) -> list[str]:
    """The first ``k`` sentences (headings, labels and fragments skipped): the lead-k baseline."""
    return [unit.text for unit in segment(text) if not unit.heading and not unit.fragment][:k]
