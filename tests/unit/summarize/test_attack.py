"""The offline ATT&CK technique table."""

from __future__ import annotations

from app.services.summarize import attack


def test_the_table_is_attack_enterprise_18_1() -> None:
    table = attack.techniques()
    assert attack.ATTACK_VERSION == "18.1"
    assert sum(t.active for t in table.values()) == 691  # 216 techniques + 475 sub-techniques
    assert all(attack.TECHNIQUE_ID.fullmatch(tid) for tid in table)


def test_known_ids_have_names() -> None:
    assert attack.lookup("T1566") == attack.Technique("T1566", "Phishing", "active")
    assert attack.display_name("t1059.001") == "Command and Scripting Interpreter: PowerShell"


def test_revoked_and_deprecated_ids_are_known_but_not_active() -> None:
    assert attack.lookup("T1086") is not None
    assert not attack.is_active("T1086")
    deprecated = attack.lookup("T1064")
    assert deprecated is not None
    assert deprecated.status == "deprecated"


def test_unknown_ids_are_unknown() -> None:
    assert attack.lookup("T9999") is None
    assert not attack.is_active("T1059.999")
    assert attack.display_name("T0000") is None


def test_sub_techniques_have_their_parent_in_the_table() -> None:
    table = attack.techniques()
    subs = [tid for tid in table if "." in tid]
    assert subs
    assert all(tid.split(".")[0] in table for tid in subs)


def test_the_id_pattern_finds_ids_as_a_model_writes_them() -> None:
    text = "Phishing (T1566.001)、T1059を使用。T12345 and XT1059 and T1059.0011 are no ids."
    assert attack.TECHNIQUE_ID.findall(text) == ["T1566.001", "T1059"]


def test_the_table_file_is_tab_separated_with_a_provenance_header() -> None:
    lines = attack.TABLE_FILE.read_text(encoding="utf-8").splitlines()
    header = [line for line in lines if line.startswith("#")]
    assert any("v18.1" in line for line in header)
    assert any("MITRE" in line for line in header)
    rows = [line for line in lines if line.startswith("T")]
    assert len(rows) == len(attack.techniques()) == len(set(rows))
    assert all(line.count("\t") == 2 for line in rows)
