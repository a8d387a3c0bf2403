"""The sections of the daily digest, in the order the report shows them."""

from __future__ import annotations

from enum import StrEnum


class Section(StrEnum):
    """Where an item sits in the daily report; the value is the stable JSON key."""

    TOOLS = "tools"
    MALWARE_CAMPAIGN = "malware_campaign"
    SECURITY_REPORT = "security_report"
    CYBERCRIME_TOPICS = "cybercrime_topics"
    DAILY_NEWS = "daily_news"
    JAPAN_INCIDENTS = "japan_incidents"
    MEMOS = "memos"


SECTION_ORDER: tuple[Section, ...] = tuple(Section)

# Where a section comes in the report: for sorting items by section, then position.
SECTION_RANK: dict[str, int] = {section.value: index for index, section in enumerate(SECTION_ORDER)}

# Sections the digest writes as `- [title](url)` lines rather than summarized entries.
LINK_SECTIONS = frozenset({Section.JAPAN_INCIDENTS, Section.MEMOS})

# Headings as the sample digest writes them. The four English headings are English in the
# Japanese digest too: that is how the analysts' sample reads, byte for byte.
SECTION_HEADINGS: dict[str, dict[Section, str]] = {
    "ja": {
        Section.TOOLS: "Tools",
        Section.MALWARE_CAMPAIGN: "malware campaign",
        Section.SECURITY_REPORT: "security report",
        Section.CYBERCRIME_TOPICS: "cybercrime topics",
        Section.DAILY_NEWS: "日々のニュース要約",
        Section.JAPAN_INCIDENTS: "日本のインシデント事例",
        Section.MEMOS: "その他のメモ",
    },
    "en": {
        Section.TOOLS: "Tools",
        Section.MALWARE_CAMPAIGN: "malware campaign",
        Section.SECURITY_REPORT: "security report",
        Section.CYBERCRIME_TOPICS: "cybercrime topics",
        Section.DAILY_NEWS: "Daily news summaries",
        Section.JAPAN_INCIDENTS: "Japanese incident cases",
        Section.MEMOS: "Other memos",
    },
}
