"""The digest by e-mail: where to send (an SMTP URL), the message, one sending.

The message is multipart/alternative: the Markdown digest as text/plain, the HTML view as
text/html. Both parts are UTF-8 in base64, holding exactly the bytes given:
- base64 decodes to the very string given (line endings, trailing newline and trailing
  spaces included); quoted-printable and 8bit text are in "canonical form", whose line
  breaks relays rewrite to CRLF, and 8bit lines may not exceed 998 octets (RFC 5321);
- the digest is mostly Japanese: quoted-printable writes each of its UTF-8 bytes as `=E3`,
  three times the size, where base64 is a third larger;
- the message is stored as text until it is sent (a delivery, retried as the same bytes):
  base64 is ASCII and survives any such round trip.

Headers are built from single lines only: a CR or LF in a title or an address would start
another header (`Bcc:`), so whitespace is folded and addresses are checked.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import ssl
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from enum import StrEnum
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

PORTS = {"smtp": 25, "smtps": 465}
SUBMISSION_PORT = 587  # RFC 6409: message submission, where STARTTLS is the norm
_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
# A server's reply in a reason: one line, short.
_REASON_LENGTH = 300


class SmtpSecurity(StrEnum):
    """How the connection is protected."""

    NONE = "none"  # plain SMTP (a relay on this host, a trusted network)
    STARTTLS = "starttls"  # plain, then upgraded; refused if the server does not offer it
    TLS = "tls"  # TLS from the first byte (smtps, port 465)


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    """An SMTP server and how to talk to it; `str()` names it without credentials."""

    host: str
    port: int
    security: SmtpSecurity
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def __str__(self) -> str:
        scheme = "smtps" if self.security is SmtpSecurity.TLS else "smtp"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"


class MailError(Exception):
    """A message was not sent; the reason is one line with no secret in it.

    `transient`: worth trying again later (a timeout, a refused connection, a 4xx reply);
    false when only a change of configuration helps (a 5xx reply, wrong credentials, an
    untrusted certificate, no STARTTLS).
    """

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user[:password]@]host[:port][?starttls=true]` or `smtps://...`.

    smtp is port 25 without TLS, STARTTLS when asked or on port 587 (unless
    `starttls=false`); smtps is implicit TLS, port 465. User and password are
    percent-decoded. Credentials are refused over plain SMTP except to this host.
    Raises ValueError with a one-line reason that never quotes the URL (it may hold a
    password).
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:
        raise ValueError(f"SMTP URL is malformed: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in PORTS:
        raise ValueError("SMTP URL must start with smtp:// or smtps://")
    if not hostname:
        raise ValueError("SMTP URL has no host")
    if parts.path not in ("", "/") or parts.fragment:
        raise ValueError("SMTP URL takes no path and no fragment")
    if port == 0:
        raise ValueError("SMTP URL has port 0")
    starttls = _starttls_parameter(parts.query)
    port = port or PORTS[scheme]
    if scheme == "smtps":
        if starttls is not None:
            raise ValueError("smtps:// is TLS from the start: starttls does not apply")
        security = SmtpSecurity.TLS
    elif starttls or (starttls is None and port == SUBMISSION_PORT):
        security = SmtpSecurity.STARTTLS
    else:
        security = SmtpSecurity.NONE
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password is not None and not username:
        raise ValueError("SMTP URL has a password but no user")
    if username and security is SmtpSecurity.NONE and not _is_loopback(hostname):
        raise ValueError("SMTP URL would send credentials in clear: use smtps:// or ?starttls=true")
    return SmtpTarget(hostname, port, security, username, password)


def _starttls_parameter(query: str) -> bool | None:
    starttls: bool | None = None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "starttls":
            raise ValueError(f"SMTP URL has an unknown parameter {name[:40]!r} (only starttls)")
        if value.lower() in _TRUE:
            starttls = True
        elif value.lower() in _FALSE:
            starttls = False
        else:
            raise ValueError("SMTP URL's starttls must be true or false")
    return starttls


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _line(value: str) -> str:
    """A header value on one line: every run of whitespace (CR, LF...) one space."""
    return " ".join(_CONTROL.sub(" ", value).split())


def _address(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError(f"an e-mail address holds a control character: {_line(value)!r}")
    name, spec = parseaddr(value)
    if "@" not in spec:
        raise ValueError(f"not an e-mail address: {value!r}")
    try:
        return str(Address(display_name=name, addr_spec=spec))
    except (ValueError, IndexError) as exc:
        raise ValueError(f"not an e-mail address: {value!r}") from exc


def digest_message(
    *,
    day: date,
    revision: int,
    markdown: str,
    html: str,
    sender: str,
    recipients: list[str],
    title: str,
    domain: str,
) -> EmailMessage:
    """A day's digest as one e-mail: text/plain (the Markdown, exactly) and text/html.

    The Message-ID is the same for the same day and revision (`<secdigest.DAY.rN@domain>`),
    so that a message sent again is recognised as the same one by the receiving side.
    Raises ValueError for an address or a domain that would not make a safe header.
    """
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    if not _DOMAIN.match(domain):
        raise ValueError(f"not a domain name for a Message-ID: {_line(domain)[:80]!r}")
    if revision < 0:
        raise ValueError("a revision is a number from 0")
    message = EmailMessage()
    message["Subject"] = _line(f"{title} {day.isoformat()}")
    message["From"] = _address(sender)
    message["To"] = ", ".join(_address(recipient) for recipient in recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = f"<secdigest.{day.isoformat()}.r{revision}@{domain}>"
    # RFC 3834: written by a program; vacation responders do not answer it.
    message["Auto-Submitted"] = "auto-generated"
    # Bytes, not str: set_content(str) rewrites line endings and adds a final newline.
    utf8 = {"charset": "utf-8"}
    message.set_content(markdown.encode(), "text", "plain", cte="base64", params=utf8)
    message.add_alternative(html.encode(), "text", "html", cte="base64", params=utf8)
    return message


async def send_message(
    target: SmtpTarget,
    message: EmailMessage,
    *,
    # A number rather than the caller's asyncio.timeout (ASYNC109): a deadline met here
    # becomes a MailError that says so, where the caller's would be a bare TimeoutError.
    timeout: float,  # noqa: ASYNC109
    tls_context: ssl.SSLContext | None = None,
) -> None:
    """Send message to its From/To through target; the whole exchange within timeout
    seconds. The server's certificate is checked against the system's CAs, or those of
    `tls_context`. Raises MailError, also when the server refused any recipient (the
    others have the message then: `transient` is false, to send nobody a copy twice)."""
    context = tls_context if tls_context is not None else ssl.create_default_context()
    try:
        async with asyncio.timeout(timeout):
            refused, _ = await aiosmtplib.send(
                message,
                hostname=target.host,
                port=target.port,
                username=target.username,
                password=target.password,
                use_tls=target.security is SmtpSecurity.TLS,
                start_tls=target.security is SmtpSecurity.STARTTLS,
                timeout=timeout,
                tls_context=context,
                local_hostname=_ehlo_name(message),
            )
    except (aiosmtplib.SMTPException, OSError) as exc:  # TimeoutError is an OSError
        raise _failure(exc, target, timeout) from None
    if refused:
        listed = ", ".join(f"{address} ({reply.code})" for address, reply in refused.items())
        raise MailError(
            _clean(f"{target} refused some recipients: {listed}", target), transient=False
        )


def _ehlo_name(message: EmailMessage) -> str | None:
    # Our Message-ID's domain names us in EHLO; without one, aiosmtplib asks
    # socket.getfqdn(), a blocking lookup.
    _, _, domain = str(message.get("Message-ID", "")).strip("<> ").rpartition("@")
    return domain if _DOMAIN.match(domain) else None


def _clean(text: str, target: SmtpTarget) -> str:
    line = _line(text)
    if target.password:
        line = line.replace(target.password, "***")
    return line[:_REASON_LENGTH]


def _reply(exc: aiosmtplib.SMTPResponseException) -> str:
    return f"{exc.code} {_line(exc.message)}"


def _failure(exc: BaseException, target: SmtpTarget, timeout: float) -> MailError:
    """The one-line reason and whether trying later may help."""
    reason: str
    transient = True
    if isinstance(exc, TimeoutError):
        reason = f"{target} did not answer within {timeout:g} s"
    elif (tls := _tls_error(exc)) is not None:
        # An untrusted certificate, TLS spoken to a plain port: only configuration helps.
        if isinstance(tls, ssl.SSLCertVerificationError):
            reason = f"{target}'s TLS certificate is not trusted: {tls.verify_message}"
        else:
            reason = f"TLS with {target} failed: {tls.reason or tls}"
        transient = False
    elif isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        # The server's words are left out: some repeat what the client sent.
        reason = f"{target} refused the credentials ({exc.code})"
        transient = exc.code == 454  # RFC 4954: temporary authentication failure
    elif isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        listed = ", ".join(f"{r.recipient} ({r.code})" for r in exc.recipients)
        reason = f"{target} refused every recipient: {listed}"
        transient = any(code < 500 for code in codes)
    elif isinstance(exc, aiosmtplib.SMTPResponseException):
        reason, transient = f"{target} answered {_reply(exc)}", exc.code < 500
    elif isinstance(exc, aiosmtplib.SMTPServerDisconnected | aiosmtplib.SMTPConnectError):
        reason = f"could not talk to {target}: {exc}"
    elif isinstance(exc, aiosmtplib.SMTPException):
        # STARTTLS not offered, an AUTH mechanism missing: only configuration helps.
        reason, transient = f"{target}: {exc}", False
    else:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        reason = f"could not connect to {target}: {detail}"
    return MailError(_clean(reason, target), transient=transient)


def _tls_error(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind exc (aiosmtplib wraps it), if any."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
