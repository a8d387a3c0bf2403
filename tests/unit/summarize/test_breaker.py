"""The circuit breaker, on a clock the test moves."""

from __future__ import annotations

from app.services.summarize.breaker import CircuitBreaker


def state(breaker: CircuitBreaker) -> str:
    """The state, read through a call (mypy would narrow the property across asserts)."""
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_opens_after_consecutive_failures() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 60, clock=clock)
    for _ in range(2):
        assert breaker.allow()
        breaker.failure()
    assert state(breaker) == "closed"
    assert breaker.allow()
    breaker.failure()
    assert state(breaker) == "open"
    assert not breaker.allow()


def test_a_success_resets_the_count() -> None:
    breaker = CircuitBreaker(2, 60, clock=Clock())
    breaker.failure()
    breaker.success()
    breaker.failure()
    assert state(breaker) == "closed"


def test_half_open_lets_exactly_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 60, clock=clock)
    breaker.failure()
    clock.now += 59
    assert not breaker.allow()
    clock.now += 1
    assert state(breaker) == "half-open"
    assert breaker.allow()
    assert not breaker.allow()  # a second article while the trial is out
    breaker.success()
    assert state(breaker) == "closed"
    assert breaker.allow()


def test_a_failed_trial_opens_for_another_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(5, 10, clock=clock)
    for _ in range(5):
        breaker.failure()
    clock.now += 10
    assert breaker.allow()
    breaker.failure()
    assert state(breaker) == "open"
    clock.now += 9.9
    assert not breaker.allow()


def test_a_cancelled_trial_frees_the_slot() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 1, clock=clock)
    breaker.failure()
    clock.now += 1
    assert breaker.allow()
    breaker.release()
    assert breaker.allow()
