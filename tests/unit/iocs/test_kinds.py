"""Host artefacts, fuzzy hashes, TLS fingerprints, ASNs and CWE ids (issue 19): the rules of
``app/services/iocs/_kinds.py``, through ``find_iocs`` and through ``kind_hits`` itself."""

from __future__ import annotations

import pytest

from app.services.iocs import IocType, find_iocs
from app.services.iocs._hit import Hit
from app.services.iocs._kinds import kind_hits

JA3 = "72a589da586844d7f0818ce684948eea"
JA3S = "f4febc55ea12b31ae17cfb7e614afda8"
IMPHASH = "f34d5f2d4577ed6d9ceec516c1f5a744"
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
JARM = "2ad2ad16d2ad2ad22c42d42d00042d58c7162162b6a603d3d90a2b76865b53"
TLSH_HEX = "A3B2C4D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7F8091A2B3C4"
JA4 = "t13d1516h2_8daaf6152771_b186095e22b6"
assert (len(JA3), len(JARM), len(TLSH_HEX)) == (32, 62, 70)
SSDEEP = (
    "24576:0+KpP0PYnsKdFCH6BMKHiBMikwMbSyM52it6YTekcys4e6faNe0M4RzRPxM4TuZR"
    ":cfs4F6KHiy7kM4CjlpRPx1TuZ+tgP8K"
)


def pairs(text: str) -> list[tuple[str, str]]:
    return [(i.type.value, i.value) for i in find_iocs(text)]


def values(text: str, type_: IocType) -> list[str]:
    return [i.value for i in find_iocs(text) if i.type is type_]


def kinds(text: str, urls: list[Hit]) -> list[tuple[str, str]]:
    return [(h.kind, h.value) for h in kind_hits(text, urls) if h.value]


# ----------------------------------------------------------------------------- registry keys


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            "It gains persistence via "
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater.",
            "HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run\\Updater",
        ),
        (
            "The value Shell under HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon "
            "is replaced.",
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Winlogon",
        ),
        (
            "a debugger set in HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File "
            "Execution Options\\sethc.exe, then",
            "HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Image File Execution "
            "Options\\sethc.exe",
        ),
        (
            "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Print\\Monitors\\Windows "
            "Default Print Monitor]",
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Print\\Monitors\\Windows "
            "Default Print Monitor",
        ),
        (
            "Set-ItemProperty -Path "
            "HKCU:\\Software\\Classes\\ms-settings\\Shell\\Open\\command -Name x",
            "HKCU:\\Software\\Classes\\ms-settings\\Shell\\Open\\command",
        ),
        (
            "reg add HKLM\\SYSTEM\\CurrentControlSet\\Control\\Safeboot\\Network\\WinDefend /f",
            "HKLM\\SYSTEM\\CurrentControlSet\\Control\\Safeboot\\Network\\WinDefend",
        ),
        (
            "* `HKCU\\Software\\Classes\\CLSID\\{49CBB1C7-97D1-485A-9EC1-A26065633066}`",
            "HKCU\\Software\\Classes\\CLSID\\{49CBB1C7-97D1-485A-9EC1-A26065633066}",
        ),
        ("攻撃者はHKCU\\Software\\Evilに設定を保存した。", "HKCU\\Software\\Evil"),
        ("key HKCU\\Software\\Evil\\, value", "HKCU\\Software\\Evil"),
    ],
)
def test_finds_registry_keys_as_reports_write_them(text: str, key: str) -> None:
    assert values(text, IocType.REGISTRY_KEY) == [key]


@pytest.mark.parametrize(
    "text",
    [
        "Admins use HKLM and HKCU hives; the HKLM\\ prefix alone is nothing.",
        "The AHKBOT\\plugin loader and HKLMX\\Software are no hives.",
        "SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run without a hive is relative.",
    ],
)
def test_registry_words_without_a_key_are_not_keys(text: str) -> None:
    assert values(text, IocType.REGISTRY_KEY) == []


def test_registry_key_stops_at_a_value_assignment_and_at_quotes() -> None:
    text = (
        'HKCU\\Control Panel\\Cursors\\AppStarting = "%SystemRoot%\\x.ani" and "HKCU\\Software\\A"'
    )
    assert values(text, IocType.REGISTRY_KEY) == [
        "HKCU\\Control Panel\\Cursors\\AppStarting",
        "HKCU\\Software\\A",
    ]


def test_the_first_spelling_of_a_key_names_every_spelling() -> None:
    text = "It creates HKCU\\Software\\Evil, then reads HKCU\\SOFTWARE\\EVIL again."
    assert values(text, IocType.REGISTRY_KEY) == ["HKCU\\Software\\Evil"]
    (ioc,) = [i for i in find_iocs(text) if i.type is IocType.REGISTRY_KEY]
    assert ioc.raw == "HKCU\\Software\\Evil"


# ------------------------------------------------------------------------------- file paths


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("dropped to %APPDATA%\\Microsoft\\svchost.exe, then", "%APPDATA%\\Microsoft\\svchost.exe"),
        (
            "copied to C:\\Users\\Public\\Libraries\\qlanl\\*",
            "C:\\Users\\Public\\Libraries\\qlanl\\*",
        ),
        (
            "A DLL in C:\\Program Files\\Common Files\\System\\wab32.dll is side-loaded.",
            "C:\\Program Files\\Common Files\\System\\wab32.dll",
        ),
        (
            "from C:\\Program Files (x86)\\Internet Explorer\\ExtExport.exe.",
            "C:\\Program Files (x86)\\Internet Explorer\\ExtExport.exe",
        ),
        (
            "the C:\\Documents and Settings\\Admin\\Local Settings\\Temp\\a.exe file",
            "C:\\Documents and Settings\\Admin\\Local Settings\\Temp\\a.exe",
        ),
        ("(see C:\\Windows\\System32\\cmd.exe)", "C:\\Windows\\System32\\cmd.exe"),
        ('"C:\\Users\\Bob\\My Files\\a.pdf.exe"', "C:\\Users\\Bob\\My Files\\a.pdf.exe"),
        ("rundll32.exe C:\\Windows\\Temp\\x.dll,DllRegisterServer", "C:\\Windows\\Temp\\x.dll"),
        ("written to c:/users/public/loader.js as well", "c:/users/public/loader.js"),
        ("and C:/Users/Public/Libraries/a.js;", "C:/Users/Public/Libraries/a.js"),
        ("%STARTUP%\\Control Panel.lnk", "%STARTUP%\\Control Panel.lnk"),
        ("PDB: D:\\work\\service\\Release\\ir16_32.pdb", "D:\\work\\service\\Release\\ir16_32.pdb"),
        ("the folder C:\\Intel\\ is created", "C:\\Intel\\"),
        ("pipe \\\\.\\pipe\\msagent_12 is opened", "\\\\.\\pipe\\msagent_12"),
        ("runs \\\\fs01\\share$\\tools\\psexec.exe", "\\\\fs01\\share$\\tools\\psexec.exe"),
        ("プロセス：C:\\Users\\sato\\svchost.exeを実行", "C:\\Users\\sato\\svchost.exe"),
        ("The ELF is written to /tmp/.X11-unix/.rsync and run.", "/tmp/.X11-unix/.rsync"),
        ("cron job: `/var/tmp/.pipe.sock`", "/var/tmp/.pipe.sock"),
        ("drops ~/Library/LaunchAgents/com.x.plist.", "~/Library/LaunchAgents/com.x.plist"),
        (
            "/Library/Application Support/Chrome/x.dylib",
            "/Library/Application Support/Chrome/x.dylib",
        ),
        ("It reads /etc/passwd and /etc/shadow.", "/etc/passwd"),
        ("files in /dev/shm/.bin are executed", "/dev/shm/.bin"),
        ("Malloc+0x16 [d:\\th\\com\\memapi.cxx @ 641] 6cd3", "d:\\th\\com\\memapi.cxx"),
        ('"%TEMP%\\Usermode COM Manager.exe" is', "%TEMP%\\Usermode COM Manager.exe"),
    ],
)
def test_finds_file_paths_as_reports_write_them(text: str, path: str) -> None:
    assert values(text, IocType.FILE_PATH)[:1] == [path]


@pytest.mark.parametrize(
    "text",
    [
        "Download https://evil.com/tmp/x.sh and http://1.2.3.4/var/www/a.php now.",
        "The kit lives at evil.com/tmp/x and cdn.example.net/usr/lib/y.",
        "C: alone, C:\\ alone, a root /tmp/ alone, the /Users/ folder and /var/tmp/.",
        "Windows 10 version 22H2 (10.0.19045.3803), Windows NT 6.1 and Windows/System32 too.",
        "and/or, TCP/IP, I/O, 24/7, AS/400, input/output, client/server",
        "an escaped regex \\\\w+\\\\.exe and \\\\d{4} in a YARA rule",
        "ratio 1:2 and time 10:30; see A:B, 3:\\x and C:\\ alone",
        "TCP:/tmp/x, file:/etc/hosts, urn:/abc and C:// too",
    ],
)
def test_no_file_path_where_there_is_none(text: str) -> None:
    assert values(text, IocType.FILE_PATH) == []


def test_a_name_inside_a_path_is_no_domain_but_its_hash_still_counts() -> None:
    text = f"It copies itself to C:\\Users\\x\\evil.exe and %TEMP%\\{SHA256}.com here."
    assert pairs(text) == [
        ("file_path", "C:\\Users\\x\\evil.exe"),
        ("file_path", f"%TEMP%\\{SHA256}.com"),
        ("sha256", SHA256),
    ]


def test_a_unc_path_reports_its_host_too() -> None:
    text = "It loads \\\\update-cdn.com@SSL\\DavWWWRoot\\x.dll and \\\\10.1.2.3\\c$\\w.exe."
    assert pairs(text) == [
        ("file_path", "\\\\update-cdn.com@SSL\\DavWWWRoot\\x.dll"),
        ("domain", "update-cdn.com"),
        ("file_path", "\\\\10.1.2.3\\c$\\w.exe"),
        ("ipv4", "10.1.2.3"),
    ]


def test_a_path_after_a_defanged_url_is_still_found() -> None:
    text = "hxxp://evil[.]com/tmp/x then /tmp/x and evil[.]com/var/y"
    assert pairs(text) == [
        ("url", "http://evil.com/tmp/x"),
        ("file_path", "/tmp/x"),
        ("domain", "evil.com"),
    ]


def test_kind_hits_skips_the_spans_of_urls() -> None:
    text = "get http://host.example/C:\\x\\y.exe and /tmp/z"
    url = Hit("url", "http://host.example/C:\\x\\y.exe", 4, 34)
    assert kinds(text, [url]) == [("file_path", "/tmp/z")]


def test_the_rest_of_a_path_after_a_hash_in_it_stays_covered() -> None:
    text = f"%TEMP%\\{SHA256}\\update.com"  # scan drops the names our hits overlap
    spans = [(h.kind, h.value, h.start, h.end) for h in kind_hits(text, [])]
    assert spans == [
        ("file_path", text, 0, 82),
        ("sha256", SHA256, 7, 71),
        ("file_path", "", 71, 82),  # no IOC: only covers update.com
    ]
    assert pairs(text) == [("file_path", text), ("sha256", SHA256)]


# ------------------------------------------------------------------------------------- ASNs


@pytest.mark.parametrize(
    ("text", "asn"),
    [
        ("The C2 is hosted on AS 4134 (Chinanet).", "AS4134"),
        ("Cloudflare (AS13335) fronts the site.", "AS13335"),
        ("ASN 15169 and", "AS15169"),
        ("ASN: 15169", "AS15169"),
        ("network AS-13335", "AS13335"),
        ("ASN15169", "AS15169"),
        ("announced by AS 2024 according to BGP data", "AS2024"),
        ("a private ASN 64512 lab", "AS64512"),
        ("ASN 7 is small but written as an ASN", "AS7"),
        ("攻撃元はASN：4134（中国電信）", "AS4134"),
    ],
)
def test_finds_asns(text: str, asn: str) -> None:
    assert values(text, IocType.ASN) == [asn]


@pytest.mark.parametrize(
    "text",
    [
        "IBM AS/400 systems, the AS400 box",
        "SUCH AS 2024 HEADLINES SHOW",
        "AS 2024 ended, the year",
        "over the AS2 and AS4 protocols",
        "CLASS 1 and BRASS 400, GAS 123 and as 4134",
        "AS 0, AS23456, AS65535, AS4294967295 and AS4294967296",
        "AS1234X and AS 12.5 and XAS 4134",
    ],
)
def test_no_asn_where_there_is_none(text: str) -> None:
    assert values(text, IocType.ASN) == []


# ----------------------------------------------------------------------------------- CWE ids


def test_finds_cwe_ids_in_any_case() -> None:
    text = "Improper neutralization (CWE-79), prototype pollution (cwe-1321), Cwe-020."
    assert values(text, IocType.CWE) == ["CWE-79", "CWE-1321", "CWE-20"]


def test_no_cwe_inside_a_longer_token() -> None:
    assert values("XCWE-79, CWE-79a, CWE-0, CWE-, CWE-79-1 and CWE 79", IocType.CWE) == []


def test_cwe_and_cve_side_by_side() -> None:
    text = "CVE-2023-50164 is a path traversal (CWE-22)."
    assert pairs(text) == [("cve", "CVE-2023-50164"), ("cwe", "CWE-22")]


# ------------------------------------------------------------------------------ fuzzy hashes


def test_finds_ssdeep_with_a_valid_blocksize() -> None:
    text = f"ssdeep {SSDEEP} and | BRController.exe | `{SSDEEP.replace('24576', '49152')}`"
    assert values(text, IocType.SSDEEP) == [SSDEEP, SSDEEP.replace("24576", "49152")]


@pytest.mark.parametrize(
    "text",
    [
        SSDEEP.replace("24576", "24577"),  # no 3 * 2^n
        "at 12:13:13 and 3:00:00 then",
        "2001:db8:85a3:8a2e:370:7334",
        "ratio 96:abcdefgh and x 3::",
        "ns=12:AbCdEfG:xy (a first part shorter than 8)",
    ],
)
def test_no_ssdeep_where_there_is_none(text: str) -> None:
    assert values(text, IocType.SSDEEP) == []


@pytest.mark.parametrize(
    "text",
    [
        f"TLSH T1{TLSH_HEX} for the dropper",
        f"tlsh: {TLSH_HEX.lower()}",
        f"| TLSH | {TLSH_HEX} |",
    ],
)
def test_finds_tlsh_with_its_prefix_or_label(text: str) -> None:
    assert values(text, IocType.TLSH) == [f"T1{TLSH_HEX}"]


def test_an_unlabelled_run_of_70_hex_is_no_tlsh() -> None:
    assert values(f"blob {TLSH_HEX} and XT1{TLSH_HEX}", IocType.TLSH) == []


# --------------------------------------------------------------------- labelled 32-hex kinds


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"JA3: {JA3}", [("ja3", JA3)]),
        (f"JA3 fingerprint {JA3.upper()}", [("ja3", JA3)]),
        (f"ja3_hash={JA3}", [("ja3", JA3)]),
        (f"**JA3S**: `{JA3S}`", [("ja3s", JA3S)]),
        (f"JA3ハッシュ：{JA3}", [("ja3", JA3)]),
        (f"Imphash {IMPHASH}", [("imphash", IMPHASH)]),
        (f"import hash (PE): {IMPHASH}", [("imphash", IMPHASH)]),
        (f"| JA3 | {JA3} |", [("ja3", JA3)]),
        (
            f"JA3 hashes: {JA3}, {JA3S} and {IMPHASH}",
            [("ja3", JA3), ("ja3", JA3S), ("ja3", IMPHASH)],
        ),
    ],
)
def test_a_labelled_32_hex_value_is_its_label_not_an_md5(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert pairs(text) == expected


def test_a_markdown_table_column_names_its_cells() -> None:
    text = (
        "| Server | JA3 | JA3S | MD5 |\n"
        "| --- | --- | --- | --- |\n"
        f"| 1.2.3.4 | {JA3} | {JA3S} | {IMPHASH} |\n"
    )
    assert pairs(text) == [("ipv4", "1.2.3.4"), ("ja3", JA3), ("ja3s", JA3S), ("md5", IMPHASH)]


def test_an_asciidoc_table_header_names_its_cells() -> None:
    text = f'[options="header"]\n|=====\n| Component | Imphash\n| loader.dll | `{IMPHASH}`\n|====='
    assert values(text, IocType.IMPHASH) == [IMPHASH]


@pytest.mark.parametrize(
    "text",
    [
        f"MD5 {JA3}",
        f"{JA3} is the hash of the JA3 client string",
        f"JA3:\n{JA3}",  # a label counts on its own line only
        f"JA3 of the client and the file {JA3}",
        f"| Server | Hash |\n|---|---|\n| x | {JA3} |",
    ],
)
def test_an_unlabelled_md5_stays_an_md5(text: str) -> None:
    assert pairs(text)[-1:] == [("md5", JA3)]
    assert values(text, IocType.JA3) == []


def test_a_hex_run_of_other_lengths_is_no_labelled_kind() -> None:
    assert pairs(f"JA3: 0x{JA3}, {JA3}a, {JA3[:-1]}") == []


# -------------------------------------------------------------------------------- JA4, JARM


def test_finds_ja4_by_its_shape() -> None:
    text = f"JA4 {JA4}; JA4S t130200_1301_234ea6891581 is no JA4; {JA4.upper()} neither."
    assert values(text, IocType.JA4) == [JA4]


def test_no_ja4_inside_a_longer_token() -> None:
    assert values(f"x{JA4} and {JA4}_1 and {JA4}0", IocType.JA4) == []


def test_finds_jarm_labelled_or_not() -> None:
    assert values(f"JARM: {JARM}; also {JARM.upper()} on port 8443", IocType.JARM) == [JARM]


def test_no_jarm_in_a_longer_hex_run() -> None:
    assert values(f"{JARM}00 and {JARM[:-1]}", IocType.JARM) == []
