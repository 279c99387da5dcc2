"""compare.py: B against A per benchmark configuration: ratio of medians with a two-level bootstrap interval."""

import re

from . import stats
from .errors import HarnessError
from .results import Dataset


def parse_threshold(text):
    """'5%' or '0.05' -> 0.05.  A bare number of 1 or more is refused: `--threshold 5`
    meant as 5% would otherwise tolerate a 6x slowdown."""
    t = str(text).strip()
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*%", t)
    try:
        v = float(m.group(1)) / 100 if m else float(t)
    except ValueError:
        raise HarnessError(f"bad threshold {text!r}: a fraction such as 0.05 or a percentage such as 5%") from None
    if not m and v >= 1:
        raise HarnessError(f"threshold {text!r} would tolerate a {1 + v:g}x slowdown: write {v:g}% "
                           f"for a percentage, or a fraction below 1 such as 0.05")
    if not 0 <= v < 10:
        raise HarnessError(f"bad threshold {text!r}: between 0 and 1000%")
    return v


def check_options(resamples, confidence):
    if type(resamples) is not int or resamples < 100:
        raise HarnessError(f"bad --resamples {resamples!r}: at least 100 (1000 or more for a gate)")
    if not 0.5 <= confidence < 1:
        raise HarnessError(f"bad --confidence {confidence!r}: a level between 0.5 and 1, such as 0.95")


def _order(k):
    """Sort key of a configuration: sizes as numbers (0, 4, 10 rather than 0, 10, 4)."""
    return tuple((0, x, "") if isinstance(x, (int, float)) else (1, 0, str(x)) for x in k)


def describe(ds):
    """One line per side for the header: folder, commits, engines, builds."""
    commits = sorted({(r.get("commit") or "?")[:10] for r in ds.rows})
    dirty = any(m.get("git_dirty") for m in ds.metas.values())
    accels = sorted({r["accel"] for r in ds.rows})
    builds = sorted({r["build"] for r in ds.rows})
    return (f"{ds.folder.name}: commit {', '.join(commits)}{' (dirty)' if dirty else ''}; "
            f"engine {', '.join(accels)}; build {', '.join(builds)}; {len(ds.metas)} run folder(s)")


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


def _keep(row, benches, variants):
    return (not benches or row["bench"] in benches) and \
        (not variants or row["variant"] in variants or row["build"] in variants)


def compare(a_folder, b_folder, resamples=1000, confidence=0.95, seed=1, benches=(), variants=()):
    """(rows, dataset A, dataset B): one row per configuration present on both sides."""
    check_options(resamples, confidence)
    A, B = Dataset(a_folder), Dataset(b_folder)
    for ds in (A, B):
        ds.rows = [r for r in ds.rows if _keep(r, benches, variants)]
    # Two single-variant runs of different builds (say FASTPATH=1 against
    # FASTPATH=0) compare benchmark by benchmark; with several builds on a
    # side, only equal builds are paired.
    one_build = len({r["build"] for r in A.rows}) <= 1 and len({r["build"] for r in B.rows}) <= 1
    ga, gb = _groups(A, not one_build), _groups(B, not one_build)
    rows = []
    mixed = set(A.mixed_builds()) | set(B.mixed_builds())
    for k in sorted(set(ga) & set(gb), key=_order):
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
                 source="raw" if sa == sb == "raw" else "p50/rep",
                 mixed=k in mixed or k in {m[:2] + m[3:] for m in mixed})
        rows.append(r)
    return rows, A, B


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


def table(rows, threshold, A=None, B=None):
    top = []
    if A is not None:
        top = [f"A (baseline):  {describe(A)}", f"B (candidate): {describe(B)}",
               f"gate: a regression when the whole interval of B/A lies above {1 + threshold:.3g}, "
               f"faster when below {1 / (1 + threshold):.3g}", ""]
    head = (f"{'configuration':48} {'reps':>5} {'median A':>10} {'median B':>10} {'B/A':>7} "
            f"{'interval':>17}  verdict")
    lines = top + [head, "-" * len(head)]
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
        if r.get("mixed"):
            mark += " !"
            notes.add("! rows from more than one binary (build changed within a side): "
                      "the comparison pools different builds")
        lines.append(f"{name[:48]:48} {reps:>5} {r['median_a']:>10.1f} {r['median_b']:>10.1f} "
                     f"{r['ratio']:>7.3f} [{r['lo']:.3f}, {r['hi']:.3f}]  {verdict(r, threshold)}{mark}")
    return "\n".join(lines + sorted(notes))


def transport_table(rows):
    """Bulk transport cost on both sides (median - the bulk_touch median of the same
    configuration but the benchmark, report.transport_rows' rule) and its ratio B/A:
    what changed in the transport alone, informational (the gate is on totals)."""
    floors = {}
    for r in rows:
        k = r["key"]
        if k[1] == "bulk_touch":
            floors.setdefault(tuple(x for i, x in enumerate(k) if i not in (1, len(k) - 3)), {})[k[-3]] = r
    lines = []
    for r in rows:
        k = r["key"]
        if not k[1].startswith("bulk_") or k[1] == "bulk_touch":
            continue
        f = floors.get(tuple(x for i, x in enumerate(k) if i not in (1, len(k) - 3)))
        if not f:
            continue
        fl = f.get(k[-3], f.get("cpu1", next(iter(f.values()))))
        ta, tb = r["median_a"] - fl["median_a"], r["median_b"] - fl["median_b"]
        name = "/".join(str(x) for x in k if x not in ("", None, -1))
        ratio = f"{tb / ta:7.3f}" if ta > 0 else "    n/a"
        lines.append(f"{name[:48]:48} {ta:>12.0f} {tb:>12.0f} {ratio}")
    if not lines:
        return ""
    head = f"{'bulk transport (median - bulk_touch floor)':48} {'A':>12} {'B':>12} {'B/A':>7}"
    return "\n".join([head, "-" * len(head)] + lines)
