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


def test_hierarchical_keeps_boot_to_boot_variation():
    # Three boots each side; within a boot the samples are tight, but the
    # boots differ by 2x.  Pooling would give a narrow interval; resampling
    # the repetitions must not claim a difference between two identical sets.
    rng = random.Random(3)
    boot = lambda level: [level + rng.randint(0, 3) for _ in range(300)]
    a = [boot(100), boot(200), boot(100)]
    b = [boot(200), boot(100), boot(100)]
    r = stats.hierarchical_ratio(a, b, resamples=500)
    assert r["lo"] <= 0.6 and r["hi"] >= 1.9       # covers every mix of boots
    flat = stats.bootstrap_ratio([v for x in a for v in x], [v for x in b for v in x], 500)
    assert flat["hi"] - flat["lo"] < 0.1            # what pooling would have claimed


def test_hierarchical_known_different():
    rng = random.Random(4)
    a = [[100 + rng.randint(0, 10) for _ in range(200)] for _ in range(4)]
    b = [[2 * v for v in rep] for rep in a]
    r = stats.hierarchical_ratio(a, b, resamples=300)
    assert 1.8 < r["lo"] <= r["ratio"] <= r["hi"] < 2.2 and r["reps_a"] == 4
