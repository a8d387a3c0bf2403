"""IOC engine: refang, find_iocs, defang, defang_text."""

from __future__ import annotations

import subprocess
import sys

import iocextract
import pytest

from app.services.iocs import Ioc, IocType, defang, defang_text, find_iocs, refang

SHA1 = "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
MD5 = "098f6bcd4621d373cade4e832627b4f6"
SHA512 = "ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db2" * 2


def pairs(text: str) -> list[tuple[str, str]]:
    return [(i.type.value, i.value) for i in find_iocs(text)]


def values(text: str, type_: IocType) -> list[str]:
    return [i.value for i in find_iocs(text) if i.type is type_]


# ----------------------------------------------------------------------------- refang


@pytest.mark.parametrize(
    ("defanged", "expected"),
    [
        ("hxxp://evil[.]com/a", "http://evil.com/a"),
        ("hxxps[:]//evil[.]com/a", "https://evil.com/a"),
        ("hXXps://evil[dot]com/x", "https://evil.com/x"),
        ("h**p://evil(.)com", "http://evil.com"),
        ("fxp://files{.}evil[.]org/x", "ftp://files.evil.org/x"),
        ("hxxp[://]evil[.]com", "http://evil.com"),
        ("http://evil(dot)com/p?q=1", "http://evil.com/p?q=1"),
        ("hxxp://1.2.3[.]4:8080/x", "http://1.2.3.4:8080/x"),
        ("https://evil\\.com/x", "https://evil.com/x"),
        ("user[@]evil[.]com", "user@evil.com"),
        ("user[at]evil[dot]com", "user@evil.com"),
        ("john [at] mail [dot] ru", "john@mail.ru"),
        ("2001[:]db8[:][:]1", "2001:db8::1"),
    ],
)
def test_refangs_common_defang_forms(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


def test_refangs_hxxp_with_brackets() -> None:
    assert refang("see hxxps://evil[.]com/x[.]php") == "see https://evil.com/x.php"


@pytest.mark.parametrize(
    "url", ["hxxp://evil[.]com/a", "hxxps[:]//evil[.]com/a", "http://evil(dot)com/p?q=1"]
)
def test_refang_agrees_with_iocextract_on_its_url_forms(url: str) -> None:
    assert refang(url) == iocextract.refang_data(url)


def test_refangs_spaced_dots_only_before_a_clear_tld() -> None:
    assert refang("contact evil . com today") == "contact evil.com today"
    assert refang("It ended . Then it began") == "It ended . Then it began"


def test_refang_leaves_ordinary_text_alone() -> None:
    text = "Ltd. (a) [1] {x} the hxxx word, at (x) and e.g. (see below) [..]."
    assert refang(text) == text


# ----------------------------------------------------------------------------- network types


def test_finds_defanged_url_with_path_and_query() -> None:
    (ioc,) = find_iocs("Payload at hxxps://evil[.]com/dl/x.php?id=1&b=2 today")
    assert ioc.type is IocType.URL
    assert ioc.value == "https://evil.com/dl/x.php?id=1&b=2"
    assert ioc.defanged == "hxxps://evil[.]com/dl/x.php?id=1&b=2"
    assert ioc.was_defanged


@pytest.mark.parametrize(
    ("text", "url"),
    [
        ("Go to https://evil.com/a.", "https://evil.com/a"),
        ("Is it https://evil.com/a?", "https://evil.com/a"),
        ("(see https://evil.com/a)", "https://evil.com/a"),
        ("[click](https://evil.com/a)", "https://evil.com/a"),
        ("<https://evil.com/a>", "https://evil.com/a"),
        ("'https://evil.com/a',", "https://evil.com/a"),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar) is fine",
            "https://en.wikipedia.org/wiki/Foo_(bar)",
        ),
        ("https://www.example.com/report[the report]", "https://www.example.com/report"),
        ("URL：https://evil.com/a」。", "https://evil.com/a"),
        ("https://evil.com/pathにアクセス。", "https://evil.com/path"),
    ],
)
def test_url_ends_before_prose_and_markup(text: str, url: str) -> None:
    assert values(text, IocType.URL) == [url]


def test_url_normalises_scheme_and_host_but_not_path() -> None:
    assert values("HTTPS://EVIL.Com/Path?Q=A", IocType.URL) == ["https://evil.com/Path?Q=A"]


def test_url_host_is_not_reported_again_as_domain_or_ip() -> None:
    text = "hxxp://evil[.]com/a and http://1.2.3.4:8080/b and http://[2001:db8::5]/c"
    assert pairs(text) == [
        ("url", "http://evil.com/a"),
        ("url", "http://1.2.3.4:8080/b"),
        ("url", "http://[2001:db8::5]/c"),
    ]


def test_url_host_mentioned_on_its_own_is_also_a_domain() -> None:
    assert pairs("C2 evil[.]com serves hxxp://evil[.]com/gate.php") == [
        ("domain", "evil.com"),
        ("url", "http://evil.com/gate.php"),
    ]


def test_url_without_public_host_is_not_an_ioc() -> None:
    assert find_iocs("http://localhost:8080/x and http://intranet/y") == []


def test_schemeless_host_with_path_or_port_is_reported_as_its_host() -> None:
    assert pairs("speed.wlaspsd[.]com/vip.js and now.asmkpo[.]com:80") == [
        ("domain", "speed.wlaspsd.com"),
        ("domain", "now.asmkpo.com"),
    ]


def test_finds_domains_validated_against_the_public_suffix_list() -> None:
    # issue 19: under .onion only real service ids count (bad.example.onion is none)
    text = "evil.co.uk, bad.example.onion, x.local, foo.invalidtld, co.uk, g5wcesdfjzne7255.onion"
    assert values(text, IocType.DOMAIN) == ["evil.co.uk", "g5wcesdfjzne7255.onion"]


def test_domain_is_lowercased_and_keeps_its_raw_form() -> None:
    (ioc,) = find_iocs("Visit Evil-Site[.]COM now")
    assert ioc.value == "evil-site.com"
    assert ioc.raw == "Evil-Site[.]COM"
    assert ioc.defanged == "evil-site[.]com"


def test_fanged_name_with_upper_case_tld_is_code_not_a_domain() -> None:
    # System.IO, MSIL/Tiny.BG: a capitalised TLD is a namespace or a detection name
    assert find_iocs("Visit Evil-Site.COM now") == []


@pytest.mark.parametrize(
    "text",
    [
        "open invoice.pdf and svchost.exe",
        "see readme.md, setup.py, run.sh, archive.zip, clip.mov, libc.so",
        "ESET detects it as Win32/Glupteba.AY and MSIL/Tiny.BG",
        "Kaspersky: Trojan.Win32.Agent.xyz",
        "uses System.IO and Microsoft.Exchange.WebServices and System.Net",
        "calls object.method() and this.name and user.email and this.click()",
        "path C:\\Users\\Public\\update.ps and lib/helper.ru",
        "ASP.NET and Node.js",
    ],
)
def test_ignores_file_names_detection_names_and_code(text: str) -> None:
    assert values(text, IocType.DOMAIN) == []


def test_file_like_name_counts_when_defanged_or_in_a_url() -> None:
    assert pairs("evil[.]zip and https://files.example.zip/a") == [
        ("domain", "evil.zip"),
        ("url", "https://files.example.zip/a"),
    ]


def test_finds_ipv4_and_refangs_it() -> None:
    (ioc,) = find_iocs("C2 at 185.220.101[.]4:443")
    assert (ioc.type, ioc.value, ioc.defanged) == (IocType.IPV4, "185.220.101.4", "185.220.101[.]4")


@pytest.mark.parametrize(
    "text",
    [
        "version 1.2.3.4",
        "Version: 10.0.19041.1",
        "v1.2.3.4",
        "ver 10.0.0.1",
        "build 5.1.2.600",
        "OID 1.3.6.1.4.1.311",
        "1.2.3.4.5",
        "999.1.1.1 and 1.2.3.256",
        "192.168.001.001",
        "setup_5.9.10.4.exe",
    ],
)
def test_ignores_version_strings_oids_and_bad_octets(text: str) -> None:
    assert values(text, IocType.IPV4) == []


def test_defanged_ip_after_a_version_word_is_still_an_ip() -> None:
    assert values("connects to version 1.2.3[.]4", IocType.IPV4) == ["1.2.3.4"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("C2 2001:db8::1 seen", ["2001:db8::1"]),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", ["2001:db8::1"]),
        ("fe80::1%eth0", ["fe80::1"]),
        ("mapped ::ffff:1.2.3.4 too", ["::ffff:1.2.3.4"]),
        ("at 12:30:45 today", []),
        ("MAC 00:1a:2b:3c:4d:5e", []),
        ("std::vector and a::b", []),
        ("::1 is kept like 127.0.0.1 (flagged loopback, issue 19)", ["::1"]),
    ],
)
def test_finds_ipv6_but_not_times_macs_or_scopes(text: str, expected: list[str]) -> None:
    assert values(text, IocType.IPV6) == expected


def test_ipv6_is_defanged_at_every_colon() -> None:
    (ioc,) = find_iocs("2001:db8::1")
    assert ioc.defanged == "2001[:]db8[:][:]1"
    assert refang(ioc.defanged) == "2001:db8::1"


def test_finds_emails_and_not_their_domain() -> None:
    text = "Mail John.Smith@Example.com or admin[at]evil[dot]ru."
    assert pairs(text) == [("email", "john.smith@example.com"), ("email", "admin@evil.ru")]


def test_email_defanged_form_brackets_the_last_dot() -> None:
    assert defang("user@mail.evil.com", IocType.EMAIL) == "user@mail.evil[.]com"


# ----------------------------------------------------------------------------- hashes and CVE


def test_finds_each_hash_length_as_its_type() -> None:
    text = f"{MD5} {SHA1.upper()} {SHA256} {SHA512}"
    assert pairs(text) == [
        ("md5", MD5),
        ("sha1", SHA1),
        ("sha256", SHA256),
        ("sha512", SHA512),
    ]


@pytest.mark.parametrize(
    "text",
    [
        f"{SHA1}a",  # 41 hex digits
        f"{SHA256}{SHA1}",  # a slice of a longer run
        f"g{MD5}",
        f"{MD5}z",
    ],
)
def test_hashes_are_whole_hex_runs_only(text: str) -> None:
    assert find_iocs(text) == []


def test_a_0x_run_of_40_hex_digits_is_an_ethereum_address_not_a_sha1() -> None:
    assert pairs(f"wallet 0x{SHA1}") == [("ethereum", f"0x{SHA1}")]


def test_hash_inside_url_path_or_file_name_counts() -> None:
    assert pairs(f"hxxp://cdn.evil[.]com/{MD5}.exe and {SHA1}.dll") == [
        ("url", f"http://cdn.evil.com/{MD5}.exe"),
        ("md5", MD5),
        ("sha1", SHA1),
    ]


@pytest.mark.parametrize(
    "text",
    [
        "CVE-2024-1234",
        "cve-2024-1234",
        "CVE\u20112024\u20111234",  # non-breaking hyphens
        "CVE\u20132024\u20131234",  # en dashes
        "CVE－2024－1234",  # full-width hyphen-minus
        "CVE_2024_1234",
        "（CVE-2024-1234）の脆弱性",
        "Win32/Exploit.CVE-2024-1234.H",
    ],
)
def test_finds_cve_ids_in_odd_spellings(text: str) -> None:
    assert values(text, IocType.CVE) == ["CVE-2024-1234"]


def test_cve_keeps_long_sequence_numbers_and_rejects_short_ones() -> None:
    assert values("CVE-2023-1234567 CVE-2023-123 XCVE-2023-4444", IocType.CVE) == [
        "CVE-2023-1234567"
    ]


# ----------------------------------------------------------------------------- Japanese text


def test_japanese_brackets_and_punctuation_are_not_part_of_values() -> None:
    text = "不正なサイト「example[.]com」、IPは1.2.3[.]4。メールはa@evil[.]jp：詳細．"
    assert pairs(text) == [
        ("domain", "example.com"),
        ("ipv4", "1.2.3.4"),
        ("email", "a@evil.jp"),
    ]


def test_japanese_text_running_into_a_defanged_url() -> None:
    assert values("接続先はhxxps://evil[.]com/a。", IocType.URL) == ["https://evil.com/a"]


def test_defang_text_in_japanese_keeps_the_punctuation() -> None:
    assert defang_text("「evil.com」にアクセス。") == "「evil[.]com」にアクセス。"


# ----------------------------------------------------------------------------- result shape


def test_deduplicates_by_type_and_value_keeping_the_first_occurrence() -> None:
    text = "evil[.]com then EVIL.com then evil[.]com"
    (ioc,) = find_iocs(text)
    assert (ioc.raw, ioc.start, ioc.was_defanged) == ("evil[.]com", 0, True)


def test_results_are_in_order_of_first_appearance() -> None:
    text = f"CVE-2024-0001 then {MD5} then 8.8.8.8 then evil.com then https://x.org/"
    assert [i.type for i in find_iocs(text)] == [
        IocType.CVE,
        IocType.MD5,
        IocType.IPV4,
        IocType.DOMAIN,
        IocType.URL,
    ]


def test_offsets_point_at_the_raw_text() -> None:
    text = (
        "「example[.]com」 hxxps://evil[.]com/x, user [at] evil [dot] com, "
        f"1.2.3[.]4 2001[:]db8[:][:]1 {SHA1} CVE‑2024‑1234 plain.org"
    )
    found = find_iocs(text)
    assert len(found) == 8
    for ioc in found:
        assert text[ioc.start : ioc.end] == ioc.raw


def test_was_defanged_tells_fanged_from_defanged() -> None:
    flags = {i.value: i.was_defanged for i in find_iocs("evil.com and bad[.]org")}
    assert flags == {"evil.com": False, "bad.org": True}


def test_ioc_is_frozen() -> None:
    (ioc,) = find_iocs("evil.com")
    with pytest.raises(AttributeError):
        ioc.value = "x"  # type: ignore[misc]
    assert isinstance(ioc, Ioc)


def test_empty_text_has_no_iocs() -> None:
    assert find_iocs("") == []


# ----------------------------------------------------------------------------- defang


@pytest.mark.parametrize(
    ("value", "type_", "expected"),
    [
        ("https://evil.com/x", IocType.URL, "hxxps://evil[.]com/x"),
        ("http://a.b.evil.com:8080/x?y=1", IocType.URL, "hxxp://a.b.evil[.]com:8080/x?y=1"),
        ("ftp://files.evil.org/", IocType.URL, "fxp://files.evil[.]org/"),
        ("http://1.2.3.4/x", IocType.URL, "hxxp://1.2.3[.]4/x"),
        ("evil.com", IocType.DOMAIN, "evil[.]com"),
        ("1.2.3.4", IocType.IPV4, "1.2.3[.]4"),
        ("user@evil.com", IocType.EMAIL, "user@evil[.]com"),
        (SHA1, IocType.SHA1, SHA1),
        ("CVE-2024-1234", IocType.CVE, "CVE-2024-1234"),
    ],
)
def test_defang_display_forms(value: str, type_: IocType, expected: str) -> None:
    assert defang(value, type_) == expected


def test_defang_is_idempotent_on_defanged_values() -> None:
    assert defang("hxxps://evil[.]com/x", IocType.URL) == "hxxps://evil[.]com/x"
    assert defang("evil[.]com", IocType.DOMAIN) == "evil[.]com"


def test_defang_text_replaces_fanged_and_keeps_defanged_mentions() -> None:
    text = (
        "Fanged https://evil.com/a and 8.8.8.8 and bad.org and x@mail.ru; "
        "defanged hxxp://old[.]net/b and 1.1.1[.]1 as written; "
        f"hash {SHA1} and CVE-2024-1234 stay."
    )
    assert defang_text(text) == (
        "Fanged hxxps://evil[.]com/a and 8.8.8[.]8 and bad[.]org and x@mail[.]ru; "
        "defanged hxxp://old[.]net/b and 1.1.1[.]1 as written; "
        f"hash {SHA1} and CVE-2024-1234 stay."
    )


def test_defang_text_defangs_every_occurrence() -> None:
    assert defang_text("evil.com, evil.com") == "evil[.]com, evil[.]com"


def test_defang_text_defangs_links_whose_host_is_not_public() -> None:
    assert defang_text("see http://intranet/x") == "see hxxp://intranet/x"


def test_defang_text_keeps_markdown_link_structure() -> None:
    assert defang_text("- [Report](https://evil.com/r)") == "- [Report](hxxps://evil[.]com/r)"


def test_defang_text_keeps_the_case_as_written() -> None:
    assert defang_text("HTTPS://Evil.COM/X") == "HXXPS://Evil[.]COM/X"


@pytest.mark.parametrize(
    "text",
    [
        "hxxps://evil[.]com/x, evil.com, 1.2.3.4, a@b.com, 2001:db8::1",
        "「example.com」、http://x.org/a。 user [at] evil [dot] com",
        "[t](http://a.b.com/x_(y)) and http://1.2.3.4:80/",
    ],
)
def test_defang_text_is_idempotent(text: str) -> None:
    once = defang_text(text)
    assert defang_text(once) == once


@pytest.mark.parametrize(
    "text",
    [
        "Acme Ltd. reported e.g. 3.5 million users on Node.js and ASP.NET.",
        "U.S. officials said i.e. the v1.2.3.4 build at 12:30:45 was fine.",
        "Open readme.md or invoice.pdf; see Win32/Glupteba.AY.",
        "日本語の文章。句読点、全角：コロン．",
    ],
)
def test_defang_text_leaves_ordinary_prose_untouched(text: str) -> None:
    assert defang_text(text) == text


def test_defang_text_leaves_no_live_link_in_mixed_text() -> None:
    out = defang_text("a https://x.com/1 b http://y.org c ftp://z.net/f")
    assert "http" not in out.replace("hxxp", "")
    assert "ftp://" not in out


# ----------------------------------------------------------------------------- cost


def test_module_import_stays_light_and_offline() -> None:
    code = (
        "import sys, app.services.iocs as m;"
        "loaded = {'iocextract', 'tldextract', 'requests'} & set(sys.modules);"
        "m.find_iocs('evil.com');"
        "loaded |= {'iocextract', 'tldextract', 'requests'} & set(sys.modules);"
        "print(sorted(loaded))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize(
    "text",
    [
        "a-" * 50_000,
        "1." * 50_000,
        ":" * 100_000,
        "a" * 100_000,
        "[.]" * 30_000,
        "http://" + "a." * 50_000,
        ("evil.com/" + "x" * 20) * 5_000,
    ],
)
def test_long_pathological_inputs_finish_and_stay_consistent(text: str) -> None:
    # A quadratic pattern would hang here; speed itself is measured by the benchmark.
    for ioc in find_iocs(text):
        assert text[ioc.start : ioc.end] == ioc.raw
    assert defang_text(defang_text(text)) == defang_text(text)


# --- ATT&CK technique ids ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kerberoasting (T1558.003) followed", ["T1558.003"]),
        ("techniques T1059.001, T1566 and T1071.001.", ["T1059.001", "T1566", "T1071.001"]),
        ("「T1190」を悪用", ["T1190"]),
        ("the T1000 router, AT1059, T10591, T1059.1234 and T1900", []),
    ],
)
def test_finds_attack_technique_ids(text: str, expected: list[str]) -> None:
    assert [v for t, v in pairs(text) if t == "attack_technique"] == expected


# --- flags ---------------------------------------------------------------------------


def flags_of(text: str, **kwargs: object) -> dict[str, tuple[str, ...]]:
    return {i.value: i.flags for i in find_iocs(text, **kwargs)}  # type: ignore[arg-type]


def test_private_loopback_and_documentation_addresses_are_flagged_not_dropped() -> None:
    flags = flags_of(
        "lateral movement to 10.1.2.3, 127.0.0.1, 169.254.1.9, 192.0.2.44 and 45.9.1.2"
    )
    assert flags == {
        "10.1.2.3": ("private",),
        "127.0.0.1": ("loopback",),
        "169.254.1.9": ("link-local",),
        "192.0.2.44": ("documentation",),
        "45.9.1.2": (),
    }


def test_documentation_names_are_flagged() -> None:
    flags = flags_of("see login.example.com and evil.test and ops@example.org")
    assert set(flags.values()) == {("documentation",)}


def test_the_pages_own_site_is_flagged_source_site() -> None:
    text = "Read more on www.securitynews.co.uk and cdn.securitynews.co.uk; C2 at evil-c2.top"
    flags = flags_of(text, source_url="https://www.securitynews.co.uk/2024/12/story")
    assert flags["www.securitynews.co.uk"] == ("source-site",)
    assert flags["cdn.securitynews.co.uk"] == ("source-site",)
    assert flags["evil-c2.top"] == ()


def test_well_known_names_are_benign_but_their_subdomains_and_urls_are_not() -> None:
    flags = flags_of(
        "DNS to 8.8.8.8, docs on github.com; payload on evil.github.io and "
        "hxxps://github[.]com/attacker/loader/raw/x.bin"
    )
    assert flags["8.8.8.8"] == ("benign",)
    assert flags["github.com"] == ("benign",)
    assert flags["evil.github.io"] == ()
    assert flags["https://github.com/attacker/loader/raw/x.bin"] == ()


def test_benign_list_is_configurable() -> None:
    from app.services.iocs.flags import BenignList

    custom = BenignList.with_defaults(["intranet-mirror.net", "203.0.113.0/24", ""])
    flags = flags_of("sync from intranet-mirror.net and 45.9.1.2", benign=custom)
    assert flags == {"intranet-mirror.net": ("benign",), "45.9.1.2": ()}
    nothing = flags_of("docs on github.com", benign=BenignList([]))
    assert nothing == {"github.com": ()}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The Kestrel T1200 industrial gateway and part T1559 (fan assembly)", []),
        ("after access they sniffed traffic on the segment (T1040).", ["T1040"]),
        ("hosts with a T1000 GPU (Resource Hijacking, T1496)", ["T1496"]),
        ("バックドアを設置し（T1219）、", ["T1219"]),
        ("MITRE ATT&CK: T1566 then T1204", ["T1566", "T1204"]),
    ],
)
def test_bare_technique_ids_count_only_where_cited_like_techniques(
    text: str, expected: list[str]
) -> None:
    assert [v for t, v in pairs(text) if t == "attack_technique"] == expected


def test_version_word_before_an_opening_bracket_still_marks_a_version() -> None:
    assert pairs("The implant (version 1.2.3.4) and [build 10.0.1.2] beacon to 45.9.1.2") == [
        ("ipv4", "45.9.1.2")
    ]


def test_ascii_tail_of_a_homograph_is_not_a_domain_but_japanese_runs_in() -> None:
    assert pairs("phishing on secure-l\u043egin.online today") == []
    assert pairs("攻撃者はevil-c2.topに接続") == [("domain", "evil-c2.top")]


@pytest.mark.parametrize("name", ["Makefile.am", "configure.ac", "build.pl", "setup.cfg.sh"])
def test_build_system_files_with_country_tld_extensions_are_files(name: str) -> None:
    assert pairs(f"the patch touches {name} only") == []


def test_full_width_dot_between_ascii_labels_is_a_defang() -> None:
    found = find_iocs("不審なドメイン「update-check．top」と「45．137．21．9」を確認。３．５倍")
    assert [(i.type.value, i.value, i.was_defanged) for i in found] == [
        ("domain", "update-check.top", True),
        ("ipv4", "45.137.21.9", True),
    ]
