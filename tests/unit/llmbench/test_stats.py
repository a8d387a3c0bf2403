"""Percentiles (numpy's linear method) and means, with no data too."""

from __future__ import annotations

import pytest

from app.services.llmbench import mean, percentile


def test_the_median_of_an_even_count_is_between_the_middle_two() -> None:
    assert percentile([4.0, 1.0, 3.0, 2.0], 50) == pytest.approx(2.5)


def test_p95_interpolates_between_the_closest_ranks() -> None:
    # 20 values 1..20: rank (20 - 1) * 0.95 = 18.05 -> 19 + 0.05 * (20 - 19).
    assert percentile([float(v) for v in range(1, 21)], 95) == pytest.approx(19.05)


def test_the_ends_are_the_minimum_and_maximum() -> None:
    values = [0.7, 0.2, 1.9]
    assert percentile(values, 0) == 0.2
    assert percentile(values, 100) == 1.9
    assert percentile([3.0], 95) == 3.0


def test_no_values_give_no_percentile_and_no_mean() -> None:
    assert percentile([], 50) is None
    assert mean([]) is None
    assert mean([1.0, 2.0]) == 1.5


def test_a_percentile_outside_0_to_100_is_refused() -> None:
    with pytest.raises(ValueError, match=r"within 0\.\.100"):
        percentile([1.0], 101)
