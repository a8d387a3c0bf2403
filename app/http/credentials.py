"""The API key a request presents: `X-API-Key`, `Authorization: Bearer`, or HTTP Basic."""

from __future__ import annotations

import base64
import binascii

from starlette.types import Scope


def presented_key(scope: Scope) -> str | None:
    """The presented key: None when none is sent, "" when what is sent is unusable."""
    api_keys = [v for k, v in scope["headers"] if k == b"x-api-key"]
    authorizations = [v for k, v in scope["headers"] if k == b"authorization"]
    if not api_keys and not authorizations:
        return None
    # Two keys in one request are ambiguous: refuse rather than pick one.
    if len(api_keys) + len(authorizations) != 1:
        return ""
    if api_keys:
        return bytes(api_keys[0]).decode("latin-1").strip()
    scheme, _, token = bytes(authorizations[0]).decode("latin-1").strip().partition(" ")
    if scheme.lower() == "bearer":
        return token.strip()
    if scheme.lower() == "basic":
        # TAXII clients (taxii2-client, OpenCTI's connector) and MISP send a user name and
        # a password: any user name, the key as the password.
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
        _user, separator, password = decoded.partition(":")
        return password.strip() if separator else ""
    return ""
