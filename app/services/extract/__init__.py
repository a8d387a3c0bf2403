"""Article extraction: HTML or PDF in, `ArticleText` out. Pure: no I/O, no database.

Public surface:
- `extract_article(html, url)`, `text_to_article(text, title)`, `ArticleText` (`html`)
- `extract_pdf(data, url)`, `looks_like_pdf(data, content_type)` (`pdf`)
- `parser_input(data, content_type)` (`charset`): what the HTML parser reads, in the page's
  charset (Shift_JIS and EUC-JP included)
- `detect_lang(text)` (`lang`)

The underscored modules are the steps of `extract_article`: `_clean` (drop what is not
article), `_blocks` (one pass scoring blocks), `_select` (the best block and its widening),
`_meta` (title, dates, author, canonical URL).
"""

from app.services.extract.charset import parser_input
from app.services.extract.html import ArticleText, extract_article, text_to_article
from app.services.extract.lang import detect_lang
from app.services.extract.pdf import extract_pdf, looks_like_pdf

__all__ = [
    "ArticleText",
    "detect_lang",
    "extract_article",
    "extract_pdf",
    "looks_like_pdf",
    "parser_input",
    "text_to_article",
]
