"""The digest by e-mail, received by a real SMTP server (aiosmtpd) on loopback.

The server runs in the test's own event loop on a port the system picks: no thread, no
port race, nothing outside the machine; so these stay unit tests beside the module.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from datetime import date
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from app.services.delivery import (
    MailError,
    SmtpSecurity,
    SmtpTarget,
    digest_message,
    parse_smtp_url,
    send_message,
)
from tests.support.hostile import tls_for
from tests.support.paths import FIXTURES
from tests.support.processes import free_port
from tests.support.smtp import Inbox, smtp_server

DAY = date(2024, 12, 6)
HTML = "<!doctype html><html><body><h1>Daily Security Info</h1><p>要約 &amp; IOC</p></body></html>"
SAMPLE = (FIXTURES / "daily-security-info.md").read_text(encoding="utf-8")
PASSWORD = "p@ss w0rd:/"
NONE, STARTTLS = SmtpSecurity.NONE, SmtpSecurity.STARTTLS


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example", SmtpTarget("mail.example", 25, SmtpSecurity.NONE)),
        ("smtp://mail.example:2525/", SmtpTarget("mail.example", 2525, SmtpSecurity.NONE)),
        ("smtp://mail.example:587", SmtpTarget("mail.example", 587, SmtpSecurity.STARTTLS)),
        ("smtp://mail.example?starttls=true", SmtpTarget("mail.example", 25, STARTTLS)),
        ("SMTP://MAIL.example:587?starttls=false", SmtpTarget("mail.example", 587, NONE)),
        ("smtps://mail.example", SmtpTarget("mail.example", 465, SmtpSecurity.TLS)),
        ("smtps://[2001:db8::1]:1465", SmtpTarget("2001:db8::1", 1465, SmtpSecurity.TLS)),
        (
            "smtps://digest%40corp:p%40ss%20w0rd%3A%2F@mail.example",
            SmtpTarget("mail.example", 465, SmtpSecurity.TLS, "digest@corp", PASSWORD),
        ),
        (
            "smtp://relay:secret@127.0.0.1:25",
            SmtpTarget("127.0.0.1", 25, NONE, "relay", "secret"),
        ),
        ("smtp://user@localhost", SmtpTarget("localhost", 25, SmtpSecurity.NONE, "user")),
    ],
)
def test_parses_smtp_urls(url: str, expected: SmtpTarget) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://mail.example", "smtp:// or smtps://"),
        ("mail.example:25", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.example:notaport", "malformed"),
        ("smtp://mail.example:70000", "malformed"),
        ("smtp://mail.example:0", "port 0"),
        ("smtp://mail.example/inbox", "no path"),
        ("smtp://mail.example?tls=1", "unknown parameter 'tls'"),
        ("smtp://mail.example?starttls=maybe", "true or false"),
        ("smtps://mail.example?starttls=true", "does not apply"),
        ("smtp://:hunter2@mail.example:587", "no user"),
        ("smtp://user:hunter2@mail.example", "in clear"),
        ("smtp://user:hunter2@mail.example:587?starttls=false", "in clear"),
    ],
)
def test_refuses_what_is_not_an_smtp_url_in_one_line_without_the_password(
    url: str, reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as caught:
        parse_smtp_url(url)
    assert "\n" not in str(caught.value)
    assert "hunter2" not in str(caught.value)


def test_a_target_never_shows_its_password() -> None:
    target = parse_smtp_url("smtps://digest:hunter2@mail.example")

    assert "hunter2" not in repr(target)
    assert str(target) == "smtps://mail.example:465"


def message(markdown: str = SAMPLE, *, revision: int = 3, **changes: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "day": DAY,
        "revision": revision,
        "markdown": markdown,
        "html": HTML,
        "sender": "Security Digest <digest@secdigest.example>",
        "recipients": ["soc@corp.example", "山田 太郎 <yamada@corp.example>"],
        "title": "Daily Security Info",
        "domain": "secdigest.example",
    }
    return digest_message(**(values | changes))


def stored(built: EmailMessage) -> EmailMessage:
    """The message as a delivery keeps it (text) and reads it back before sending."""
    parsed = email.message_from_string(built.as_string(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def parts(received: EmailMessage) -> tuple[str, str]:
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert isinstance(plain, EmailMessage)
    assert isinstance(html, EmailMessage)
    return str(plain.get_content()), str(html.get_content())


async def test_the_server_receives_the_markdown_exactly_and_the_html() -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        await send_message(parse_smtp_url(f"smtp://127.0.0.1:{port}"), stored(message()), timeout=5)

    received = inbox.received()
    assert parts(received) == (SAMPLE, HTML)
    assert received["Subject"] == "Daily Security Info 2024-12-06"
    assert received["Message-ID"] == "<secdigest.2024-12-06.r3@secdigest.example>"
    assert received["From"].addresses[0].addr_spec == "digest@secdigest.example"
    assert received["To"].addresses[1].display_name == "山田 太郎"
    assert received["Date"].datetime is not None
    assert inbox.envelopes[0].mail_from == "digest@secdigest.example"
    assert inbox.envelopes[0].rcpt_tos == ["soc@corp.example", "yamada@corp.example"]
    for part in received.iter_parts():
        assert part["Content-Transfer-Encoding"] == "base64"
        assert part.get_content_charset() == "utf-8"


@pytest.mark.parametrize(
    "markdown",
    [
        "no final newline",
        "CRLF\r\nlines\r\n",
        "trailing spaces   \n\ttab\n\n\n",
        ".\n.. a line that SMTP would dot-stuff\nFrom the start of a line\n",
        "長い行" * 3000 + "\n",  # one line of 27,000 bytes
        "🔥 " + "x" * 1200 + " 🔥\n",
        "",
    ],
)
async def test_any_markdown_arrives_byte_for_byte(markdown: str) -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        built = message(markdown)
        await send_message(parse_smtp_url(f"smtp://127.0.0.1:{port}"), stored(built), timeout=5)

    assert parts(inbox.received())[0] == markdown
    assert max(len(line) for line in built.as_string().splitlines()) <= 78


def test_the_message_id_is_the_same_for_a_revision_and_another_for_another() -> None:
    first, again = message(revision=3), message(revision=3)
    assert first["Message-ID"] == again["Message-ID"]
    assert message(revision=4)["Message-ID"] == "<secdigest.2024-12-06.r4@secdigest.example>"
    assert message(day=date(2024, 12, 7))["Message-ID"] != first["Message-ID"]


def test_a_line_break_in_the_title_cannot_add_a_header() -> None:
    built = stored(message(title="Daily\r\nBcc: victim@evil.example\nX-Evil: 1"))

    assert built["Subject"] == "Daily Bcc: victim@evil.example X-Evil: 1 2024-12-06"
    assert built["Bcc"] is None
    assert built["X-Evil"] is None


@pytest.mark.parametrize(
    "changes",
    [
        {"recipients": ["soc@corp.example\r\nBcc: victim@evil.example"]},
        {"sender": "digest@secdigest.example\nBcc: victim@evil.example"},
        {"recipients": ["not an address"]},
        {"recipients": []},
        {"domain": "secdigest.example>\r\nBcc: victim@evil.example"},
        {"domain": "bad domain"},
        {"revision": -1},
    ],
)
def test_refuses_values_that_would_make_an_unsafe_header(changes: dict[str, Any]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 (each case has its own reason)
        message(**changes)


def authenticator(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
) -> AuthResult:
    right = isinstance(data, LoginPassword) and (data.login, data.password) == (
        b"digest",
        PASSWORD.encode(),
    )
    # handled=False: aiosmtpd answers (235 or 535); True would mean we already had.
    return AuthResult(success=right, handled=False)


# AUTH offered on a plain connection (loopback only: parse_smtp_url allows credentials in
# clear to this host alone); auth_required would make aiosmtpd warn, and warnings fail.
AUTH = {"authenticator": authenticator, "auth_require_tls": False}


async def test_logs_in_with_the_right_password() -> None:
    inbox = Inbox()
    async with smtp_server(inbox, **AUTH) as port:
        target = parse_smtp_url(f"smtp://digest:p%40ss%20w0rd%3A%2F@127.0.0.1:{port}")
        await send_message(target, message(), timeout=5)

    assert inbox.sessions[0].authenticated
    assert parts(inbox.received())[0] == SAMPLE


async def test_a_wrong_password_is_a_lasting_failure_that_does_not_say_it() -> None:
    inbox = Inbox()
    async with smtp_server(inbox, **AUTH) as port:
        target = parse_smtp_url(f"smtp://digest:hunter2@127.0.0.1:{port}")
        with pytest.raises(MailError, match="refused the credentials") as caught:
            await send_message(target, message(), timeout=5)

    assert not caught.value.transient
    assert "hunter2" not in str(caught.value)
    assert "\n" not in str(caught.value)
    assert inbox.envelopes == []


async def test_starttls_with_a_certificate_the_client_trusts() -> None:
    tls, inbox = tls_for("localhost"), Inbox()
    async with smtp_server(inbox, tls_context=tls.server, require_starttls=True) as port:
        target = parse_smtp_url(f"smtp://localhost:{port}?starttls=true")
        await send_message(target, message(), timeout=5, tls_context=tls.client)

    assert inbox.sessions[0].ssl is not None
    assert parts(inbox.received()) == (SAMPLE, HTML)


async def test_implicit_tls_with_credentials() -> None:
    tls, inbox = tls_for("localhost"), Inbox()
    # aiosmtpd sees TLS only when it ran STARTTLS itself: it is told AUTH is fine here.
    async with smtp_server(inbox, implicit_tls=tls.server, **AUTH) as port:
        target = parse_smtp_url(f"smtps://digest:p%40ss%20w0rd%3A%2F@localhost:{port}")
        await send_message(target, message(), timeout=5, tls_context=tls.client)

    assert inbox.sessions[0].authenticated
    assert parts(inbox.received()) == (SAMPLE, HTML)


async def test_an_untrusted_certificate_is_refused() -> None:
    tls, inbox = tls_for("localhost"), Inbox()
    async with smtp_server(inbox, tls_context=tls.server) as port:
        target = parse_smtp_url(f"smtp://localhost:{port}?starttls=true")
        with pytest.raises(MailError, match="not trusted") as caught:
            await send_message(target, message(), timeout=5)  # the system's CAs

    assert not caught.value.transient
    assert inbox.envelopes == []


async def test_tls_spoken_to_a_plain_port_is_a_lasting_failure() -> None:
    tls, inbox = tls_for("localhost"), Inbox()
    async with smtp_server(inbox) as port:
        with pytest.raises(MailError, match="TLS with smtps://localhost") as caught:
            await send_message(
                parse_smtp_url(f"smtps://localhost:{port}"), message(), timeout=5,
                tls_context=tls.client,
            )  # fmt: skip

    assert not caught.value.transient


async def test_starttls_required_but_not_offered_sends_nothing() -> None:
    inbox = Inbox()
    async with smtp_server(inbox) as port:
        target = parse_smtp_url(f"smtp://127.0.0.1:{port}?starttls=true")
        with pytest.raises(MailError, match="STARTTLS") as caught:
            await send_message(target, message(), timeout=5)

    assert not caught.value.transient
    assert inbox.envelopes == []


async def test_a_refused_recipient_is_reported_and_the_others_get_the_message() -> None:
    inbox = Inbox(refuse={"soc@corp.example"})
    async with smtp_server(inbox) as port:
        with pytest.raises(MailError, match=r"soc@corp\.example \(550\)") as caught:
            await send_message(parse_smtp_url(f"smtp://127.0.0.1:{port}"), message(), timeout=5)

    assert not caught.value.transient  # trying again would send the others a copy
    assert inbox.envelopes[0].rcpt_tos == ["yamada@corp.example"]


async def test_every_recipient_refused_is_a_failure() -> None:
    inbox = Inbox(refuse={"soc@corp.example", "yamada@corp.example"})
    async with smtp_server(inbox) as port:
        with pytest.raises(MailError, match="refused every recipient") as caught:
            await send_message(parse_smtp_url(f"smtp://127.0.0.1:{port}"), message(), timeout=5)

    assert not caught.value.transient


async def test_a_server_that_does_not_answer_is_cut_at_the_timeout() -> None:
    # Accepts, says nothing (no greeting); the connection closes when the client hangs up.
    loop = asyncio.get_running_loop()
    server = await loop.create_server(asyncio.Protocol, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(30):  # a hang fails the test instead of blocking it
            with pytest.raises(MailError, match=r"did not answer within 0\.5 s") as caught:
                await send_message(
                    parse_smtp_url(f"smtp://127.0.0.1:{port}"), message(), timeout=0.5
                )
    finally:
        server.close()
        await server.wait_closed()

    assert caught.value.transient


async def test_nobody_listening_is_a_transient_failure() -> None:
    target = parse_smtp_url(f"smtp://127.0.0.1:{free_port()}")

    with pytest.raises(MailError, match=r"127\.0\.0\.1") as caught:
        await send_message(target, message(), timeout=5)

    assert caught.value.transient
