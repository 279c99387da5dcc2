"""plot.py: figures from run or sweep folders: PNG (matplotlib) by default, SVG/PDF and gnuplot on request, and an index page.

Reads result files only.  Each figure is drawn from whatever the results
contain and skipped, with a one-line reason, when its data are absent, so new
benchmarks appear without changes here.  Results of several engines are
never mixed in one figure (their units differ): each engine gets its own
figures, named with the engine when there are several.

"x times the floor" figures divide a Ferry benchmark by the hardware floor
of the same kind of work, one floor per engine and data set (the median of
that floor's p50 over every boot and build), so every build is divided by
the same number.  Floors are never divided by themselves and Linux is never
divided by Ferry's floors.  The floors, by benchmark (and variant):

    benchmark                        | floor
    ---------------------------------+---------------------------------------
    null_syscall, vm_map, vm_unmap,  | floor_syscall (one syscall round trip)
    fault_rt (handler in the same    |
    address space), ipc_*/same,      |
    notify/same, yield/same, /fpu    |
    ipc_*/cross, notify/cross,       | floor_ipc (two syscall round trips,
    yield/cross                      |   each with one CR3 switch)
    anything else                    | none: left out of the x-floor figures
"""

import html
import math
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

from . import atomicio, env, stats
from .errors import HarnessError, need_module
from .records import REPO
from .report import UNSTABLE_SPREAD
from .results import Dataset

FLOOR_OF = {
    "null_syscall": "floor_syscall", "vm_map": "floor_syscall", "vm_unmap": "floor_syscall",
    "fault_rt": "floor_syscall",
    "ipc_call/same": "floor_syscall", "ipc_call/cross": "floor_ipc",
    "ipc_send/same": "floor_syscall", "ipc_send/cross": "floor_ipc",
    "notify/same": "floor_syscall", "notify/cross": "floor_ipc",
    "yield/same": "floor_syscall", "yield/fpu": "floor_syscall", "yield/cross": "floor_ipc",
}
# Panels of the latency figure, in order: (title, test on a series).
FAMILIES = [
    ("hardware floors", lambda s: s.system != "linux" and s.bench.startswith("floor_")),
    ("IPC and notification", lambda s: s.system != "linux" and (s.bench.startswith("ipc_") or
                                                                 s.bench.startswith("notif"))),
    ("system calls, scheduling, memory", lambda s: s.system != "linux"),
    ("Linux baseline", lambda s: s.system == "linux"),
]
MAX_CURVES = 12
# What a benchmark's size counts, for the x axis of its size figure.
WORDS = "message length (words each way)"
SIZE_AXIS = {"ipc_call": WORDS, "ipc_send": WORDS, "ipc_ring": "messages per batch"}
# A time that falls by more than this fraction as the size grows is flagged:
# moving more data cannot take less time, so it is a measurement problem.
NON_MONOTONIC_DROP = 0.2
# A p90 above this multiple of the p50 marks a series' outliers: [tail].
LONG_TAIL = 5
KEY_FIGURES = ("latency", "msglen", "bulk", "ferry-vs-linux", "latency-xfloor", "msglen-xfloor", "bulk-time",
               "tlb")

# The same shapes on the two systems, for the Ferry-vs-Linux figure: a label,
# then (bench, variant, size) on Ferry and on Linux; size None = the smallest.
SHAPES = [
    ("null syscall", ("null_syscall", "syscall", -1), ("null_syscall", "getppid", -1)),
    ("2 processes: ipc_call cross | pipe", ("ipc_call", "cross", None), ("pipe_rt", "cpu1", -1)),
    ("2 processes: ipc_call cross | unix socket", ("ipc_call", "cross", None), ("unix_rt", "cpu1", -1)),
    ("2 processes: ipc_call cross | eventfd", ("ipc_call", "cross", None), ("eventfd_rt", "cpu1", -1)),
    ("2 threads: ipc_call same | futex", ("ipc_call", "same", None), ("futex_rt", "cpu1", -1)),
    ("yield round trip", ("yield", "same", -1), ("yield", "cpu1", -1)),
    # Across two vCPUs (docs/smp.md): Ferry's cross-core Call and wake-up
    # beside Linux's cpu2 rows (the partner pinned to the other vCPU), from
    # the sweep's smp = 2 groups.
    ("2 vCPUs: ipc_call xcpu | pipe cpu2", ("ipc_call", "xcpu", None), ("pipe_rt", "cpu2", -1)),
    ("2 vCPUs: ipc_call xcpu | unix socket cpu2", ("ipc_call", "xcpu", None), ("unix_rt", "cpu2", -1)),
    ("2 vCPUs: ipc_call xcpu | futex cpu2", ("ipc_call", "xcpu", None), ("futex_rt", "cpu2", -1)),
    ("2 vCPUs: notify xcpu | eventfd cpu2", ("notify", "xcpu", -1), ("eventfd_rt", "cpu2", -1)),
    ("64 KiB: bulk_copy | pipe", ("bulk_copy", "", 65536), ("bulk_pipe", "cpu1", 65536)),
    ("1 MiB: bulk_copy | pipe", ("bulk_copy", "", 1048576), ("bulk_pipe", "cpu1", 1048576)),
    ("1 MiB: bulk_grant | memfd", ("bulk_grant", "", 1048576), ("bulk_shm", "cpu1", 1048576)),
    # The user work both bulk rows above include (the same code on both): their floor.
    ("1 MiB: bulk_touch (user work alone)", ("bulk_touch", "", 1048576), ("bulk_touch", "cpu1", 1048576)),
    ("spawn: process server | posix_spawn", ("spawn", "", -1), ("spawn", "", -1)),
    ("first touch: pager | page fault", ("first_touch", "", -1), ("first_touch", "", -1)),
    ("COW write fault: pager | page fault", ("cow_fault", "", -1), ("cow_fault", "", -1)),
    ("fork + 1 COW write + exit + wait", ("cow_fork", "", 1), ("cow_fork", "", 1)),
    ("fork + 16 COW writes + exit + wait", ("cow_fork", "", 16), ("cow_fork", "", 16)),
    ("fork + 256 COW writes + exit + wait", ("cow_fork", "", 256), ("cow_fork", "", 256)),
    ("cat 4 KiB file | wc", ("pipeline", "cpu1", 4096), ("pipeline", "cpu1", 4096)),
    ("cat 64 KiB file | wc", ("pipeline", "cpu1", 65536), ("pipeline", "cpu1", 65536)),
    # A file read (docs/io.md): Ferry's file server (its cache warm, or its
    # RAM disk), copied or through the granted window, beside read(2) of tmpfs.
    ("read 4 KiB: file server copy | tmpfs", ("file_read", "cached_copy", 4096), ("file_read", "tmpfs", 4096)),
    ("read 4 KiB: file server grant | tmpfs", ("file_read", "cached_grant", 4096), ("file_read", "tmpfs", 4096)),
    ("read 1 MiB: RAM disk grant | tmpfs", ("file_read", "ram_grant", 1048576), ("file_read", "tmpfs", 1048576)),
    ("read 16 MiB: RAM disk grant | tmpfs", ("file_read", "ram_grant", 16777216),
     ("file_read", "tmpfs", 16777216)),
]


def floor_for(bench, variant=""):
    """The floor benchmark for a Ferry benchmark, or None (see the table above)."""
    if bench.startswith("floor_"):
        return None
    # cross_tls, cross_lowprio...: variants of the cross-space shape.
    return FLOOR_OF.get(f"{bench}/{variant}") or FLOOR_OF.get(f"{bench}/{variant.split('_')[0]}") or \
        FLOOR_OF.get(bench)


def family_of(s):
    return next(title for title, test in FAMILIES if test(s))


def unit_label(accel):
    return "instructions" if env.unit_of(accel) == "instructions" else "TSC ticks"


def plots_root():
    return Path(os.environ.get("FERRY_PLOTS") or REPO / "plots")


class Series:
    """One measured configuration (all repetitions pooled) with its percentiles."""

    def __init__(self, key, rows, raw):
        self.key = key
        self.system, self.bench, self.build, self.variant, self.size, self.accel = key
        self.rows = rows
        self.raw = raw
        if raw:
            s = sorted(raw)
            self.p10, self.p50, self.p90 = (stats.percentile(s, p) for p in (10, 50, 90))
            self.p25, self.p75 = stats.percentile(s, 25), stats.percentile(s, 75)
            self.lo_name = "p10"
        else:
            # Without raw samples there is no p10: the lower whisker is the
            # minimum, and the legend says so.
            self.p50 = stats.median([r["p50"] for r in rows])
            self.p10 = min(r["min"] for r in rows)
            self.p90 = max(r["p90"] for r in rows)
            self.p25 = self.p75 = None
            self.lo_name = "min"
        self.tsc_hz = next((r["tsc_hz"] for r in rows if r.get("tsc_hz")), None)
        self.disturbed = any(r.get("disturbed") for r in rows)
        meds = [r["p50"] for r in rows if r.get("p50") is not None]
        self.spread = (max(meds) - min(meds)) / self.p50 if len(meds) > 1 and self.p50 > 0 else 0.0
        self.unstable = self.spread > UNSTABLE_SPREAD


def load_series(folder, supersede=False):
    ds = Dataset(folder, supersede)
    groups = {}
    for r in ds.rows:
        groups.setdefault(Dataset.key(r), []).append(r)
    out = []
    for k, rows in groups.items():
        raws = [ds.raw(r) for r in rows]
        raw = [v for x in raws for v in x] if all(raws) else None
        out.append(Series(k, rows, raw))
    return ds, out


class Labeler:
    """Names a series by only the parts that differ across the data set."""

    def __init__(self, series):
        self.vary = {f: len({getattr(s, f) for s in series}) > 1
                     for f in ("system", "build", "accel", "variant")}

    def __call__(self, s, with_bench=False, with_size=False, with_build=True, flags=True):
        parts = [s.bench] if with_bench else []
        parts += [str(getattr(s, f)) for f in ("system", "build", "accel") if self.vary[f]
                  and (with_build or f != "build")
                  and not (f == "build" and s.build == s.system)]   # "linux linux" says it twice
        if s.variant:
            parts.append(s.variant)
        if with_size and s.size >= 0:
            parts.append(f"size {s.size}")
        return " ".join(parts) + (flags_of(s) if flags else "")


def curve_flags(ss):
    """The flags of any point of a curve, once."""
    return "".join(sorted({flags_of(s) for s in ss}))


def flags_of(s):
    out = ""
    if s.disturbed:
        out += " [disturbed]"   # perf counted more VM exits than the bound allows (see perf.py)
    if s.unstable:
        out += " [unstable]"    # repetitions disagree (see UNSTABLE_SPREAD)
    if s.p50 > 0 and s.p90 > LONG_TAIL * s.p50:
        out += " [tail]"        # a tenth of the samples take over LONG_TAIL times the median
    return out


def common_floor(series, accel, fname):
    """One floor per engine and data set: the median of fname's p50 over every Ferry boot."""
    vals = [r["p50"] for f in series if f.system != "linux" and f.accel == accel and f.bench == fname
            for r in f.rows if r.get("p50")]
    return stats.median(vals) if vals else None


class Figure:
    """A figure's data in a form both renderers use: named series of (x, y, lo, hi) points."""

    def __init__(self, name, title, xlabel, ylabel, kind, logx=False, logy=False):
        self.name, self.title, self.xlabel, self.ylabel, self.kind = name, title, xlabel, ylabel, kind
        self.logx, self.logy = logx, logy
        self.tsc_hz = None  # set when every curve shares one guest TSC rate: adds a ns axis
        self.curves = []    # (label, [(x, y, lo, hi)], series)
        self.xticks = []    # for bars: category names
        self.panels = []    # for "panels": (title, [(group label, [(build, x, y, lo, hi, series)])])
        self.notes = []     # flags a reader must see (non-monotonic, unstable), printed under the figure
        self.symlogx = False


def _ordered(series, key_fns):
    return sorted(series, key=lambda s: tuple(f(s) for f in key_fns))


def latency_figure(series, lab, unit, sizes_of, suffix, whisk):
    """Bars of single-size benchmarks (and sized ones at their smallest size), one panel per
    family; builds of one benchmark/variant side by side, coloured by build."""
    flat = [s for s in series if not s.bench.startswith("bulk")
            and (len(sizes_of[s.bench, s.variant]) == 1 or s.size == min(sizes_of[s.bench, s.variant]))]
    if not flat:
        return None
    f = Figure("latency" + suffix, f"Latency per benchmark (bar p50, whisker {whisk}; {unit})",
               "", unit, "panels")
    builds = list(dict.fromkeys(s.build for s in _ordered(flat, [lambda s: s.system == "linux",
                                                                  lambda s: s.build != "default",
                                                                  lambda s: s.build])))
    for title, _ in FAMILIES:
        mine = [s for s in flat if family_of(s) == title]
        if not mine:
            continue
        groups = {}
        for s in _ordered(mine, [lambda s: s.bench, lambda s: s.variant, lambda s: s.size]):
            name = s.bench + (f"/{s.variant}" if s.variant else "") + \
                (f" ({s.size})" if len(sizes_of[s.bench, s.variant]) > 1 else "")
            groups.setdefault(name, []).append(s)
        gl = []
        for name, ss in groups.items():
            pts = []
            for s in sorted(ss, key=lambda s: builds.index(s.build)):
                i = len(f.curves)
                label = f"{name} {s.build}" + flags_of(s) if len(builds) > 1 else name + flags_of(s)
                f.curves.append((label, [(i, s.p50, s.p10, s.p90)], s))
                f.xticks.append(label)
                pts.append((s.build, i, s.p50, s.p10, s.p90, s))
            gl.append((name + ("".join(sorted({flags_of(s) for s in ss}))), pts))
        f.panels.append((title, gl))
    f.builds = builds
    return f


def _sized_figure(name, title, xlabel, sized, unit):
    lab = Labeler(sized)    # name only what differs among these curves
    band = "p25-p75" if all(s.p25 is not None for s in sized) else None
    f = Figure(name, title + " (p50" + (f", band {band})" if band else ")"), xlabel + "; log scale", unit, "lines")
    f.symlogx = True
    for key in sorted({(s.bench, lab(s, flags=False)) for s in sized}):
        pts = sorted((s for s in sized if (s.bench, lab(s, flags=False)) == key), key=lambda s: s.size)
        label = f"{key[0]} {key[1]}".strip() + curve_flags(pts)
        f.curves.append((label, [(s.size, s.p50, s.p25 if band else s.p50, s.p75 if band else s.p50)
                                 for s in pts], pts[0]))
    return f


def msglen_figures(series, unit, sizes_of, suffix):
    """Benchmarks measured at several sizes, against size.  Sizes in message words
    (SIZE_AXIS) share `msglen`, split per benchmark when that holds more than MAX_CURVES
    curves; other sizes (messages per batch...) get a `size-<bench>` figure each."""
    sized = [s for s in series if len(sizes_of[s.bench, s.variant]) > 1 and not s.bench.startswith("bulk")]
    words = [s for s in sized if SIZE_AXIS.get(s.bench) == WORDS]
    figs = []
    if words:
        f = _sized_figure("msglen" + suffix, "Latency against message length", WORDS, words, unit)
        if len(f.curves) > MAX_CURVES:
            figs += [_sized_figure(f"msglen-{b}{suffix}", f"{b}: latency against message length", WORDS,
                                   [s for s in words if s.bench == b], unit) for b in sorted({s.bench for s in words})]
        else:
            figs.append(f)
    for b in sorted({s.bench for s in sized if SIZE_AXIS.get(s.bench) != WORDS}):
        figs.append(_sized_figure(f"size-{b}{suffix}", f"{b} against its size", SIZE_AXIS.get(b, "size"),
                                  [s for s in sized if s.bench == b], unit))
    for f in figs:
        if len(f.curves) > MAX_CURVES:
            f.notes.append(f"{len(f.curves) - MAX_CURVES} more curves left out (at most {MAX_CURVES})")
            f.curves = f.curves[:MAX_CURVES]
    return figs


def bulk_figures(series, lab, unit, suffix):
    bulk = [s for s in series if s.bench.startswith("bulk")]
    if not bulk:
        return []
    hz = {s.tsc_hz for s in bulk}
    per_s = None not in hz and unit == "TSC ticks"
    f = Figure("bulk" + suffix, "Bulk transfer bandwidth, copy vs grant (p50)", "transfer size (bytes)",
               "MiB/s" if per_s else f"bytes per 1000 {unit}", "lines", logx=True, logy=True)
    t = Figure("bulk-time" + suffix, "Bulk transfer time (p50, band p10-p90)", "transfer size (bytes)", unit,
               "lines", logx=True, logy=True)
    for key in sorted({(s.bench, lab(s, flags=False)) for s in bulk}):
        pts = sorted((s for s in bulk if (s.bench, lab(s, flags=False)) == key and s.size > 0 and s.p50 > 0),
                     key=lambda s: s.size)
        if not pts:
            continue

        def bw(s, ticks):
            ticks = max(ticks, 1)
            return s.size / (ticks / s.tsc_hz) / 2**20 if per_s else s.size / ticks * 1000
        label = f"{key[0]} {key[1]}".strip() + curve_flags(pts)
        # Bandwidth falls as time rises, so p90 time gives the low bound.
        f.curves.append((label, [(s.size, bw(s, s.p50), bw(s, s.p90), bw(s, s.p10)) for s in pts], pts[0]))
        t.curves.append((label, [(s.size, s.p50, s.p10, s.p90) for s in pts], pts[0]))
    f.curves, t.curves = f.curves[:MAX_CURVES], t.curves[:MAX_CURVES]
    return [f, t]


def cdf_figures(series, lab, unit, sizes_of, suffix):
    figs = []
    withraw = [s for s in series if s.raw]
    for bench in sorted({s.bench for s in withraw}):
        f = Figure(f"cdf-{bench}{suffix}", f"Latency CDF: {bench} (raw samples)", unit,
                   "fraction of samples", "cdf")
        mine = [s for s in withraw if s.bench == bench]
        lab = Labeler(mine)     # name only what differs among these curves
        ss = sorted(mine, key=lambda s: (lab(s), s.size))
        # Over a size sweep, the smallest and the largest size per variant
        # show the spread; every size would be unreadable.
        ss = [s for s in ss if len(sizes_of[bench, s.variant]) <= 2 or
              s.size in (min(sizes_of[bench, s.variant]), max(sizes_of[bench, s.variant]))]
        for s in ss[:MAX_CURVES]:
            v = sorted(s.raw)
            n = len(v)
            # Thin very long sample lists to about 500 steps; the shape of
            # the curve does not need more.
            step = max(1, n // 500)
            pts = [(v[i], (i + 1) / n, 0, 0) for i in range(0, n, step)]
            if pts[-1][0] != v[-1]:
                pts.append((v[-1], 1.0, 0, 0))
            f.curves.append((lab(s, with_size=len(sizes_of[bench, s.variant]) > 1) or bench, pts, s))
        xs = [p[0] for _, pts, _ in f.curves for p in pts if p[0] > 0]
        # Sizes far apart put curves decades apart: a log axis keeps each readable.
        f.logx = bool(xs) and max(xs) / min(xs) > 50
        figs.append(f)
    return figs


def floor_figures(figs, series, accel):
    """latency and msglen again, each Ferry value divided by its floor (one per engine and
    data set); returns (figures, skipped reasons)."""
    out, skipped = [], []
    floors = {}

    def factor(s):
        fname = floor_for(s.bench, s.variant) if s.system != "linux" else None
        if fname and fname not in floors:
            floors[fname] = common_floor(series, accel, fname)
        return (floors.get(fname), fname) if fname else (None, None)
    for f in figs:
        if not (f.name.startswith("latency") or f.name.startswith("msglen")):
            continue
        g = Figure(f.name.replace("latency", "latency-xfloor", 1) if f.name.startswith("latency")
                   else f.name.replace("msglen", "msglen-xfloor", 1), f.title.split(" (")[0] + " / floor",
                   f.xlabel, "", f.kind, f.logx, False)
        g.symlogx = f.symlogx
        used = set()
        if f.kind == "panels":
            g.builds = f.builds
            for title, groups in f.panels:
                gl = []
                for name, pts in groups:
                    npts = []
                    for b, i, y, lo, hi, s in pts:
                        v, fname = factor(s)
                        if v:
                            used.add(fname)
                            npts.append((b, i, y / v, lo / v, hi / v, s))
                    if npts:
                        gl.append((f"{name} / {floor_for(pts[0][5].bench, pts[0][5].variant)[6:]}", npts))
                if gl:
                    g.panels.append((title, gl))
            g.curves = [(n, [(p[1], p[2], p[3], p[4])], p[5]) for _, gl in g.panels for n, ps in gl for p in ps]
        else:
            for label, pts, s in f.curves:
                v, fname = factor(s)
                if v:
                    used.add(fname)
                    g.curves.append((f"{label} / {fname[6:]}", [(x, y / v, lo / v, hi / v) for x, y, lo, hi in pts], s))
        if g.curves:
            fl = ", ".join(f"{n} = {floors[n]:.4g} {unit_label(accel)}" for n in sorted(used))
            if f.kind == "panels":
                g.builds = [b for b in f.builds if any(p[0] == b for _, gl in g.panels for _, ps in gl for p in ps)]
                g.ylabel = "x times the floor"
                g.title = f"Latency per benchmark in units of its floor ({fl}; median over all boots; " \
                          f"bar p50, whisker p10-p90)"
            else:
                g.ylabel = f"x times the floor ({fl})"
            out.append(g)
        else:
            skipped.append(f"{g.name}: no floor_* benchmark (or no Ferry benchmark with a floor) in the data")
    return out, skipped


def flag_non_monotonic(figs):
    """A p50 time that drops markedly as the size grows is flagged on the figure and returned."""
    notes = []
    for f in figs:
        if f.kind != "lines" or f.name.startswith("bulk") and not f.name.startswith("bulk-time"):
            continue
        for label, pts, _ in f.curves:
            for (x0, y0, _, _), (x1, y1, _, _) in zip(pts, pts[1:]):
                if y0 > 0 and y1 < (1 - NON_MONOTONIC_DROP) * y0:
                    n = f"{label}: p50 falls from {y0:.4g} at size {x0} to {y1:.4g} at {x1} (non-monotonic)"
                    f.notes.append(n)
                    notes.append(f"flag: {f.name}: {n}")
    return notes


def build_figures(series):
    """The list of Figure objects the data support, and the reasons for those skipped
    (with the flags a reader must see)."""
    figs, skipped = [], []
    accels = sorted({s.accel for s in series})
    for accel in accels:
        sub = [s for s in series if s.accel == accel]
        suffix = "" if len(accels) == 1 else f"-{accel}"
        f, k = _engine_figures(sub, accel, suffix)
        figs += f
        skipped += k
    return figs, skipped


def _engine_figures(series, accel, suffix):
    lab = Labeler(series)
    unit = unit_label(accel)
    sizes_of = {}
    for s in series:
        sizes_of.setdefault((s.bench, s.variant), set()).add(s.size)
    lo_names = {s.lo_name for s in series}
    whisk = "p10-p90" if lo_names == {"p10"} else "min-p90" if lo_names == {"min"} else "p10/min-p90"
    figs, skipped = [], []
    f = latency_figure(series, lab, unit, sizes_of, suffix, whisk)
    if f:
        figs.append(f)
    else:
        skipped.append(f"latency{suffix}: no benchmark in the results")
    m = msglen_figures(series, unit, sizes_of, suffix)
    figs += m
    if not m:
        skipped.append(f"msglen{suffix}: no benchmark with several sizes")
    b = bulk_figures(series, lab, unit, suffix)
    figs += b
    if not b:
        skipped.append(f"bulk{suffix}: no bulk_* benchmark in the results")
    v, vs = versus_figures(series, unit, suffix)
    figs += v
    skipped += vs
    c = cdf_figures(series, lab, unit, sizes_of, suffix)
    figs += c
    if not c:
        skipped.append(f"cdf{suffix}: no raw samples (run without --no-raw)")
    if unit == "TSC ticks":
        for f in figs:
            rates = {c[2].tsc_hz for c in f.curves if c[2] is not None}
            if f.ylabel == unit and len(rates) == 1 and None not in rates:
                f.tsc_hz = rates.pop()
    fl, fs = floor_figures(figs, series, accel)
    skipped += fs
    skipped += flag_non_monotonic(figs + fl)
    return figs + fl, skipped


def versus_figures(series, unit="TSC ticks", suffix=""):
    """Ferry beside Linux for each shape both measured: horizontal bars of p50 (whiskers
    p10-p90), each pair labelled with the ratio Linux time / Ferry time.  Ferry's default
    build (the fast path) is used when the results hold several.  Returns (figures,
    skipped reasons): a shape measured on one side only is named, not dropped silently."""
    def find(system, bench, variant, size):
        cand = [s for s in series if s.system == system and s.bench == bench and s.variant == variant]
        if system == "ferry" and any(s.build == "default" for s in cand):
            cand = [s for s in cand if s.build == "default"]
        if size is None and cand:
            size = min(s.size for s in cand)
        cand = [s for s in cand if s.size == size]
        return min(cand, key=lambda s: s.p50) if cand else None

    if not any(s.system == "linux" for s in series) or not any(s.system == "ferry" for s in series):
        return [], [f"ferry-vs-linux{suffix}: the results do not hold both systems"]
    accel = series[0].accel
    f = Figure("ferry-vs-linux" + suffix,
               f"Ferry vs Linux, same shapes, same QEMU ({accel}): p50 per operation, whisker p10-p90. "
               f"Ratio = Linux time / Ferry time (above 1: Ferry is faster)", unit, "", "hbars", logx=True)
    skipped = []
    for label, fe, li in SHAPES:
        a, b = find("ferry", *fe), find("linux", *li)
        if not a or not b or a.p50 <= 0:
            skipped.append(f"ferry-vs-linux{suffix}: shape '{label}' not measured on "
                           + ("either system" if not a and not b else "Ferry" if not a else "Linux"))
            continue
        i = len(f.curves)
        f.xticks += [f"Ferry: {label.split(': ', 1)[-1].split(' | ')[0]}",
                     f"Linux: {label.split(' | ')[-1] if ' | ' in label else label}"]
        f.curves.append((f"{label} Ferry", [(i, a.p50, a.p10, a.p90)], a))
        f.curves.append((f"{label} Linux", [(i + 1, b.p50, b.p10, b.p90)], b))
        f.pairs = getattr(f, "pairs", []) + [(label.split(": ")[0] if ": " in label else label, b.p50 / a.p50)]
    return ([f] if f.curves else []), skipped


PALETTE = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]


def _curve_style(i):
    """Line colour, style and marker of curve i: matplotlib's ten colours,
    then the same colours dashed, dotted...: no two curves of one figure
    (up to 40) look alike, so the legend names each one."""
    k = (i // 10) % 4
    return {"color": f"C{i % 10}", "linestyle": ["-", "--", ":", "-."][k], "marker": ["o", "s", "^", "D"][k]}


def _draw_panels(plt, f):
    """One subplot per family (two columns); within it, one slot per benchmark/variant with
    a bar per build side by side, so fast and slow path (or eager and lazy FPU) are adjacent.
    Colours name the builds across all panels."""
    n = len(f.panels)
    ncol = 1 if n == 1 else 2
    nrow = math.ceil(n / ncol)
    most = max(len(groups) for _, groups in f.panels)
    fig, axes = plt.subplots(nrow, ncol, figsize=(max(7, min(16, 3 + 0.75 * most * ncol)), 3.6 * nrow + 0.6),
                             squeeze=False)
    flat_axes = [ax for row in axes for ax in row]
    for ax in flat_axes[n:]:
        ax.set_visible(False)
    for ax, (title, groups) in zip(flat_axes, f.panels):
        mine = [b for b in f.builds if any(p[0] == b for _, pts in groups for p in pts)]
        w = 0.8 / len(mine)
        ys_all = []
        for gi, (name, pts) in enumerate(groups):
            for b, _, y, lo, hi, s in pts:
                k = mine.index(b)
                ax.bar(gi - 0.4 + w * (k + 0.5), y, w, yerr=[[y - lo], [hi - y]], capsize=2,
                       color=PALETTE[f.builds.index(b) % len(PALETTE)], error_kw={"lw": 0.8})
                ys_all.append(y)
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([g[0] for g in groups], rotation=30, ha="right", fontsize=7.5)
        ax.set_xlim(-0.6, max(len(groups), 3) - 0.4)
        ax.set_title(title, fontsize=9)
        pos = [y for y in ys_all if y > 0]
        if pos and max(pos) / min(pos) > 30:
            ax.set_yscale("log")
        ax.grid(True, axis="y", alpha=0.3)
        ax.tick_params(axis="y", labelsize=7.5)
        ax.set_ylabel(f.ylabel, fontsize=8)
    if len(f.builds) > 1:
        from matplotlib.patches import Patch
        # In the first panel, where matplotlib finds room, not over the title.
        flat_axes[0].legend(handles=[Patch(color=PALETTE[i % len(PALETTE)], label=f"build {b}")
                                     for i, b in enumerate(f.builds)], loc="best", fontsize=7.5)
    fig.suptitle(textwrap.fill(f.title, 90), fontsize=10, x=0.01, ha="left")
    return fig, flat_axes[0]


def _draw_hbars(plt, f):
    """Ferry and Linux as horizontal bar pairs, one pair per shape, ratio written beside it."""
    n = len(f.curves)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.36 * n))
    ys = [n - 1 - c[1][0][0] for c in f.curves]
    for (label, pts, s), y in zip(f.curves, ys):
        x, lo, hi = pts[0][1], pts[0][2], pts[0][3]
        ax.barh(y, x, 0.8, xerr=[[x - lo], [hi - x]], capsize=2,
                color=PALETTE[0] if s.system != "linux" else PALETTE[1], error_kw={"lw": 0.8})
    ax.set_yticks(ys)
    ax.set_yticklabels(f.xticks, fontsize=8)
    ax.set_xscale("log")
    xmax = max(c[1][0][3] for c in f.curves)
    for (shape, ratio), i in zip(f.pairs, range(0, n, 2)):
        y = n - 1 - i - 0.5
        ax.text(xmax * 1.6, y, f"{shape}\nLinux/Ferry = {ratio:.2g}x", va="center", fontsize=7.5)
        if i:
            ax.axhline(n - 1 - i + 0.5, color="grey", lw=0.5)
    ax.set_xlim(right=xmax * 40)
    ax.set_xlabel(f.xlabel + " (log scale)")
    from matplotlib.patches import Patch
    ax.legend(handles=[Patch(color=PALETTE[0], label="Ferry"), Patch(color=PALETTE[1], label="Linux")],
              fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=2)
    ax.set_title(textwrap.fill(f.title, 100), fontsize=9)
    ax.grid(True, axis="x", alpha=0.3)
    return fig, ax


def render_mpl(f, out, vector=None):
    """PNG (and the vector format when asked); returns the files written."""
    plt = need_module("matplotlib.pyplot", "python3-matplotlib")
    if f.kind == "panels":
        fig, ax = _draw_panels(plt, f)
    elif f.kind == "hbars":
        fig, ax = _draw_hbars(plt, f)
    else:
        fig, ax = plt.subplots(figsize=(9.5 if f.kind != "cdf" or len(f.curves) > 1 else 7.5,
                                        4.4 + 0.18 * len(f.notes)))
        if f.kind == "lines":
            for i, (label, pts, _) in enumerate(f.curves):
                x = [p[0] for p in pts]
                st = _curve_style(i)
                ax.plot(x, [p[1] for p in pts], ms=3, label=label, **st)
                if any(p[2] != p[1] or p[3] != p[1] for p in pts):
                    ax.fill_between(x, [p[2] for p in pts], [p[3] for p in pts], alpha=0.12, color=st["color"])
            # Beside the axes, not over the curves.
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
        else:
            for i, (label, pts, _) in enumerate(f.curves):
                st = _curve_style(i)
                del st["marker"]
                ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", label=label, **st)
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
            ax.set_ylim(0, 1.02)
        if f.symlogx:
            # Message lengths start at 0 words: linear up to 1, logarithmic above.
            ax.set_xscale("symlog", linthresh=1, base=2)
            xs = sorted({p[0] for c in f.curves for p in c[1]})
            ax.set_xticks(xs)
            ax.set_xticklabels([str(x) for x in xs], fontsize=7.5)
        elif f.logx:
            ax.set_xscale("log", base=2 if f.kind == "lines" else 10)
        if f.tsc_hz:
            # The guest stated its TSC rate: show nanoseconds beside the ticks.
            k = 1e9 / f.tsc_hz
            sec = ax.secondary_yaxis("right", functions=(lambda t: t * k, lambda ns: ns / k))
            sec.set_ylabel("ns")
        if f.logy:
            ax.set_yscale("log")
        ax.set_title(textwrap.fill(f.title, 80), fontsize=9)
        ax.set_xlabel(f.xlabel)
        ax.set_ylabel(textwrap.fill(f.ylabel, 60), fontsize=8.5 if len(f.ylabel) > 40 else 10)
        ax.grid(True, alpha=0.3)
    if f.notes:
        fig.text(0.01, 0.005, "\n".join("! " + n for n in f.notes), fontsize=7, color="#C44E52", va="bottom")
    fig.tight_layout(rect=(0, 0.03 * len(f.notes), 1, 1))
    made = []
    for ext in ("png",) + ((vector,) if vector else ()):
        path = out / f"{f.name}.{ext}"
        tmp = out / f".{f.name}.tmp.{ext}"
        fig.savefig(tmp, dpi=110)
        os.replace(tmp, path)     # atomic, as every other result file
        made.append(path)
    plt.close(fig)
    return made


def _q(s):
    """A gnuplot double-quoted string: a line break becomes its \\n escape."""
    return '"' + str(s).replace('\\', '/').replace('"', "'").replace("\n", "\\n") + '"'


def write_dat(f, out):
    """<name>.dat: the figure's numbers (one index block per curve, first line its title)."""
    blocks = []
    for label, pts, _ in f.curves:
        lines = [f"{_q(label)} x y lo hi"] + [f"{x} {y} {lo} {hi}" for x, y, lo, hi in pts]
        blocks.append("\n".join(lines))
    notes = "".join(f"# ! {n}\n" for n in f.notes)
    atomicio.write_text(out / f"{f.name}.dat", f"# {f.title}\n# unit: {f.ylabel or f.xlabel}\n{notes}"
                        f"# columns: x y lo hi\n" + "\n\n\n".join(blocks) + "\n")


def gnuplot_files(f, out):
    """<name>.gp, a gnuplot script over <name>.dat (panels and pairs drawn as plain bars)."""
    n = len(f.curves)
    gp = [f"# {f.name}.gp: gnuplot rendering of {f.name}; run `gnuplot {f.name}.gp` in this folder.",
          "set terminal pngcairo size 900,520 noenhanced",
          f"set output '{f.name}.gnuplot.png'",
          f"set title {_q(f.title)}", f"set xlabel {_q(f.xlabel)}", f"set ylabel {_q(f.ylabel)}",
          "set grid", "set key outside right top", "set datafile separator whitespace"]
    if f.logx and f.kind != "hbars":
        gp.append("set logscale x 2" if f.kind == "lines" else "set logscale x")
    if f.logy or f.kind in ("panels", "hbars"):
        gp.append("set logscale y")
    if f.kind in ("bars", "panels", "hbars"):
        gp += ["set style fill solid 0.6", "set boxwidth 0.6", "set xtics rotate by -30 nomirror",
               "unset key",
               "set xtics (" + ", ".join(f"{_q(l)} {i}" for i, (l, _, _) in enumerate(f.curves)) + ")",
               f"plot for [i=0:{n - 1}] '{f.name}.dat' index i using 1:2 skip 1 with boxes lc rgb '#4C72B0', \\",
               f"     for [i=0:{n - 1}] '{f.name}.dat' index i using 1:2:3:4 skip 1 with yerrorbars lc rgb 'black' pt 0"]
    elif f.kind == "lines":
        gp.append(f"plot for [i=0:{n - 1}] '{f.name}.dat' index i using 1:2 with linespoints "
                  f"title columnheader(1)")
    else:
        gp += ["set yrange [0:1.02]",
               f"plot for [i=0:{n - 1}] '{f.name}.dat' index i using 1:2 with steps title columnheader(1)"]
    atomicio.write_text(out / f"{f.name}.gp", "\n".join(gp) + "\n")


def run_gnuplot(f, out):
    gp = shutil.which("gnuplot")
    if not gp:
        return "gnuplot not installed (Debian package gnuplot-nox); scripts written only"
    p = subprocess.run([gp, f"{f.name}.gp"], cwd=out, capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        return f"gnuplot failed on {f.name}.gp: {(p.stderr.strip() or 'no message').splitlines()[-1]}"
    return None


def plot_all(folder, out=None, vector=None, gnuplot=False):
    """Write every figure the folders support, and index.html; returns (out folder, files
    made, skipped reasons and flags).  PNG always; vector ("svg"/"pdf") and gnuplot on request."""
    need_module("matplotlib", "python3-matplotlib")
    import matplotlib
    matplotlib.use("Agg")   # no display on a build machine
    folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
    ds, series = load_series(folders)
    if not series:
        raise HarnessError(f"{', '.join(map(str, folders))} hold no results to plot")
    name = Path(folders[0]).name + (f"+{len(folders) - 1}" if len(folders) > 1 else "")
    out = Path(out) if out else plots_root() / name
    out.mkdir(parents=True, exist_ok=True)
    figs, skipped = build_figures(series)
    mixed = ds.mixed_builds()
    if mixed:
        skipped.append(f"warning: {len(mixed)} configuration(s) pool rows from different binaries (build_id): "
                       f"a sweep resumed over a rebuild, or folders of different builds read together")
    made = []
    for f in figs:
        made += render_mpl(f, out, vector)
        write_dat(f, out)
        if gnuplot:
            gnuplot_files(f, out)
            err = run_gnuplot(f, out)
            if err:
                skipped.append(err)
            elif (out / f"{f.name}.gnuplot.png").is_file():
                made.append(out / f"{f.name}.gnuplot.png")
    tf, tmade = tlb_figure(folders, out, vector)
    if tf:
        figs.append(tf)
        made += tmade
    made.append(write_index(out, folders, figs, skipped))
    return out, made, skipped


def tlb_figure(folders, out, vector=None):
    """`tlb`: the TLB model's misses per timed region (tlb.csv of runs with
    --tlb-model), one group of bars per configuration: L1 (i + d) and L2
    misses under the flush and the tagged policy, means over repetitions.
    Returns (Figure for the index, files written), or (None, [])."""
    from . import tlbmodel
    rows = tlbmodel.read_rows(folders)
    if not rows:
        return None, []
    groups = {}
    for r in rows:
        size = r.get("size")
        key = "/".join(str(x) for x in (r.get("build", ""), r["bench"], r.get("variant", ""),
                                         size if size not in (None, "", "-1") else "", r.get("accel", "")) if x != "")
        groups.setdefault(key, []).append(r)

    def mean(rs, cols):
        return sum(sum(float(r[c]) for c in cols) for r in rs) / len(rs)
    bars = [("flush L1 (i+d)", ["tlb_flush_l1i", "tlb_flush_l1d"]), ("flush L2 (walks)", ["tlb_flush_l2"]),
            ("tagged L1 (i+d)", ["tlb_tagged_l1i", "tlb_tagged_l1d"]), ("tagged L2 (walks)", ["tlb_tagged_l2"])]
    import matplotlib.pyplot as plt
    names = list(groups)
    n = len(names)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 0.55 * n))
    h = 0.8 / len(bars)
    for j, (label, cols) in enumerate(bars):
        ys = [n - 1 - i + 0.4 - (j + 0.5) * h for i in range(n)]
        ax.barh(ys, [mean(groups[k], cols) for k in names], h, label=label, color=PALETTE[j])
    ax.set_yticks([n - 1 - i for i in range(n)])
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xlabel("TLB misses per timed region (round trip)")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(True, axis="x", alpha=0.3)
    title = ("TLB model (tools/tlbmodel): misses per timed region, a TLB flushed by every CR3 write vs one "
             "whose entries survive it (PCID); L2 misses are page walks")
    ax.set_title(textwrap.fill(title, 100), fontsize=9)
    fig.tight_layout()
    made = [out / "tlb.png"]
    fig.savefig(made[0], dpi=120)
    if vector:
        made.append(out / f"tlb.{vector}")
        fig.savefig(made[-1])
    plt.close(fig)
    return Figure("tlb", title, "TLB misses per timed region", "", "custom"), made


def write_index(out, folders, figs, notes):
    """index.html: the key figures first, the others linked, the flags, and the show table."""
    from . import report
    try:
        table = report.show_text(folders)
    except HarnessError as e:
        table = str(e)
    names = [f.name for f in figs]
    key = [n for k in KEY_FIGURES for n in names if n == k or n.startswith(k + "-") and
           not any(n.startswith(k2) for k2 in KEY_FIGURES if k2 != k and k2.startswith(k))]
    key = list(dict.fromkeys(key))
    rest = [n for n in names if n not in key]
    e = html.escape
    parts = ["<!doctype html><meta charset=utf-8>",
             f"<title>Ferry results: {e(out.name)}</title>",
             "<style>body{font-family:sans-serif;max-width:1400px;margin:1em auto}"
             "img{max-width:100%;border:1px solid #ddd}pre{font-size:12px;overflow-x:auto}</style>",
             f"<h1>{e(out.name)}</h1>",
             "<p>From: " + ", ".join(e(str(f)) for f in folders) + "</p>"]
    if notes:
        parts.append("<h2>Notes and flags</h2><ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    parts.append("<h2>Key figures</h2>")
    for n in key:
        parts.append(f'<h3>{e(n)}</h3><a href="{e(n)}.png"><img src="{e(n)}.png" alt="{e(n)}"></a>')
    parts.append("<h2>Summary (harness.py show)</h2><pre>" + e(table) + "</pre>")
    if rest:
        parts.append("<h2>Other figures</h2><ul>" + "".join(f'<li><a href="{e(n)}.png">{e(n)}</a></li>'
                                                             for n in rest) + "</ul>")
    path = out / "index.html"
    atomicio.write_text(path, "\n".join(parts) + "\n")
    return path
