"""The pure-Python Keccak-256 behind the EIP-55 and Monero checksums (original Keccak padding)."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest

from app.services.iocs._wallets import _keccak256

# Digests from the Keccak team's reference (as pycryptodome's keccak.new(digest_bits=256)
# and Ethereum's web3.keccak give them): the empty string, "abc", and the lengths around the
# 136-byte rate, where the padding fills a block, spills into a second one or starts one.
VECTORS = [
    (b"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"),
    (b"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"),
    (b"a" * 135, "34367dc248bbd832f4e3e69dfaac2f92638bd0bbd18f2912ba4ef454919cf446"),
    (b"a" * 136, "a6c4d403279fe3e0af03729caada8374b5ca54d8065329a3ebcaeb4b60aa386e"),
    (b"a" * 137, "d869f639c7046b4929fc92a4d988a8b22c55fbadb802c0c66ebcd484f1915f39"),
    (bytes(range(256)) * 2, "f55ba327291604f0e5be6651752398b7be2331aad65f5763ce067df95cc13be1"),
]


@pytest.mark.parametrize(("data", "digest"), VECTORS, ids=lambda v: str(len(v)))
def test_known_vectors(data: bytes, digest: str) -> None:
    assert _keccak256(data).hex() == digest


def test_is_not_nist_sha3() -> None:
    # SHA3-256 pads with 0x06: same permutation, other digests
    assert _keccak256(b"") != hashlib.sha3_256(b"").digest()


def test_eip55_example_address_checksum() -> None:
    # EIP-55: a hex letter is upper case where the digest's nibble is 8 or more
    address = "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
    digest = _keccak256(address.lower().encode()).hex()
    pairs = zip(address.lower(), digest[:40], strict=True)
    assert "".join(c.upper() if c > "9" and int(h, 16) >= 8 else c for c, h in pairs) == address


def test_checking_wallets_imports_no_crypto_library() -> None:
    code = (
        "import sys\n"
        "from app.services.iocs._scan import ioc_values\n"
        "print(ioc_values('pay 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed now'))\n"
        "print('Crypto' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == ["[('ethereum', '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed')]", "False"]
