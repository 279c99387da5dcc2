"""compare.py: B against A per benchmark configuration: ratio of medians with a two-level bootstrap interval."""

from . import stats
from .results import Dataset


def _groups(ds, with_build):
    """key -> (repetitions, source): per repetition its raw samples when every
    repetition has them, else its p50 alone."""
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
            out[k] = (raws, "raw")
        else:
            out[k] = ([[r["p50"]] for r in rs], "p50/rep")
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
        if sa != sb:
            # Mixed: compare like with like, one p50 per repetition on both sides.
            va = [[stats.median(r)] for r in va] if sa == "raw" else va
            vb = [[stats.median(r)] for r in vb] if sb == "raw" else vb
        try:
            r = stats.hierarchical_ratio(va, vb, resamples, confidence, seed)
        except ValueError as e:
            r = {"ratio": None, "lo": None, "hi": None, "error": str(e), "reps_a": len(va), "reps_b": len(vb)}
        r.update(key=k, median_a=stats.median([stats.median(x) for x in va]),
                 median_b=stats.median([stats.median(x) for x in vb]),
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
    head = (f"{'configuration':48} {'reps':>5} {'median A':>10} {'median B':>10} {'B/A':>7} "
            f"{'interval':>17}  verdict")
    lines = [head, "-" * len(head)]
    notes = set()
    for r in rows:
        k = r["key"]
        name = "/".join(str(x) for x in k if x not in ("", None, -1))
        reps = f"{r['reps_a']}/{r['reps_b']}"
        if r["ratio"] is None:
            lines.append(f"{name[:48]:48} {reps:>5} {r['median_a']:>10} {r['median_b']:>10}  {r['error']}")
            continue
        mark = ""
        if r["source"] != "raw":
            mark += " *"
            notes.add("* from per-repetition medians (no raw samples)")
        if min(r["reps_a"], r["reps_b"]) < 2:
            mark += " +"
            notes.add("+ one repetition on a side: the interval holds sample noise only, "
                      "not boot-to-boot variation")
        lines.append(f"{name[:48]:48} {reps:>5} {r['median_a']:>10.1f} {r['median_b']:>10.1f} "
                     f"{r['ratio']:>7.3f} [{r['lo']:.3f}, {r['hi']:.3f}]  {verdict(r, threshold)}{mark}")
    return "\n".join(lines + sorted(notes))
