"""Standard Webhooks signatures (https://www.standardwebhooks.com/): the secret, the
message id, the signed content and the three headers. Pure.

The signed content is `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256
under the secret's bytes (the base64 after `whsec_`), sent as `v1,<base64>`. Written
here (a few lines of hmac) rather than with the `standardwebhooks` package, whose
verifier the tests use to check these signatures: the service does not depend on the
code that judges it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid

SECRET_PREFIX = "whsec_"  # noqa: S105 - the format's prefix, not a secret
# 32 bytes: the size of an HMAC-SHA256 key's block-free optimum, as the spec suggests
# (between 24 and 64 bytes).
SECRET_BYTES = 32


def new_secret() -> str:
    """A new signing secret: whsec_ and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_message_id() -> str:
    """A webhook-id: unique per message, the same on each of its attempts."""
    return "msg_" + uuid.uuid4().hex


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header's value for one attempt of a message."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt: webhook-id, webhook-timestamp, webhook-signature."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
