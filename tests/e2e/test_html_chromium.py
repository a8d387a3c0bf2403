"""The day's page in a real browser: Debian's chromium, driven by Playwright, against
`secdigest serve` on loopback. The page loads nothing but itself, breaks no rule of its own
policy, shows every entry, hides its buttons in print, and a copy button puts the live
(refanged) indicator on the clipboard."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Dialog,
    Page,
    Request,
    expect,
    sync_playwright,
)

from app.services.markdown import parse_report
from app.services.reports.document import ItemKind
from tests.support.paths import FIXTURES
from tests.support.processes import cli_env, running_server

CHROMIUM = Path("/usr/bin/chromium")
DAY = "2024-12-06"
PREVIOUS = "2024-12-05"
# The sample has no indicators: these go into its Mitel entry (shown: copied). The memo's
# title is what a broken escaper would turn into an image that runs a script.
IOCS = {
    "45.137.21[.]9": "45.137.21.9",
    "hxxps://evil-cdn[.]top/drop/a.bin": "https://evil-cdn.top/drop/a.bin",
}
HOSTILE_MEMO = "- [<img src=/pwned.png onerror=alert(1)>](https://example.com/memo)\n"


def day_with_iocs(*, hostile: bool = True) -> str:
    """The analysts' sample with two indicators in one entry (and a hostile memo)."""
    sample = (FIXTURES / "daily-security-info.md").read_text(encoding="utf-8")
    head, mitel = sample.split("#### Mitel", 1)
    lines = "".join(f"    - {shown}\n" for shown in IOCS)
    day = head + "#### Mitel" + mitel.replace("    - IOC情報なし\n", lines, 1)
    return day.rstrip("\n") + "\n" + (HOSTILE_MEMO if hostile else "")


def put_day(base: str, day: str, markdown: str) -> None:
    """Import a day through the API, as the analysts do."""
    answer = httpx.put(
        f"{base}/reports/{day}",
        content=markdown.encode("utf-8"),
        headers={"Content-Type": "text/markdown"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text


def chromium() -> Path | None:
    """Debian's chromium, if installed."""
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    return Path(found) if found else None


pytestmark = pytest.mark.skipif(
    chromium() is None,
    reason="Debian's chromium is not installed (CI installs it: apt-get install chromium)",
)


@dataclass
class Watch:
    """What a page asked the network for and said on its console."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def request(self, request: Request) -> None:
        self.requests.append(request.url)

    def said(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)  # an alert() ran: the page was injected
        dialog.dismiss()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`secdigest serve` on loopback with the day and the day before it."""
    with running_server(cli_env(tmp_path_factory.mktemp("html"))) as (url, _process):
        for day in (DAY, PREVIOUS):
            put_day(url, day, day_with_iocs())
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless chromium (the system's: no browser is downloaded)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium(), headless=True)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser profile allowed to use the clipboard."""
    opened = browser.new_context(
        viewport={"width": 1200, "height": 900},
        permissions=["clipboard-read", "clipboard-write"],
    )
    yield opened
    opened.close()


def open_day(context: BrowserContext, base: str, watch: Watch) -> Page:
    """The day's page, watched from the start."""
    page = context.new_page()
    page.on("request", watch.request)
    page.on("console", watch.said)
    page.on("dialog", watch.dialog)
    # Violations of the policy, reported by the page itself (the console says so too).
    page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    answer = page.goto(f"{base}/reports/{DAY}?format=html", wait_until="load")
    assert answer is not None
    assert answer.status == 200
    return page


def test_the_page_loads_only_itself_and_shows_every_entry(
    context: BrowserContext, base: str
) -> None:
    watch = Watch()
    page = open_day(context, base, watch)
    page.wait_for_timeout(300)  # anything late (an image, a font) would be asked for by now

    assert watch.requests == [f"{base}/reports/{DAY}?format=html"]
    assert [m for m in watch.console if not m.startswith(("log:", "debug:", "info:"))] == []
    assert page.evaluate("window.__violations") == []
    assert watch.dialogs == []
    document = parse_report(day_with_iocs())
    for item in document.items:
        if item.kind == ItemKind.LINK:
            shown = page.get_by_role("link", name=item.title, exact=True)
        else:
            shown = page.get_by_role("heading", name=item.title, exact=True)
        expect(shown).to_be_visible()
    # The hostile memo is its text, not an image.
    expect(page.get_by_text("<img src=/pwned.png onerror=alert(1)>", exact=True)).to_be_visible()
    assert page.locator("img").count() == 0
    expect(page.locator("a[rel=prev]")).to_have_attribute("href", f"{PREVIOUS}?format=html")


def test_a_copy_button_puts_the_refanged_indicator_on_the_clipboard(
    context: BrowserContext, base: str
) -> None:
    watch = Watch()
    page = open_day(context, base, watch)
    for shown, live in IOCS.items():
        row = page.locator("ul.iocs li").filter(has_text=shown)
        expect(row.locator("code")).to_have_text(shown)
        button = row.get_by_role("button")

        button.click()

        expect(button).to_have_text("コピーしました")
        assert page.evaluate("navigator.clipboard.readText()") == live
    assert page.evaluate("window.__violations") == []
    assert [m for m in watch.console if m.startswith("error")] == []


def test_print_hides_the_buttons_and_the_navigation(context: BrowserContext, base: str) -> None:
    page = open_day(context, base, Watch())
    expect(page.locator("nav")).to_be_visible()
    expect(page.locator("button.copy").first).to_be_visible()

    page.emulate_media(media="print")

    expect(page.locator("nav")).to_be_hidden()
    for button in page.locator("button.copy").all():
        expect(button).to_be_hidden()
    expect(page.get_by_role("heading", name="日々のニュース要約")).to_be_visible()
    assert page.pdf(format="A4")[:5] == b"%PDF-"


def test_without_the_clipboard_api_the_button_copies_the_old_way(
    context: BrowserContext, base: str
) -> None:
    # As on a page served over plain HTTP from another host: no asynchronous Clipboard API
    # (kept aside here only to read what was copied).
    context.add_init_script(
        "window.__clipboard = navigator.clipboard;"
        "Object.defineProperty(Navigator.prototype, 'clipboard', {get: () => undefined});"
    )
    page = context.new_page()
    page.goto(f"{base}/reports/{DAY}?format=html")
    assert page.evaluate("navigator.clipboard") is None
    shown, live = next(iter(IOCS.items()))
    button = page.locator("ul.iocs li").filter(has_text=shown).get_by_role("button")

    button.click()

    expect(button).to_have_text("コピーしました")
    assert page.evaluate("window.__clipboard.readText()") == live
