"""Memory benchmark (issue 16): search over a year of entries, and indicator lookups.

One run, per backend (SQLite; PostgreSQL too when it answers):

1. a year in a fresh database: --days (365) x --entries (30) entries, each with its
   article's text (~11k articles, ~4 KB each; ~115k indicator occurrences), written with
   plain SQL one day per transaction: the triggers make the search documents, the index
   and the sightings on the way in (the time is printed). PostgreSQL is then VACUUM
   ANALYZEd, as autovacuum would have done for a database that grew over a year;
2. search: every query of QUERIES (English and Japanese) through the service
   (`app.services.search.search`, the first page of 20 with its snippets, a new read
   session each time, as a request), --rounds times; the same query as a plain
   `LIKE '%q%'` over the same text with no index (every term, newest first, 20 rows and
   their entries), in the same run; on PostgreSQL also what pg_trgm offers besides:
   ILIKE through the same index, word_similarity() as the ranking, and the `<%` operator
   (fuzzy); then every page of the search is walked and checked against the set of
   entries LIKE finds (exact: the same entries);
3. lookups (when the sightings part is there): `GET /indicators?value=`'s service
   (`app.services.memory.indicator_summary`, 50 sightings) against `LIKE` over the
   entries' `iocs` JSON;
4. a Markdown table per backend and part, with the machine, the date and the command.

    make bench-memory                                   # the whole run, ~10 minutes
    .venv/bin/python bench/memory.py --days 30 --no-postgres --rounds 5   # quick
    .venv/bin/python bench/memory.py --help

A section of its own (a Section: a title and a coroutine per backend that returns rows)
is added to SECTIONS; it gets the same year in the same databases.

The year itself is repeatable (seeded): titles, summaries, recommendations and notes are
Japanese, as the digest writes them (bench/read.py's vocabulary, with stories: each entry
has a subject, so that words are as unevenly spread as in news: `ランサムウェア` in one
entry of four, `Ivanti` in a few percent, a company's name in a handful); articles are
English news (7 in 10) or Japanese ones.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db import create_engine, create_read_sessionmaker  # noqa: E402
from app.errors import NotFound  # noqa: E402
from app.migrate import upgrade  # noqa: E402
from app.models import Article, Report, ReportItem  # noqa: E402
from app.services.memory import indicator_summary  # noqa: E402
from app.services.search import Ranking, parse_query, search  # noqa: E402
from bench.read import (  # noqa: E402
    _ACTORS,
    _MALWARE,
    _OTHER,
    _PRODUCTS,
    _RECOMMENDATIONS,
    _SENTENCES,
    _SITES,
    _TARGETS,
    DEFAULT_POSTGRES,
    _Vocabulary,
    postgres_answers,
    postgres_database,
)

LAST_DAY = date(2024, 12, 6)
# A CVE that some entries share (Ivanti Connect Secure, early 2024).
SHARED_CVE = "CVE-2024-21887"

_SECTIONS = (
    ("tools", 0.08),
    ("malware_campaign", 0.22),
    ("security_report", 0.15),
    ("cybercrime_topics", 0.1),
    ("daily_news", 0.35),
    ("japan_incidents", 0.07),
    ("memos", 0.03),
)
# What a story is about, and how often: each kind has its own sentences, so that words
# are as unevenly spread as in news (`ランサムウェア` in about one entry of four,
# `Ivanti` in a few percent, a company's name in one or two).
_KINDS = (
    ("ransomware", 0.22),
    ("vulnerability", 0.25),
    ("espionage", 0.2),
    ("arrest", 0.08),
    ("phishing", 0.15),
    ("breach", 0.1),
)
_TITLES_JA = {
    "ransomware": (
        "{org_ja}がランサムウェア被害、業務システムが停止",
        "{malware}を用いたランサムウェア攻撃が{target}で相次ぐ",
        "ランサムウェア集団、{org}から窃取したデータをリークサイトで公開",
    ),
    "vulnerability": (
        "{product}の脆弱性（{cve}）が実際の攻撃で悪用される",
        "{product}にゼロデイ脆弱性、概念実証コードが公開",
        "{vendor}、{product}の深刻な脆弱性を修正",
    ),
    "espionage": (
        "{actor}、{target}を標的に{malware}を展開",
        "{actor}による{target}への侵入、{months}ヶ月間にわたり継続",
    ),
    "arrest": (
        "警察、{malware}の運営基盤を閉鎖し容疑者{n}名を逮捕",
        "{city}で詐欺グループの容疑者を逮捕、被害総額は{n}億円",
    ),
    "phishing": (
        "{org}をかたるフィッシングメールに注意、{malware}を配布",
        "偽のソフトウェア更新で{malware}を配布する攻撃を確認",
    ),
    "breach": (
        "{org_ja}に不正アクセス、個人情報{n}万件が流出した可能性",
        "{org_ja}のサーバーに不正アクセス、顧客情報が閲覧された可能性",
    ),
}
_SUMMARY_JA = {
    "ransomware": (
        "{org_ja}はランサムウェアによる攻撃を受け、ファイルサーバーのデータが暗号化された。",
        "ランサムウェア集団は身代金の支払いを要求し、応じなければ窃取したデータを公開すると"
        "脅迫している。",
        "攻撃者は{malware}を展開する前に、バックアップを削除しEDRを無効化していた。",
    ),
    "vulnerability": (
        "この脆弱性（{cve}）はCVSSスコア{score}と評価されており、認証なしでリモートから任意の"
        "コードを実行できる。",
        "{vendor}は{day}に修正パッチを公開し、利用者に対して速やかな適用を呼びかけている。",
        "CISAは本件を既知の悪用された脆弱性（KEV）カタログに追加した。",
    ),
    "espionage": (
        "{actor}は{target}のネットワークに侵入し、{product}の未修正の脆弱性を初期侵入に"
        "利用したとみられる。",
        "攻撃者は{malware}を使用して認証情報を窃取し、PowerShellやWMIを用いて横展開を行っていた。",
        "{actor}は少なくとも{year}年から活動しており、過去にも{target}を標的としていた。",
    ),
    "arrest": (
        "{city}の警察は、{malware}の運営に関与した容疑者{n}名を逮捕した。",
        "捜査当局は関連するサーバーを押収し、被害者への通知を進めている。",
    ),
    "phishing": (
        "{org}を装ったフィッシングメールが{n}件以上送信され、添付ファイルから{malware}が"
        "実行された。",
        "攻撃者は検索広告を悪用し、偽のインストーラーを配布していた。",
    ),
    "breach": (
        "外部からの不正アクセスにより、{org_ja}の顧客情報が閲覧された可能性がある。",
        "VPN機器への不正アクセスが侵入の起点となり、認証情報が窃取されていた。",
        "同社は個人情報保護委員会に報告し、影響を受けた顧客への連絡を進めている。",
    ),
}
_GENERAL_JA = (
    "研究者によると、C2通信には{domain}などのドメインが使われていた。",
    "被害組織は{n}台以上のサーバーが侵害されたことを確認し、調査を進めている。",
    "{researcher}氏は、同様の攻撃が今後も続くとの見方を示した。",
)
_TEXT_EN = {
    "ransomware": (
        "{org} said a ransomware attack disrupted its operations and encrypted file servers "
        "across {n} sites.",
        "The {malware} ransomware gang claimed the attack on its leak site and threatened to "
        "publish {n} GB of stolen data.",
        "Investigators found that the affiliate deleted volume shadow copies and disabled EDR "
        "products before deploying the ransomware.",
        "The ransom demand was reported to be ${n} million, payable in Bitcoin.",
    ),
    "vulnerability": (
        "The vulnerability, tracked as {cve}, has a CVSS score of {score} and allows "
        "unauthenticated remote code execution in {product}.",
        "{vendor} released fixes on {month} {dom} and urged customers to apply them immediately.",
        "CISA added the {product} flaw to its Known Exploited Vulnerabilities catalog and "
        "gave federal agencies {days} days to patch.",
        "A proof-of-concept exploit for {cve} was published on GitHub, and mass scanning "
        "started within hours.",
    ),
    "espionage": (
        "{actor} operators breached {target_en} through an unpatched {product} appliance and "
        "deployed {malware} on {n} hosts.",
        "Researchers observed lateral movement with PowerShell, WMI and PsExec, and "
        "credential dumping from LSASS memory.",
        "{actor} has been active since at least {year} and has previously targeted {target_en}.",
        "The implant communicated with {domain} over HTTPS, blending in with legitimate "
        "cloud traffic.",
    ),
    "arrest": (
        "Police in {city} arrested {n} suspects linked to the {malware} operation and seized "
        "servers and cryptocurrency.",
        "The coordinated operation involved law enforcement agencies from {n} countries.",
    ),
    "phishing": (
        "The phishing emails impersonated {org} and carried a malicious attachment that "
        "dropped {malware}.",
        "The campaign relied on SEO poisoning and fake installers distributed through "
        "malvertising.",
        "The loader fetched its next stage from {url} and injected it into a legitimate process.",
    ),
    "breach": (
        "{org} disclosed that an unauthorized party accessed customer records, including "
        "names, addresses and phone numbers of {n},000 people.",
        "The intruders gained unauthorized access through a compromised VPN account that "
        "lacked multi-factor authentication.",
        "The company notified regulators and is offering credit monitoring to affected customers.",
    ),
}
_GENERAL_EN = (
    "{researcher}, a researcher at {org}, said the activity overlaps with earlier campaigns "
    "against {target_en}.",
    "The attackers exfiltrated data with rclone and WinSCP to servers hosted at {ip}.",
    "Defenders should review authentication logs for unusual logins and reset credentials "
    "that may have been exposed.",
    "The company said it is working with outside incident response experts and has informed "
    "law enforcement.",
    "Indicators of compromise, including file hashes and domains, were shared with partners "
    "in {city}.",
    "It is not yet known how many organizations were affected.",
)
_SYLLABLES = (
    "ka", "ri", "to", "mo", "ve", "lan", "dor", "sen", "qua", "bri", "tal", "nex", "zo",
    "mar", "phi", "gen", "ter", "val", "cor", "sa", "lu", "dex", "vin", "or", "hal",
)  # fmt: skip
_ORG_SUFFIXES = ("Systems", "Logistics", "Health", "Bank", "Energy", "Foods", "Labs")
_ORG_JA_SUFFIXES = ("株式会社", "病院", "大学", "市役所", "信用金庫", "製作所")
_PEOPLE = ("Elena", "Marcus", "Yuki", "Priya", "Tomas", "Aiko", "David", "Sara")
_CITIES = ("Kyiv", "Madrid", "Osaka", "Seoul", "Lagos", "Warsaw", "Toronto", "Manila")
_TARGETS_EN = (
    "a US telecommunications provider", "European manufacturers", "a Japanese defense "
    "contractor", "government agencies in Southeast Asia", "financial institutions",
    "hospitals", "university research labs", "logistics companies", "energy utilities",
    "local governments", "cryptocurrency exchanges", "aerospace firms",
)  # fmt: skip
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August")


@dataclass(frozen=True)
class Entry:
    section: str
    title: str
    url: str
    text: str
    summary: list[str]
    iocs: list[dict[str, Any]]
    recommendations: list[str]
    other: list[str]
    model_recommendations: list[str]


class _Writer(_Vocabulary):
    """bench/read.py's vocabulary, with stories: one subject per entry, its own names."""

    def name(self) -> str:
        return "".join(self.rng.sample(_SYLLABLES, self.rng.randint(2, 3))).title()

    def story(self) -> dict[str, Any]:
        rng = self.rng
        kind = rng.choices([k for k, _ in _KINDS], [w for _, w in _KINDS])[0]
        product = self.pick(_PRODUCTS)
        cve = f"CVE-{rng.randint(2021, 2024)}-{rng.randint(1000, 59999)}"
        if product.startswith("Ivanti") and rng.random() < 0.5:
            cve = SHARED_CVE
        return {
            "kind": kind,
            "actor": self.pick(_ACTORS),
            "malware": self.pick(_MALWARE),
            "product": product,
            "vendor": product.split()[0],
            "target": self.pick(_TARGETS),
            "target_en": self.pick(_TARGETS_EN),
            "org": f"{self.name()} {self.pick(_ORG_SUFFIXES)}",
            "org_ja": f"{self.name()}{self.pick(_ORG_JA_SUFFIXES)}",
            "researcher": f"{self.pick(_PEOPLE)} {self.name()}",
            "city": self.pick(_CITIES),
            "cve": cve,
            "score": f"{rng.randint(70, 100) / 10:.1f}",
            "month": self.pick(_MONTHS),
            "dom": rng.randint(1, 28),
            "day": f"{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            "days": rng.choice((7, 14, 21)),
            "months": rng.randint(2, 14),
            "year": rng.randint(2012, 2023),
        }

    def say(self, template: str, story: dict[str, Any]) -> str:
        """A sentence about the story; numbers and indicators drawn anew each time."""
        return template.format(
            **story,
            n=self.rng.randint(2, 500),
            domain=self.domain().replace("[.]", "."),
            ip=self.ip().replace("[.]", "."),
            url=self.url().replace("[.]", ".").replace("hxxps", "https"),
        )

    def text(self, story: dict[str, Any], english: bool) -> str:
        """2-6 KB of article text: the story's sentences, general ones, paragraphs."""
        own = _TEXT_EN[story["kind"]] if english else _SUMMARY_JA[story["kind"]]
        general = _GENERAL_EN if english else _GENERAL_JA + _SENTENCES
        size = self.rng.randint(2000, 6000)
        paragraphs: list[str] = []
        length = 0
        while length < size:
            sentences = [
                self.say(self.pick(own if self.rng.random() < 0.5 else general), story)
                for _ in range(self.rng.randint(3, 5))
            ]
            paragraph = (" " if english else "").join(sentences)
            paragraphs.append(paragraph)
            length += len(paragraph.encode())
        return "\n\n".join(paragraphs)

    def typed_ioc(self, story: dict[str, Any]) -> dict[str, Any]:
        rng = self.rng
        kind = rng.random()
        if kind < 0.3:
            value, type_ = self.ip().replace("[.]", "."), "ipv4"
        elif kind < 0.55:
            value, type_ = self.domain().replace("[.]", "."), "domain"
        elif kind < 0.72:
            value = self.url().replace("[.]", ".").replace("hxxps", "https")
            type_ = "url"
        elif kind < 0.87:
            value, type_ = f"{rng.getrandbits(256):064x}", "sha256"
        elif kind < 0.95:
            value, type_ = f"{rng.getrandbits(128):032x}", "md5"
        else:
            value, type_ = story["cve"], "cve"
        defanged = value.replace(".", "[.]") if type_ in ("ipv4", "domain", "url") else value
        return {"type": type_, "value": value, "defanged": defanged, "flags": []}

    def entry(self, section: str, number: int) -> Entry:
        rng = self.rng
        story = self.story()
        kind = story["kind"]
        iocs = [self.typed_ioc(story) for _ in range(rng.randint(5, 23))]
        if kind == "vulnerability":
            iocs.append({"type": "cve", "value": story["cve"], "defanged": story["cve"]})
        own = _SUMMARY_JA[kind]
        return Entry(
            section=section,
            title=self.say(self.pick(_TITLES_JA[kind]), story),
            url=f"https://{self.pick(_SITES)}/news/security/story-{number}/",
            text=self.text(story, english=rng.random() < 0.7),
            summary=[
                self.say(self.pick(own if rng.random() < 0.6 else _GENERAL_JA), story)
                for _ in range(rng.randint(4, 6))
            ],
            iocs=iocs if rng.random() < 0.75 else [],
            recommendations=[
                self.fill(self.pick(_RECOMMENDATIONS)) for _ in range(rng.randint(1, 2))
            ],
            other=[self.fill(self.pick(_OTHER))],
            model_recommendations=[self.fill(self.pick(_RECOMMENDATIONS))],
        )


def sections(entries: int) -> list[str]:
    """The section of each of a day's entries, in the digest's proportions."""
    placed: list[str] = []
    for name, share in _SECTIONS:
        placed += [name] * round(entries * share)
    return (placed + ["daily_news"] * entries)[:entries]


def year(days: int, entries: int, seed: int = 16) -> Iterator[tuple[date, list[Entry]]]:
    """The days, oldest first, each with its entries."""
    writer = _Writer(random.Random(seed))  # noqa: S311 - repeatable text, not a secret
    for offset in range(days - 1, -1, -1):
        day = LAST_DAY - timedelta(days=offset)
        yield (
            day,
            [
                writer.entry(section, offset * 1000 + n)
                for n, section in enumerate(sections(entries))
            ],
        )


# The models' tables: their column types and defaults, and executemany with RETURNING in
# the order of the rows (SQLAlchemy's "insertmanyvalues").
_ARTICLES = Article.__table__
_REPORTS = Report.__table__
_ITEMS = ReportItem.__table__


async def write_year(engine: AsyncEngine, days: int, entries: int) -> tuple[int, str]:
    """The year in the database, one transaction per day: the number of entries, and a
    domain of the last one that has any (an indicator seen once, in all likelihood)."""
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    written = 0
    domain = ""
    for day, day_entries in year(days, entries):
        async with engine.begin() as connection:
            insert_report = sa.insert(_REPORTS).values(day=day, **stamps).returning(_REPORTS.c.id)
            report = (await connection.execute(insert_report)).scalar_one()
            articles = [
                {
                    "url": entry.url,
                    "source": "url",
                    "title": entry.title,
                    "lang": "en" if entry.text.isascii() else "ja",
                    "text": entry.text,
                    "content_hash": f"{day}-{position}",
                    **stamps,
                }
                for position, entry in enumerate(day_entries)
            ]
            insert_articles = sa.insert(_ARTICLES).returning(
                _ARTICLES.c.id, sort_by_parameter_order=True
            )
            ids = (await connection.execute(insert_articles, articles)).scalars().all()
            items = [
                {
                    "report_id": report,
                    "article_id": article,
                    "section": entry.section,
                    "position": position,
                    "kind": "link" if entry.section in ("japan_incidents", "memos") else "article",
                    "title": entry.title,
                    "url": entry.url,
                    "summary": entry.summary,
                    "iocs": entry.iocs,
                    "recommendations": entry.recommendations,
                    "other": entry.other,
                    "model_recommendations": entry.model_recommendations,
                    "sources": [],
                    **stamps,
                }
                for position, (entry, article) in enumerate(zip(day_entries, ids, strict=True))
            ]
            await connection.execute(sa.insert(_ITEMS), items)
            written += len(items)
            domains = [i["value"] for e in day_entries for i in e.iocs if i["type"] == "domain"]
            domain = domains[-1] if domains else domain
    return written, domain


# ----------------------------------------------------------------------------- measuring

# English and Japanese, common and rare, one word and several, a phrase, an indicator, a
# name, nothing at all; 2-character Japanese words (no index: newest first), one of them
# in no entry (the whole year is read).
QUERIES = (
    "Ivanti",
    "ransomware",
    '"lateral movement"',
    '"Cobalt Strike" LockBit',
    SHARED_CVE,
    "Quamarve",
    "zzqxj",
    "ランサムウェア",
    "不正アクセス",
    "脆弱性",
    "ランサムウェア 病院",
    "個人情報",
    "侵入",
    "逮捕",
    "鰻丼",
)
PAGE = 20


@dataclass
class Timing:
    """The latencies of one query's runs, in milliseconds."""

    runs: list[float] = field(default_factory=list)

    def cell(self) -> str:
        if not self.runs:
            return "n/a"
        return f"{_ms(percentile(self.runs, 0.5))} / {_ms(percentile(self.runs, 0.99))}"


def percentile(values: list[float], share: float) -> float:
    """Nearest rank: of 30 runs, p99 is the slowest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def _ms(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


async def timed(
    sessionmaker: async_sessionmaker[AsyncSession],
    run: Callable[[AsyncSession], Awaitable[object]],
    rounds: int,
) -> Timing:
    """`run` in a new read session `rounds` times, after one run that is not counted."""
    timing = Timing()
    gc.collect()
    for number in range(rounds + 1):
        began = time.perf_counter()
        async with sessionmaker() as session:
            await run(session)
        if number:
            timing.runs.append((time.perf_counter() - began) * 1000)
    return timing


@dataclass
class Backend:
    name: str
    url: str
    version: str = ""
    seconds: float = 0.0  # writing the year
    sizes: str = ""
    last_domain: str = ""


@dataclass
class Row:
    cells: list[str]


@dataclass
class Section:
    """A part of the benchmark: its table's title and header, and its rows per backend."""

    title: str
    header: list[str]
    measure: Callable[[Backend, AsyncEngine, argparse.Namespace], Awaitable[list[Row]]]
    note: str = ""


def _like(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _terms(text: str) -> list[str]:
    return [term.text for term in parse_query(text).terms]


_DOCUMENT_COLUMNS = ("title", "notes", "body")


def _naive_where(terms: list[str], params: dict[str, str], operator: str = "LIKE") -> str:
    """Every term somewhere in the text: `col LIKE lower('%term%')` for each column."""
    conditions = []
    for number, term in enumerate(terms):
        params[f"t{number}"] = _like(term)
        key = f"lower(:t{number})"
        conditions.append(
            "("
            + " OR ".join(f"d.{c} {operator} {key} ESCAPE '\\'" for c in _DOCUMENT_COLUMNS)
            + ")"
        )
    return " AND ".join(conditions)


_PAGE_OF = """
    SELECT page.item_id, i.title, i.url, i.summary, a.text FROM page
    JOIN report_items AS i ON i.id = page.item_id
    LEFT JOIN articles AS a ON a.id = i.article_id"""


def naive_sql(terms: list[str], params: dict[str, str]) -> str:
    """The plain way: LIKE over the text, newest first, a page of entries."""
    return f"""
        WITH page AS (
            SELECT d.item_id, d.day FROM search_documents AS d
            WHERE {_naive_where(terms, params)}
            ORDER BY d.day DESC, d.item_id DESC LIMIT {PAGE + 1}
        ) {_PAGE_OF} ORDER BY page.day DESC, page.item_id DESC"""  # noqa: S608


async def _execute(session: AsyncSession, sql: str, params: dict[str, str]) -> list[Any]:
    return list((await session.execute(sa.text(sql), params)).all())


async def _no_index(session: AsyncSession, dialect: str) -> None:
    if dialect == "postgresql":  # SQLite's LIKE never uses FTS5
        await session.execute(sa.text("SET LOCAL enable_bitmapscan = off"))


async def _index_only(session: AsyncSession, dialect: str) -> None:
    if dialect == "postgresql":  # as the service does (engine.py says why)
        await session.execute(sa.text("SET LOCAL enable_seqscan = off"))


def pg_variant_sql(terms: list[str], params: dict[str, str], variant: str) -> str:
    """pg_trgm's other ways, on the same documents and index, a page as the service's."""
    params.update({f"w{n}": term.lower() for n, term in enumerate(terms)})
    if variant == "fuzzy":
        where = " AND ".join(
            "(" + " OR ".join(f":w{n} <% d.{c}" for c in _DOCUMENT_COLUMNS) + ")"
            for n in range(len(terms))
        )
    else:
        where = _naive_where(terms, params, "ILIKE" if variant == "ilike" else "LIKE")
    if variant == "ilike":
        score = " + ".join(
            f"3 * (d.title ILIKE lower(:t{n}))::int + 2 * (d.notes ILIKE lower(:t{n}))::int"
            for n in range(len(terms))
        )
    else:
        score = " + ".join(
            "greatest("
            + ", ".join(f"word_similarity(:w{n}, d.{c})" for c in _DOCUMENT_COLUMNS)
            + ")"
            for n in range(len(terms))
        )
    return f"""
        WITH page AS (
            SELECT d.item_id, d.day, {score} AS score FROM search_documents AS d
            WHERE {where}
            ORDER BY score DESC, d.day DESC, d.item_id DESC LIMIT {PAGE + 1}
        ) {_PAGE_OF} ORDER BY page.score DESC, page.day DESC, page.item_id DESC"""  # noqa: S608


async def _all_found(session: AsyncSession, terms: list[str], dialect: str) -> set[int]:
    """Every entry that LIKE finds: the truth a search is checked against."""
    params: dict[str, str] = {}
    await _no_index(session, dialect)
    where = _naive_where(terms, params)
    sql = f"SELECT d.item_id FROM search_documents AS d WHERE {where}"  # noqa: S608
    return {row[0] for row in await _execute(session, sql, params)}


async def _walked(session: AsyncSession, text: str) -> list[int]:
    """Every entry the search gives, page after page."""
    found: list[int] = []
    cursor = None
    while True:
        page = await search(session, text=text, limit=100, cursor=cursor)
        found += [hit.item_id for hit in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            return found


async def measure_search(
    backend: Backend, engine: AsyncEngine, options: argparse.Namespace
) -> list[Row]:
    dialect = engine.dialect.name
    sessions = create_read_sessionmaker(engine)
    rows: list[Row] = []
    pooled: dict[str, list[float]] = {"search": [], "like": []}
    for text in QUERIES:
        terms = _terms(text)
        indexed = parse_query(text).ranking is Ranking.RELEVANCE

        async def ours(session: AsyncSession, text: str = text) -> object:
            return await search(session, text=text, limit=PAGE)

        async def naive(session: AsyncSession, terms: list[str] = terms) -> object:
            params: dict[str, str] = {}
            await _no_index(session, dialect)
            return await _execute(session, naive_sql(terms, params), params)

        mine = await timed(sessions, ours, options.rounds)
        like = await timed(sessions, naive, max(3, options.rounds // 3))
        pooled["search"] += mine.runs
        pooled["like"] += like.runs
        async with sessions() as session:
            truth = await _all_found(session, terms, dialect)
        async with sessions() as session:
            walked = await _walked(session, text)
        same = (
            "yes"
            if sorted(walked) == sorted(truth) and len(walked) == len(set(walked))
            else (f"NO ({len(walked)} walked)")
        )
        cells = [f"`{text}`", str(len(truth)), mine.cell(), like.cell()]
        if dialect == "postgresql":
            for variant in ("ilike", "similarity", "fuzzy"):
                cells.append(await _variant_cell(sessions, terms, variant, indexed, options))
        cells.append(same if indexed else f"{same} (newest first)")
        rows.append(Row(cells))
    total = ["**all queries**", "", Timing(pooled["search"]).cell(), Timing(pooled["like"]).cell()]
    rows.append(Row(total + [""] * (4 if dialect == "postgresql" else 1)))
    return rows


async def _variant_cell(
    sessions: async_sessionmaker[AsyncSession],
    terms: list[str],
    variant: str,
    indexed: bool,
    options: argparse.Namespace,
) -> str:
    if not indexed or any(len(term) < 3 for term in terms):
        return "n/a"

    async def run(session: AsyncSession) -> object:
        params: dict[str, str] = {}
        await _index_only(session, "postgresql")
        return await _execute(session, pg_variant_sql(terms, params, variant), params)

    # word_similarity() reads every candidate's whole text: seconds, not milliseconds.
    rounds = options.rounds if variant == "ilike" else max(2, options.rounds // 10)
    timing = await timed(sessions, run, rounds)
    if variant != "fuzzy":
        return timing.cell()
    async with sessions() as session:
        params: dict[str, str] = {}
        await _index_only(session, "postgresql")
        sql = pg_variant_sql(terms, params, variant).replace(f"LIMIT {PAGE + 1}", "")
        found = len(await _execute(session, sql, params))
    return f"{timing.cell()} ({found} found)"


SEARCH = Section(
    title="Search: the first page (20 entries with snippets), ms",
    header=["query", "entries with every term", "search p50 / p99", "LIKE p50 / p99"],
    measure=measure_search,
)
PG_SEARCH_HEADER = [
    "ILIKE + same rank",
    "word_similarity rank",
    "`<%` fuzzy (entries)",
]


# ------------------------------------------------------------------------------ lookups


def lookup_values(backend: Backend) -> list[tuple[str, str]]:
    """(what it is, value): seen often, seen once (the year's last domain), never."""
    return [
        ("seen often", SHARED_CVE),
        ("seen once", backend.last_domain),
        ("never seen", "never-seen-host.com"),
    ]


async def measure_lookups(
    backend: Backend, engine: AsyncEngine, options: argparse.Namespace
) -> list[Row]:
    dialect = engine.dialect.name
    sessions = create_read_sessionmaker(engine)
    as_text = "i.iocs" if dialect == "sqlite" else "i.iocs::text"
    rows: list[Row] = []
    for label, value in lookup_values(backend):

        async def ours(session: AsyncSession, value: str = value) -> object:
            try:
                return await indicator_summary(session, value, limit=50)
            except NotFound:
                return None

        async def naive(session: AsyncSession, value: str = value) -> object:
            sql = f"""
                SELECT i.id, r.day FROM report_items AS i JOIN reports AS r ON r.id = i.report_id
                WHERE {as_text} LIKE :pattern ORDER BY r.day DESC, i.id DESC LIMIT 50"""  # noqa: S608
            return await _execute(session, sql, {"pattern": _like(f'"{value}"')})

        mine = await timed(sessions, ours, options.rounds)
        like = await timed(sessions, naive, max(3, options.rounds // 3))
        async with sessions() as session:
            summary = await ours(session)
        count = getattr(summary, "count", 0) if summary is not None else 0
        rows.append(Row([f"{label}: `{value}`", str(count), mine.cell(), like.cell()]))
    return rows


LOOKUPS = Section(
    title="Lookups: GET /indicators?value= (50 sightings), ms",
    header=["indicator", "sightings", "lookup p50 / p99", "LIKE over iocs JSON p50 / p99"],
    measure=measure_lookups,
)
SECTIONS = [SEARCH, LOOKUPS]


# ---------------------------------------------------------------------------------- run


async def prepare(backend: Backend, options: argparse.Namespace) -> AsyncEngine:
    """The year in a migrated database; its sizes."""
    await asyncio.to_thread(upgrade, backend.url)
    engine = create_engine(backend.url)
    began = time.perf_counter()
    entries, backend.last_domain = await write_year(engine, options.days, options.entries)
    backend.seconds = time.perf_counter() - began
    async with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await autocommit.execute(sa.text("VACUUM ANALYZE"))
            backend.version = "PostgreSQL " + str(
                (await connection.execute(sa.text("SHOW server_version"))).scalar_one()
            )
            sizes = (
                await connection.execute(
                    sa.text(
                        "SELECT pg_database_size(current_database()), "
                        "pg_total_relation_size('search_documents'), "
                        "pg_relation_size('ix_search_documents_trgm'), "
                        "pg_total_relation_size('articles') "
                        "+ pg_total_relation_size('report_items')"
                    )
                )
            ).one()
            backend.sizes = (
                f"database {_mb(sizes[0])}: entries and articles {_mb(sizes[3])}, search "
                f"documents {_mb(sizes[1])} of which the trigram index {_mb(sizes[2])}"
            )
        else:
            version = (await connection.execute(sa.text("SELECT sqlite_version()"))).scalar_one()
            backend.version = f"SQLite {version}"
            pages = dict(
                (
                    await connection.execute(
                        sa.text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")
                    )
                ).all()
            )
            search_bytes = sum(size for name, size in pages.items() if "search" in name)
            index_bytes = sum(size for name, size in pages.items() if name.startswith("search_fts"))
            base = sum(pages.get(name, 0) for name in ("articles", "report_items"))
            backend.sizes = (
                f"database {_mb(sum(pages.values()))}: entries and articles {_mb(base)}, search "
                f"documents {_mb(search_bytes)} of which the FTS5 index {_mb(index_bytes)}"
            )
    print(
        f"{backend.version}: {entries} entries written in {backend.seconds:.0f} s; {backend.sizes}"
    )
    return engine


def _mb(size: int) -> str:
    return f"{size / 1_000_000:.0f} MB"


def machine_lines(options: argparse.Namespace, backends: list[Backend]) -> None:
    cpu = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    ).stdout.strip()
    print(f"machine: {os.cpu_count()} CPUs, {cpu}, {platform.platform()}")
    changed = subprocess.run(
        ["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT, check=False
    ).stdout.splitlines()
    dirty = f" with {len(changed)} files changed or new" if changed else ""
    print(f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; git {commit}{dirty}")
    print(
        f"command: make bench-memory (bench/memory.py {' '.join(sys.argv[1:])})".replace(" )", ")")
    )
    print(
        f"versions: Python {platform.python_version()}, "
        + ", ".join(f"{name} {metadata.version(name)}" for name in ("sqlalchemy", "asyncpg"))
        + "".join(f", {b.version}" for b in backends)
    )
    print(f"load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


def print_section(section: Section, backend: Backend, rows: list[Row], dialect: str) -> None:
    header = list(section.header)
    if section is SEARCH and dialect == "postgresql":
        header += PG_SEARCH_HEADER
    if section is SEARCH:
        header.append("same entries as LIKE")
    print(f"\n### {backend.version}: {section.title}\n")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row.cells) + " |")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--entries", type=int, default=30, help="entries per day")
    parser.add_argument("--rounds", type=int, default=30, help="runs of each query")
    parser.add_argument("--postgres", metavar="URL", help=f"default {DEFAULT_POSTGRES}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--only", choices=[s.measure.__name__.removeprefix("measure_") for s in SECTIONS]
    )
    return parser.parse_args()


async def run(options: argparse.Namespace, backends: list[Backend]) -> None:
    sections = [
        s for s in SECTIONS if options.only in (None, s.measure.__name__.removeprefix("measure_"))
    ]
    results: list[tuple[Section, Backend, list[Row], str]] = []
    for backend in backends:
        engine = await prepare(backend, options)
        try:
            for section in sections:
                rows = await section.measure(backend, engine, options)
                results.append((section, backend, rows, engine.dialect.name))
        finally:
            await engine.dispose()
    print(
        f"\n## {options.days} days x {options.entries} entries "
        f"({options.days * options.entries} entries, each with its article)\n"
    )
    machine_lines(options, backends)
    for backend in backends:
        print(f"\n{backend.version}: the year written in {backend.seconds:.0f} s; {backend.sizes}")
    for section, backend, rows, dialect in results:
        print_section(section, backend, rows, dialect)


def main() -> int:
    options = parse_args()
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="secdigest-bench-")))
        backends = [Backend("SQLite", f"sqlite:///{tmp / 'memory.db'}")]
        admin = options.postgres or DEFAULT_POSTGRES
        if not options.no_postgres and (options.postgres or postgres_answers(admin)):
            database = stack.enter_context(postgres_database(admin))
            backends.append(Backend("PostgreSQL", database.url))
        asyncio.run(run(options, backends))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
