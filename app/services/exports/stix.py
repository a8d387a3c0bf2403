"""A day's entries as STIX 2.1 objects, and as a bundle (`GET /reports/{date}?format=stix`).

The objects are plain dicts serialized with orjson, built to be exactly what the stix2
library (OASIS's reference) makes of the same values: tests build each bundle both ways and
compare them, then check ours with stix2-validator. stix2 itself is not imported: it is a
dev dependency (the reference tests and `make bench-export` check against), and building
through its objects validates each pattern with an ANTLR parser, many times slower.

What a day becomes:
- the TLP 2.0 marking definition of SECDIGEST_TLP (OASIS's own objects, ids and all), and
  an `identity` for the producer (SECDIGEST_PRODUCER_NAME); every other object names both;
- per entry, a `report`: its title, summary, URLs, and `object_refs` to what it cites;
- per indicator of the day an `indicator` (its STIX pattern), per CVE a `vulnerability`,
  per ATT&CK technique an `attack-pattern`, each shared by the day's entries that cite it.

Ids are UUIDv5 in the STIX namespace over a canonical JSON name, so a re-export gives the
same ids and a consumer dedupes them. Versions follow the entries: an object's `created`
is its entries' earliest `created_at` and its `modified` their latest `updated_at`, so an
analyst's edit is a new version of the same ids.

Indicators, vulnerabilities and attack patterns are the day's objects (the day is in
their id): STIX forbids two versions of one id with different `created`, and a day's
bundle is cached per the day's state, so it cannot know when another day first cited the
same value. The same value on two days is two objects, like a MISP attribute in two
events; TIPs merge them by pattern or value (OpenCTI by pattern, MISP by value).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import orjson

from app.services.exports.entries import ExportEntry
from app.services.exports.render import ExportOptions
from app.services.reports.document import DocumentIoc
from app.services.summarize import attack

MEDIA_TYPE = "application/stix+json;version=2.1"
# The namespace STIX 2.1 gives UUIDv5 identifiers (section 2.9).
STIX_NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
_NAMESPACE_BYTES = STIX_NAMESPACE.bytes

# TLP 2.0 as STIX 2.1 represents it: the marking definitions OASIS publishes with the TLP
# 2.0 extension (cti-stix-common-objects, extension-definition-specifications/tlp-2.0),
# whose ids every consumer knows. stix2 3.0 ships only TLP 1.0 (TLP:WHITE...).
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
TLP_MARKING_IDS = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
_TLP_CREATED = "2022-10-01T00:00:00.000Z"
# The producer's identity does not change with the data: one version, at a fixed time.
IDENTITY_CREATED = "2024-01-01T00:00:00.000Z"

# Object paths of the indicator patterns, as stix2.patterns.ObjectPath writes them (a
# component with a hyphen is quoted; MD5 is not).
PATTERN_PATHS = {
    "ipv4": "ipv4-addr:value",
    "ipv6": "ipv6-addr:value",
    "domain": "domain-name:value",
    "url": "url:value",
    "email": "email-addr:value",
    "md5": "file:hashes.MD5",
    "sha1": "file:hashes.'SHA-1'",
    "sha256": "file:hashes.'SHA-256'",
    "sha512": "file:hashes.'SHA-512'",
    # STIX's hash vocabulary has both fuzzy hashes; the import hash is a PE extension's.
    "ssdeep": "file:hashes.SSDEEP",
    "tlsh": "file:hashes.TLSH",
    "imphash": "file:extensions.'windows-pebinary-ext'.imphash",
    # No STIX object holds a wallet: OpenCTI's custom observable, the one TIPs read.
    "bitcoin": "cryptocurrency-wallet:value",
    "ethereum": "cryptocurrency-wallet:value",
    "monero": "cryptocurrency-wallet:value",
}
# A network is a set of addresses: an observed address matches when it lies in it.
SUBSET_PATHS = {"ipv4_cidr": "ipv4-addr:value", "ipv6_cidr": "ipv6-addr:value"}
# STIX wants the hive spelled out (windows-registry-key: "HKEY_LOCAL_MACHINE", not "HKLM").
REGISTRY_HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
# ja3, ja3s, ja4, jarm and cwe have no STIX object: the MISP export carries them.


def tlp_marking(level: str) -> dict[str, Any]:
    """The OASIS marking definition of a TLP 2.0 level (clear, green, amber...)."""
    return {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": TLP_MARKING_IDS[level],
        "created": _TLP_CREATED,
        "name": f"TLP:{level.upper()}",
        "extensions": {TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    }


def stix_id(stix_type: str, **name: str) -> str:
    """A deterministic id: UUIDv5 over the name's canonical JSON (sorted keys, as STIX
    derives the ids of cyber observables from their properties)."""
    return f"{stix_type}--{uuid5(orjson.dumps(name, option=orjson.OPT_SORT_KEYS))}"


def uuid5(name: bytes) -> str:
    """`str(uuid.uuid5(STIX_NAMESPACE, name))` without building UUID objects (RFC 9562,
    5.5): a third of the time of a day's build went there."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name, usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC's variant
    text = digest[:16].hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def escape_pattern_string(value: str) -> str:
    """A value inside a pattern's quotes: backslash and quote escaped (STIX 2.1 patterning,
    section 9.2; what stix2.patterns.StringConstant writes)."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def indicator_pattern(kind: str, value: str) -> str | None:
    """`[ipv4-addr:value = '...']` for an IOC; None for a type that is no indicator."""
    path = PATTERN_PATHS.get(kind)
    if path is not None:
        return f"[{path} = '{escape_pattern_string(value)}']"
    if kind in SUBSET_PATHS:
        return f"[{SUBSET_PATHS[kind]} ISSUBSET '{escape_pattern_string(value)}']"
    if kind == "asn":
        number = value.upper().removeprefix("AS")
        return f"[autonomous-system:number = {int(number)}]" if number.isdigit() else None
    if kind == "registry_key":
        return f"[windows-registry-key:key = '{escape_pattern_string(registry_key(value))}']"
    if kind == "file_path":
        return file_pattern(value)
    return None


def registry_key(value: str) -> str:
    """A key as STIX wants it: `HKLM\\Run` and PowerShell's `HKLM:\\Run` with the hive in full."""
    hive, separator, rest = value.partition("\\")
    hive = hive.removesuffix(":")
    return f"{REGISTRY_HIVES.get(hive.upper(), hive)}{separator}{rest}"


def file_pattern(path: str) -> str:
    """A file by its name in its directory (`C:\\Users\\x\\a.exe`, `/tmp/.x/kworker`); a path
    that ends with its separator is a directory."""
    cut = max(path.rfind("\\"), path.rfind("/"))
    if cut == len(path) - 1:
        return f"[directory:path = '{escape_pattern_string(path)}']"
    name = escape_pattern_string(path[cut + 1 :])
    if cut <= 0:
        return f"[file:name = '{name}']"
    parent = escape_pattern_string(path[:cut])
    return f"[file:name = '{name}' AND file:parent_directory_ref.path = '{parent}']"


def timestamp(moment: datetime) -> str:
    """`created`/`modified`: UTC, to the millisecond (truncated), as stix2 writes them."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def loose_timestamp(millis: str) -> str:
    """Another timestamp (`published`, `valid_from`) of the same instant as stix2 writes it:
    trailing zeros of the fraction dropped, and the fraction when it is zero."""
    seconds, fraction = millis[:-1].split(".")
    fraction = fraction.rstrip("0")
    return f"{seconds}.{fraction}Z" if fraction else f"{seconds}Z"


def identity_object(producer: str, markings: list[str]) -> dict[str, Any]:
    """The producer: every object's `created_by_ref`."""
    return {
        "type": "identity",
        "spec_version": "2.1",
        "id": stix_id("identity", producer=producer),
        "created": IDENTITY_CREATED,
        "modified": IDENTITY_CREATED,
        "name": producer,
        "identity_class": "organization",
        "object_marking_refs": markings,
    }


_Builder = Callable[[str], dict[str, Any]]  # an object's dict, from its id


@dataclass(slots=True)
class _Cited:
    """An object the day's entries cite, with the span of their times and their flags."""

    object: dict[str, Any]
    created: str
    modified: str
    flags: set[str] = field(default_factory=set)


@dataclass(slots=True)
class _Day:
    """What a day's build shares: producer, markings, and the objects cited so far."""

    producer: str
    day: str
    identity: str
    markings: list[str]
    cited: dict[str, _Cited] = field(default_factory=dict)

    def cite(self, ioc: DocumentIoc, created: str, modified: str) -> str | None:
        """The id of the object an IOC becomes (made on its first citation), or None."""
        made = self._make(ioc)
        if made is None:
            return None
        object_id, build = made
        known = self.cited.get(object_id)
        if known is None:
            known = self.cited[object_id] = _Cited(build(object_id), created, modified)
        else:
            # Fixed-width UTC strings: their order is the order of the instants.
            known.created = min(known.created, created)
            known.modified = max(known.modified, modified)
        known.flags.update(ioc.flags)
        return object_id

    def _make(self, ioc: DocumentIoc) -> tuple[str, _Builder] | None:
        kind, value = ioc.type, ioc.value
        pattern = indicator_pattern(kind, value)
        if pattern is not None:
            object_id = stix_id("indicator", producer=self.producer, day=self.day, pattern=pattern)
            return object_id, lambda i: self._indicator(i, value, pattern)
        if kind == "cve":
            cve = value.strip().upper()
            object_id = stix_id("vulnerability", producer=self.producer, day=self.day, cve=cve)
            return object_id, lambda i: self._vulnerability(i, cve)
        if kind == "attack_technique":
            technique = attack.normalize_id(value)
            object_id = stix_id(
                "attack-pattern", producer=self.producer, day=self.day, technique=technique
            )
            return object_id, lambda i: self._attack_pattern(i, technique)
        return None  # "other": an imported line of no known type

    def _common(self, stix_type: str, object_id: str) -> dict[str, Any]:
        # Key order as stix2 serializes (type, spec_version, id, created_by_ref...).
        return {
            "type": stix_type,
            "spec_version": "2.1",
            "id": object_id,
            "created_by_ref": self.identity,
            "created": "",
            "modified": "",
        }

    def _indicator(self, object_id: str, value: str, pattern: str) -> dict[str, Any]:
        made = self._common("indicator", object_id)
        made.update(name=value, pattern=pattern, pattern_type="stix", pattern_version="2.1")
        made["valid_from"] = ""
        return made

    def _vulnerability(self, object_id: str, cve: str) -> dict[str, Any]:
        made = self._common("vulnerability", object_id)
        made["name"] = cve
        made["external_references"] = [
            {
                "source_name": "cve",
                "url": f"https://www.cve.org/CVERecord?id={cve}",
                "external_id": cve,
            }
        ]
        return made

    def _attack_pattern(self, object_id: str, technique: str) -> dict[str, Any]:
        made = self._common("attack-pattern", object_id)
        made["name"] = attack.display_name(technique) or technique
        made["external_references"] = [
            {
                "source_name": "mitre-attack",
                "url": "https://attack.mitre.org/techniques/" + technique.replace(".", "/") + "/",
                "external_id": technique,
            }
        ]
        return made

    def finish(self) -> list[dict[str, Any]]:
        """The cited objects with their times, labels and markings set."""
        done = []
        for cited in self.cited.values():
            made = cited.object
            made["created"], made["modified"] = cited.created, cited.modified
            if "valid_from" in made:
                made["valid_from"] = loose_timestamp(cited.created)
            if cited.flags:
                made["labels"] = sorted(cited.flags)
            if "external_references" in made:  # after labels, where stix2 puts it
                made["external_references"] = made.pop("external_references")
            made["object_marking_refs"] = self.markings
            done.append(made)
        return done


def uri(url: str) -> str | None:
    """A URL as the RFC 3986 URI a STIX `url` must be: non-ASCII and stray characters
    percent-encoded (a Japanese path, a backslash); None without a scheme and a host."""
    scheme, colon, rest = url.strip().partition(":")
    if not colon or not _SCHEME.fullmatch(scheme) or not rest.startswith("//"):
        return None
    end = min((i for i in map(rest.find, "/?#", (2, 2, 2)) if i >= 0), default=len(rest))
    authority, path = rest[2:end], rest[end:]
    userinfo, at, hostport = authority.rpartition("@")
    if hostport.startswith("["):  # an IPv6 literal
        host, bracket, port = hostport.partition("]")
        host += bracket
        if not _IPV6.fullmatch(host) or not _PORT.fullmatch(port):
            return None
    else:
        host, _, number = hostport.partition(":")
        port = f":{number}" if _ else ""
        host = _quote(host, _SUB_DELIMS)
        if not host or not _PORT.fullmatch(port):
            return None
    path, hash_, fragment = path.partition("#")
    path, question, query = path.partition("?")
    return (
        f"{scheme}://{_quote(userinfo, _SUB_DELIMS + ':') + '@' if at else ''}{host}{port}"
        f"{_quote(path, _PCHAR + '/')}{question}{_quote(query, _PCHAR + '/?')}"
        f"{hash_}{_quote(fragment, _PCHAR + '/?')}"
    )


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*")
_IPV6 = re.compile(r"\[[0-9A-Fa-f:.]+\]")
_PORT = re.compile(r"(:[0-9]*)?")
_SUB_DELIMS = "!$&'()*+,;="
_PCHAR = _SUB_DELIMS + ":@"
_STRAY_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _quote(text: str, safe: str) -> str:
    # A "%" that starts no escape is itself escaped; valid escapes are kept as they are.
    return quote(_STRAY_PERCENT.sub("%25", text), safe=safe + "%")


def _reference(url: str) -> dict[str, str]:
    """A source of an entry as an external reference: its host and URL, or the text as a
    description when it is no URL (an imported line)."""
    made = uri(url)
    if made is None:
        return {"source_name": "source", "description": url}
    # The host as people read it (its Japanese name, not the escapes of the URI).
    return {"source_name": unquote(urlsplit(made).hostname or "source"), "url": made}


def _report(
    entry: ExportEntry, build: _Day, created: str, modified: str, refs: list[str]
) -> dict[str, Any]:
    made: dict[str, Any] = {
        "type": "report",
        "spec_version": "2.1",
        "id": stix_id(
            "report", producer=build.producer, day=entry.day.isoformat(), item=str(entry.item_id)
        ),
        "created_by_ref": build.identity,
        "created": created,
        "modified": modified,
        "name": entry.title,
    }
    if entry.summary:
        made["description"] = "\n".join(entry.summary)
    made["published"] = loose_timestamp(created)
    # STIX requires one reference at least: an entry that cites nothing names its producer.
    made["object_refs"] = refs or [build.identity]
    urls = [url for url in (entry.url, *entry.sources) if url]
    if urls:
        made["external_references"] = [_reference(url) for url in dict.fromkeys(urls)]
    made["object_marking_refs"] = build.markings
    return made


def day_objects(
    entries: Iterable[ExportEntry], *, day: date, options: ExportOptions
) -> list[dict[str, Any]]:
    """The STIX objects of a day: marking, identity, the cited objects, then the reports."""
    marking = tlp_marking(options.tlp)
    markings = [marking["id"]]
    identity = identity_object(options.producer, markings)
    build = _Day(options.producer, day.isoformat(), identity["id"], markings)
    reports = []
    for entry in entries:
        created = timestamp(entry.created_at)
        modified = max(created, timestamp(entry.updated_at))
        refs: dict[str, None] = {}
        for ioc in entry.exported_iocs(include_flagged=options.include_flagged):
            object_id = build.cite(ioc, created, modified)
            if object_id is not None:
                refs[object_id] = None
        reports.append(_report(entry, build, created, modified, list(refs)))
    return [marking, identity, *build.finish(), *reports]


def bundle_id(objects: Sequence[dict[str, Any]], *, day: date, options: ExportOptions) -> str:
    """The same bundle id for the same objects and versions (a re-export of an unchanged
    day is the same bytes, whichever process renders it)."""
    digest = hashlib.blake2b(digest_size=16)
    for made in objects:
        digest.update(f"{made['id']}@{made.get('modified', made['created'])}\n".encode())
    return stix_id(
        "bundle",
        producer=options.producer,
        day=day.isoformat(),
        options=options.key,
        versions=digest.hexdigest(),
    )


def day_bundle(entries: Sequence[ExportEntry], *, day: date, options: ExportOptions) -> bytes:
    """A day's entries as a STIX 2.1 bundle (UTF-8 JSON)."""
    objects = day_objects(entries, day=day, options=options)
    bundle: dict[str, Any] = {
        "type": "bundle",
        "id": bundle_id(objects, day=day, options=options),
        "objects": objects,
    }
    return orjson.dumps(bundle)
