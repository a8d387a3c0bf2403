"""Grounding: the model may only name values the article contains."""

from __future__ import annotations

from typing import Any

from prometheus_client import REGISTRY

from app.services.iocs import find_iocs
from app.services.summarize.base import SummaryInput
from app.services.summarize.grounding import Evidence, ground
from app.services.summarize.llm_schema import DigestEntry

TEXT = (
    "The dropper fetches hxxps://cdn.update-check[.]com/u.ps1 and contacts 91.210.107[.]44; "
    "phishing mail comes from billing@invoices-portal[.]net. The sample hash is "
    "3f79bb7b435b05321651daefd374cdc681dc06faa65e374e38337b88ca046dea. "
    "It exploits CVE-2024-38077 and, per older reports, uses T1086."
)
EVIDENCE = Evidence.from_doc(SummaryInput(text=TEXT, iocs=tuple(find_iocs(TEXT))))


def entry(**fields: Any) -> DigestEntry:
    base: dict[str, Any] = {
        "title": "SpiderPouch",
        "bullets": ["One.", "Two.", "Three."],
        "section": "malware_campaign",
    }
    return DigestEntry.model_validate({**base, **fields})


def test_values_from_the_article_are_kept_in_any_fanging() -> None:
    bullets = [
        "It contacts 91.210.107.44.",
        "The script is at https://cdn.update-check.com/u.ps1.",
        "The hash is 3F79BB7B435B05321651DAEFD374CDC681DC06FAA65E374E38337B88CA046DEA.",
    ]
    grounded = ground(entry(bullets=bullets), EVIDENCE)
    assert grounded.bullets == bullets
    assert grounded.dropped == {}


def test_hosts_and_parent_domains_of_article_values_are_supported() -> None:
    bullets = [
        "The host cdn.update-check[.]com serves the script.",
        "The domain update-check[.]com belongs to the actor.",
        "Mail comes from invoices-portal[.]net.",
        "See hxxps://cdn.update-check[.]com for the download.",
    ]
    assert ground(entry(bullets=bullets), EVIDENCE).bullets == bullets


def test_a_sentence_with_an_invented_value_is_dropped_whole() -> None:
    grounded = ground(
        entry(
            bullets=["One.", "It also beacons to 185.220.101[.]77.", "Three.", "Four."],
            other=["Infrastructure overlaps with evil-twin[.]org."],
            model_recommendations=["Patch CVE-2023-9999 too."],
        ),
        EVIDENCE,
    )
    assert grounded.bullets == ["One.", "Three.", "Four."]
    assert grounded.other == []
    assert grounded.model_recommendations == []
    assert grounded.dropped == {"ioc": 2, "cve": 1}


def test_an_invented_url_path_on_a_known_host_is_dropped() -> None:
    grounded = ground(entry(bullets=["A", "B", "Get https://cdn.update-check.com/x.exe"]), EVIDENCE)
    assert grounded.bullets == ["A", "B"]


def test_a_title_with_an_invented_value_is_withdrawn() -> None:
    grounded = ground(entry(title="Loader talks to 1.2.3.4"), EVIDENCE)
    assert grounded.title is None
    assert grounded.dropped == {"ioc": 1}


def test_cve_list_keeps_only_cves_of_the_article() -> None:
    before = REGISTRY.get_sample_value("secdigest_grounding_dropped_total", {"kind": "cve"}) or 0
    grounded = ground(entry(cves=["CVE-2024-38077", "CVE-2024-99999"]), EVIDENCE)
    after = REGISTRY.get_sample_value("secdigest_grounding_dropped_total", {"kind": "cve"})
    assert grounded.cves == ["CVE-2024-38077"]
    assert grounded.dropped == {"cve": 1}
    assert after == before + 1


def test_no_cves_from_the_model_means_the_article_cves() -> None:
    assert ground(entry(), EVIDENCE).cves == ["CVE-2024-38077"]


def test_attack_ids_must_exist_and_obsolete_ones_must_be_cited() -> None:
    grounded = ground(
        entry(attack_techniques=["T1566.001", "T1086", "T1064", "T0000", "t1059.001"]),
        EVIDENCE,
    )
    # T1086 (revoked) is cited by the article; T1064 (deprecated) is not; T0000 never existed.
    assert grounded.attack_techniques == ["T1566.001", "T1086", "T1059.001"]
    assert grounded.dropped == {"attack_technique": 2}


def test_an_unknown_technique_id_in_a_sentence_drops_it() -> None:
    grounded = ground(
        entry(bullets=["A.", "B.", "C.", "Uses T1999.123 for persistence."]), EVIDENCE
    )
    assert grounded.bullets == ["A.", "B.", "C."]
    assert grounded.dropped == {"attack_technique": 1}
