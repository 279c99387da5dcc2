"""plot.py: figures from a run or sweep folder (matplotlib PNG + SVG/PDF, plus gnuplot script and data).

Reads result files only.  Each figure is drawn from whatever the results
contain and skipped, with a one-line reason, when its data are absent, so new
benchmarks appear without changes here.

Hardware floor used for the "x times the floor" figures (first one present
in the same system, build and accelerator wins; the lowest p50 over the
floor's own variants is taken):

    benchmark name starts with | floor benchmarks, in order of preference
    ---------------------------+------------------------------------------
    floor_                     | floor_rdtsc
    ipc_                       | floor_ipc, floor_syscall
    notify / notif_            | floor_ipc, floor_syscall
    null_syscall / syscall_    | floor_syscall
    yield                      | floor_ipc, floor_syscall
    bulk_                      | floor_ipc, floor_syscall
    map / unmap / fault        | floor_syscall
    (anything else)            | floor_ipc, floor_syscall, floor_cr3
"""

import os
import textwrap
import shutil
import subprocess
from pathlib import Path

from . import atomicio, stats
from .errors import HarnessError, need_module
from .records import REPO
from .results import Dataset

FLOOR_TABLE = [
    ("floor_", ["floor_rdtsc"]),
    ("ipc_", ["floor_ipc", "floor_syscall"]),
    ("notify", ["floor_ipc", "floor_syscall"]),
    ("notif_", ["floor_ipc", "floor_syscall"]),
    ("null_syscall", ["floor_syscall"]),
    ("syscall_", ["floor_syscall"]),
    ("yield", ["floor_ipc", "floor_syscall"]),
    ("bulk_", ["floor_ipc", "floor_syscall"]),
    ("map", ["floor_syscall"]),
    ("unmap", ["floor_syscall"]),
    ("fault", ["floor_syscall"]),
    ("", ["floor_ipc", "floor_syscall", "floor_cr3"]),
]
MAX_CURVES = 12

# The same shapes on the two systems, for the Ferry-vs-Linux figure: a label,
# then (bench, variant, size) on Ferry and on Linux; size None = the smallest.
SHAPES = [
    ("null syscall", ("null_syscall", "syscall", -1), ("null_syscall", "getppid", -1)),
    ("round trip, two processes\n(ipc_call cross | pipe)", ("ipc_call", "cross", None), ("pipe_rt", "cpu1", -1)),
    ("round trip, two processes\n(ipc_call cross | unix socket)", ("ipc_call", "cross", None), ("unix_rt", "cpu1", -1)),
    ("round trip, two processes\n(ipc_call cross | eventfd)", ("ipc_call", "cross", None), ("eventfd_rt", "cpu1", -1)),
    ("round trip, two threads\n(ipc_call same | futex)", ("ipc_call", "same", None), ("futex_rt", "cpu1", -1)),
    ("yield round trip", ("yield", "same", -1), ("yield", "cpu1", -1)),
    ("64 KiB copied\n(bulk_copy | pipe)", ("bulk_copy", "", 65536), ("bulk_pipe", "cpu1", 65536)),
    ("1 MiB copied\n(bulk_copy | pipe)", ("bulk_copy", "", 1048576), ("bulk_pipe", "cpu1", 1048576)),
    ("1 MiB shared\n(bulk_grant | memfd)", ("bulk_grant", "", 1048576), ("bulk_shm", "cpu1", 1048576)),
    ("spawn + exit + wait\n(process server | posix_spawn)", ("spawn", "", -1), ("spawn", "", -1)),
    ("first touch of a page\n(pager | page fault)", ("first_touch", "", -1), ("first_touch", "", -1)),
]


def floors_for(bench):
    for prefix, floors in FLOOR_TABLE:
        if bench.startswith(prefix):
            return floors
    return []


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
            s = stats.summarize(raw)
            self.p10, self.p50, self.p90 = s["p10"], s["p50"], s["p90"]
            self.lo_name = "p10"
        else:
            # Without raw samples there is no p10: the lower whisker is the
            # minimum, and the legend says so.
            self.p50 = stats.median([r["p50"] for r in rows])
            self.p10 = min(r["min"] for r in rows)
            self.p90 = max(r["p90"] for r in rows)
            self.lo_name = "min"
        self.tsc_hz = next((r["tsc_hz"] for r in rows if r["tsc_hz"]), None)
        self.disturbed = any(r["disturbed"] for r in rows)


def load_series(folder):
    ds = Dataset(folder)
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

    def __call__(self, s, with_bench=False, with_size=False):
        parts = [s.bench] if with_bench else []
        parts += [str(getattr(s, f)) for f in ("system", "build", "accel") if self.vary[f]
                  and not (f == "build" and s.build == s.system)]   # "linux linux" says it twice
        if s.variant:
            parts.append(s.variant)
        if with_size and s.size >= 0:
            parts.append(f"size {s.size}")
        if s.disturbed:
            # perf counted more VM exits than the bound allows (see perf.py).
            parts.append("[disturbed]")
        return " ".join(parts)


def floor_value(series, s):
    """p50 of the floor for s, or (None, None).  The floor of the same system, build and
    accelerator is preferred; otherwise any system's floor under the same accelerator,
    since the hardware floor does not depend on the OS measured against it (this is
    how Linux results get a floor from Ferry's floor_* benchmarks in the same sweep)."""
    for fname in floors_for(s.bench):
        for same in (lambda f: (f.system, f.build, f.accel) == (s.system, s.build, s.accel),
                     lambda f: f.accel == s.accel):
            cands = [f.p50 for f in series if f.bench == fname and same(f)]
            if cands and min(cands) > 0:
                return min(cands), fname
    return None, None


class Figure:
    """A figure's data in a form both renderers use: named series of (x, y, lo, hi) points."""

    def __init__(self, name, title, xlabel, ylabel, kind, logx=False, logy=False):
        self.name, self.title, self.xlabel, self.ylabel, self.kind = name, title, xlabel, ylabel, kind
        self.logx, self.logy = logx, logy
        self.tsc_hz = None  # set when every curve shares one guest TSC rate: adds a ns axis
        self.curves = []    # (label, [(x, y, lo, hi)])
        self.xticks = []    # for bars: category names

    def scaled(self, name, title, ylabel, factor_of):
        """The same figure divided point by point by factor_of(label) (a floor); curves without one drop."""
        f = Figure(name, title, self.xlabel, ylabel, self.kind, self.logx, self.logy)
        f.xticks = self.xticks
        for label, pts, ref in self.curves:
            fl = factor_of(ref)
            if not fl:
                continue
            if self.kind == "cdf":
                # A CDF's values are on x; its y is a fraction and stays.
                f.curves.append((label, [(x / fl, y, lo, hi) for x, y, lo, hi in pts], ref))
            else:
                f.curves.append((label, [(x, y / fl, lo / fl, hi / fl) for x, y, lo, hi in pts], ref))
        return f


def build_figures(series):
    """The list of Figure objects the data support, and the reasons for those skipped."""
    figs, skipped = [], []
    lab = Labeler(series)
    sizes_of = {}
    for s in series:
        sizes_of.setdefault(s.bench, set()).add(s.size)
    flat = [s for s in series if len(sizes_of[s.bench]) == 1 and not s.bench.startswith("bulk")]
    sized = [s for s in series if len(sizes_of[s.bench]) > 1 and not s.bench.startswith("bulk")]
    # A benchmark measured at several sizes (ipc_call over message lengths)
    # also gets a bar at its smallest size: the register-only round trip.
    smallest = [s for s in sized if s.size == min(sizes_of[s.bench])]
    bulk = [s for s in series if s.bench.startswith("bulk")]
    lo_names = {s.lo_name for s in series}
    whisk = "p10-p90" if lo_names == {"p10"} else "min-p90" if lo_names == {"min"} else "p10/min-p90"

    if flat or smallest:
        f = Figure("latency", f"Latency per benchmark and variant (bar p50, whisker {whisk})",
                   "", "TSC ticks", "bars")
        flat = sorted(flat + smallest, key=lambda s: (s.bench, lab(s)))
        f.xticks = [lab(s, with_bench=True, with_size=s in smallest) for s in flat]
        for i, s in enumerate(flat):
            f.curves.append((f.xticks[i], [(i, s.p50, s.p10, s.p90)], s))
        ys = [s.p50 for s in flat if s.p50 > 0]
        f.logy = bool(ys) and max(ys) / min(ys) > 50
        figs.append(f)
    else:
        skipped.append("latency: no benchmark with a single size")

    if sized:
        f = Figure("msglen", f"Latency against message length (p50, band {whisk})",
                   "size (words or bytes)", "TSC ticks", "lines")
        for key in sorted({(s.bench, lab(s)) for s in sized}):
            pts = sorted((s for s in sized if (s.bench, lab(s)) == key), key=lambda s: s.size)
            f.curves.append((f"{key[0]} {key[1]}".strip(), [(s.size, s.p50, s.p10, s.p90) for s in pts], pts[0]))
        f.curves = f.curves[:MAX_CURVES]
        figs.append(f)
    else:
        skipped.append("msglen: no benchmark with several sizes")

    if bulk:
        hz = {s.tsc_hz for s in bulk}
        per_s = None not in hz
        f = Figure("bulk", "Bulk transfer bandwidth, copy vs grant (p50)", "transfer size (bytes)",
                   "MiB/s" if per_s else "bytes per 1000 TSC ticks", "lines", logx=True, logy=True)
        for key in sorted({(s.bench, lab(s)) for s in bulk}):
            pts = sorted((s for s in bulk if (s.bench, lab(s)) == key and s.size > 0 and s.p50 > 0),
                         key=lambda s: s.size)
            def bw(s, ticks):
                ticks = max(ticks, 1)
                return s.size / (ticks / s.tsc_hz) / 2**20 if per_s else s.size / ticks * 1000
            # Bandwidth falls as time rises, so p90 time gives the low bound.
            f.curves.append((f"{key[0]} {key[1]}".strip(), [(s.size, bw(s, s.p50), bw(s, s.p90), bw(s, s.p10))
                                                    for s in pts], pts[0] if pts else None))
        f.curves = [c for c in f.curves if c[1]][:MAX_CURVES]
        figs.append(f)
        # Per-transfer time for the floor-relative view: bandwidth is not a
        # multiple of anything.
        t = Figure("bulk-time", "Bulk transfer time (p50)", "transfer size (bytes)", "TSC ticks",
                   "lines", logx=True, logy=True)
        for key in sorted({(s.bench, lab(s)) for s in bulk}):
            pts = sorted((s for s in bulk if (s.bench, lab(s)) == key and s.size > 0), key=lambda s: s.size)
            if pts:
                t.curves.append((f"{key[0]} {key[1]}".strip(), [(s.size, s.p50, s.p10, s.p90) for s in pts], pts[0]))
        figs.append(t)
    else:
        skipped.append("bulk: no bulk_* benchmark in the results")

    versus = versus_figures(series)
    if versus:
        figs.extend(versus)
    else:
        skipped.append("ferry-vs-linux: the results do not hold one shape on both systems")

    withraw = [s for s in series if s.raw]
    if withraw:
        for bench in sorted({s.bench for s in withraw}):
            f = Figure(f"cdf-{bench}", f"Latency CDF: {bench} (raw samples)", "TSC ticks",
                       "fraction of samples", "cdf")
            ss = sorted((s for s in withraw if s.bench == bench), key=lambda s: (lab(s), s.size))
            if len(sizes_of[bench]) > 2:
                # Over a size sweep, the smallest and the largest size per
                # variant show the spread; every size would be unreadable.
                ends = {min(sizes_of[bench]), max(sizes_of[bench])}
                ss = [s for s in ss if s.size in ends]
            for s in ss[:MAX_CURVES]:
                v = sorted(s.raw)
                n = len(v)
                # Thin very long sample lists to about 500 steps; the shape of
                # the curve does not need more.
                step = max(1, n // 500)
                pts = [(v[i], (i + 1) / n, 0, 0) for i in range(0, n, step)]
                if pts[-1][0] != v[-1]:
                    pts.append((v[-1], 1.0, 0, 0))
                f.curves.append((lab(s, with_size=len(sizes_of[bench]) > 1) or bench, pts, s))
            xs = [p[0] for _, pts, _ in f.curves for p in pts if p[0] > 0]
            # Sizes far apart put curves decades apart: a log axis keeps each readable.
            f.logx = bool(xs) and max(xs) / min(xs) > 50
            figs.append(f)
    else:
        skipped.append("cdf: no raw samples (run without --no-raw)")

    for f in figs:
        rates = {c[2].tsc_hz for c in f.curves if c[2] is not None}
        if f.ylabel == "TSC ticks" and len(rates) == 1 and None not in rates:
            f.tsc_hz = rates.pop()

    # Every figure again in units of its hardware floor.
    floor_figs, nofloor = [], []
    for f in figs:
        if f.name == "bulk":
            continue
        used = set()
        def factor(ref, used=used):
            v, name = floor_value(series, ref) if ref else (None, None)
            if name:
                used.add(name)
            return v
        g = f.scaled(f.name + "-xfloor", f.title + " / floor", "x times the hardware floor", factor)
        if g.curves:
            g.ylabel = "x times the floor (" + ", ".join(sorted(used)) + ")"
            if f.kind == "cdf":
                g.xlabel = g.ylabel
                g.ylabel = f.ylabel
            floor_figs.append(g)
        else:
            nofloor.append(g.name)
    if nofloor:
        skipped.append(f"{len(nofloor)} x-floor figures ({', '.join(nofloor[:3])}"
                       f"{', ...' if len(nofloor) > 3 else ''}): no floor_* benchmark for these data")
    return figs + floor_figs, skipped


def versus_figures(series):
    """Ferry beside Linux for each shape both measured, per accelerator: bars
    of p50 (whiskers p10-p90) labelled with the ratio Linux/Ferry.  Ferry's
    default build (the fast path) is used when the results hold several."""
    def find(system, accel, bench, variant, size):
        cand = [s for s in series if s.system == system and s.accel == accel
                and s.bench == bench and s.variant == variant]
        if system == "ferry" and any(s.build == "default" for s in cand):
            cand = [s for s in cand if s.build == "default"]
        if size is None and cand:
            size = min(s.size for s in cand)
        cand = [s for s in cand if s.size == size]
        return min(cand, key=lambda s: s.p50) if cand else None

    figs = []
    accels = sorted({s.accel for s in series if s.system == "ferry"} &
                    {s.accel for s in series if s.system == "linux"})
    for accel in accels:
        f = Figure("ferry-vs-linux" + ("" if len(accels) == 1 else f"-{accel}"),
                   f"Ferry vs Linux, same shapes, same QEMU ({accel}; p50, whisker p10-p90)",
                   "", "TSC ticks", "bars", logy=True)
        for label, fe, li in SHAPES:
            a, b = find("ferry", accel, *fe), find("linux", accel, *li)
            if not a or not b or a.p50 <= 0:
                continue
            i = len(f.curves)
            f.xticks += [f"{label}\nFerry", f"Linux: {b.p50 / a.p50:.1f}x"]
            f.curves.append((f.xticks[i], [(i, a.p50, a.p10, a.p90)], a))
            f.curves.append((f.xticks[i + 1], [(i + 1, b.p50, b.p10, b.p90)], b))
        if f.curves:
            figs.append(f)
    return figs


def _group_of(s):
    """Bar colour key: system, then build, then accelerator."""
    return " ".join(str(x) for x in dict.fromkeys((s.system, s.build, s.accel)))


def _curve_style(i):
    """Line colour, style and marker of curve i: matplotlib's ten colours,
    then the same colours dashed, dotted...: no two curves of one figure
    (up to 40) look alike, so the legend names each one."""
    k = (i // 10) % 4
    return {"color": f"C{i % 10}", "linestyle": ["-", "--", ":", "-."][k], "marker": ["o", "s", "^", "D"][k]}


def render_mpl(f, out, vector):
    plt = need_module("matplotlib.pyplot", "python3-matplotlib")
    fig, ax = plt.subplots(figsize=(7.5, 4.2) if f.kind != "bars" else (max(6, 0.6 * len(f.xticks) + 2), 4.6))
    if f.kind == "bars":
        xs = [c[1][0][0] for c in f.curves]
        ys = [c[1][0][1] for c in f.curves]
        err = [[y - c[1][0][2] for y, c in zip(ys, f.curves)], [c[1][0][3] - y for y, c in zip(ys, f.curves)]]
        groups = [_group_of(c[2]) for c in f.curves]
        palette = ["#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860"]
        order = list(dict.fromkeys(groups))
        colors = [palette[order.index(g) % len(palette)] for g in groups]
        ax.bar(xs, ys, yerr=err, capsize=4, color=colors)
        if len(order) > 1:
            from matplotlib.patches import Patch
            ax.legend(handles=[Patch(color=palette[i % len(palette)], label=g) for i, g in enumerate(order)],
                      fontsize=7)
        ax.set_xticks(xs)
        ax.set_xticklabels([c[0] for c in f.curves], rotation=30, ha="right", fontsize=8)
    elif f.kind == "lines":
        for i, (label, pts, _) in enumerate(f.curves):
            x = [p[0] for p in pts]
            st = _curve_style(i)
            ax.plot(x, [p[1] for p in pts], ms=3, label=label, **st)
            ax.fill_between(x, [p[2] for p in pts], [p[3] for p in pts], alpha=0.12, color=st["color"])
        ax.legend(fontsize=7)
    else:
        for i, (label, pts, _) in enumerate(f.curves):
            st = _curve_style(i)
            del st["marker"]
            ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", label=label, **st)
        ax.legend(fontsize=7)
        ax.set_ylim(0, 1.02)
    if f.logx:
        ax.set_xscale("log", base=2 if f.kind == "lines" else 10)
    if f.tsc_hz:
        # The guest stated its TSC rate: show nanoseconds beside the ticks.
        k = 1e9 / f.tsc_hz
        sec = ax.secondary_yaxis("right", functions=(lambda t: t * k, lambda ns: ns / k))
        sec.set_ylabel("ns")
    if f.logy:
        ax.set_yscale("log")
    ax.set_title(textwrap.fill(f.title, 70), fontsize=9)
    ax.set_xlabel(f.xlabel)
    ax.set_ylabel(f.ylabel)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    made = []
    for ext in ("png", vector):
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


def gnuplot_files(f, out):
    """Write <name>.dat (one index block per curve, first line its title) and <name>.gp."""
    blocks = []
    for label, pts, _ in f.curves:
        lines = [f"{_q(label)} x y lo hi"] + [f"{x} {y} {lo} {hi}" for x, y, lo, hi in pts]
        blocks.append("\n".join(lines))
    atomicio.write_text(out / f"{f.name}.dat", f"# {f.title}\n# columns: x y lo hi\n" + "\n\n\n".join(blocks) + "\n")
    n = len(f.curves)
    gp = [f"# {f.name}.gp: gnuplot rendering of {f.name}; run `gnuplot {f.name}.gp` in this folder.",
          "set terminal pngcairo size 900,520 noenhanced",
          f"set output '{f.name}.gnuplot.png'",
          f"set title {_q(f.title)}", f"set xlabel {_q(f.xlabel)}", f"set ylabel {_q(f.ylabel)}",
          "set grid", "set key outside right top", "set datafile separator whitespace"]
    if f.logx:
        gp.append("set logscale x 2" if f.kind == "lines" else "set logscale x")
    if f.logy:
        gp.append("set logscale y")
    if f.kind == "bars":
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


def plot_all(folder, out=None, vector="svg", gnuplot=True):
    """Write every figure the folder supports; returns (out folder, files made, skipped reasons)."""
    need_module("matplotlib", "python3-matplotlib")
    import matplotlib
    matplotlib.use("Agg")   # no display on a build machine
    folders = [folder] if isinstance(folder, (str, Path)) else list(folder)
    _, series = load_series(folders)
    if not series:
        raise HarnessError(f"{', '.join(map(str, folders))} hold no results to plot")
    name = Path(folders[0]).name + (f"+{len(folders) - 1}" if len(folders) > 1 else "")
    out = Path(out) if out else plots_root() / name
    out.mkdir(parents=True, exist_ok=True)
    figs, skipped = build_figures(series)
    made = []
    for f in figs:
        made += render_mpl(f, out, vector)
        gnuplot_files(f, out)
        if gnuplot:
            err = run_gnuplot(f, out)
            if err:
                skipped.append(err)
            elif (out / f"{f.name}.gnuplot.png").is_file():
                made.append(out / f"{f.name}.gnuplot.png")
    return out, made, skipped
