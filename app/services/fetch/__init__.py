"""The only code that touches the network: every fetch goes through the SSRF guard.

Public surface:
- `new_http_client(...)`, `fetch_page(client, url, policy)`, `FetchPolicy`, `FetchedPage`
  (`client`)
- `post_guarded(client, policy, url=, content=, headers=, seconds=)`, `PostAnswer`
  (`post`): a POST to a receiver users name (webhooks), through the same guard
- `check_url`, `AllowList`, `system_resolver`, `is_public_address`, `DEFAULT_PORTS`
  (`netguard`): which addresses and ports a URL may reach

Private: `_pin` (the httpcore backend that dials only the checked addresses) and `_body`
(bounded reading and decompression of a body).
"""

from app.services.fetch.client import FetchedPage, FetchPolicy, fetch_page, new_http_client
from app.services.fetch.netguard import (
    DEFAULT_PORTS,
    AllowList,
    check_url,
    is_public_address,
    system_resolver,
)
from app.services.fetch.post import PostAnswer, post_guarded

__all__ = [
    "DEFAULT_PORTS",
    "AllowList",
    "FetchPolicy",
    "FetchedPage",
    "PostAnswer",
    "check_url",
    "fetch_page",
    "is_public_address",
    "new_http_client",
    "post_guarded",
    "system_resolver",
]
