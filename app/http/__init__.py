"""The HTTP edge: what every request passes before and after its route.

- `security`: API keys, scopes, rate limits, open mode (loopback Host and Origin), JSON bodies.
- `middleware`: request ids, body caps, the access log, unexpected errors, Idempotency-Key.
- `idempotency`: the stored answers of Idempotency-Key, per caller.

Outermost first: RequestContextMiddleware, SecurityMiddleware, IdempotencyMiddleware, then
the routes (`app/main.py` adds them). Nothing here knows a route; no service imports this.
"""
