"""Make the wallet, onion, fuzzy-hash and TLS values of bench/ioc_types; check its cases.

Not part of the benchmark run. The values in cases.jsonl were made once by this script (fixed
seed) with the real algorithms, then pasted into hand-written passages; the truth was written
by hand, never from an extractor's output.

    python bench/ioc_types/make_values.py            # print the named values (JSON)
    python bench/ioc_types/make_values.py --check    # check bench/ioc_types/cases.jsonl

Algorithms: Base58Check with double SHA-256 (Bitcoin P2PKH/P2SH), Bech32 (BIP-173) and
Bech32m (BIP-350) for SegWit v0/v1, EIP-55 mixed case with Keccak-256 for Ethereum, Monero's
block Base58 with a Keccak-256 checksum (standard, sub- and integrated addresses), Tor v3
onion names (base32 of pubkey || SHA3-256(".onion checksum" || pubkey || 0x03)[:2] || 0x03),
ssdeep (ppdeep) and TLSH (py-tlsh) of made-up bytes, imphash/JA3/JA3S as MD5 of made-up
import and ClientHello strings, JA4 and JARM in their published layouts.

Generation needs pycryptodome, ppdeep and py-tlsh (`pip install ppdeep py-tlsh` in a throwaway
venv: they are not project dependencies); --check needs pycryptodome only.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import sys
from pathlib import Path

from Crypto.Hash import keccak

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
HERE = Path(__file__).resolve().parent


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


# ----------------------------------------------------------------------------- Bitcoin
def b58encode(data: bytes) -> str:
    n = int.from_bytes(data, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    pad = len(data) - len(data.lstrip(b"\0"))
    return "1" * pad + out


def b58decode(s: str) -> bytes:
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    pad = len(s) - len(s.lstrip("1"))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big") if n else b""
    return b"\0" * pad + body


def b58check(version: int, payload: bytes) -> str:
    raw = bytes([version]) + payload
    return b58encode(raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4])


def b58check_ok(s: str) -> bool:
    try:
        raw = b58decode(s)
    except ValueError:
        return False
    body, check = raw[:-4], raw[-4:]
    return len(raw) == 25 and hashlib.sha256(hashlib.sha256(body).digest()).digest()[:4] == check


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
BECH32M_CONST = 0x2BC830A3


def _polymod(values: list[int]) -> int:
    gen = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if (b >> i) & 1 else 0
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]


def _convertbits(data: bytes, frombits: int, tobits: int) -> list[int]:
    acc = bits = 0
    out = []
    maxv = (1 << tobits) - 1
    for value in data:
        acc = (acc << frombits) | value
        bits += frombits
        while bits >= tobits:
            bits -= tobits
            out.append((acc >> bits) & maxv)
    if bits:
        out.append((acc << (tobits - bits)) & maxv)
    return out


def segwit_address(witver: int, program: bytes, hrp: str = "bc") -> str:
    data = [witver, *_convertbits(program, 8, 5)]
    const = 1 if witver == 0 else BECH32M_CONST
    polymod = _polymod(_hrp_expand(hrp) + data + [0] * 6) ^ const
    check = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in data + check)


def segwit_ok(s: str) -> bool:
    s = s.lower()
    hrp, _, rest = s.rpartition("1")
    if hrp not in ("bc", "tb") or len(rest) < 7 or any(c not in BECH32 for c in rest):
        return False
    data = [BECH32.index(c) for c in rest]
    const = 1 if data[0] == 0 else BECH32M_CONST
    return _polymod(_hrp_expand(hrp) + data) == const


def bitcoin_ok(s: str) -> bool:
    if s.lower().startswith(("bc1", "tb1")):
        return segwit_ok(s)
    return s[:1] in "13" and b58check_ok(s)


# ----------------------------------------------------------------------------- Ethereum
def eip55(addr20: bytes) -> str:
    hexa = addr20.hex()
    digest = keccak256(hexa.encode()).hex()
    return "0x" + "".join(c.upper() if int(digest[i], 16) >= 8 else c for i, c in enumerate(hexa))


def ethereum_ok(s: str) -> bool:
    body = s[2:]
    if len(body) != 40 or not s.startswith("0x"):
        return False
    if body == body.lower() or body == body.upper():
        return True
    return eip55(bytes.fromhex(body)) == s


# ----------------------------------------------------------------------------- Monero
_XMR_FULL = 11
_XMR_SIZES = [0, 2, 3, 5, 6, 7, 9, 10, 11]


def xmr_b58encode(data: bytes) -> str:
    out = []
    for i in range(0, len(data), 8):
        block = data[i : i + 8]
        n = int.from_bytes(block, "big")
        size = _XMR_SIZES[len(block)]
        chars = ""
        while n:
            n, r = divmod(n, 58)
            chars = B58[r] + chars
        out.append(chars.rjust(size, "1"))
    return "".join(out)


def xmr_b58decode(s: str) -> bytes:
    out = b""
    for i in range(0, len(s), _XMR_FULL):
        block = s[i : i + _XMR_FULL]
        n = 0
        for c in block:
            n = n * 58 + B58.index(c)
        size = _XMR_SIZES.index(len(block))
        out += n.to_bytes(size, "big")
    return out


def monero_address(netbyte: int, spend: bytes, view: bytes, payment_id: bytes = b"") -> str:
    body = bytes([netbyte]) + spend + view + payment_id
    return xmr_b58encode(body + keccak256(body)[:4])


def monero_ok(s: str) -> bool:
    try:
        raw = xmr_b58decode(s)
    except (ValueError, OverflowError):
        return False
    return raw[0] in (0x12, 0x13, 0x2A) and keccak256(raw[:-4])[:4] == raw[-4:]


# ----------------------------------------------------------------------------- Tor v3
def onion_v3(pubkey: bytes) -> str:
    check = hashlib.sha3_256(b".onion checksum" + pubkey + b"\x03").digest()[:2]
    return base64.b32encode(pubkey + check + b"\x03").decode().lower() + ".onion"


def onion_ok(name: str) -> bool:
    label = name.lower().removesuffix(".onion").rsplit(".", 1)[-1]
    if len(label) != 56:
        return False
    try:
        raw = base64.b32decode(label.upper())
    except ValueError:
        return False
    pub, check, ver = raw[:32], raw[32:34], raw[34:]
    return ver == b"\x03" and check == hashlib.sha3_256(b".onion checksum" + pub + ver).digest()[:2]


# ----------------------------------------------------------------------------- generation
def flip_one(s: str, rng: random.Random, alphabet: str, start: int = 4) -> str:
    """The same string with one character changed (a checksum trap)."""
    i = rng.randrange(start, len(s) - 1)
    choices = [c for c in alphabet if c != s[i]]
    return s[:i] + rng.choice(choices) + s[i + 1 :]


def fake_pe(rng: random.Random, size: int) -> bytes:
    """Made-up bytes with some structure, so that ssdeep and TLSH look like real ones."""
    words = [rng.randbytes(rng.randint(4, 48)) for _ in range(200)]
    out = bytearray(b"MZ\x90\x00" + rng.randbytes(60) + b"This program cannot be run in DOS mode.")
    while len(out) < size:
        out += rng.choice(words) if rng.random() < 0.7 else rng.randbytes(rng.randint(16, 512))
    return bytes(out[:size])


def make(seed: int = 19) -> dict[str, str]:
    # Generation-only dependencies (not the project's): imported here so --check runs without.
    import ppdeep  # noqa: PLC0415
    import tlsh  # noqa: PLC0415
    from Crypto.PublicKey import ECC  # noqa: PLC0415

    rng = random.Random(seed)  # noqa: S311 - the same values every run, not a secret
    v: dict[str, str] = {}
    for i in range(8):
        v[f"btc_p2pkh_{i}"] = b58check(0x00, rng.randbytes(20))
    for i in range(4):
        v[f"btc_p2sh_{i}"] = b58check(0x05, rng.randbytes(20))
    for i in range(6):
        v[f"btc_wpkh_{i}"] = segwit_address(0, rng.randbytes(20))
    for i in range(2):
        v[f"btc_wsh_{i}"] = segwit_address(0, rng.randbytes(32))
    for i in range(3):
        v[f"btc_tr_{i}"] = segwit_address(1, rng.randbytes(32))
    v["btc_testnet_0"] = segwit_address(0, rng.randbytes(20), hrp="tb")
    v["btc_bad_p2pkh_0"] = flip_one(v["btc_p2pkh_0"], rng, B58)
    v["btc_bad_p2pkh_1"] = flip_one(v["btc_p2pkh_5"], rng, B58)
    v["btc_bad_wpkh_0"] = flip_one(v["btc_wpkh_0"], rng, BECH32)
    v["btc_bad_p2sh_0"] = flip_one(v["btc_p2sh_3"], rng, B58)
    v["ltc_p2pkh_0"] = b58check(0x30, rng.randbytes(20))
    for i in range(8):
        v[f"eth_{i}"] = eip55(rng.randbytes(20))
    for i in range(3):
        v[f"eth_lower_{i}"] = "0x" + rng.randbytes(20).hex()
    good = v["eth_6"]
    i = next(i for i, c in enumerate(good) if i > 1 and c.isalpha())
    v["eth_bad_case_0"] = good[:i] + good[i].swapcase() + good[i + 1 :]
    v["eth_txhash_0"] = "0x" + rng.randbytes(32).hex()
    v["eth_txhash_1"] = "0x" + rng.randbytes(32).hex()
    for i in range(5):
        v[f"xmr_std_{i}"] = monero_address(0x12, rng.randbytes(32), rng.randbytes(32))
    for i in range(2):
        v[f"xmr_sub_{i}"] = monero_address(0x2A, rng.randbytes(32), rng.randbytes(32))
    v["xmr_int_0"] = monero_address(0x13, rng.randbytes(32), rng.randbytes(32), rng.randbytes(8))
    v["xmr_bad_0"] = flip_one(v["xmr_std_1"], rng, B58)
    for i in range(10):
        key = ECC.generate(curve="ed25519", randfunc=rng.randbytes)
        v[f"onion_{i}"] = onion_v3(key.public_key().export_key(format="raw"))
    v["onion_bad_0"] = (
        flip_one(v["onion_3"][:56], rng, "abcdefghijklmnopqrstuvwxyz234567", 2) + ".onion"
    )
    v["onion_v2_0"] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16))
    for i in range(8):
        data = fake_pe(rng, rng.choice([48_000, 120_000, 310_000, 760_000]))
        v[f"ssdeep_{i}"] = ppdeep.hash(data)
        v[f"tlsh_{i}"] = tlsh.hash(data)
        v[f"md5_{i}"] = hashlib.md5(data, usedforsecurity=False).hexdigest()
        v[f"sha1_{i}"] = hashlib.sha1(data, usedforsecurity=False).hexdigest()
        v[f"sha256_{i}"] = hashlib.sha256(data).hexdigest()
    apis = "kernel32.dll createfilew writefile virtualalloc virtualprotect loadlibrarya "
    apis += "getprocaddress createprocessw advapi32.dll regsetvalueexw regopenkeyexw "
    apis += "cryptencrypt ws2_32.dll wsastartup connect send recv wininet.dll internetopenw"
    names = apis.split()
    for i in range(8):
        picks = rng.sample(names, 9)
        v[f"imphash_{i}"] = hashlib.md5(",".join(picks).encode(), usedforsecurity=False).hexdigest()
    ciphers = "4865 4866 4867 49195 49199 49196 49200 52393 52392 49171 49172 156 157 47 53"
    exts = "0 23 65281 10 11 35 16 5 13 18 51 45 43 27 17513 21"
    for i in range(8):
        cs = rng.sample(ciphers.split(), rng.randint(8, 15))
        es = rng.sample(exts.split(), rng.randint(9, 16))
        ja3 = f"771,{'-'.join(cs)},{'-'.join(es)},29-23-24,0"
        v[f"ja3_str_{i}"] = ja3
        v[f"ja3_{i}"] = hashlib.md5(ja3.encode(), usedforsecurity=False).hexdigest()
        ja3s = f"771,{rng.choice(cs)},{'-'.join(rng.sample(es, 3))}"
        v[f"ja3s_str_{i}"] = ja3s
        v[f"ja3s_{i}"] = hashlib.md5(ja3s.encode(), usedforsecurity=False).hexdigest()
        hexc = ",".join(sorted(f"{int(c):04x}" for c in cs))
        hexe = ",".join(sorted(f"{int(e):04x}" for e in es if e not in ("0", "16")))
        proto = rng.choice(["t13d", "t12d", "q13d", "t13i"])
        alpn = "h3" if proto.startswith("q") else rng.choice(["h2", "h1", "00"])
        a = f"{proto}{len(cs):02d}{len(es):02d}{alpn}"
        b = hashlib.sha256(hexc.encode()).hexdigest()[:12]
        c = hashlib.sha256((hexe + "_0403,0804,0401").encode()).hexdigest()[:12]
        v[f"ja4_{i}"] = f"{a}_{b}_{c}"
        codes = "".join(
            rng.choice(["00", "07", "15", "21", "29", "2d", "3d", "3f"]) + "d" for _ in range(10)
        )
        v[f"jarm_{i}"] = codes + hashlib.sha256(rng.randbytes(16)).hexdigest()[:32]
    v["ja4s_0"] = f"t130200_1301_{hashlib.sha256(b'0033,002b').hexdigest()[:12]}"
    v["eth_bad_digit_0"] = flip_one(v["eth_2"], rng, "0123456789", 2)
    v["ssdeep_small_0"] = ppdeep.hash(
        b"powershell -nop -w hidden -c IEX(New-Object Net.WebClient)" * 3
    )
    for i in range(12):
        v[f"md5_text_{i}"] = hashlib.md5(
            f"secdigest ioc_types sample {i}".encode(), usedforsecurity=False
        ).hexdigest()
        v[f"sha256_text_{i}"] = hashlib.sha256(
            f"secdigest ioc_types sample {i}".encode()
        ).hexdigest()
        v[f"sha1_text_{i}"] = hashlib.sha1(
            f"secdigest ioc_types sample {i}".encode(), usedforsecurity=False
        ).hexdigest()
    return v


# ----------------------------------------------------------------------------- check
VALIDATORS = {"bitcoin": bitcoin_ok, "ethereum": ethereum_ok, "monero": monero_ok}


def check(path: Path) -> int:
    """Every expected/optional value occurs in its text (case-insensitively, after refanging
    the few defanged forms used here); every wallet and v3 onion checks out; ids are unique."""
    problems, ids = [], set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        case = json.loads(line)
        cid = case["id"]
        if cid in ids:
            problems.append(f"{cid}: duplicate id")
        ids.add(cid)
        text = case["text"]
        plain = (
            text.replace("[.]", ".").replace("(.)", ".").replace("[:]", ":").replace("hxxp", "http")
        )
        plain = plain.replace("[@]", "@").lower()
        plain += "\n" + plain.replace("\\\\", "\\")  # a key written with doubled backslashes
        for key in ("expected", "optional"):
            for item in case.get(key, []):
                t, val = item["type"], item["value"]
                probe = val.lower()
                if t == "asn":
                    probe = val[2:]
                elif t in ("ipv4_cidr", "ipv6_cidr", "ipv6"):
                    probe = val.split("/")[0].split("::")[0].lower()
                elif t in {"cve", "cwe"}:
                    probe = val.split("-", 1)[1].lower()
                elif t == "url":
                    probe = val.split("://", 1)[-1].lower()
                if probe not in plain:
                    problems.append(f"{cid}: {key} {t} {val!r} not in text")
                if key == "expected" and t in VALIDATORS and not VALIDATORS[t](val):
                    problems.append(f"{cid}: {t} {val!r} fails its checksum")
                if (
                    key == "expected"
                    and t == "domain"
                    and val.endswith(".onion")
                    and not onion_ok(val)
                ):
                    problems.append(f"{cid}: onion {val!r} fails its checksum")
    for p in problems:
        print(p)
    print(f"{len(ids)} cases, {len(problems)} problems")
    return 1 if problems else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", nargs="?", const=str(HERE / "cases.jsonl"), metavar="CASES")
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    if args.check:
        return check(Path(args.check))
    json.dump(make(args.seed), sys.stdout, indent=1)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
