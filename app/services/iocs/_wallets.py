"""Cryptocurrency wallets (private helper of _scan): bitcoin, ethereum, monero addresses.

Only a value whose checksum holds counts, so a random-looking word is never a wallet:
- ``bitcoin``: base58check P2PKH ``1...`` and P2SH ``3...`` (25 bytes, version 0x00 or 0x05,
  double SHA-256 checksum), and segwit ``bc1q...`` (witness version 0, BIP-173 bech32, a
  20- or 32-byte program) and ``bc1p...`` (version 1, taproot, BIP-350 bech32m); one case
  throughout, the value lowercased. Versions 2 to 16 are valid BIP-350 strings but defined
  on no network ("no recipient should ever provide them", says the BIP), so no report lists
  one as a wallet; leaving them out keeps hex runs ("...bc3...") from being candidates.
  Testnet (``tb1``, ``m``/``n``/``2``) is not reported: the wallets of a report are mainnet.
- ``ethereum``: ``0x`` and 40 hex digits; written in mixed case, the EIP-55 checksum must
  hold. The value is lowercased (one value per address however it is written; the EIP-55
  form can be computed from it).
- ``monero``: Monero's block-wise base58, 95 characters (standard ``4...``, network byte
  0x12; subaddress ``8...``, 0x2a) or 106 (integrated ``4...``, 0x13), Keccak-256 checksum.

A wallet is a whole token (no ASCII letter or digit on either side; Japanese text runs
straight on: 「ウォレット1A1z...に送金」) outside the spans of the URLs.

Speed: this runs on every text, and the regex engine tries a leading character class one
character at a time. So the text is first mapped to a few classes of characters
(``bytes.translate``, one table lookup per character, offsets kept), where the wallets
start with literals that the engine finds at C speed: a non-alphanumeric then 1 3 4 8 b B
(base58 and segwit), and "0x". Only those candidates are decoded and checked.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from app.services.iocs._hit import Hit
from app.services.iocs._rules import hash_digest

_B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_VALUES = {c: i for i, c in enumerate(_B58)}
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _classes() -> bytes:
    """The translation table: one byte per ASCII character class.

    " " not a letter or digit (non-ASCII characters are encoded as "?" first), "S" a
    character that can start a bitcoin or monero address (1 3 4 8 b B, all base58), "C"
    "c"/"C", "Q" "p"/"q" in any case, "X" "x", "x" the other base58 digits, "Z" "0",
    "y" the other letters (O I l).
    """
    table = bytearray(b" " * 256)
    for chars, cls in (
        (_ALNUM, "y"),
        (_B58, "x"),
        ("1348bB", "S"),
        ("cC", "C"),
        ("pqPQ", "Q"),
        ("x", "X"),
        ("0", "Z"),
    ):
        for c in chars:
            table[ord(c)] = ord(cls)
    return bytes(table)


_CLASSES = _classes()
# In the classes ("[^ ]" is a letter or digit; the text is preceded by one " "): a whole
# token after a non-alphanumeric, either 26 to 106 base58 characters starting with 1 3 4 8
# (or b B, rejected later), or "bc1q"/"bc1p" in any case, 14 to 90 characters in all,
_TOKEN = re.compile(rb" S(?:[SxXCQ]{25,105}+|CSQ[^ ]{10,86}+)(?![^ ])")
# and "0x" after a non-alphanumeric, then 40 characters that may be hex digits, then no
# letter or digit (anchored on the "x", the rarest of these classes in prose).
_ETH_TOKEN = re.compile(rb"X(?<= ZX)[SxCZ]{40}(?![^ ])")

_HEX = frozenset("0123456789abcdefABCDEF")
_BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_BECH32_VALUES = {c: i for i, c in enumerate(_BECH32_CHARSET)}
_BECH32_GEN = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
_BECH32_CONST = 1
_BECH32M_CONST = 0x2BC830A3
_HRP_BC = (3, 3, 0, 2, 3)  # BIP-173 hrp_expand("bc")
# Monero base58: 8-byte blocks are 11 characters, a last, shorter block fewer: the bytes of
# a block of n characters.
_XMR_BLOCK_BYTES = {2: 1, 3: 2, 5: 3, 6: 4, 7: 5, 9: 6, 10: 7, 11: 8}
_XMR_NETWORK = {(95, "4"): 0x12, (95, "8"): 0x2A, (106, "4"): 0x13}


def wallet_hits(r: str, urls: list[Hit]) -> list[Hit]:
    """bitcoin, ethereum, monero addresses whose checksum holds, sorted by start."""
    if len(r) < 14:  # bc1p and 10 characters: the shortest segwit address (BIP-350)
        return []
    # offsets: classes[i + 1] is the class of r[i]
    classes = b" " + r.encode("ascii", "replace").translate(_CLASSES)
    found: list[Hit] = []
    for m in _TOKEN.finditer(classes):
        start, end = m.start(), m.end() - 1
        token = r[start:end]
        hit = _segwit(token, start) if token[0] in "bB" else _base58_wallet(token, start)
        if hit is not None:
            found.append(hit)
    for m in _ETH_TOKEN.finditer(classes):
        hit = _ethereum(r, m.start() - 2)
        if hit is not None:
            found.append(hit)
    if found and urls:
        starts = [u.start for u in urls]
        found = [h for h in found if not _overlaps(urls, starts, h.start, h.end)]
    if len(found) > 1:
        found.sort(key=lambda h: h.start)
    return found


def _overlaps(spans: list[Hit], starts: list[int], start: int, end: int) -> bool:
    """True if [start, end) overlaps one of ``spans`` (sorted by start, not overlapping)."""
    i = bisect_right(starts, start) - 1
    if i >= 0 and spans[i].end > start:
        return True
    return i + 1 < len(spans) and spans[i + 1].start < end


def _base58_wallet(token: str, start: int) -> Hit | None:
    n = len(token)
    if n <= 35:
        if token[0] in "13" and _base58check_ok(token):
            return Hit("bitcoin", token, start, start + n)
        return None
    network = _XMR_NETWORK.get((n, token[0]))
    if network is not None and _monero_ok(token, network):
        return Hit("monero", token, start, start + n)
    return None


def _base58check_ok(token: str) -> bool:
    """A P2PKH or P2SH address: 25 bytes, version 0x00 or 0x05, double SHA-256 checksum."""
    n = 0
    for c in token:
        n = n * 58 + _B58_VALUES[c]
    zeros = len(token) - len(token.lstrip("1"))
    if zeros + (n.bit_length() + 7) // 8 != 25:
        return False
    data = n.to_bytes(25, "big")
    if data[0] not in (0x00, 0x05):
        return False
    check = hash_digest("sha256", hash_digest("sha256", data[:21]))
    return check[:4] == data[21:]


def _monero_ok(token: str, network: int) -> bool:
    """Monero base58 decodes block by block, starts with its network byte, and ends with
    the first 4 bytes of the Keccak-256 of what precedes."""
    data = bytearray()
    for i in range(0, len(token), 11):
        block = token[i : i + 11]
        size = _XMR_BLOCK_BYTES.get(len(block))
        if size is None:
            return False
        n = 0
        for c in block:
            n = n * 58 + _B58_VALUES[c]
        if n >> (8 * size):
            return False  # more than the block's bytes can hold: not an encoding
        data += n.to_bytes(size, "big")
    if data[0] != network:
        return False
    return _keccak256(bytes(data[:-4]))[:4] == data[-4:]


def _ethereum(r: str, start: int) -> Hit | None:
    digits = r[start + 2 : start + 42]
    if r[start + 1] != "x" or not _HEX.issuperset(digits):
        return None
    lower = digits.lower()
    if digits not in (lower, digits.upper()) and not _eip55_ok(digits, lower):
        return None
    return Hit("ethereum", "0x" + lower, start, start + 42)


def _eip55_ok(digits: str, lower: str) -> bool:
    """EIP-55: a letter is upper case where the nibble of Keccak-256(lowercase hex) is >= 8."""
    digest = _keccak256(lower.encode("ascii")).hex()
    return all(
        (int(h, 16) >= 8) == c.isupper() for c, h in zip(digits, digest, strict=False) if c > "9"
    )


def _segwit(token: str, start: int) -> Hit | None:
    address = token.lower()
    if token not in (address, token.upper()) or not _segwit_ok(address):
        return None  # mixed case is no bech32 string
    return Hit("bitcoin", address, start, start + len(token))


def _segwit_ok(address: str) -> bool:
    """BIP-173/BIP-350 decoding of a lowercase ``bc1`` address (the reference algorithm),
    for witness versions 0 and 1 only (see the module's docstring)."""
    if len(address) > 90 or not address.startswith("bc1"):
        return False
    data = [_BECH32_VALUES.get(c, 32) for c in address[3:]]
    if 32 in data:
        return False  # not a bech32 character (1 b i o)
    const = _bech32_polymod([*_HRP_BC, *data])
    if const not in (_BECH32_CONST, _BECH32M_CONST):
        return False
    version = data[0]
    program = _from_5_bits(data[1:-6])
    if program is None or not 2 <= len(program) <= 40 or version > 1:
        return False
    if version == 0:
        return const == _BECH32_CONST and len(program) in (20, 32)
    return const == _BECH32M_CONST


def _bech32_polymod(values: list[int]) -> int:
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            if (top >> i) & 1:
                chk ^= _BECH32_GEN[i]
    return chk


def _from_5_bits(data: list[int]) -> list[int] | None:
    """Regroup 5-bit values into bytes; None if the padding is not zero bits (< 5)."""
    acc = bits = 0
    out: list[int] = []
    for value in data:
        acc = ((acc << 5) | value) & 0xFFF
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        return None
    return out


# Keccak-f[1600] (FIPS 202, section 3): the round constants, and for rho and pi each lane's
# source index (x + 5y), its rotation and its destination (y + 5 * ((2x + 3y) % 5)).
_KECCAK_RC = (
    0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
    0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
    0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
    0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
    0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
    0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
)  # fmt: skip
# rotations, indexed by x + 5y
_KECCAK_ROT = (
    0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14
)  # fmt: skip
_KECCAK_PI = tuple(
    (x + 5 * y, _KECCAK_ROT[x + 5 * y], y + 5 * ((2 * x + 3 * y) % 5))
    for y in range(5)
    for x in range(5)
)
_KECCAK_RATE = 136  # bytes: 1600 bits less twice the 256-bit capacity
_MASK64 = (1 << 64) - 1


def _keccak256(data: bytes) -> bytes:
    """Keccak-256 as Ethereum and Monero use it: the original Keccak padding (0x01 ... 0x80),
    not NIST SHA3-256's (0x06 ... 0x80), so hashlib.sha3_256 gives other digests.

    Pure Python, ~0.2 ms for the one block of an address: only candidates are hashed, and a
    cryptography library would cost its import (~40 ms) at each start of the command.
    """
    padded = bytearray(data)
    padded.append(0x01)
    padded += bytes(-len(padded) % _KECCAK_RATE)
    padded[-1] |= 0x80
    lanes = [0] * 25
    for offset in range(0, len(padded), _KECCAK_RATE):
        for i in range(_KECCAK_RATE // 8):
            start = offset + 8 * i
            lanes[i] ^= int.from_bytes(padded[start : start + 8], "little")
        _keccak_f(lanes)
    return b"".join(lane.to_bytes(8, "little") for lane in lanes[:4])


def _keccak_f(a: list[int]) -> None:
    """The 24 rounds of Keccak-f[1600] on the 25 lanes ``a`` (x + 5y), in place."""
    b = [0] * 25
    for rc in _KECCAK_RC:
        # theta
        c0 = a[0] ^ a[5] ^ a[10] ^ a[15] ^ a[20]
        c1 = a[1] ^ a[6] ^ a[11] ^ a[16] ^ a[21]
        c2 = a[2] ^ a[7] ^ a[12] ^ a[17] ^ a[22]
        c3 = a[3] ^ a[8] ^ a[13] ^ a[18] ^ a[23]
        c4 = a[4] ^ a[9] ^ a[14] ^ a[19] ^ a[24]
        d = (
            c4 ^ ((c1 << 1 | c1 >> 63) & _MASK64),
            c0 ^ ((c2 << 1 | c2 >> 63) & _MASK64),
            c1 ^ ((c3 << 1 | c3 >> 63) & _MASK64),
            c2 ^ ((c4 << 1 | c4 >> 63) & _MASK64),
            c3 ^ ((c0 << 1 | c0 >> 63) & _MASK64),
        )
        # rho and pi
        for src, rot, dst in _KECCAK_PI:
            v = a[src] ^ d[src % 5]
            b[dst] = (v << rot | v >> (64 - rot)) & _MASK64
        # chi (b is below 2**64, so ~x & y stays within 64 bits), then iota
        for y in range(0, 25, 5):
            b0, b1, b2, b3, b4 = b[y : y + 5]
            a[y] = b0 ^ (~b1 & b2)
            a[y + 1] = b1 ^ (~b2 & b3)
            a[y + 2] = b2 ^ (~b3 & b4)
            a[y + 3] = b3 ^ (~b4 & b0)
            a[y + 4] = b4 ^ (~b0 & b1)
        a[0] ^= rc
