"""report.py: results for the terminal (`show`: medians, p10-p90, bootstrap intervals, stability) and for other tools (`export`)."""

import math
import sys
from pathlib import Path

from . import RESULTS_SCHEMA, results
from .errors import HarnessError, need_module
from .results import Dataset

# Repetitions whose medians differ by more than this fraction of the pooled
# median make a configuration "unstable": boot-to-boot variation then
# dominates, and more repetitions (not more samples) are needed.
UNSTABLE_SPREAD = 0.10


def _groups(ds):
    g = {}
    for r in ds.rows:
        g.setdefault(Dataset.key(r), []).append(r)
    return g


def _order(k):
    """system, bench, variant, size (as a number), build, engine: the builds of one
    configuration end up on adjacent lines."""
    system, bench, build, variant, size, accel = k
    return (system, bench, variant, size if isinstance(size, (int, float)) else -1, build, accel)


def summarize(ds, resamples=1000, confidence=0.95, seed=1):
    """One dict per configuration: reps, n, median, p10, p90, ci_lo/ci_hi (bootstrap of the
    median, scipy.stats.bootstrap), rep_spread and unstable."""
    np = need_module("numpy", "python3-numpy")
    sst = need_module("scipy.stats", "python3-scipy")
    out = []
    for k, rows in sorted(_groups(ds).items(), key=lambda kv: _order(kv[0])):
        raws = [ds.raw(r) for r in rows]
        rep_medians = []
        if all(raws):
            pooled = np.concatenate([np.asarray(x, dtype=float) for x in raws])
            rep_medians = [float(np.median(x)) for x in raws]
            med = float(np.median(pooled))
            p10, p90 = (float(v) for v in np.percentile(pooled, [10, 90]))
            data, source = pooled, "raw"
        else:
            rep_medians = [float(r["p50"]) for r in rows]
            med = float(np.median(rep_medians))
            p10, p90 = float(min(r["min"] for r in rows)), float(max(r["p90"] for r in rows))
            data, source = np.asarray(rep_medians), "p50/rep"
        lo = hi = None
        if len(data) > 1 and np.ptp(data) > 0:
            ci = sst.bootstrap((data,), np.median, n_resamples=resamples, confidence_level=confidence,
                               method="percentile", random_state=seed, vectorized=True, axis=-1)
            lo, hi = float(ci.confidence_interval.low), float(ci.confidence_interval.high)
        elif len(data) >= 1:
            lo = hi = med
        spread = (max(rep_medians) - min(rep_medians)) / med if len(rep_medians) > 1 and med > 0 else 0.0
        out.append({"key": k, "system": k[0], "bench": k[1], "build": k[2], "variant": k[3], "size": k[4],
                    "accel": k[5], "unit": rows[0].get("unit") or "ticks", "reps": len(rows),
                    "n": int(len(data)) if source == "raw" else sum(r["samples"] or 0 for r in rows),
                    "median": med, "p10": p10, "p90": p90, "ci_lo": lo, "ci_hi": hi, "source": source,
                    "rep_spread": spread, "unstable": spread > UNSTABLE_SPREAD})
    return out


def _num(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.0f}"


def show_text(folders, resamples=1000, confidence=0.95):
    ds = Dataset(folders)
    if not ds.rows:
        raise HarnessError(f"{', '.join(map(str, folders))} hold no results to show")
    rows = summarize(ds, resamples, confidence)
    commits = sorted({(r.get("commit") or "?")[:10] for r in ds.rows})
    lines = [f"{len(ds.metas)} run folder(s), commit {', '.join(commits)}; median and p10-p90 of all "
             f"samples pooled, [{confidence:.0%} bootstrap interval of the median]"]
    head = f"{'configuration':44} {'unit':>5} {'reps':>4} {'n':>6} {'median':>12} {'p10':>12} {'p90':>12}  interval"
    lines += [head, "-" * (len(head) + 14)]
    for r in rows:
        name = "/".join(str(x) for x in (r["system"], r["build"], r["bench"], r["variant"],
                                          r["size"] if r["size"] not in (None, -1) else "", r["accel"]) if x != "")
        unit = {"instructions": "instr"}.get(r["unit"], r["unit"])
        mark = "  UNSTABLE" if r["unstable"] else ""
        lines.append(f"{name[:44]:44} {unit:>5} {r['reps']:>4} {r['n']:>6} {_num(r['median']):>12} "
                     f"{_num(r['p10']):>12} {_num(r['p90']):>12}  [{_num(r['ci_lo'])}, {_num(r['ci_hi'])}]{mark}")
    bad = [r for r in rows if r["unstable"]]
    if bad:
        lines.append(f"warning: {len(bad)} configuration(s) UNSTABLE: their repetitions' medians differ by more "
                     f"than {UNSTABLE_SPREAD:.0%} (largest {max(r['rep_spread'] for r in bad):.0%}); boot-to-boot "
                     f"variation dominates: add repetitions, and read their intervals with care")
    mixed = ds.mixed_builds()
    if mixed:
        lines.append(f"warning: {len(mixed)} configuration(s) pool rows from different binaries (build_id)")
    tr = transport_text(rows)
    if tr:
        lines += ["", tr]
    fp = fastpath_text(folders)
    if fp:
        lines += ["", fp]
    from . import tlbmodel
    tlb = tlbmodel.table_text(tlbmodel.read_rows(folders))
    if tlb:
        lines += ["", tlb]
    return "\n".join(lines)


EXPORT_COLUMNS = ["schema", "run", "commit", "dirty", "date", "note", "tags", "system", "engine", "build",
                  "build_id", "bench", "variant", "size", "rep", "metric", "value", "unit"]
METRICS = ("samples", "min", "p10", "p50", "p90", "p99", "max", "mean", "stdev", "overhead")


def export_frame(folders, with_samples=False):
    """One long table (one row per value), pandas DataFrame: every run of every folder."""
    pd = need_module("pandas", "python3-pandas")
    ds = Dataset(folders)
    recs = []
    for r in ds.rows:
        m = ds.metas[r["run"]]
        base = {"schema": RESULTS_SCHEMA, "run": Path(r["run"]).name, "commit": r.get("commit"),
                "dirty": bool(m.get("git_dirty")), "date": r.get("date"), "note": m.get("note") or "",
                "tags": ",".join(m.get("tags") or []), "system": r["system"], "engine": r["accel"],
                "build": r["build"], "build_id": r.get("build_id"), "bench": r["bench"],
                "variant": r["variant"], "size": None if r["size"] in (None, -1) else r["size"],
                "rep": r["rep"], "unit": r.get("unit")}
        for k in METRICS:
            if r.get(k) is not None:
                recs.append(dict(base, metric=k, value=r[k]))
        if with_samples:
            for v in ds.raw(r) or []:
                recs.append(dict(base, metric="sample", value=v))
    df = pd.DataFrame.from_records(recs, columns=EXPORT_COLUMNS)
    df["size"] = df["size"].astype("Int64")     # empty for sizeless benchmarks, not -1
    return df


def export(folders, out, fmt=None, with_samples=False):
    df = export_frame(folders, with_samples)
    if df.empty:
        raise HarnessError("nothing to export: the folders hold no results")
    fmt = fmt or ("json" if str(out).endswith(".json") else "csv")
    if out in (None, "-"):
        stream = sys.stdout
    else:
        stream = open(out, "w")
    try:
        if fmt == "csv":
            df.to_csv(stream, index=False)
        else:
            # A list of records: pandas.read_json reads it back as the same table.
            stream.write(df.to_json(orient="records") + "\n")
    finally:
        if stream is not sys.stdout:
            stream.close()
    return len(df)


def folders_of(args):
    return [results.resolve(a) for a in args]


def fastpath_rows(folders):
    """fastpath.csv rows of run folders and of the runs inside sweep folders."""
    import csv
    from pathlib import Path
    rows = []
    for f in folders:
        f = Path(f)
        for p in sorted([f / "fastpath.csv"] + list(f.glob("*/fastpath.csv"))):
            if p.is_file():
                with p.open() as fh:
                    rows += list(csv.DictReader(fh))
    return rows


def fastpath_text(folders):
    """Fast-path fall-backs per configuration (IPC benchmarks and those with any),
    per timed sample and by reason; empty when no run counted them."""
    rows = [r for r in fastpath_rows(folders)
            if r["bench"].startswith("ipc_") or int(r.get("total") or 0) > 0]
    if not rows:
        return ""
    head = f"{'fast-path fall-backs (whole configuration)':52} {'total':>9} {'samples':>8}  reasons"
    lines = [head, "-" * (len(head) + 20)]
    for r in rows:
        size = r.get("size")
        name = "/".join(str(x) for x in (r["build"], r["bench"], r["variant"],
                                          size if size not in (None, "", "-1") else "", r["accel"]) if x != "")
        total = int(r["total"])
        why = ", ".join(f"{k[3:]} {v}" for k, v in r.items() if k.startswith("fp_") and v not in ("", "0"))
        lines.append(f"{name[:52]:52} {total:>9} {r.get('samples') or '-':>8}  {why or '-'}")
    lines.append("(Call/ReplyRecv handed to the slow path while the configuration ran: set-up (object "
                 "invocations are Calls on non-endpoint capabilities: call_cap), warm-up and timed rounds)")
    return "\n".join(lines)


FLOOR_BENCH = "bulk_touch"


def transport_rows(summary):
    """Bulk transport cost: each bulk_* configuration's median minus the median of
    bulk_touch (the same user work alone: write the block, checksum it) of the
    same system, build, engine and size; the floor of the same record variant
    where there is one (Linux cpu1), else the only one (Ferry's, or cpu1 for
    Linux's cpu2 rows, whose work is the same code on one CPU at a time)."""
    floors = {}
    for r in summary:
        if r["bench"] == FLOOR_BENCH:
            floors.setdefault((r["system"], r["build"], r["accel"], r["size"]), {})[r["variant"]] = r["median"]
    out = []
    for r in summary:
        if not r["bench"].startswith("bulk_") or r["bench"] == FLOOR_BENCH:
            continue
        f = floors.get((r["system"], r["build"], r["accel"], r["size"]))
        if not f:
            continue
        floor = f.get(r["variant"], f.get("cpu1", next(iter(f.values()))))
        out.append({"system": r["system"], "build": r["build"], "bench": r["bench"], "variant": r["variant"],
                    "size": r["size"], "accel": r["accel"], "unit": r["unit"], "total": r["median"],
                    "floor": floor, "transport": r["median"] - floor})
    return out


def transport_text(summary):
    rows = transport_rows(summary)
    if not rows:
        return ""
    head = (f"{'bulk transport = total - bulk_touch floor (medians)':52} {'unit':>5} {'total':>12} "
            f"{'floor':>12} {'transport':>12}")
    lines = [head, "-" * len(head)]
    for r in rows:
        name = "/".join(str(x) for x in (r["system"], r["build"], r["bench"], r["variant"], r["size"], r["accel"])
                        if x != "")
        unit = {"instructions": "instr"}.get(r["unit"], r["unit"])
        lines.append(f"{name[:52]:52} {unit:>5} {_num(r['total']):>12} {_num(r['floor']):>12} "
                     f"{_num(r['transport']):>12}")
    lines.append("(instruction counts are not bytes: a wider move counts once; bandwidth comes from a timing "
                 "engine, not from tcg-icount)")
    return "\n".join(lines)
