"""compare.py: B against A per benchmark configuration: ratio of medians with a bootstrap interval."""

from . import stats
from .results import Dataset


def _groups(ds, with_build):
    """key -> (values, source) where values are the raw samples of every repetition
    when all of them have raw samples, else the per-repetition medians."""
    rows = {}
    for r in ds.rows:
        k = Dataset.key(r)
        if not with_build:
            k = k[:2] + k[3:]
        rows.setdefault(k, []).append(r)
    out = {}
    for k, rs in rows.items():
        raws = [ds.raw(r) for r in rs]
        if all(raws):
            out[k] = ([v for raw in raws for v in raw], "raw")
        else:
            out[k] = ([r["p50"] for r in rs], "p50/rep")
    return out


def compare(a_folder, b_folder, resamples=1000, confidence=0.95, seed=1):
    A, B = Dataset(a_folder), Dataset(b_folder)
    # Two single-variant runs of different builds (say FASTPATH=1 against
    # FASTPATH=0) compare benchmark by benchmark; with several builds on a
    # side, only equal builds are paired.
    one_build = len({r["build"] for r in A.rows}) <= 1 and len({r["build"] for r in B.rows}) <= 1
    ga, gb = _groups(A, not one_build), _groups(B, not one_build)
    rows = []
    for k in sorted(set(ga) & set(gb), key=str):
        (va, sa), (vb, sb) = ga[k], gb[k]
        try:
            r = stats.bootstrap_ratio(va, vb, resamples, confidence, seed)
        except ValueError as e:
            r = {"ratio": None, "lo": None, "hi": None, "error": str(e), "n_a": len(va), "n_b": len(vb)}
        r.update(key=k, median_a=stats.median(va), median_b=stats.median(vb),
                 source="raw" if sa == sb == "raw" else "p50/rep")
        rows.append(r)
    return rows


def verdict(r, threshold):
    if r["ratio"] is None:
        return "n/a"
    if r["lo"] > 1 + threshold:
        return "SLOWER"
    if r["hi"] < 1 / (1 + threshold):
        return "faster"
    return "same"


def regressions(rows, threshold):
    """B counts as slower only when the whole interval lies above 1+threshold."""
    return [r for r in rows if verdict(r, threshold) == "SLOWER"]


def table(rows, threshold):
    head = f"{'configuration':52} {'median A':>10} {'median B':>10} {'B/A':>7} {'interval':>17}  verdict"
    lines = [head, "-" * len(head)]
    for r in rows:
        k = r["key"]
        name = "/".join(str(x) for x in k if x not in ("", None, -1))
        if r["ratio"] is None:
            lines.append(f"{name[:52]:52} {r['median_a']:>10} {r['median_b']:>10}  {r['error']}")
            continue
        lines.append(f"{name[:52]:52} {r['median_a']:>10.1f} {r['median_b']:>10.1f} {r['ratio']:>7.3f} "
                     f"[{r['lo']:.3f}, {r['hi']:.3f}]  {verdict(r, threshold)}"
                     + ("" if r["source"] == "raw" else " (from per-rep medians)"))
    return "\n".join(lines)
