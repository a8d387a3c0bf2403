"""Save the screenshot of the sample day's page: docs/images/report-2024-12-06.png.

Does what tests/e2e/test_html_chromium.py does (a fresh `secdigest serve` on loopback, the
analysts' sample imported with two indicators in its Mitel entry, the day before it too so
that the page links it), then photographs the whole page 1200 px wide in Debian's chromium.

Run from the repository root, after `make install`:

    .venv/bin/python scripts/screenshot_day.py [--out PATH] [--lang ja|en]

It needs /usr/bin/chromium (`apt-get install chromium`) and, for the Japanese text, a
Japanese font (`apt-get install fonts-noto-cjk`, or the smaller fonts-ipafont-gothic).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

# The test's helpers (the sample with indicators, a server on loopback) live under tests/.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.e2e.test_html_chromium import (  # noqa: E402
    DAY,
    PREVIOUS,
    chromium,
    day_with_iocs,
    put_day,
)
from tests.support.processes import cli_env, running_server  # noqa: E402

DEFAULT_OUT = ROOT / "docs" / "images" / f"report-{DAY}.png"


def main() -> int:
    """Serve, import, open, photograph; the path of the picture on stdout."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lang", choices=("ja", "en"), default="ja")
    args = parser.parse_args()
    executable = chromium()
    if executable is None:
        sys.exit("no chromium: apt-get install chromium")
    with tempfile.TemporaryDirectory() as home, running_server(cli_env(Path(home))) as (base, _):
        for day in (PREVIOUS, DAY):
            put_day(base, day, day_with_iocs(hostile=False))
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, headless=True)
            page = browser.new_page(viewport={"width": 1200, "height": 900}, color_scheme="light")
            page.goto(f"{base}/reports/{DAY}?format=html&lang={args.lang}", wait_until="load")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            browser.close()
    print(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
