"""Issue 19's indicator types through the API: typed and refanged in the JSON, defanged in
the Markdown where they are network indicators, flagged with the reason of the flag."""

from __future__ import annotations

import httpx
from markdown_it import MarkdownIt

MONERO = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft"
    "3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
ONION = "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion"
REPORT = (
    "The BlackMoth affiliates exfiltrated data to 185.220.101[.]0/24 and to servers in "
    "AS 4134, then posted the victims on their leak site hxxp://" + ONION + "/blog. "
    "Ransom was demanded in bitcoin to bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4 or in "
    "Monero to " + MONERO + ". The loader persists under "
    "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater and drops "
    "%APPDATA%\\Microsoft\\svchost.exe. Its C2 answers with JA3S ec74a5c51106f0419184d0dd08fb05bc "
    "and the sample's imphash: f34d5f2d4577ed6d9ceec516c1f5a744. The flaw is CWE-79 "
    "(CVE-2024-3400). The implant checks its address at api.ipify.org first."
)
EXPECTED = {
    ("ipv4_cidr", "185.220.101.0/24"),
    ("asn", "AS4134"),
    ("url", f"http://{ONION}/blog"),
    ("bitcoin", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"),
    ("monero", MONERO),
    ("registry_key", "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater"),
    ("file_path", "%APPDATA%\\Microsoft\\svchost.exe"),
    ("ja3s", "ec74a5c51106f0419184d0dd08fb05bc"),
    ("imphash", "f34d5f2d4577ed6d9ceec516c1f5a744"),
    ("cwe", "CWE-79"),
    ("cve", "CVE-2024-3400"),
    ("domain", "api.ipify.org"),
}


async def test_post_iocs_types_each_new_kind_and_says_why_a_name_is_benign(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/iocs", json={"text": REPORT})

    assert response.status_code == 200, response.text
    found = response.json()["iocs"]
    assert {(i["type"], i["value"]) for i in found} == EXPECTED
    by_value = {i["value"]: i for i in found}
    # A labelled md5-shaped value is its label's type, never also an md5.
    assert not any(i["type"] == "md5" for i in found)
    assert by_value["185.220.101.0/24"]["defanged"] == "185.220.101[.]0/24"
    assert by_value[f"http://{ONION}/blog"]["flags"] == ["onion"]
    assert by_value["api.ipify.org"]["flags"] == ["benign"]
    assert by_value["api.ipify.org"]["flag_reasons"]["benign"].startswith("MISP warning list: ")
    assert by_value["AS4134"]["flag_reasons"] == {}


async def test_the_digest_entry_defangs_networks_and_keeps_host_artefacts_as_written(
    client: httpx.AsyncClient,
) -> None:
    body = {"text": REPORT, "title": "BlackMoth", "date": "2024-12-06"}

    block = (await client.post("/summarize?format=md", json=body)).text

    ioc_lines = block.split("- IOCの列挙\n", 1)[1].split("\n- ", 1)[0].splitlines()
    shown = [line.removeprefix("    - ") for line in ioc_lines]
    assert "185.220.101[.]0/24" in shown
    assert f"hxxp://{ONION.removesuffix('.onion')}[.]onion/blog" in shown
    assert "AS4134" in shown
    assert MONERO in shown
    assert "ipify" not in block  # benign: left out of the digest
    # What a viewer makes of it: the registry key and the path are text (CommonMark keeps
    # a backslash before a letter), and no indicator is a link.
    html = MarkdownIt("commonmark").render(block)
    assert "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater" in html
    assert "%APPDATA%\\Microsoft\\svchost.exe" in html
    assert "<a " not in html
