"""Display lines stored with an item: used when they are current, made again when not."""

from __future__ import annotations

from datetime import date

from app.services.markdown import labels_for, render_report
from app.services.markdown.display import DISPLAY_VERSION, display_lines
from app.services.reports.document import DocumentIoc, DocumentItem, ItemKind, ReportDocument
from app.services.reports.sections import Section

JA = labels_for("ja")


def _item(**overrides: object) -> DocumentItem:
    values: dict[str, object] = {
        "kind": ItemKind.ARTICLE,
        "section": Section.DAILY_NEWS,
        "title": "Loader at evil.com",
        "url": "https://news.example.com/a",
        "summary": ["It calls 45.137.21.9 and [.]: //evil.example/x."],
        "iocs": [DocumentIoc("ipv4", "45.137.21.9", "45.137.21[.]9")],
        "recommendations": ["Block evil.com."],
    }
    values.update(overrides)
    return DocumentItem(**values)  # type: ignore[arg-type]


def _stored(item: DocumentItem) -> dict[str, object]:
    return display_lines(
        title=item.title,
        iocs=[{"defanged": i.defanged} for i in item.iocs],
        summary=item.summary,
        recommendations=item.recommendations,
        other=item.other,
        model_recommendations=item.model_recommendations,
    )


def _day(item: DocumentItem) -> str:
    return render_report(ReportDocument(day=date(2024, 12, 6), items=[item]), JA)


def test_stored_lines_render_exactly_as_lines_made_at_render() -> None:
    plain = _item()
    stored = _item(display=_stored(plain))
    assert _day(stored) == _day(plain)
    assert "evil[.]com" in _day(stored)


def test_stored_lines_are_used_when_they_are_current() -> None:
    marked = _stored(_item())
    marked["summary"] = ["(the stored line)"]
    assert "(the stored line)" in _day(_item(display=marked))


def test_lines_of_other_text_or_other_rules_are_made_again() -> None:
    stale = _stored(_item(summary=["An older summary."]))  # written before a bulk UPDATE
    old_rules = {**_stored(_item()), "v": DISPLAY_VERSION - 1, "summary": ["(old rules)"]}
    for display in (stale, old_rules):
        rendered = _day(_item(display=display))
        assert rendered == _day(_item())
        assert "An older summary." not in rendered
        assert "(old rules)" not in rendered
