"""`secdigest iocs`: indicators in text; `--jsonl`, the batch path scripts call per file.

The batch path's start-up is part of its cost, so this module imports nothing heavy at the
top: `iocs_jsonl` loads only the scanner (check with `python -X importtime -m app.cli iocs
--jsonl < /dev/null`).
"""

from __future__ import annotations

import json
import sys

from app.cli._common import CliError, print_json, read_input

TYPE_CHECKING = False
if TYPE_CHECKING:
    import argparse


def cmd_iocs(args: argparse.Namespace) -> int:
    """Indicators in text (stdin by default), or a JSON-lines batch."""
    if args.jsonl:
        return iocs_jsonl()
    from app.services.iocs import find_iocs

    found = find_iocs(read_input(args.file))
    if args.format == "text":
        for ioc in found:
            print(f"{ioc.type.value}\t{ioc.value}")
    else:
        print_json(
            [{"type": i.type.value, "value": i.value, "defanged": i.defanged} for i in found]
        )
    return 0


def iocs_jsonl() -> int:
    """JSON lines {"id","text"} on stdin to JSON lines {"id","iocs"} on stdout."""
    # The batch path imports only the scanner: its start-up is part of its cost.
    from app.services.iocs._scan import ioc_values

    # Written by hand around json's own string encoder: the same JSON as json.dumps of
    # {"id", "iocs": [{"type", "value"}]}, at a third of the cost for thousands of values.
    quote = json.encoder.encode_basestring
    out = sys.stdout
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            text = record["text"]
            if not isinstance(text, str):
                raise TypeError(text)
            key = record.get("id")
        except (ValueError, TypeError, KeyError, AttributeError):
            raise CliError(f'stdin line {number}: not a JSON object with a "text"') from None
        iocs = ",".join(
            f'{{"type":"{kind}","value":{quote(value)}}}' for kind, value in ioc_values(text)
        )
        out.write(f'{{"id":{json.dumps(key)},"iocs":[{iocs}]}}\n')
    return 0
