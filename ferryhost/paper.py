"""paper.py: the paper's numbers (LaTeX macros), tables and figures, generated from results folders.

`harness.py paper [RESULTS...] [--out paper/generated]` writes

    numbers.tex        \\newcommand macros, one per quantity in MACROS below
    tables/*.tex       booktabs tables, \\input by paper/paper.tex
    fig-*.pdf          matplotlib figures at column width
    fig-*.tex          \\includegraphics of the figure, or a box saying it was not measured

Everything degrades: a benchmark, build or engine absent from the results
gives macros that print "n/a", table rows that say "not measured in this
results folder" and a figure box saying so, never an undefined macro or a
missing file, so the paper builds from any results folder and fills in as
results appear.

Macro names (letters only, as TeX needs) are stable; paper/README.md lists
the scheme and numbers.tex carries one comment line per macro saying what it
is.  A quantity measured under one of three engine roles ends in that role's
letter:

    T   the timing engine: hardware KVM where the results have it, else TCG
        (emulator TSC ticks: only ratios mean something)
    I   the instruction-count engine, QEMU tcg-icount (the TSC counts guest
        instructions: path lengths)
    B   Bochs with `clock: sync=none` (instructions too; the CPU with PCID)

and each median X comes with XLo and XHi, its 95% bootstrap interval (two
levels: repetitions, then samples in each; ferryhost.stats); each ratio R
with RLo and RHi the same way (stats.hierarchical_ratio).
"""

import csv
import json
import math
import random
import re
from dataclasses import dataclass
from pathlib import Path

from . import atomicio, plot, stats
from .env import INSTRUCTION_COUNT_ENGINES
from .errors import HarnessError, need_module
from .records import REPO
from .results import Dataset, latest_by_key, results_root

NA = "n/a"
NOT_MEASURED = "not measured in this results folder"
PAPER = REPO / "paper"
PUBLISHED = PAPER / "published.csv"
CONFIDENCE = 0.95
RESAMPLES = 1000

ROLE_DOC = {"T": "timing engine", "I": "instruction-count engine", "B": "Bochs"}


# --------------------------------------------------------------------------- choosing the results

def _sweep(folder):
    try:
        return json.loads((Path(folder) / "sweep.json").read_text())
    except (OSError, ValueError):
        return {}


def _sweep_name(folder):
    d = _sweep(folder)
    return (d.get("config") or {}).get("name") or Path(d.get("config_path") or "").stem or None


def _finished(folder):
    """Every run of the sweep has ended (ok or not): none pending or running."""
    from .sweep import DONE
    units = _sweep(folder).get("units") or {}
    return bool(units) and all(u.get("status") in DONE for u in units.values())


def default_folders(root=None):
    """The latest full sweep (else the latest sweep, else the latest run), plus the latest
    `pcid` sweep when there is one: it is the only one run under Bochs, whose CPU has PCID."""
    root = Path(root or results_root())
    if not root.is_dir():
        raise HarnessError(f"no results under {root}: run `make bench` (or a sweep) first")
    key = lambda p: p.name.removeprefix("sweep-")
    sweeps = sorted((p for p in root.iterdir() if (p / "sweep.json").is_file()), key=key)
    runs = sorted((p for p in root.iterdir() if (p / "meta.json").is_file()), key=key)
    # A sweep still running (or interrupted) is taken only when no finished one exists.
    done = [p for p in sweeps if _finished(p)]
    full = [p for p in done if _sweep_name(p) == "full"]
    main = (full or done or sweeps or runs or [None])[-1]
    if main is None:
        raise HarnessError(f"no runs or sweeps under {root}: run `make bench` (or a sweep) first")
    out = [main]
    pcid = [p for p in done if _sweep_name(p) == "pcid"]
    if pcid and pcid[-1] != main:
        out.append(pcid[-1])
    return out


# --------------------------------------------------------------------------- the data

class Data:
    """The results of some folders, indexed by configuration, with the engine roles chosen."""

    def __init__(self, folders):
        self.folders = [Path(f) for f in folders]
        # Later folders supersede earlier ones configuration by configuration: a full
        # sweep, then a smaller one re-measuring what a change moved (PAPER_RESULTS).
        self.ds, self.series = plot.load_series(self.folders, supersede=True)
        self.by_key = {s.key: s for s in self.series}
        accels = {s.accel for s in self.series}
        timing = [a for a in accels if a not in INSTRUCTION_COUNT_ENGINES]
        self.roles = {
            "T": "kvm" if "kvm" in timing else "tcg" if "tcg" in timing else (sorted(timing) or [None])[0],
            "I": "tcg-icount" if "tcg-icount" in accels else None,
            "B": "bochs" if "bochs" in accels else None,
        }

    def find(self, system, bench, variant="", size=-1, build=None, role="T"):
        """One configuration's Series or None.  size None: the smallest measured; build None:
        'default' for Ferry ('pcid_on' under Bochs, where the pcid sweep names its builds so),
        the system's own name for Linux; a tuple: the first of those builds that is measured
        (ipc_tput's "default, 2 vCPUs" where a sweep also ran it on one vCPU, else "default")."""
        if isinstance(build, tuple):
            return next((s for s in (self.find(system, bench, variant, size, b, role) for b in build) if s), None)
        accel = self.roles.get(role)
        if accel is None:
            return None
        # variant None: any variant (benchmarks still being built may name theirs differently);
        # the alphabetically first is taken, so the choice is stable.
        cand = [s for s in self.series if s.system == system and s.bench == bench and s.accel == accel
                and (variant is None or s.variant == variant)]
        if variant is None and cand:
            first = min(s.variant for s in cand)
            cand = [s for s in cand if s.variant == first]
        if build is None:
            builds = {s.build for s in cand}
            for b in ("default", "pcid_on", system):
                if b in builds:
                    build = b
                    break
            else:
                build = min(builds) if len(builds) == 1 else None
        cand = [s for s in cand if s.build == build]
        if size is None and cand:
            size = min(s.size for s in cand)
        cand = [s for s in cand if s.size == size]
        return cand[0] if cand else None

    def reps(self, s):
        """Per repetition: its raw samples, or its p50 alone where raw samples were not kept."""
        out = []
        for r in s.rows:
            raw = self.ds.raw(r)
            out.append(list(raw) if raw else [r["p50"]])
        return out

    def meta_values(self, field):
        vals = []
        for m in self.ds.metas.values():
            v = m
            for part in field.split("."):
                v = v.get(part) if isinstance(v, dict) else None
            if v not in (None, "", [], {}):
                vals.append(v)
        return vals


def median_interval(reps, resamples=RESAMPLES, confidence=CONFIDENCE, seed=1):
    """Median over repetitions of each repetition's median, with a two-level percentile
    bootstrap interval (the same resampling as stats.hierarchical_ratio)."""
    srt = [sorted(r) for r in reps if r]
    if not srt:
        return None
    med = stats.median([stats.median(r) for r in srt])
    rng = random.Random(seed)
    draws = []
    for _ in range(resamples):
        chosen = rng.choices(srt, k=len(srt)) if len(srt) > 1 else srt
        draws.append(stats.median([stats.resampled_median(r, rng) for r in chosen]))
    draws.sort()
    tail = (1 - confidence) / 2
    lo = draws[int(math.floor(tail * len(draws)))]
    hi = draws[min(len(draws) - 1, int(math.ceil((1 - tail) * len(draws))) - 1)]
    return med, lo, hi


# --------------------------------------------------------------------------- formatting

def fmt_count(v):
    """A tick or instruction count: an integer with thousands separators (halves kept)."""
    if v is None:
        return NA
    if abs(v - round(v)) > 1e-9 and abs(v) < 100:
        return f"{v:,.1f}"     # a median between two small counts keeps its half
    return f"{int(round(v)):,}"


def fmt_ratio(v):
    if v is None or math.isinf(v) or math.isnan(v):
        return NA
    if v >= 100:
        return f"{v:,.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def tex_escape(s):
    s = str(s)
    for a, b in (("\\", r"\textbackslash{}"), ("&", r"\&"), ("%", r"\%"), ("$", r"\$"), ("#", r"\#"),
                 ("_", r"\_"), ("{", r"\{"), ("}", r"\}"), ("~", r"\textasciitilde{}"),
                 ("^", r"\textasciicircum{}")):
        s = s.replace(a, b)
    return s


# --------------------------------------------------------------------------- the macros

@dataclass(frozen=True)
class Cfg:
    """One measured configuration, by role (T, I, B)."""
    bench: str
    variant: str = ""
    size: int = -1
    build: str = None
    system: str = "ferry"

    def label(self):
        v = f"/{self.variant}" if self.variant else ""
        z = f" {self.size}" if self.size not in (-1, None) else ""
        b = self.build if not isinstance(self.build, tuple) else " or ".join(self.build)
        b = f" [{b}]" if b else ""
        return f"{self.system} {self.bench}{v}{z}{b}"


@dataclass(frozen=True)
class Val:
    name: str
    cfg: Cfg
    roles: str = "TI"


@dataclass(frozen=True)
class Ratio:
    name: str
    num: Cfg
    den: Cfg
    roles: str = "TI"
    what: str = ""


FLOOR_SYS, FLOOR_IPC = Cfg("floor_syscall"), Cfg("floor_ipc")
# Throughput scaling is N pairs on N vCPUs of one guest: the two-vCPU boots' rows,
# which carry the vCPU count in their label when the sweep also ran ipc_tput on one.
TPUT_BUILDS = ("default, 2 vCPUs", "default")
TPUT1, TPUT2 = Cfg("ipc_tput", "", 1, TPUT_BUILDS), Cfg("ipc_tput", "", 2, TPUT_BUILDS)
# The engine's own parallelism in the same boots: user-mode loops, no kernel entry.
SPIN1, SPIN2 = Cfg("ipc_tput", "spin", 1, TPUT_BUILDS), Cfg("ipc_tput", "spin", 2, TPUT_BUILDS)
CROSS0 = Cfg("ipc_call", "cross", 0)
SAME0 = Cfg("ipc_call", "same", 0)
CROSS0_2CPU = Cfg("ipc_call", "cross", 0, "default, 2 vCPUs")
XCPU, XCPU_POLL = Cfg("ipc_call", "xcpu", None), Cfg("ipc_call", "xcpu", None, "idlepoll")
FLOOR_IPI, FLOOR_IPI_POLL = Cfg("floor_ipi"), Cfg("floor_ipi", "", -1, "idlepoll")
# The IPI round trip to a CPU asleep in its idle halt: the like-for-like floor of a
# halting cross-core Call, which wakes a halted vCPU on each leg.
FLOOR_IPI_HALT = Cfg("floor_ipi", "halt")
TLS0, BOUNDNTFN0, LOWPRIO0 = (Cfg("ipc_call", v, 0) for v in ("cross_tls", "cross_boundntfn", "cross_lowprio"))
GRANT_4K, COPY_4K = Cfg("file_read", "cached_grant", 4096), Cfg("file_read", "cached_copy", 4096)
TMPFS_4K = Cfg("file_read", "tmpfs", 4096, None, "linux")

# The quantities the text names, each a median (with Lo/Hi) or a ratio (with Lo/Hi), per role.
MACROS = [
    Val("floorRdtsc", Cfg("floor_rdtsc")),
    Val("floorSyscall", FLOOR_SYS),
    Val("floorIpc", FLOOR_IPC),
    Val("floorFpu", Cfg("floor_fpu")),
    Val("floorCrFlush", Cfg("floor_cr3", "flush"), "TIB"),
    Val("floorCrPcid", Cfg("floor_cr3", "pcid"), "TIB"),
    Val("nullSyscall", Cfg("null_syscall", "syscall")),
    Val("nullIntEighty", Cfg("null_syscall", "int80")),
    Val("ipcCross", CROSS0),
    Val("ipcSame", SAME0),
    Val("ipcCrossFour", Cfg("ipc_call", "cross", 4)),
    Val("ipcCrossEight", Cfg("ipc_call", "cross", 8)),
    Val("ipcCrossTen", Cfg("ipc_call", "cross", 10)),
    Val("ipcCrossMax", Cfg("ipc_call", "cross", 120)),
    Val("ipcCrossSlow", Cfg("ipc_call", "cross", 0, "nofastpath")),
    Val("ipcSameSlow", Cfg("ipc_call", "same", 0, "nofastpath")),
    Val("ipcCrossNoDirect", Cfg("ipc_call", "cross", 0, "nodirect")),
    Val("ipcCallOneway", Cfg("ipc_call", "oneway")),
    Val("ipcReplyRecvOneway", Cfg("ipc_replyrecv", "oneway")),
    Val("ipcSendCross", Cfg("ipc_send", "cross", 0)),
    Val("notifyCross", Cfg("notify", "cross")),
    Val("yieldCross", Cfg("yield", "cross")),
    Val("yieldSame", Cfg("yield", "same")),
    Val("yieldFpu", Cfg("yield", "fpu")),
    Val("yieldFpuEager", Cfg("yield", "fpu", -1, "eagerfpu")),
    Val("ringOne", Cfg("ipc_ring", "cross", 1)),
    Val("ringSixtyFour", Cfg("ipc_ring", "cross", 64)),
    Val("faultRt", Cfg("fault_rt")),
    Val("vmMap", Cfg("vm_map", "4k")),
    Val("bulkCopyMiB", Cfg("bulk_copy", "", 1048576)),
    Val("bulkGrantMiB", Cfg("bulk_grant", "", 1048576)),
    Val("ipcCrossKpti", Cfg("ipc_call", "cross", 0, "kpti")),
    Val("ipcXcpu", XCPU),
    Val("floorIpi", FLOOR_IPI),
    Val("floorIpiHalt", FLOOR_IPI_HALT),
    Val("fileReadFourK", GRANT_4K),
    Val("fileReadFourKCopy", COPY_4K),
    Val("linuxTmpfsFourK", TMPFS_4K),
    Val("ipcXcpuPoll", XCPU_POLL, "T"),
    Val("floorIpiPoll", FLOOR_IPI_POLL, "T"),
    Val("ipcCrossPcidOn", Cfg("ipc_call", "cross", 0, "pcid_on"), "B"),
    Val("ipcCrossPcidOff", Cfg("ipc_call", "cross", 0, "pcid_off"), "B"),
    Val("linuxGetppid", Cfg("null_syscall", "getppid", system="linux")),
    Val("linuxPipe", Cfg("pipe_rt", "cpu1", system="linux")),
    Val("linuxPipeXcpu", Cfg("pipe_rt", "cpu2", system="linux"), "T"),
    Val("linuxFutex", Cfg("futex_rt", "cpu1", system="linux")),
    Ratio("ipcCrossXfloor", CROSS0, FLOOR_IPC, what="cross-space round trip / floor_ipc"),
    Ratio("ipcSameXfloor", SAME0, FLOOR_SYS, what="same-space round trip / floor_syscall"),
    Ratio("nullSyscallXfloor", Cfg("null_syscall", "syscall"), FLOOR_SYS, what="null syscall / floor_syscall"),
    Ratio("slowOverFast", Cfg("ipc_call", "cross", 0, "nofastpath"), CROSS0, what="slow path / fast path"),
    Ratio("slowOverFastSame", Cfg("ipc_call", "same", 0, "nofastpath"), SAME0, what="slow / fast, same space"),
    Ratio("noDirectOverSlow", Cfg("ipc_call", "cross", 0, "nodirect"), Cfg("ipc_call", "cross", 0, "nofastpath"),
          what="slow path without / with direct switch"),
    Ratio("intEightyOverSyscall", Cfg("null_syscall", "int80"), Cfg("null_syscall", "syscall"),
          what="int 0x80 / syscall"),
    Ratio("tenOverFour", Cfg("ipc_call", "cross", 10), Cfg("ipc_call", "cross", 4),
          what="10 words (6 through the buffer) / 4 words (registers)"),
    Ratio("crossOverSame", CROSS0, SAME0, what="cross-space / same-space round trip"),
    Ratio("eagerOverLazyFpu", Cfg("yield", "fpu", -1, "eagerfpu"), Cfg("yield", "fpu"),
          what="yield/fpu, eager / lazy FPU switch"),
    Ratio("grantOverCopyMiB", Cfg("bulk_grant", "", 1048576), Cfg("bulk_copy", "", 1048576),
          what="1 MiB by grant / by copy"),
    Ratio("ringSixtyFourOverCall", Cfg("ipc_ring", "cross", 64), CROSS0,
          what="ring message at batch 64 / Call round trip"),
    Ratio("kptiOverDefault", Cfg("ipc_call", "cross", 0, "kpti"), CROSS0, what="KPTI / default round trip"),
    Ratio("xcpuOverSame", XCPU, SAME0, what="cross-core / same-core round trip"),
    Ratio("xcpuOverFloorIpi", XCPU, FLOOR_IPI, "T",
          what="cross-core round trip / IPI round trip, idle CPUs halt"),
    Ratio("xcpuOverFloorIpiHalt", XCPU, FLOOR_IPI_HALT, "T",
          what="cross-core round trip, idle CPUs halt / IPI round trip to a halted CPU"),
    Ratio("xcpuPollOverFloorIpi", XCPU_POLL, FLOOR_IPI_POLL, "T", what="cross-core round trip / IPI round trip, idle CPUs poll"),
    Ratio("tlsOverCross", TLS0, CROSS0, what="server with an FS base / plain"),
    Ratio("boundntfnOverCross", BOUNDNTFN0, CROSS0,
          what="server with a bound notification / plain"),
    Ratio("lowprioOverCross", LOWPRIO0, CROSS0,
          what="receiver one priority lower / plain"),
    Ratio("smpCrossOverOne", CROSS0_2CPU, CROSS0,
          what="same-core round trip on the 2-vCPU kernel / on 1 vCPU"),
    Ratio("grantOverTmpfsFourK", GRANT_4K, TMPFS_4K,
          what="4 KiB read: Ferry's file server by grant / Linux tmpfs"),
    Ratio("copyOverTmpfsFourK", COPY_4K, TMPFS_4K,
          what="4 KiB read: Ferry's file server by copy / Linux tmpfs"),
    Ratio("linuxFutexXcpuOverXcpu", Cfg("futex_rt", "cpu2", system="linux"), XCPU, "T",
          what="Linux futex round trip across two vCPUs / Ferry cross-core Call"),
    Ratio("tputScaling", TPUT1, TPUT2, "T",
          what="throughput of 2 pairs on 2 CPUs / of 1 pair (ipc_tput, ticks per 1000 Calls)"),
    Ratio("tputSpinScaling", SPIN1, SPIN2, "T",
          what="the same for user-mode loops without Calls (ipc_tput/spin): the engine's parallelism"),
    Ratio("pcidOffOverOn", Cfg("ipc_call", "cross", 0, "pcid_off"), Cfg("ipc_call", "cross", 0, "pcid_on"), "B",
          what="cross round trip, pcid=off / pcid=on"),
    Ratio("crFlushOverPcid", Cfg("floor_cr3", "flush"), Cfg("floor_cr3", "pcid"), "B",
          what="floor_cr3 flush / pcid"),
    Ratio("linuxPipeOverCall", Cfg("pipe_rt", "cpu1", system="linux"), CROSS0,
          what="Linux pipe round trip / Ferry cross-space Call"),
    Ratio("linuxGetppidOverNull", Cfg("null_syscall", "getppid", system="linux"), Cfg("null_syscall", "syscall"),
          what="Linux getppid / Ferry null syscall"),
    Ratio("linuxXcpuOverSame", Cfg("pipe_rt", "cpu2", system="linux"), Cfg("pipe_rt", "cpu1", system="linux"), "T",
          what="Linux pipe across two vCPUs / on one"),
]


def _value(data, cfg, role):
    s = data.find(cfg.system, cfg.bench, cfg.variant, cfg.size, cfg.build, role)
    return (s, median_interval(data.reps(s))) if s else (None, None)


def _ratio(data, num, den, role):
    a = data.find(den.system, den.bench, den.variant, den.size, den.build, role)
    b = data.find(num.system, num.bench, num.variant, num.size, num.build, role)
    if not a or not b or a.p50 <= 0:
        return None
    try:
        r = stats.hierarchical_ratio(data.reps(a), data.reps(b), RESAMPLES, CONFIDENCE)
    except ValueError:
        return None
    return r["ratio"], r["lo"], r["hi"]


def _facts(data):
    """Machine and run facts from the metadata: (name, value, comment)."""
    def one(field, default=NA):
        vals = data.meta_values(field)
        uniq = list(dict.fromkeys(str(v) for v in vals))
        return ", ".join(uniq) if uniq else default
    sweeps = [json.loads((f / "sweep.json").read_text()) for f in data.folders if (f / "sweep.json").is_file()]
    # A sweep's commit is the one it started from (its builds); a run inside it records
    # HEAD when it ran, which moves if someone commits while a long sweep runs.
    commits = sorted({str(s.get("git_commit"))[:10] for s in sweeps if s.get("git_commit")}
                     | {str(json.loads((f / "meta.json").read_text()).get("git_commit"))[:10]
                        for f in data.folders if (f / "meta.json").is_file()}) \
        or sorted({str(v)[:10] for v in data.meta_values("git_commit")})
    dates = sorted(str(v)[:10] for v in data.meta_values("date"))
    # The usual sample count (bulk transfers and the long interrupt-latency runs take fewer).
    counts = [r["samples"] for r in data.ds.rows if r.get("samples") and not r["bench"].startswith("bulk")]
    samples = [max(set(counts), key=counts.count)] if counts else []
    reps = sorted({len(s.rows) for s in data.series})
    bochs = [m.get("bochs") for m in data.ds.metas.values() if m.get("bochs")]
    bochs_ver = ", ".join(dict.fromkeys(str(b.get("version") or b.get("bochs_version") or NA) for b in bochs
                                        if isinstance(b, dict))) or NA
    bochs_cpu = ", ".join(dict.fromkeys(str(b.get("cpu_model")) for b in bochs
                                        if isinstance(b, dict) and b.get("cpu_model"))) or NA
    kvm = one("host_kvm_kind")
    return [
        ("resultsFolders", ", ".join(f.name for f in data.folders), "results folders read"),
        ("sweepNames", ", ".join(dict.fromkeys((s.get("config") or {}).get("name", "?") for s in sweeps)) or "single run",
         "sweep names"),
        ("resultsCommit", ", ".join(commits) or NA, "git commits of the runs"),
        ("resultsDirty", "yes" if any(data.meta_values("git_dirty")) else "no", "any run from a dirty tree"),
        ("resultsDate", (dates[0] if dates and dates[0] == dates[-1] else
                         f"{dates[0]} to {dates[-1]}") if dates else NA, "dates of the runs"),
        ("hostCPU", one("host_cpu"), "host CPU"),
        ("hostKVM", {"pvm": "PVM (software KVM, not used)", "none": "none"}.get(kvm, kvm),
         "KVM on the host (hardware, PVM, none)"),
        ("qemuVersion", one("qemu_version"), "QEMU version"),
        ("compilerVersion", one("tools.cc"), "compiler"),
        ("bochsVersion", bochs_ver, "Bochs version"),
        ("bochsCPU", bochs_cpu, "Bochs CPU model"),
        ("tscMethod", one("guest_tsc_method"), "guest TSC read method"),
        ("engines", ", ".join(sorted({s.accel for s in data.series})) or NA, "engines in the results"),
        ("engineT", data.roles["T"] or NA, "the timing engine (role T)"),
        ("engineI", data.roles["I"] or NA, "the instruction-count engine (role I)"),
        ("engineB", data.roles["B"] or NA, "Bochs (role B)"),
        ("builds", ", ".join(sorted({s.build for s in data.series if s.system == "ferry"})) or NA, "Ferry builds"),
        ("samplesPerConfig", ", ".join(f"{n:,}" for n in samples) or NA, "usual samples per configuration and boot"),
        ("repetitions", ", ".join(map(str, reps)) or NA, "boots per configuration"),
        ("configurations", f"{len(data.series):,}", "measured configurations"),
        ("runsTotal", f"{len(data.ds.metas):,}", "run folders read"),
        # A run that ended early (failed, timeout...) still holds the records it printed;
        # the paper uses them and says how many runs did not end well.
        ("runsFailed", f"{sum(1 for m in data.ds.metas.values() if m.get('status') != 'ok'):,}",
         "run folders whose boot did not end well (their earlier records are used)"),
        ("hardwareKvm", "yes" if data.roles["T"] == "kvm" else "no", "any figure timed under hardware KVM"),
    ]


def macro_values(data):
    """[(name, value, comment)] for every macro, in MACROS order after the facts."""
    out = list(_facts(data))
    for m in MACROS:
        for role in m.roles:
            eng = data.roles.get(role) or "absent"
            if isinstance(m, Val):
                s, v = _value(data, m.cfg, role)
                what = f"{m.cfg.label()} median, {ROLE_DOC[role]} ({eng})"
                vals = v or (None, None, None)
                out.append((m.name + role, fmt_count(vals[0]), what))
                out.append((m.name + role + "Lo", fmt_count(vals[1]), "  95% interval, low"))
                out.append((m.name + role + "Hi", fmt_count(vals[2]), "  95% interval, high"))
            else:
                r = _ratio(data, m.num, m.den, role) or (None, None, None)
                out.append((m.name + role, fmt_ratio(r[0]), f"ratio {m.what}, {ROLE_DOC[role]} ({eng})"))
                out.append((m.name + role + "Lo", fmt_ratio(r[1]), "  95% interval, low"))
                out.append((m.name + role + "Hi", fmt_ratio(r[2]), "  95% interval, high"))
    out += tlb_macros(data)
    return out


TLB_MACROS = [("tlbCross", ("ipc_call", "cross", 0)), ("tlbSame", ("ipc_call", "same", 0)),
              ("tlbYieldCross", ("yield", "cross", -1))]


def tlb_macros(data):
    """TLB-model macros: <name><Flush|Tagged>[Walks]: L1 i+d misses (Walks: L2 misses) per round trip."""
    out = []
    for name, (bench, variant, size) in TLB_MACROS:
        for policy in ("flush", "tagged"):
            for suffix, levels in (("", ("l1i", "l1d")), ("Walks", ("l2",))):
                v = tlb_value(data, bench, variant, size, policy, levels)
                out.append((f"{name}{policy.capitalize()}{suffix}", fmt_misses(v),
                            f"TLB model: {bench}/{variant} {policy} TLB, {'L2' if suffix else 'L1 i+d'} misses "
                            f"per timed region"))
    return out


def numbers_tex(values):
    lines = ["% numbers.tex: generated by `harness.py paper` (ferryhost/paper.py); do not edit.",
             "% Each macro prints one figure from the results folder, or n/a where it was not measured."]
    for name, value, comment in values:
        if not re.fullmatch(r"[A-Za-z]+", name):
            raise HarnessError(f"macro name {name!r} is not letters only")
        lines.append(f"\\newcommand{{\\{name}}}{{{tex_escape(value)}\\xspace}} % {comment}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- tables

def _cell_val(data, cfg, role):
    s, v = _value(data, cfg, role)
    return fmt_count(v[0]) if v else None


def _cell_ci(data, cfg, role):
    s, v = _value(data, cfg, role)
    if not v:
        return None
    if v[1] == v[2]:
        return fmt_count(v[0])
    return f"{fmt_count(v[0])} {{\\scriptsize[{fmt_count(v[1])}, {fmt_count(v[2])}]}}"


def _cell_ratio(data, num, den, role):
    r = _ratio(data, num, den, role)
    return fmt_ratio(r[0]) if r else None


def table_tex(caption_label, cols, rows, spec=None, wide=False):
    """A booktabs tabular; a row whose cells are all None says it was not measured."""
    spec = spec or ("l" + "r" * (len(cols) - 1))
    n = len(cols)
    out = [f"% generated by harness.py paper; {caption_label}", f"\\begin{{tabular}}{{{spec}}}", "\\toprule",
           " & ".join(cols) + " \\\\", "\\midrule"]
    for r in rows:
        if r == "mid":
            out.append("\\midrule")
            continue
        head, cells = r[0], r[1:]
        if all(c is None for c in cells):
            out.append(f"{head} & \\multicolumn{{{n - 1}}}{{l}}{{\\emph{{{NOT_MEASURED}}}}} \\\\")
        else:
            out.append(" & ".join([head] + [c if c is not None else NA for c in cells]) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(out) + "\n"


def _name(cfg, size=True):
    v = f"/{cfg.variant}" if cfg.variant else ""
    z = f" ({cfg.size})" if size and cfg.size not in (-1, None) else ""
    return "\\texttt{" + tex_escape(cfg.bench + v) + "}" + z


FLOOR_ROWS = [
    Cfg("null_syscall", "syscall"), Cfg("null_syscall", "int80"), Cfg("vm_map", "4k"), Cfg("vm_unmap", "4k"),
    Cfg("fault_rt"), Cfg("yield", "same"), Cfg("ipc_call", "same", 0), Cfg("ipc_send", "same", 0),
    Cfg("notify", "same"), Cfg("yield", "cross"), Cfg("ipc_call", "cross", 0), Cfg("ipc_call", "cross_boundntfn", 0),
    Cfg("ipc_call", "cross_lowprio", 0), Cfg("ipc_call", "cross_tls", 0), Cfg("ipc_send", "cross", 0),
    Cfg("notify", "cross"),
]


def table_floor(data):
    rows = []
    last = None
    for c in FLOOR_ROWS:
        fl = plot.floor_for(c.bench, c.variant)
        if last and fl != last:
            rows.append("mid")
        last = fl
        f = Cfg(fl)
        rows.append((_name(c), "\\texttt{" + tex_escape(fl) + "}",
                     _cell_ci(data, c, "T"), _cell_ratio(data, c, f, "T"),
                     _cell_val(data, c, "I"), _cell_ratio(data, c, f, "I")))
    rows.insert(0, ("\\texttt{floor\\_syscall}", "", _cell_ci(data, FLOOR_SYS, "T"), None,
                    _cell_val(data, FLOOR_SYS, "I"), None))
    rows.insert(1, ("\\texttt{floor\\_ipc}", "", _cell_ci(data, FLOOR_IPC, "T"), None,
                    _cell_val(data, FLOOR_IPC, "I"), None))
    rows.insert(2, "mid")
    return table_tex("each benchmark against its hardware floor",
                     ["benchmark", "floor", "T median [95\\%]", "T $\\times$floor", "I instr.", "I $\\times$floor"],
                     rows, "llrrrr")


PATH_ROWS = [Cfg("ipc_call", "same", 0), Cfg("ipc_call", "cross", 0), Cfg("ipc_call", "cross", 4),
             Cfg("ipc_call", "cross", 10), Cfg("ipc_call", "cross", 64), Cfg("ipc_call", "cross", 120)]


def _with(c, build):
    return Cfg(c.bench, c.variant, c.size, build, c.system)


def table_paths(data):
    rows = []
    for c in PATH_ROWS:
        slow, nod = _with(c, "nofastpath"), _with(c, "nodirect")
        rows.append((_name(c), _cell_val(data, c, "I"), _cell_val(data, slow, "I"), _cell_val(data, nod, "I"),
                     _cell_ratio(data, slow, c, "I"), _cell_ratio(data, slow, c, "T")))
    for what, c, slow in [("\\texttt{null\\_syscall} \\texttt{int80} / \\texttt{syscall}",
                           Cfg("null_syscall", "int80"), Cfg("null_syscall", "syscall"))]:
        rows.append("mid")
        rows.append((what, _cell_val(data, slow, "I"), _cell_val(data, c, "I"), None,
                     _cell_ratio(data, c, slow, "I"), _cell_ratio(data, c, slow, "T")))
    return table_tex("fast vs slow path",
                     ["round trip (words)", "fast I", "slow I", "slow, no direct I", "slow/fast I", "slow/fast T"],
                     rows, "lrrrrr")


def table_pcid(data):
    rows = [
        ("\\texttt{floor\\_cr3} (two CR3 writes)", _cell_val(data, Cfg("floor_cr3", "flush"), "B"),
         _cell_val(data, Cfg("floor_cr3", "pcid"), "B"),
         _cell_ratio(data, Cfg("floor_cr3", "flush"), Cfg("floor_cr3", "pcid"), "B")),
    ]
    for c in [Cfg("floor_ipc"), Cfg("ipc_call", "cross", 0), Cfg("ipc_call", "cross", 64), Cfg("yield", "cross")]:
        on, off = _with(c, "pcid_on"), _with(c, "pcid_off")
        rows.append((_name(c), _cell_val(data, off, "B"), _cell_val(data, on, "B"), _cell_ratio(data, off, on, "B")))
    rows.append("mid")
    tlb = tlb_rows(data)
    rows += tlb or [("TLB misses per \\texttt{ipc\\_call/cross} (TLB model, tcg-icount)", None, None, None)]
    return table_tex("PCID vs flush under Bochs",
                     ["Bochs, instructions", "flush", "PCID", "flush/PCID"], rows, "lrrr")


TLB_ROWS = [("ipc_call", "cross", 0), ("ipc_call", "same", 0), ("yield", "cross", -1)]
# (what, the tlb.csv columns summed): L1 instruction + data misses, and L2 misses (page walks).
TLB_LEVELS = [("L1 i+d", ("l1i", "l1d")), ("L2 (walks)", ("l2",))]


def tlb_value(data, bench, variant, size, policy, levels):
    """TLB misses per timed region from the TLB model (tlb.csv, ferryhost/tlbmodel.py): the
    median over boots of the levels' sum, for the default build (else any one build), or None."""
    from . import tlbmodel
    if not hasattr(data, "_tlb"):
        # As for the other rows, a later folder's configuration replaces an earlier one's.
        data._tlb = latest_by_key(
            [(i, r) for i, f in enumerate(data.folders) for r in tlbmodel.read_rows([f])],
            lambda r: (r.get("system", "ferry"), r.get("bench"), r.get("variant", ""), str(r.get("size")),
                       r.get("build")))
    rows = [r for r in data._tlb if r.get("system", "ferry") == "ferry" and r.get("bench") == bench
            and r.get("variant", "") == variant and str(r.get("size")) == str(size)]
    builds = {r.get("build") for r in rows}
    build = "default" if "default" in builds else min(builds) if builds else None
    vals = []
    for r in rows:
        if r.get("build") != build:
            continue
        try:
            vals.append(sum(float(r[f"tlb_{policy}_{lv}"]) for lv in levels))
        except (KeyError, TypeError, ValueError):
            continue
    return stats.median(vals) if vals else None


def fmt_misses(v):
    return NA if v is None else f"{v:.3g}" if v < 1000 else f"{v:,.0f}"


def tlb_rows(data):
    """The TLB model's misses per round trip, a TLB flushed by every CR3 write against a tagged
    one, where the results carry them (runs made with --tlb-model)."""
    out = []
    for bench, variant, size in TLB_ROWS:
        for what, levels in TLB_LEVELS:
            f = tlb_value(data, bench, variant, size, "flush", levels)
            t = tlb_value(data, bench, variant, size, "tagged", levels)
            if f is None and t is None:
                continue
            name = f"TLB misses, {what}: \\texttt{{{tex_escape(bench + '/' + variant)}}}"
            out.append((name, fmt_misses(f), fmt_misses(t), fmt_ratio(f / t) if f is not None and t else None))
    return out


BULK_SIZES = [64, 1024, 16384, 65536, 262144, 1048576, 4194304]


def table_bulk(data):
    rows = []
    for z in BULK_SIZES:
        c, g = Cfg("bulk_copy", "", z), Cfg("bulk_grant", "", z)
        rows.append((_size(z), _cell_val(data, c, "T"), _cell_val(data, g, "T"), _cell_ratio(data, g, c, "T"),
                     _cell_val(data, c, "I"), _cell_val(data, g, "I"), _cell_ratio(data, g, c, "I")))
    return table_tex("copy vs grant", ["size", "copy T", "grant T", "grant/copy T", "copy I", "grant I",
                                       "grant/copy I"], rows, "lrrrrrr")


def _size(z):
    return f"{z // 1048576} MiB" if z >= 1048576 else f"{z // 1024} KiB" if z >= 1024 else f"{z} B"


def _shape_cfg(system, t):
    bench, variant, size = t
    return Cfg(bench, variant, size, None, system)


def table_linux(data):
    rows = []
    for label, fe, li in plot.SHAPES:
        f, l = _shape_cfg("ferry", fe), _shape_cfg("linux", li)
        rows.append((tex_escape(label.replace(" | ", " vs ")), _cell_val(data, f, "T"), _cell_val(data, l, "T"),
                     _cell_ratio(data, l, f, "T"), _cell_val(data, f, "I"), _cell_val(data, l, "I"),
                     _cell_ratio(data, l, f, "I")))
    for label, li in [("pipe across two vCPUs", ("pipe_rt", "cpu2", -1)),
                      ("futex across two vCPUs", ("futex_rt", "cpu2", -1))]:
        l = _shape_cfg("linux", li)
        x = XCPU
        rows.append((label + " vs Ferry \\texttt{ipc\\_call/xcpu}", _cell_val(data, x, "T"), _cell_val(data, l, "T"),
                     _cell_ratio(data, l, x, "T"), None, None, None))
    return table_tex("Ferry vs Linux", ["shape", "Ferry T", "Linux T", "Linux/Ferry T", "Ferry I", "Linux I",
                                        "Linux/Ferry I"], rows, ">{\\raggedright\\arraybackslash}p{5.2cm}rrrrrr")


# The system beyond one-CPU IPC: the Meltdown-mitigated build, the fast path's
# cliffs, cross-core IPC (halting and polling idle CPUs, each against the IPI
# floor measured the same way), throughput, and end-to-end reads.  Each row:
# label, the quantity, and the baseline its ratio is taken against (or None).
SYSTEM_ROWS = [
    ("Meltdown mitigation (\\texttt{KPTI=1}): \\texttt{ipc\\_call/cross} / default",
     Cfg("ipc_call", "cross", 0, "kpti"), CROSS0),
    ("fast path, server with a bound notification (\\texttt{cross\\_boundntfn}) / \\texttt{cross}",
     BOUNDNTFN0, CROSS0),
    ("fast path, receiver one priority lower (\\texttt{cross\\_lowprio}) / \\texttt{cross}",
     LOWPRIO0, CROSS0),
    ("fast path, server with an FS base (\\texttt{cross\\_tls}) / \\texttt{cross}",
     TLS0, CROSS0),
    ("same-core round trip on 2 vCPUs (\\texttt{ipc\\_call/cross}) / on 1", CROSS0_2CPU, CROSS0),
    ("IPI round trip \\texttt{floor\\_ipi} (idle CPU halts)", FLOOR_IPI, None),
    ("cross-core Call round trip \\texttt{ipc\\_call/xcpu} / \\texttt{floor\\_ipi}",
     XCPU, FLOOR_IPI),
    ("cross-core wake-up \\texttt{notify/xcpu} / \\texttt{floor\\_ipi}", Cfg("notify", "xcpu"), FLOOR_IPI),
    ("IPI round trip to a halted CPU \\texttt{floor\\_ipi/halt}", FLOOR_IPI_HALT, None),
    ("\\texttt{ipc\\_call/xcpu} / \\texttt{floor\\_ipi/halt}", XCPU, FLOOR_IPI_HALT),
    ("idle CPUs poll (\\texttt{idle\\_poll\\_us=50}): \\texttt{floor\\_ipi}", FLOOR_IPI_POLL, None),
    ("idle CPUs poll: \\texttt{ipc\\_call/xcpu} / its \\texttt{floor\\_ipi}",
     XCPU_POLL, FLOOR_IPI_POLL),
    ("idle CPUs poll: \\texttt{notify/xcpu} / its \\texttt{floor\\_ipi}",
     Cfg("notify", "xcpu", -1, "idlepoll"), FLOOR_IPI_POLL),
    ("1 client/server pair, ticks per 1000 Calls (\\texttt{ipc\\_tput}); ratio: scaling at 2 pairs on 2 CPUs",
     TPUT1, TPUT2),
    ("the same with user-mode loops for Calls (\\texttt{ipc\\_tput/spin}): the engine's parallelism",
     SPIN1, SPIN2),
    ("file read, 4 KiB, file server by copy (\\texttt{file\\_read/cached\\_copy}) / Linux tmpfs",
     COPY_4K, TMPFS_4K),
    ("file read, 4 KiB, file server by grant (\\texttt{file\\_read/cached\\_grant}) / Linux tmpfs",
     GRANT_4K, TMPFS_4K),
    ("file read, 1 MiB through the ATA driver, grant / copy (\\texttt{file\\_read/blk\\_*})",
     Cfg("file_read", "blk_grant", 1048576), Cfg("file_read", "blk_copy", 1048576)),
]


def table_system(data):
    """The system beyond one-CPU IPC (SYSTEM_ROWS): generated like the rest, so a row
    stays empty when the results folder does not hold it."""
    rows = []
    for label, c, base in SYSTEM_ROWS:
        rows.append((label, _cell_val(data, c, "T"), _cell_ratio(data, c, base, "T") if base else None,
                     _cell_val(data, c, "I"), _cell_ratio(data, c, base, "I") if base else None))
    return table_tex("the system beyond one-CPU IPC",
                     ["quantity", "T", "T ratio", "I", "I ratio"], rows,
                     ">{\\raggedright\\arraybackslash}p{7.4cm}rrrr")


def read_published(path=PUBLISHED):
    """Published figures of other kernels (paper/published.csv): cited, never measured here."""
    try:
        with open(path) as f:
            return [r for r in csv.DictReader(f) if r.get("kernel")]
    except OSError:
        return []


def table_published(data):
    rows = []
    for p in read_published():
        rows.append((tex_escape(p["kernel"]), tex_escape(p["operation"]), tex_escape(p["hardware"]),
                     tex_escape(p["value"]) + " " + tex_escape(p["unit"]), f"\\cite{{{p['cite']}}}"))
    rows.append("mid")
    for what, c in [("one-way Call (\\texttt{ipc\\_call/oneway})", Cfg("ipc_call", "oneway")),
                    ("one-way ReplyRecv (\\texttt{ipc\\_replyrecv/oneway})", Cfg("ipc_replyrecv", "oneway")),
                    ("round trip, cross-space, 0 words", CROSS0)]:
        v = _cell_val(data, c, "I")
        rows.append(("Ferry (this paper)", what, "QEMU tcg-icount",
                     (v + " instructions") if v else f"\\emph{{{NOT_MEASURED}}}", "measured here"))
    out = ["% generated by harness.py paper; published path lengths beside Ferry's",
           "\\begin{tabular}{l>{\\raggedright\\arraybackslash}p{4.2cm}>{\\raggedright\\arraybackslash}p{4cm}rl}",
           "\\toprule",
           "kernel & operation & hardware & cost & source \\\\", "\\midrule"]
    for r in rows:
        out.append("\\midrule" if r == "mid" else " & ".join(r) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(out) + "\n"


TABLES = {"floor": table_floor, "paths": table_paths, "pcid": table_pcid, "bulk": table_bulk,
          "linux": table_linux, "system": table_system, "published": table_published}


# --------------------------------------------------------------------------- figures

COLUMN_IN = 3.4     # one column of the two-column layout, inches


def _setup_mpl():
    need_module("matplotlib", "python3-matplotlib")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams.update({"font.size": 7.5, "axes.titlesize": 8, "axes.labelsize": 7.5, "legend.fontsize": 6.5,
                         "xtick.labelsize": 6.5, "ytick.labelsize": 6.5, "pdf.fonttype": 42,
                         "font.family": "serif"})
    return plt


def _unit(data, role):
    return "instructions" if role in "IB" else ("TSC ticks" if data.roles["T"] != "kvm" else "TSC ticks")


def fig_msglen(data, plt, out):
    """Round-trip cost against message length, fast and slow path, cross and same space."""
    role = "I" if data.roles["I"] else "T"
    curves = []
    for variant in ("cross", "same"):
        for build, style in (("default", "-"), ("nofastpath", "--")):
            pts = sorted((s for s in data.series if s.system == "ferry" and s.bench == "ipc_call"
                          and s.variant == variant and s.build == build and s.accel == data.roles[role]
                          and s.size >= 0), key=lambda s: s.size)
            if len(pts) > 1:
                curves.append((f"{variant}, {'fast path' if build == 'default' else 'slow path'}", style, pts))
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 2.3))
    for i, (label, style, pts) in enumerate(curves):
        ax.plot([s.size for s in pts], [s.p50 for s in pts], style, marker="os^D"[i % 4], ms=2.5, lw=1,
                label=label, color=f"C{i}")
    ax.axvline(4, color="grey", lw=0.6, ls=":")
    # Above the axes, centred on the line: words 0-3 travel in registers, the rest in the buffer.
    ax.text(4, 1.01, "registers | buffer", transform=ax.get_xaxis_transform(), fontsize=5.5, ha="center",
            va="bottom", color="grey")
    ax.set_xscale("symlog", linthresh=1, base=2)
    xs = sorted({s.size for _, _, p in curves for s in p})
    ax.set_xticks(xs)
    # 10 sits too close to 8 and 16 to be labelled on a log axis; its tick stays.
    ax.set_xticklabels(["" if x == 10 and {8, 16} <= set(xs) else str(x) for x in xs])
    ax.set_xlim(-0.3, max(xs) * 1.15)
    ax.set_xlabel("message length (words each way)")
    ax.set_ylabel(f"round trip, p50\n({_unit(data, role)})")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    # Below the axes: inside, it would cover the slow-path curves.
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, title=data.roles[role], title_fontsize=6.5)
    return fig


def fig_xfloor(data, plt, out):
    """Each IPC-like benchmark as a multiple of its hardware floor, per engine."""
    roles = [r for r in "TI" if data.roles[r]]
    rows = []
    for c in FLOOR_ROWS:
        fl = plot.floor_for(c.bench, c.variant)
        vals = {}
        for r in roles:
            x = _ratio(data, c, Cfg(fl), r)
            if x:
                vals[r] = x
        if vals:
            rows.append((c, fl, vals))
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 0.35 + 0.16 * len(rows) * max(1, len(roles)) ** 0.5 + 0.5))
    h = 0.8 / len(roles)
    for k, r in enumerate(roles):
        ys = [len(rows) - 1 - i + (k - (len(roles) - 1) / 2) * h for i in range(len(rows))]
        xs = [v[2].get(r, (0, 0, 0))[0] for v in rows]
        lo = [max(0, x - v[2].get(r, (0, 0, 0))[1]) for x, v in zip(xs, rows)]
        hi = [max(0, v[2].get(r, (0, 0, 0))[2] - x) for x, v in zip(xs, rows)]
        ax.barh(ys, xs, h, xerr=[lo, hi], capsize=1.2, error_kw={"lw": 0.5},
                label=f"{data.roles[r]} ({'instructions' if r == 'I' else 'ticks'})", color=f"C{k}")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([c.bench + (f"/{c.variant}" if c.variant else "") + (f" {c.size}" if c.size not in (-1, None)
                        else "") + f" \u00f7 {fl.removeprefix('floor_')}" for c, fl, _ in reversed(rows)], fontsize=6)
    ax.axvline(1, color="black", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("\u00d7 the hardware floor (ratio of medians)", loc="right")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)   # above: inside it covers bars
    return fig


def fig_bulk(data, plt, out):
    """Copy vs grant: time per transfer against size, log-log."""
    role = "T" if any(s.bench.startswith("bulk") and s.accel == data.roles["T"] for s in data.series) else "I"
    curves = []
    for b in ("bulk_copy", "bulk_grant"):
        pts = sorted((s for s in data.series if s.system == "ferry" and s.bench == b and s.build == "default"
                      and s.accel == data.roles[role] and s.size > 0), key=lambda s: s.size)
        if pts:
            curves.append((b.replace("bulk_", ""), pts))
    if not curves:
        return None
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 2.2))
    for i, (label, pts) in enumerate(curves):
        x = [s.size for s in pts]
        ax.plot(x, [s.p50 for s in pts], marker="os"[i], ms=2.5, lw=1, label=label, color=f"C{i}")
        ax.fill_between(x, [s.p10 for s in pts], [s.p90 for s in pts], alpha=0.15, color=f"C{i}")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    xs = sorted({s.size for _, p in curves for s in p})
    ax.set_xticks(xs)
    ax.set_xticklabels([_size(x).replace(" ", "\u2009") for x in xs], rotation=35, ha="right")
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlabel("transfer size")
    ax.set_ylabel(f"per transfer, p50\n({_unit(data, role)})")
    ax.grid(True, alpha=0.3, which="both", lw=0.3)
    ax.legend(loc="upper left", title=data.roles[role], title_fontsize=6.5)
    return fig


def fig_linux(data, plt, out):
    """Linux time / Ferry time per shape (above 1: Ferry is faster), per engine."""
    roles = [r for r in "TI" if data.roles[r]]
    rows = []
    for label, fe, li in plot.SHAPES:
        vals = {}
        for r in roles:
            x = _ratio(data, _shape_cfg("linux", li), _shape_cfg("ferry", fe), r)
            if x:
                vals[r] = x
        if vals:
            rows.append((label.split(": ")[0] if ": " in label else label, label.split(": ")[-1], vals))
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(COLUMN_IN, 0.8 + 0.24 * len(rows)))
    h = 0.8 / len(roles)
    for k, r in enumerate(roles):
        ys = [len(rows) - 1 - i + (k - (len(roles) - 1) / 2) * h for i in range(len(rows))]
        xs = [v[2].get(r, (0, 0, 0))[0] for v in rows]
        lo = [max(0, x - v[2].get(r, (0, 0, 0))[1]) for x, v in zip(xs, rows)]
        hi = [max(0, v[2].get(r, (0, 0, 0))[2] - x) for x, v in zip(xs, rows)]
        ax.barh(ys, xs, h, xerr=[lo, hi], capsize=1.2, error_kw={"lw": 0.5}, color=f"C{k}",
                label=f"{data.roles[r]} ({'instructions' if r == 'I' else 'ticks'})")
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([(f"{a}: {b}" if a != b else a).replace(" | ", " vs ") for a, b, _ in reversed(rows)],
                       fontsize=6)
    ax.axvline(1, color="black", lw=0.6)
    ax.set_xscale("log")
    ax.set_xlabel("Linux / Ferry (ratio of medians)", loc="right")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2)   # above: inside it covers bars
    return fig


FIGURES = {"msglen": fig_msglen, "xfloor": fig_xfloor, "bulk": fig_bulk, "linux": fig_linux}


def write_figures(data, out):
    plt = _setup_mpl()
    made, skipped = [], []
    for name, fn in FIGURES.items():
        fig = fn(data, plt, out)
        tex = out / f"fig-{name}.tex"
        if fig is None:
            skipped.append(f"figure {name}: its benchmarks are not in the results")
            box = "\\fbox{\\parbox{0.9\\columnwidth}{\\centering\\emph{" + NOT_MEASURED + "}}}"
            atomicio.write_text(tex, "% generated by harness.py paper\n" + box + "\n")
            (out / f"fig-{name}.pdf").unlink(missing_ok=True)
            continue
        fig.tight_layout(pad=0.3)
        pdf = out / f"fig-{name}.pdf"
        # Tight: long tick labels are kept whole; LaTeX scales it to the column.
        fig.savefig(pdf, bbox_inches="tight", pad_inches=0.02)
        plt.close(fig)
        atomicio.write_text(tex, f"% generated by harness.py paper\n\\includegraphics[width=\\columnwidth]"
                                 f"{{generated/fig-{name}.pdf}}\n")
        made.append(pdf)
    return made, skipped


# --------------------------------------------------------------------------- all of it

def generate(folders=None, out=None):
    """Write numbers.tex, tables/*.tex and the figures; returns (out, data folders, files, notes)."""
    folders = [Path(f) for f in (folders or default_folders())]
    out = Path(out or PAPER / "generated")
    (out / "tables").mkdir(parents=True, exist_ok=True)
    data = Data(folders)
    if not data.series:
        raise HarnessError(f"{', '.join(map(str, folders))} hold no results")
    values = macro_values(data)
    files = [out / "numbers.tex"]
    atomicio.write_text(files[0], numbers_tex(values))
    for name, fn in TABLES.items():
        p = out / "tables" / f"{name}.tex"
        atomicio.write_text(p, fn(data))
        files.append(p)
    made, notes = write_figures(data, out)
    files += made
    atomicio.write_text(out / "SOURCE", "".join(f"{f}\n" for f in folders))
    na = sum(1 for _, v, c in values if v == NA and not c.startswith("  "))
    notes.append(f"{na} of {sum(1 for _, _, c in values if not c.startswith('  '))} macros are n/a "
                 f"(not in these results)")
    return out, folders, files, notes
