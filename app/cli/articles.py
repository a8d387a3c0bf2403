"""`secdigest summarize` and `extract`: one article through the pipeline, or its text only."""

from __future__ import annotations

import argparse
import sys
from dataclasses import asdict
from typing import Any

from app.cli._common import (
    fail,
    migrate_if_asked,
    print_json,
    read_bytes,
    run_async,
    settings,
    with_state,
)
from app.db import session_scope
from app.errors import InvalidRequest, SecdigestError
from app.schemas.summarize import article_read
from app.services import reports
from app.services.extract import extract_article, extract_pdf, looks_like_pdf
from app.services.markdown import labels_for, render_item
from app.services.pipeline import ArticleResult, Placement, Submission, run_submission
from app.services.reports import item_to_document
from app.services.reports.sections import Section
from app.settings import Settings
from app.state import AppState


def _placement(args: argparse.Namespace, current: Settings) -> Placement:
    """Where the entries go, as the API's `date`, `section` and `lang` say it."""
    day = reports.parse_day(args.date, current.tz)
    if day is None:
        raise InvalidRequest("--date: summarize into a named day (YYYY-MM-DD or today)")
    section = Section(args.section) if args.section else None
    return Placement(day=day, lang=args.lang or current.lang, section=section)


def cmd_summarize(args: argparse.Namespace) -> int:
    """The whole pipeline for each URL, without a server (`--dry-run`: nothing stored)."""
    current = settings()
    placement = _placement(args, current)  # a bad --date fails before the database is opened
    migrate_if_asked(current)

    async def work(state: AppState) -> int:
        outputs: list[Any] = []
        failures = 0
        for url in args.urls:
            submission = Submission(
                placement=placement, url=url, force=args.force, store=not args.dry_run
            )
            try:
                async with session_scope(state.sessionmaker) as session:
                    result = await run_submission(session, state.tools, submission)
            except SecdigestError as exc:
                fail(exc, url)
                failures += 1
                continue
            assert isinstance(result, ArticleResult)  # one URL, one article
            if args.format == "md":
                labels = labels_for(placement.lang, current.model_recommendations_label)
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
    settings()  # its logging: quiet unless SECDIGEST_LOG_LEVEL asks
    data = read_bytes(args.file)
    article = (
        extract_pdf(data, args.url) if looks_like_pdf(data) else extract_article(data, args.url)
    )
    print_json(asdict(article))
    return 0
