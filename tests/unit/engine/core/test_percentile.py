"""The one percentile definition behind `pairline stats` and the benchmarks: nearest rank."""

from __future__ import annotations

from pairline.engine.core.percentile import percentile


def test_percentile_is_nearest_rank() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 95) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0


def test_percentile_is_always_a_measured_value() -> None:
    values = [0.3, 0.1, 0.2, 0.9]
    assert percentile(values, 0) == 0.1
    assert percentile(values, 25) == 0.1
    assert percentile(values, 75) == 0.3
    assert percentile(values, 99) == percentile(values, 100) == 0.9
    assert all(percentile(values, q) in values for q in range(0, 101, 5))
