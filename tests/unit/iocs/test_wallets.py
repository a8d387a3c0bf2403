"""Cryptocurrency wallets: bitcoin (base58check, bech32/bech32m), ethereum (EIP-55), monero."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app.services.iocs import IocType, find_iocs
from app.services.iocs._hit import Hit
from app.services.iocs._wallets import wallet_hits

GENESIS = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"  # the coinbase of Bitcoin's first block
P2SH = "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"  # the Bitcoin wiki's P2SH example
BURN = "1111111111111111111114oLvT2"  # hash160 of zeros: 21 leading zero bytes
BIP173_V0 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"
TAPROOT = "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"  # BIP-350
# The Monero project's general fund (getmonero.org) and the examples of its documentation:
# a standard address, its integrated form (with a payment id) and a subaddress.
XMR_FUND = (
    "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft"
    "3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
)
XMR_STANDARD = (
    "4AdUndXHHZ6cfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3sk"
    "xNgYeYTRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2684Rge"
)
XMR_INTEGRATED = (
    "4LL9oSLmtpccfufTMvppY6JwXNouMBzSkbLYfpAV5Usx3skxNgYeY"
    "TRj5UzqtReoS44qo9mtmXCqY45DJ852K5Jv2bYXZKKQePHES9khPK"
)
XMR_SUBADDRESS = (
    "8AsN91rznfkBGTY8psSNkJBg9SZgxxGGRUhGwRptBhgr5XS"
    "Q1XzmA9m8QAnoxydecSh5aLJXdrgXwTDMMZ1AuXsN1EX5Mtm"
)
EIP55 = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"


def wallets(text: str) -> list[tuple[str, str]]:
    return [
        (i.type.value, i.value)
        for i in find_iocs(text)
        if i.type in (IocType.BITCOIN, IocType.ETHEREUM, IocType.MONERO)
    ]


def spans(text: str, urls: list[Hit] | None = None) -> list[tuple[str, str, int, int]]:
    return [(h.kind, h.value, h.start, h.end) for h in wallet_hits(text, urls or [])]


def one_changed(value: str, at: int) -> str:
    """``value`` with the base58 character at ``at`` replaced by another one."""
    new = "2" if value[at] != "2" else "3"
    return value[:at] + new + value[at + 1 :]


# ----------------------------------------------------------------------------- bitcoin


@pytest.mark.parametrize("address", [GENESIS, P2SH, BURN])
def test_finds_base58check_bitcoin_addresses(address: str) -> None:
    assert wallets(f"Wallet: {address}.") == [("bitcoin", address)]


@pytest.mark.parametrize(
    ("written", "value"),
    [
        # BIP-350's valid mainnet vectors of versions 0 (bech32) and 1 (bech32m; 40, 32 bytes)
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", BIP173_V0),
        (
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
            "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        ),
        (TAPROOT, TAPROOT),
        # made for this test (checked with the `bech32` package): no "0" or "l", so every
        # character is base58 too
        (
            "BC1Q6FXS49K66S7PV97P4X88SY57QVNNWYR9JD32TE",
            "bc1q6fxs49k66s7pv97p4x88sy57qvnnwyr9jd32te",
        ),
        # v0 with a 32-byte program (P2WSH)
        (
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
            "bc1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qccfmv3",
        ),
    ],
)
def test_finds_segwit_addresses_and_lowercases_them(written: str, value: str) -> None:
    assert wallets(f"pay to {written} now") == [("bitcoin", value)]


@pytest.mark.parametrize(
    "address",
    [
        # BIP-350's invalid vectors with the mainnet prefix
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 for v1
        "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 for v16
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m for v0
        "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # "o" in checksum
        "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # version 17
        "bc1pw5dgrnzv",  # 1-byte program
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # 41
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # 16 bytes for v0
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # padding > 4 bits
        "bc1gmk9yu",  # empty data
        # BIP-173's v1+ vectors, valid before BIP-350 replaced their checksum by bech32m
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7k7grplx",
        "BC1SW50QA3JX3S",
        "bc1zw508d6qejxtdg4y5r3zarvaryvg6kdaj",
    ],
)
def test_rejects_invalid_segwit_addresses(address: str) -> None:
    assert wallets(f"pay to {address} now") == []


@pytest.mark.parametrize(
    "address",
    [
        "bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5",  # one character changed
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t",  # one character short
        "Bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4",  # mixed case in the prefix
    ],
)
def test_rejects_damaged_or_mixed_case_bech32(address: str) -> None:
    assert wallets(address) == []


@pytest.mark.parametrize(
    "address",
    [
        "BC1SW50QGDZ25J",
        "bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs",
        "bc1z6z2cvnc44ksts3kpcr4u2dy2msepxz8w",  # made for this test: all base58 too
    ],
)
def test_segwit_versions_no_network_defines_are_not_wallets(address: str) -> None:
    # valid BIP-350 strings (versions 16 and 2), but "no recipient should ever provide them"
    assert wallets(f"pay to {address} now") == []


@pytest.mark.parametrize(
    "text",
    [
        one_changed(GENESIS, 10),  # the checksum fails
        one_changed(GENESIS, len(GENESIS) - 1),
        one_changed(P2SH, 5),
        GENESIS[:-1],  # wrong length
        GENESIS + "a",
        "1QwErTyUpAsDfGhJkZxCvBnMqWeRtYuP",  # base58 characters, no checksum
        "3DESCryptoServiceProviderSampleKey",
        "bBtcWxyzQrstUvwzHjkmnpqrstuvwxyzAB",  # base58 from b: no segwit either
        "13MbKFNbNcKuGvs7oZR8SanM7gJxxVWMgj9",  # too long for base58check
    ],
)
def test_base58_look_alikes_are_not_bitcoin(text: str) -> None:
    assert wallets(f"see {text} here") == []


def test_testnet_addresses_are_not_reported() -> None:
    # BIP-350 testnet vectors and a testnet P2PKH: the wallets of a report are mainnet
    text = (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7 "
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c "
        "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"
    )
    assert wallets(text) == []


def test_finds_bitcoin_in_prose() -> None:
    text = f"The operators asked for 0.5 BTC sent to {BIP173_V0}, or to {GENESIS}."
    assert wallets(text) == [("bitcoin", BIP173_V0), ("bitcoin", GENESIS)]


def test_finds_bitcoin_in_japanese_prose_with_its_span() -> None:
    text = f"ウォレット{GENESIS}に送金。"  # 5 characters before the address
    assert spans(text) == [("bitcoin", GENESIS, 5, 5 + len(GENESIS))]
    [ioc] = find_iocs(text)
    assert (ioc.type, ioc.raw, ioc.start) == (IocType.BITCOIN, GENESIS, 5)


@pytest.mark.parametrize(
    "text",
    [f"x{GENESIS}", f"{GENESIS}x", f"0{GENESIS}", f"{GENESIS}0", f"a{BIP173_V0}", f"{EIP55}a"],
)
def test_a_wallet_is_a_whole_token(text: str) -> None:
    assert wallets(text) == []


def test_finds_wallets_at_the_edges_of_the_text() -> None:
    assert spans(GENESIS) == [("bitcoin", GENESIS, 0, len(GENESIS))]
    assert spans(EIP55) == [("ethereum", EIP55.lower(), 0, 42)]
    assert spans(XMR_SUBADDRESS) == [("monero", XMR_SUBADDRESS, 0, 95)]
    assert [h.value for h in wallet_hits(f"{BIP173_V0} {EIP55}", [])] == [
        BIP173_V0,
        EIP55.lower(),
    ]


def test_skips_wallets_inside_urls() -> None:
    url = f"https://www.blockchain.com/btc/address/{GENESIS}"
    text = f"See {url} and {P2SH}"
    assert wallets(text) == [("bitcoin", P2SH)]
    url_hit = Hit("url", url, 4, 4 + len(url))
    assert [h.value for h in wallet_hits(text, [url_hit])] == [P2SH]


def test_a_wallet_is_no_domain_or_hash() -> None:
    text = f"BTC: {GENESIS}; ETH: {EIP55}; XMR: {XMR_FUND}; {TAPROOT}"
    assert [(i.type.value, i.value) for i in find_iocs(text)] == [
        ("bitcoin", GENESIS),
        ("ethereum", EIP55.lower()),
        ("monero", XMR_FUND),
        ("bitcoin", TAPROOT),
    ]


# ----------------------------------------------------------------------------- ethereum


@pytest.mark.parametrize(
    "address",
    [
        # EIP-55's test vectors: all caps, all lower, and checksummed
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ],
)
def test_finds_ethereum_addresses_and_lowercases_them(address: str) -> None:
    assert wallets(f"to {address}.") == [("ethereum", address.lower())]


def test_ethereum_keeps_the_form_it_was_written_in_as_raw() -> None:
    [ioc] = find_iocs(f"ETH: {EIP55}")
    assert (ioc.value, ioc.raw) == (EIP55.lower(), EIP55)


@pytest.mark.parametrize(
    "text",
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",  # mixed case, EIP-55 checksum fails
        "0x5aaeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0x" + "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # SHA-256
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beae",  # 39 hex digits
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed0",  # 41
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeg",  # not hex
        "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED",  # 0X is not how addresses are written
        "10x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",  # a longer token
    ],
)
def test_rejects_what_is_not_an_ethereum_address(text: str) -> None:
    assert wallets(f"value {text} here") == []


# ----------------------------------------------------------------------------- monero


@pytest.mark.parametrize("address", [XMR_FUND, XMR_STANDARD, XMR_INTEGRATED, XMR_SUBADDRESS])
def test_finds_monero_addresses(address: str) -> None:
    assert wallets(f"Donate: {address}") == [("monero", address)]


@pytest.mark.parametrize(
    "text",
    [
        one_changed(XMR_FUND, len(XMR_FUND) - 1),  # the checksum fails
        one_changed(XMR_FUND, 40),
        one_changed(XMR_INTEGRATED, 100),
        XMR_FUND[:-1],  # wrong length
        XMR_FUND + "a",
        "8" + XMR_FUND[1:],  # a subaddress needs network byte 0x2a, not 0x12
        "4" + XMR_SUBADDRESS[1:],
        XMR_FUND[:94] + "zzzzzzzzzzzz",  # 106 characters, no integrated address
    ],
)
def test_rejects_damaged_monero_addresses(text: str) -> None:
    assert wallets(text) == []


# ----------------------------------------------------------------------------- cost


def test_prose_and_hashes_yield_no_wallet() -> None:
    text = (
        "The dropper (SHA-1 a94a8fe5ccb19ba61c4c0873d391e987982fbbd3) contacted 1.2.3.4 on "
        "13 March 2023 at 18:34; version 3.4.1348 wrote 4096 bytes to "
        "C:\\Users\\Public\\1348abcdefABCDEF.dat. "
    ) * 50
    assert wallet_hits(text, []) == []


def test_importing_the_scanner_loads_no_hash_library() -> None:
    # pycryptodome takes ~40 ms to import and hashlib ~2 ms: `secdigest iocs --jsonl`
    # loads them only when a candidate must be checked.
    code = (
        "import sys\n"
        "from app.services.iocs._scan import ioc_values\n"
        "ioc_values('see 1.2.3.4 and evil.com, 13 March')\n"
        "print('Crypto' in sys.modules, 'hashlib' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False"]
