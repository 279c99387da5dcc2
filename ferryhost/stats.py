"""stats.py: order statistics, summaries of raw samples and the bootstrap ratio-of-medians interval."""

import math
import random
import statistics


def percentile(sorted_vals, p):
    """Nearest-rank percentile of an already sorted list: the smallest value with at
    least p% of the samples at or below it.  Nearest-rank never interpolates, so
    every reported figure is a tick count that was actually measured."""
    n = len(sorted_vals)
    if n == 0:
        raise ValueError("percentile of no samples")
    if not 0 <= p <= 100:
        raise ValueError(f"percentile {p} outside 0..100")
    rank = max(1, math.ceil(p / 100 * n))
    return sorted_vals[rank - 1]


def median(vals):
    return statistics.median(vals)


def summarize(vals):
    """The same fields the guest's @result carries, computed on the host from raw samples."""
    s = sorted(vals)
    if not s:
        raise ValueError("summary of no samples")
    return {
        "samples": len(s), "min": s[0], "p10": percentile(s, 10), "p50": percentile(s, 50),
        "p90": percentile(s, 90), "p99": percentile(s, 99), "max": s[-1],
        "mean": statistics.fmean(s),
        # Sample standard deviation (n-1); a single sample has none.
        "stdev": statistics.stdev(s) if len(s) > 1 else 0.0,
    }


def resampled_median(sorted_vals, rng):
    """The median of one bootstrap resample (n draws with replacement), drawn in O(1).

    Drawing n indices uniformly and taking the median of their values is the
    same as taking the value at the median of the indices, because the values
    are sorted.  The k-th smallest of n uniform numbers on [0,1) follows
    Beta(k, n-k+1), and floor(n*U) of a uniform U is a uniform index, so the
    median index can be drawn directly instead of n indices and a sort.  For
    even n the next order statistic, given the k-th, is U_k + (1-U_k)*Beta(1, n-k).
    The result has exactly the distribution of the naive bootstrap median.
    """
    n = len(sorted_vals)
    idx = lambda u: min(int(u * n), n - 1)
    if n % 2:
        k = (n + 1) // 2
        return sorted_vals[idx(rng.betavariate(k, n - k + 1))]
    k = n // 2
    u1 = rng.betavariate(k, n - k + 1)
    u2 = u1 + (1 - u1) * rng.betavariate(1, n - k)
    return (sorted_vals[idx(u1)] + sorted_vals[idx(u2)]) / 2


def bootstrap_ratio(a, b, resamples=1000, confidence=0.95, seed=1):
    """Ratio median(b)/median(a) of two flat sample lists with a percentile-bootstrap interval."""
    return hierarchical_ratio([a], [b], resamples, confidence, seed)


def hierarchical_ratio(reps_a, reps_b, resamples=1000, confidence=0.95, seed=1):
    """Ratio of medians B/A over repetitions, with a two-level percentile-bootstrap interval.

    reps_a and reps_b are lists of repetitions, each a list of samples of one
    boot.  The statistic is the median over repetitions of each
    repetition's median.  Samples of one boot share that boot's conditions
    (placement, caches, host load), so they are not independent of each
    other; resampling the repetitions first and then the samples inside each
    chosen repetition keeps boot-to-boot variation in the interval.  With a
    single repetition this is the ordinary bootstrap of the median.  A fixed
    seed makes compare's verdict reproducible.
    """
    if not reps_a or not reps_b or not all(reps_a) or not all(reps_b):
        raise ValueError("bootstrap needs samples on both sides")
    if resamples < 1 or not 0 < confidence < 1:
        raise ValueError(f"bootstrap needs resamples >= 1 and 0 < confidence < 1 "
                         f"(got {resamples}, {confidence})")
    sa = [sorted(r) for r in reps_a]
    sb = [sorted(r) for r in reps_b]
    ma = median([median(r) for r in sa])
    mb = median([median(r) for r in sb])
    if ma <= 0:
        raise ValueError("median of the baseline is not positive")
    rng = random.Random(seed)

    def draw(reps):
        chosen = rng.choices(reps, k=len(reps)) if len(reps) > 1 else reps
        return median([resampled_median(r, rng) for r in chosen])
    ratios = []
    for _ in range(resamples):
        ra, rb = draw(sa), draw(sb)
        # A resampled baseline median of 0 (all-zero ticks) has no ratio;
        # count it as infinitely slow rather than crash.
        ratios.append(rb / ra if ra > 0 else math.inf)
    ratios.sort()
    tail = (1 - confidence) / 2
    lo = ratios[min(len(ratios) - 1, int(math.floor(tail * len(ratios))))]
    hi = ratios[min(len(ratios) - 1, int(math.ceil((1 - tail) * len(ratios))) - 1)]
    return {"ratio": mb / ma, "lo": lo, "hi": hi, "n_a": sum(map(len, sa)), "n_b": sum(map(len, sb)),
            "reps_a": len(sa), "reps_b": len(sb)}
