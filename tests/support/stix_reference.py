"""The day's STIX bundle built the naive way, through the stix2 library's objects.

What our builder (app/services/exports/stix.py) must equal, object for object: the tests
compare both, and `make bench-export` times both. Written from the libraries and the
specifications rather than from our module: patterns through stix2.patterns (its quoting and
escaping), timestamps formatted by stix2, ids as uuid5 over json.dumps, and the TLP 2.0
marking definitions as OASIS publishes them. Only the bundle's id, which has no meaning
beyond "the same for the same content", is borrowed.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import stix2
from stix2 import v21
from stix2.patterns import (
    AndBooleanExpression,
    EqualityComparisonExpression,
    IntegerConstant,
    IsSubsetComparisonExpression,
    ObjectPath,
    ObservationExpression,
    StringConstant,
)
from stix2.utils import format_datetime
from stix2validator import ValidationOptions, validate_string

from app.services.exports.entries import ExportEntry
from app.services.exports.render import ExportOptions
from app.services.exports.stix import bundle_id, uri
from app.services.summarize import attack

NAMESPACE = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
# cti-stix-common-objects/extension-definition-specifications/tlp-2.0/examples/*.json
OASIS_TLP = {
    "clear": "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    "green": "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "amber": "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    "amber+strict": "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    "red": "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP_EXTENSION = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"
OBJECT_PATHS = {
    "ipv4": ("ipv4-addr", ["value"]),
    "ipv6": ("ipv6-addr", ["value"]),
    "domain": ("domain-name", ["value"]),
    "url": ("url", ["value"]),
    "email": ("email-addr", ["value"]),
    "md5": ("file", ["hashes", "MD5"]),
    "sha1": ("file", ["hashes", "SHA-1"]),
    "sha256": ("file", ["hashes", "SHA-256"]),
    "sha512": ("file", ["hashes", "SHA-512"]),
    "ssdeep": ("file", ["hashes", "SSDEEP"]),
    "tlsh": ("file", ["hashes", "TLSH"]),
    "imphash": ("file", ["extensions", "windows-pebinary-ext", "imphash"]),
    # OpenCTI's custom observable: STIX 2.1 has no wallet object.
    "bitcoin": ("cryptocurrency-wallet", ["value"]),
    "ethereum": ("cryptocurrency-wallet", ["value"]),
    "monero": ("cryptocurrency-wallet", ["value"]),
}
NETWORKS = {"ipv4_cidr": ("ipv4-addr", ["value"]), "ipv6_cidr": ("ipv6-addr", ["value"])}
# STIX 2.1, windows-registry-key: "the hive portion of the key MUST be fully expanded".
HIVES = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
}
PATTERNED = {*OBJECT_PATHS, *NETWORKS, "asn", "registry_key", "file_path"}


def reference_id(stix_type: str, **name: str) -> str:
    text = json.dumps(name, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return f"{stix_type}--{uuid.uuid5(NAMESPACE, text)}"


def millis(moment: datetime) -> datetime:
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@dataclass
class _Seen:
    kind: str
    value: str
    created: datetime
    modified: datetime
    flags: set[str] = field(default_factory=set)


def reference_marking(level: str) -> v21.MarkingDefinition:
    return v21.MarkingDefinition(
        id=OASIS_TLP[level],
        created="2022-10-01T00:00:00.000Z",
        name=f"TLP:{level.upper()}",
        extensions={TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": level}},
    )


def _key(ioc_type: str, value: str) -> tuple[str, str, str] | None:
    """(STIX type, name field, name) of an IOC's object."""
    if ioc_type in PATTERNED:
        return "indicator", "pattern", _pattern(ioc_type, value)
    if ioc_type == "cve":
        return "vulnerability", "cve", value.strip().upper()
    if ioc_type == "attack_technique":
        return "attack-pattern", "technique", value.strip().upper()
    return None


def _pattern(ioc_type: str, value: str) -> str:
    comparison: Any
    if ioc_type in NETWORKS:
        object_type, path = NETWORKS[ioc_type]
        comparison = IsSubsetComparisonExpression(
            ObjectPath(object_type, path), StringConstant(value)
        )
    elif ioc_type == "asn":
        comparison = EqualityComparisonExpression(
            ObjectPath("autonomous-system", ["number"]), IntegerConstant(int(value[2:]))
        )
    elif ioc_type == "registry_key":
        hive, _, rest = value.partition("\\")
        key = HIVES.get(hive.rstrip(":").upper(), hive.rstrip(":")) + "\\" + rest
        comparison = EqualityComparisonExpression(
            ObjectPath("windows-registry-key", ["key"]), StringConstant(key)
        )
    elif ioc_type == "file_path":
        comparison = _file_comparison(value)
    else:
        object_type, path = OBJECT_PATHS[ioc_type]
        comparison = EqualityComparisonExpression(
            ObjectPath(object_type, path), StringConstant(value)
        )
    return str(ObservationExpression(comparison))


def _file_comparison(path: str) -> Any:
    """A file by name and parent directory; a path ending in a separator is a directory."""
    separator = "\\" if "\\" in path else "/"
    parent, _, name = path.rpartition(separator)
    if not name:
        return EqualityComparisonExpression(ObjectPath("directory", ["path"]), StringConstant(path))
    by_name = EqualityComparisonExpression(ObjectPath("file", ["name"]), StringConstant(name))
    if not parent:
        return by_name
    in_parent = EqualityComparisonExpression(
        ObjectPath("file", ["parent_directory_ref", "path"]), StringConstant(parent)
    )
    return AndBooleanExpression([by_name, in_parent])


def reference_objects(
    entries: list[ExportEntry], *, day: date, options: ExportOptions
) -> list[Any]:
    """The day's objects as stix2 objects, in our builder's order."""
    marking = reference_marking(options.tlp)
    identity = v21.Identity(
        id=reference_id("identity", producer=options.producer),
        created="2024-01-01T00:00:00.000Z",
        modified="2024-01-01T00:00:00.000Z",
        name=options.producer,
        identity_class="organization",
        object_marking_refs=[marking],
    )
    seen: dict[str, _Seen] = {}
    report_args: list[dict[str, Any]] = []
    for entry in entries:
        created = millis(entry.created_at)
        modified = max(created, millis(entry.updated_at))
        refs: list[str] = []
        for ioc in entry.exported_iocs(include_flagged=options.include_flagged):
            key = _key(ioc.type, ioc.value)
            if key is None:
                continue
            stix_type, field_name, name = key
            object_id = reference_id(
                stix_type, producer=options.producer, day=day.isoformat(), **{field_name: name}
            )
            known = seen.setdefault(object_id, _Seen(ioc.type, ioc.value, created, modified))
            known.created, known.modified = (
                min(known.created, created),
                max(known.modified, modified),
            )
            known.flags.update(ioc.flags)
            if object_id not in refs:
                refs.append(object_id)
        urls = list(dict.fromkeys(u for u in (entry.url, *entry.sources) if u))
        report = {
            "id": reference_id(
                "report", producer=options.producer, day=day.isoformat(), item=str(entry.item_id)
            ),
            "created_by_ref": identity.id,
            "created": created,
            "modified": modified,
            "name": entry.title,
            "published": created,
            "object_refs": refs or [identity.id],
            "object_marking_refs": [marking],
        }
        if entry.summary:
            report["description"] = "\n".join(entry.summary)
        if urls:
            report["external_references"] = [_reference(url) for url in urls]
        report_args.append(report)
    cited = [_cited(object_id, known, identity, marking) for object_id, known in seen.items()]
    reports = [v21.Report(**args) for args in report_args]
    return [marking, identity, *cited, *reports]


def _reference(url: str) -> dict[str, str]:
    # stix2 takes any string as a URL; stix2-validator wants an RFC 3986 URI: our
    # conversion is what the validator checks, the rest is stix2's.
    made = uri(url)
    if made is None:
        return {"source_name": "source", "description": url}
    return {"source_name": unquote(urlsplit(made).hostname or "source"), "url": made}


def _cited(object_id: str, known: _Seen, identity: v21.Identity, marking: Any) -> Any:
    common: dict[str, Any] = {
        "id": object_id,
        "created_by_ref": identity.id,
        "created": known.created,
        "modified": known.modified,
        "object_marking_refs": [marking],
    }
    if known.flags:
        common["labels"] = sorted(known.flags)
    if known.kind in PATTERNED:
        return v21.Indicator(
            name=known.value,
            pattern=_pattern(known.kind, known.value),
            pattern_type="stix",
            valid_from=known.created,
            **common,
        )
    if known.kind == "cve":
        cve = known.value.strip().upper()
        return v21.Vulnerability(
            name=cve,
            external_references=[
                {
                    "source_name": "cve",
                    "url": f"https://www.cve.org/CVERecord?id={cve}",
                    "external_id": cve,
                }
            ],
            **common,
        )
    technique = known.value.strip().upper()
    return v21.AttackPattern(
        name=attack.display_name(technique) or technique,
        external_references=[
            {
                "source_name": "mitre-attack",
                "url": f"https://attack.mitre.org/techniques/{technique.replace('.', '/')}/",
                "external_id": technique,
            }
        ],
        **common,
    )


def reference_bundle(
    entries: list[ExportEntry], *, day: date, options: ExportOptions
) -> v21.Bundle:
    """The bundle as stix2 builds it (serialize() for its JSON)."""
    objects = reference_objects(entries, day=day, options=options)
    versions = [
        {"id": made["id"], "created": format_datetime(made.get("modified", made["created"]))}
        for made in objects
    ]
    return v21.Bundle(objects=objects, id=bundle_id(versions, day=day, options=options))


def parse_back(text: str | bytes) -> Any:
    """A bundle read by stix2 without custom content: every property must be STIX's."""
    return stix2.parse(text, allow_custom=False)


# Best-practice warnings a bundle of ours has by design, with why:
# 103: ids are UUIDv5 (deterministic: a re-export dedupes), where STIX suggests UUIDv4 for
#      objects other than observables;
# 302: external references to news pages, CVE records and ATT&CK pages carry no hash;
# 303: an indicator's name is its value and has no description (its reports describe it).
ACCEPTED_WARNINGS = "103,302,303"


def validation(bundle: str | bytes) -> tuple[list[str], list[str]]:
    """stix2-validator's errors and remaining warnings (STIX 2.1, every other check on)."""
    text = bundle.decode() if isinstance(bundle, bytes) else bundle
    options = ValidationOptions(version="2.1", disabled=ACCEPTED_WARNINGS)
    result = validate_string(text, options)
    return [str(error) for error in result.errors], list(result.warnings or [])
