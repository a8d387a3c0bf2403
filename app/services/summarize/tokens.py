"""Token counts with tiktoken's cl100k_base, built from the vendored file: never downloaded.

`tiktoken.get_encoding("cl100k_base")` would fetch the BPE ranks from the internet on
first use; the service has no internet, so the Encoding is assembled here from
``app/data/tiktoken/cl100k_base.tiktoken`` (the official file, checked by its sha256) with
the pattern and special tokens of ``tiktoken_ext.openai_public.cl100k_base``. The counts
are exact for OpenAI's gpt-4/gpt-3.5 family and a close, deterministic estimate for other
models, which is all a budget needs.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import tiktoken
from tiktoken.load import load_tiktoken_bpe

BPE_FILE = Path(__file__).resolve().parents[2] / "data" / "tiktoken" / "cl100k_base.tiktoken"
BPE_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"

# From tiktoken_ext/openai_public.py (cl100k_base), tiktoken 0.7+.
_PAT_STR = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_SPECIAL_TOKENS = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}


@lru_cache(maxsize=1)
def encoding() -> tiktoken.Encoding:
    """The cl100k_base Encoding, loaded once from the vendored file (hash checked)."""
    # A local path: tiktoken reads it from disk and refuses it if the sha256 differs.
    ranks = load_tiktoken_bpe(str(BPE_FILE), expected_hash=BPE_SHA256)
    return tiktoken.Encoding(
        name="cl100k_base",
        pat_str=_PAT_STR,
        mergeable_ranks=ranks,
        special_tokens=_SPECIAL_TOKENS,
    )


def count_tokens(text: str) -> int:
    """Tokens in ``text``; special-token lookalikes in an article are counted as text."""
    return len(encoding().encode_ordinary(text))
