"""`secdigest summarize` and `extract`: one article through the pipeline, or its text only."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from app.cli._common import fail, migrate_if_asked, print_json, run_async, settings, with_state
from app.db import session_scope
from app.errors import SecdigestError
from app.schemas.summarize import article_read
from app.services.extract import extract_article, extract_pdf, looks_like_pdf
from app.services.markdown import labels_for, render_item
from app.services.pipeline import Placement, summarize_url
from app.services.reports import item_to_document, today
from app.state import AppState


def cmd_summarize(args: argparse.Namespace) -> int:
    """The whole pipeline for each URL, without a server."""
    current = settings()
    migrate_if_asked(current)
    lang = args.lang or current.lang

    async def work(state: AppState) -> int:
        placement = Placement(day=today(current.tz), lang=lang)
        outputs: list[Any] = []
        failures = 0
        for url in args.urls:
            try:
                async with session_scope(state.sessionmaker) as session:
                    result = await summarize_url(
                        session,
                        state.tools,
                        url=url,
                        placement=placement,
                        force=args.force,
                    )
            except SecdigestError as exc:
                fail(exc, url)
                failures += 1
                continue
            if args.format == "md":
                labels = labels_for(lang, current.model_recommendations_label)
                outputs.append(render_item(item_to_document(result.item, full=True), labels))
            else:
                outputs.append(article_read(result).model_dump(mode="json"))
        if args.format == "md":
            sys.stdout.write("\n".join(outputs))
        elif outputs:
            print_json(outputs[0] if len(args.urls) == 1 else outputs)
        return 1 if failures else 0

    return run_async(with_state(current, work))


def cmd_extract(args: argparse.Namespace) -> int:
    """Main text and metadata of an HTML page or a PDF (stdin by default)."""
    if args.file in (None, "-"):
        data = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as handle:
            data = handle.read()
    article = (
        extract_pdf(data, args.url) if looks_like_pdf(data) else extract_article(data, args.url)
    )
    print_json(asdict(article))
    return 0
