"""Text and metadata of a PDF threat report, in the same shape as an HTML article.

pypdf: pure Python, maintained, and enough for the text layer of vendor reports; layout
analysis (pdfminer.six) would cost several times more for prose we then re-flow anyway.
Pure, no I/O; bounded by a page cap so that a hostile file cannot hold a worker.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import UTC, datetime, timedelta, timezone

from app.services.extract.html import ArticleText
from app.services.extract.lang import detect_lang

log = logging.getLogger("secdigest.extract")

PDF_MAGIC = b"%PDF-"
MAX_PAGES = 300
MAX_CHARS = 2_000_000

_PDF_DATE = re.compile(
    r"D:(?P<y>\d{4})(?P<mo>\d{2})?(?P<d>\d{2})?(?P<h>\d{2})?(?P<mi>\d{2})?(?P<s>\d{2})?"
    r"(?P<tz>[Zz]|[+-]\d{2}'?\d{2}'?)?"
)
_HYPHENATED = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_SENTENCE_END = tuple(".!?:。！？」』)")
_CJK_END = re.compile(r"[\u3000-\u9fff\uff00-\uffef]$")


def looks_like_pdf(data: bytes, content_type: str | None = None) -> bool:
    """By content type, or by the magic bytes when a server mislabels the file."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/pdf" or data[:1024].lstrip().startswith(PDF_MAGIC)


def _pdf_date(value: object) -> datetime | None:
    match = _PDF_DATE.match(str(value or ""))
    if not match:
        return None
    parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "tz"}
    try:
        moment = datetime(
            parts["y"],
            parts.get("mo", 1),
            parts.get("d", 1),
            parts.get("h", 0),
            parts.get("mi", 0),
            parts.get("s", 0),
        )
    except ValueError:
        return None
    zone = match.group("tz")
    if not zone:
        return moment
    if zone in "Zz":
        return moment.replace(tzinfo=UTC)
    digits = zone.replace("'", "")
    offset = timedelta(hours=int(digits[1:3]), minutes=int(digits[3:5] or 0))
    return moment.replace(tzinfo=timezone(offset if digits[0] == "+" else -offset))


def _reflow(page_text: str) -> str:
    """Hard-wrapped lines back into paragraphs; a blank line or a sentence end breaks."""
    text = _HYPHENATED.sub("", page_text.replace("\r", ""))
    paragraphs: list[str] = []
    current: list[str] = []
    for raw in text.split("\n"):
        line = " ".join(raw.split())
        if not line:
            if current:
                paragraphs.append(_join(current))
                current = []
            continue
        if not current and len(line) < 50 and not line.endswith((".", ",", ";", "、")):
            paragraphs.append(line)  # a short line that starts nothing: a heading
            continue
        current.append(line)
        if line.endswith(_SENTENCE_END) and len(line) < 60:
            # A short line that ends a sentence ends its paragraph (headings, list items).
            paragraphs.append(_join(current))
            current = []
    if current:
        paragraphs.append(_join(current))
    return "\n\n".join(paragraphs)


def _join(lines: list[str]) -> str:
    out = lines[0]
    for line in lines[1:]:
        # Japanese has no spaces between words: a wrapped line continues the word.
        out += line if _CJK_END.search(out) else " " + line
    return out


def extract_pdf(data: bytes, url: str | None = None) -> ArticleText:
    """The text layer of a PDF (re-flowed) with its title, date and author."""
    # pypdf takes ~200 ms to import: only PDFs pay for it.
    from pypdf import PdfReader  # noqa: PLC0415
    from pypdf.errors import PyPdfError  # noqa: PLC0415

    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            return ArticleText(title=None, text="", published=None, lang=None)
        metadata: dict[str, object] = dict(reader.metadata or {})
        pages: list[str] = []
        size = 0
        for page in reader.pages[:MAX_PAGES]:
            page_text = _reflow(page.extract_text() or "")
            size += len(page_text)
            pages.append(page_text)
            if size > MAX_CHARS:
                break
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        # A broken or hostile file is simply not readable; never a 500.
        log.info("extract.pdf_unreadable url=%s error=%s", url, type(exc).__name__)
        return ArticleText(title=None, text="", published=None, lang=None)
    text = "\n\n".join(p for p in pages if p)[:MAX_CHARS]
    title = str(metadata.get("/Title") or "").strip() or None
    if not title and text:
        first = text.split("\n\n", 1)[0]
        title = first if len(first) <= 200 else None
    author = str(metadata.get("/Author") or "").strip() or None
    return ArticleText(
        title=title,
        text=text,
        published=_pdf_date(metadata.get("/CreationDate")),
        lang=detect_lang(text),
        author=author,
    )
