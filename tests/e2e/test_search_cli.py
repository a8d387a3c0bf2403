"""`secdigest search`: the entries of a stored day by their text, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.processes import cli_env, run_cli

DIGEST = """\
# Daily Security Info

### 日々のニュース要約

#### 病院がランサムウェア被害、電子カルテが停止
https://news.example.jp/hospital

- 要約
    - 大阪府の病院がランサムウェアに感染し、VPN機器から侵入された。
- IOCの列挙
    - CVE-2024-21887
- 推奨事項
    - なし
- その他
    - なし
- ChatGPTの推奨事項
    - なし

#### Ivanti Connect Secure flaws exploited
https://news.example.com/ivanti

- 要約
    - Attackers chained two Ivanti flaws.
- IOCの列挙
    - IOC情報なし
- 推奨事項
    - なし
- その他
    - なし
- ChatGPTの推奨事項
    - なし
"""


def test_search_prints_the_entries_with_the_terms_marked_and_refuses_a_bad_query(
    tmp_path: Path,
) -> None:
    env = cli_env(tmp_path)
    source = tmp_path / "day.md"
    source.write_text(DIGEST, encoding="utf-8")
    assert run_cli(["import", str(source), "--date", "2024-12-06"], env).returncode == 0

    text = run_cli(["search", "ランサムウェア"], env)
    typed = run_cli(["search", "Ivanti", "--format", "json", "--type", "cve"], env)
    short = run_cli(["search", "侵入", "--from", "2024-12-06", "--format", "json"], env)
    refused = run_cli(["search", "侵"], env)

    assert text.returncode == 0, text.stderr
    assert "2024-12-06  daily_news" in text.stdout
    assert "病院が«ランサムウェア»に感染し" in text.stdout
    assert json.loads(typed.stdout)["results"] == []  # the Ivanti entry has no CVE
    found = json.loads(short.stdout)
    assert found["ranking"] == "newest"
    assert [hit["url"] for hit in found["results"]] == ["https://news.example.jp/hospital"]
    assert refused.returncode == 1
    assert "invalid-request" in refused.stderr
