"""Days written in the digest's Markdown and imported through the API, for the tests."""

from __future__ import annotations

from typing import Any

import httpx

MD = {"Content-Type": "text/markdown"}


def digest(*entries: tuple[str, list[str]]) -> str:
    """A day in the digest's Markdown: one news entry per (title, IOC lines)."""
    blocks = []
    for n, (title, iocs) in enumerate(entries):
        lines = "\n".join(f"    - {line}" for line in iocs) or "    - IOC情報なし"
        blocks.append(
            f"#### {title}\nhttps://news.example/{n}\n\n- 要約\n    - A story.\n"
            f"- IOCの列挙\n{lines}\n- 推奨事項\n    - 推奨事項なし\n- その他\n    - なし\n"
            "- ChatGPTの推奨事項\n    - 推奨事項なし\n"
        )
    return "# Daily Security Info\n\n### 日々のニュース要約\n\n" + "\n".join(blocks)


async def import_day(client: httpx.AsyncClient, day: str, *entries: tuple[str, list[str]]) -> Any:
    """Import (replace) a day; its entries as the report JSON lists them."""
    response = await client.put(f"/reports/{day}", content=digest(*entries).encode(), headers=MD)
    assert response.status_code == 200, response.text
    return next(s["items"] for s in response.json()["sections"] if s["key"] == "daily_news")
