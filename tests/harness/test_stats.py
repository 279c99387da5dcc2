"""test_stats.py: order statistics and the bootstrap against hand-computed values."""

import math
import random

import pytest

from ferryhost import stats


def test_nearest_rank_percentiles():
    # Worked example of the nearest-rank method: 15 20 35 40 50.
    s = [15, 20, 35, 40, 50]
    assert stats.percentile(s, 5) == 15
    assert stats.percentile(s, 30) == 20
    assert stats.percentile(s, 40) == 20
    assert stats.percentile(s, 50) == 35
    assert stats.percentile(s, 100) == 50
    t = list(range(1, 11))
    assert [stats.percentile(t, p) for p in (10, 50, 90, 99)] == [1, 5, 9, 10]


def test_percentile_errors():
    with pytest.raises(ValueError):
        stats.percentile([], 50)
    with pytest.raises(ValueError):
        stats.percentile([1], 101)


def test_summarize_by_hand():
    s = stats.summarize([9, 2, 4, 4, 4, 5, 5, 7])
    assert s["samples"] == 8 and s["min"] == 2 and s["max"] == 9
    assert s["mean"] == 5
    # sum of squared deviations 32, n-1 = 7
    assert math.isclose(s["stdev"], math.sqrt(32 / 7))
    assert s["p50"] == 4 and s["p90"] == 9 and s["p10"] == 2


def test_bootstrap_known_different():
    rng = random.Random(5)
    a = [100 + rng.randint(0, 20) for _ in range(400)]
    b = [2 * x for x in a]
    r = stats.bootstrap_ratio(a, b, resamples=300)
    assert math.isclose(r["ratio"], 2.0)
    assert 1.8 < r["lo"] <= 2.0 <= r["hi"] < 2.2


def test_bootstrap_known_equal():
    rng = random.Random(6)
    a = [rng.gauss(1000, 50) for _ in range(500)]
    b = [rng.gauss(1000, 50) for _ in range(500)]
    r = stats.bootstrap_ratio(a, b, resamples=300)
    assert r["lo"] < 1.0 < r["hi"]
    assert r["hi"] - r["lo"] < 0.05


def test_bootstrap_reproducible_and_rejects_empty():
    a, b = [1, 2, 3, 4], [2, 3, 4, 5]
    assert stats.bootstrap_ratio(a, b, 100) == stats.bootstrap_ratio(a, b, 100)
    with pytest.raises(ValueError):
        stats.bootstrap_ratio([], b)


@pytest.mark.parametrize("n", [7, 8])
def test_resampled_median_matches_naive_bootstrap(n):
    """The O(1) draw must give the same distribution as resampling n values and sorting."""
    vals = sorted([3, 9, 1, 14, 5, 5, 8, 12][:n])
    rng1, rng2 = random.Random(11), random.Random(12)
    draws = 20000
    fast = [stats.resampled_median(vals, rng1) for _ in range(draws)]
    naive = [stats.median(rng2.choices(vals, k=n)) for _ in range(draws)]
    for x in sorted(set(naive) | set(fast)):
        # Each value's frequency agrees within a few standard errors.
        pf, pn = fast.count(x) / draws, naive.count(x) / draws
        assert abs(pf - pn) < 5 * math.sqrt(max(pn * (1 - pn), 1e-4) / draws) + 0.003, (x, pf, pn)
