"""A small circuit breaker: stop calling a model that keeps failing, try again later.

Closed: every article calls the model. After ``failures`` consecutive failed articles it
opens: no calls for ``cooldown`` seconds. Then half-open: one article is let through as
a trial while the others still get "open"; its success closes the breaker, its failure
opens it for another cooldown.

Our own forty lines rather than a library: pybreaker's async support is for Tornado,
aiobreaker and purgatory are little maintained, and the states we need fit in one class
that the engine drives per article (not per HTTP request, which the retries already own).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Literal

log = logging.getLogger("secdigest.summarize")

State = Literal["closed", "open", "half-open"]


class CircuitBreaker:
    """Counts consecutive failed articles; opens after ``failures``, for ``cooldown`` s."""

    def __init__(
        self, failures: int, cooldown: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._consecutive = 0
        self._opened_at: float | None = None
        self._trial = False  # a half-open trial call is out

    @property
    def state(self) -> State:
        """closed, open, or half-open (the cooldown is over: the next call is a trial)."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at < self.cooldown:
            return "open"
        return "half-open"

    def allow(self) -> bool:
        """Whether this article may call the model; in half-open, only the first may."""
        state = self.state
        if state == "closed":
            return True
        if state == "open" or self._trial:
            return False
        self._trial = True
        log.info("llm.breaker state=half-open trial=1")
        return True

    def success(self) -> None:
        """The article's call worked: close the breaker."""
        if self._opened_at is not None:
            log.info("llm.breaker state=closed")
        self._consecutive = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        """The article's call failed: count it; open (again) at the threshold or after a trial."""
        self._consecutive += 1
        if self._trial or self._consecutive >= self.failures:
            self._opened_at = self._clock()
            log.warning(
                "llm.breaker state=open failures=%d cooldown=%s", self._consecutive, self.cooldown
            )
        self._trial = False

    def release(self) -> None:
        """The article ended without a verdict (cancelled): free the trial slot."""
        self._trial = False
