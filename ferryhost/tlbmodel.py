"""tlbmodel.py: the TLB-model plugin (tools/tlbmodel) from the harness side: build it, its QEMU arguments, parse its output and give each benchmark record its TLB misses per timed region."""

import re
import subprocess
from pathlib import Path

from . import build
from .errors import HarnessError
from .records import REPO

MARK_SYMBOL = "bench_region_mark"
POLICIES = ("flush", "tagged")
LEVELS = ("l1i", "l1d", "l2")
# One R line: instructions, the three levels under each policy, CR3 writes.
COUNTERS = ("insns",) + tuple(f"{p}_{l}" for p in POLICIES for l in LEVELS) + ("cr3_writes",)
# tlb.csv: one row per benchmark record of a boot that ran with the model.
COLUMNS = ["system", "build", "accel", "rep", "bench", "variant", "size", "p50", "regions"] + \
    [f"tlb_{c}" for c in COUNTERS] + ["unit", "run"]
# The engines the plugin runs under: QEMU's TCG (it is a TCG plugin).
ACCELS = ("tcg", "tcg-icount")


def plugin_path():
    return REPO / "build" / "tools" / "tlbmodel.so"


def build_plugin(log):
    """`make BUILD=build/tools tlbmodel`: the plugin is host code, one for every variant."""
    p = build._make([f"BUILD={REPO / 'build' / 'tools'}", "tlbmodel"], log)
    if p.returncode != 0:
        raise HarnessError(f"build of the TLB-model plugin failed: {build.build_error(p.stderr + p.stdout)}")
    return plugin_path()


def mark_address(elf):
    """The address of bench_region_mark in the root task (where the runner lives)."""
    try:
        p = subprocess.run(["nm", str(elf)], capture_output=True, text=True)
    except OSError as e:
        raise HarnessError(f"cannot run nm for the TLB model: {e.strerror} (scripts/setup.sh build)") from None
    for line in p.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == MARK_SYMBOL and parts[1] in "Tt":
            return int(parts[0], 16)
    raise HarnessError(f"{elf} has no {MARK_SYMBOL} (built before the TLB model existed?)")


_ARG = re.compile(r"^(global=(on|off)|(l1i|l1d|l2)=[1-9][0-9]*:[1-9][0-9]*)$")


def check_arg(a):
    """A plugin option the harness may pass: global=on|off, l1i=/l1d=/l2=ENTRIES:WAYS."""
    if not isinstance(a, str) or not _ARG.match(a):
        raise HarnessError(f"bad TLB-model option {a!r} (global=on|off, l1i=, l1d=, l2=ENTRIES:WAYS)")
    if "=" in a and ":" in a:
        e, w = (int(x) for x in a.split("=", 1)[1].split(":"))
        if e % w:
            raise HarnessError(f"bad TLB-model option {a!r}: ENTRIES must be a multiple of WAYS")


def qemu_args(plugin, out, mark, extra=()):
    """-plugin with its arguments (QEMU 7.2 takes them as name=value after the file)."""
    if "," in str(plugin) or "," in str(out):
        raise HarnessError(f"the TLB model's paths may not hold commas: {plugin}, {out}")
    for a in extra:
        check_arg(a)
    return ["-plugin", ",".join([str(plugin), f"out={out}", f"mark={mark:#x}"] + list(extra))]


def parse(text):
    """The plugin's output: {"header": {...}, "segments": [[region dict, ...], ...],
    "before": [regions before the first mark], "exit": {...} or None}."""
    header, segments, before, exit_ = {}, [], [], None
    cur = before
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if line.startswith("# tlbmodel "):
            words = line.split()[2:]
            header = {"version": int(words[0])}
            header.update(w.split("=", 1) for w in words[1:] if "=" in w)
        elif line.startswith("#"):
            continue
        elif line.startswith("R "):
            vals = line.split()[1:]
            if len(vals) != len(COUNTERS) or not all(v.isdigit() for v in vals):
                raise HarnessError(f"TLB model output line {n}: malformed region line: {line!r}")
            cur.append(dict(zip(COUNTERS, map(int, vals))))
        elif line.startswith("M"):
            cur = []
            segments.append(cur)
        elif line.startswith("E "):
            exit_ = {}
            for w in line.split()[1:]:
                k, _, v = w.partition("=")
                exit_[k] = [int(x) for x in v.split(",")] if "," in v else int(v)
        else:
            raise HarnessError(f"TLB model output line {n}: unknown line: {line!r}")
    if header.get("version") != 1:
        raise HarnessError("TLB model output has no '# tlbmodel 1' header (another plugin version?)")
    return {"header": header, "segments": segments, "before": before, "exit": exit_}


_RECORD = re.compile(r"^@(result|error) (\{.*\})\s*$")
# A configuration the guest cannot run (bench_runner.h's BENCH_NOT_HERE: ipc_call/xcpu
# on one CPU) is marked like the others but ends in a note, not a record.
_NOT_HERE = re.compile(r"^note: ([^/:\s]+)(?:/([^:\s]*))?: not run here: ")


def runner_records(console_lines):
    """The @result and @error records that run_one printed, and its "not run here"
    notes, in console order: one per benchmark configuration, as the marks are.
    The runner's own errors before any configuration runs (bad words, unknown
    names) are left out."""
    import json
    out = []
    for line in console_lines:
        line = line.rstrip("\r\n")
        n = _NOT_HERE.match(line)
        if n:
            out.append(("note", {"bench": n.group(1), "variant": n.group(2) or ""}))
            continue
        m = _RECORD.match(line)
        if not m:
            continue
        try:
            obj = json.loads(m.group(2))
        except ValueError:
            continue
        if m.group(1) == "error" and (obj.get("msg") == "unknown benchmark" or obj.get("bench") == ""):
            continue
        out.append((m.group(1), obj))
    return out


def attach(records, model, skipped=None):
    """Per @result: the mean of each counter over its last `samples` regions (the
    timed samples; the warm-up rounds and set-up before them are left out).
    A configuration with fewer user-mode regions than samples (timed in the
    kernel: floor_*) gets no row; its name goes to `skipped` (a list) when
    given.  Returns (rows, problem or None): a problem when the
    configurations cannot be paired with the records at all."""
    segs = model["segments"]
    if len(segs) != len(records):
        return [], (f"TLB model saw {len(segs)} benchmark configurations but the console has "
                    f"{len(records)} records: cannot pair them")
    rows = []
    for (kind, rec), regions in zip(records, segs):
        if kind != "result":
            continue
        n = rec.get("samples") or 0
        if n <= 0 or len(regions) < n:
            if skipped is not None:
                skipped.append(f"{rec.get('bench')}/{rec.get('variant')} size {rec.get('size')}: "
                               f"{len(regions)} user-mode timed regions for {n} samples")
            continue
        last = regions[-n:]
        row = {"bench": rec["bench"], "variant": rec.get("variant", ""), "size": rec.get("size", -1),
               "p50": rec.get("p50"), "regions": n}
        for c in COUNTERS:
            row[f"tlb_{c}"] = round(sum(r[c] for r in last) / n, 3)
        rows.append(row)
    return rows, None


def geometry(header):
    """'L1I 128x8, L1D 64x4, L2 1536x12, global kernel half' from the header."""
    def g(k):
        e, _, w = header.get(k, "?:?").partition(":")
        return f"{e}-entry {w}-way"
    return (f"L1I {g('l1i')}, L1D {g('l1d')}, L2 {g('l2')}, "
            f"kernel half global: {header.get('global', '?')}")


def _short(v):
    """A count per region: 3 significant digits below 1000, whole numbers above."""
    v = float(v)
    return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"


def table_text(rows):
    """The `show` table of TLB misses per timed region (one round trip for ipc_call)."""
    if not rows:
        return ""
    head = (f"{'TLB model: misses per timed region':44} {'instr':>7} {'flush i/d/L2':>18} "
            f"{'tagged i/d/L2':>18} {'cr3':>4}")
    lines = [head, "-" * len(head)]
    for r in rows:
        size = r.get("size")
        name = "/".join(str(x) for x in (r.get("build", ""), r["bench"], r.get("variant", ""),
                                          size if size not in (None, -1, "-1", "") else "", r.get("accel", ""))
                        if x != "")

        def trio(p):
            return "/".join(_short(r[f"tlb_{p}_{l}"]) for l in LEVELS)
        lines.append(f"{name[:44]:44} {float(r['tlb_insns']):>7.0f} {trio('flush'):>18} {trio('tagged'):>18} "
                     f"{_short(r['tlb_cr3_writes']):>4}")
    lines.append("(L2 misses are page walks; tagged = entries survive CR3 writes, as with PCID; "
                 "assumptions in docs/harness.md, 'TLB model')")
    return "\n".join(lines)


def read_rows(folders):
    """tlb.csv rows of the run folders (and of the runs inside sweep folders)."""
    import csv
    rows = []
    for f in folders:
        f = Path(f)
        for p in sorted([f / "tlb.csv"] + list(f.glob("*/tlb.csv"))):
            if p.is_file():
                with p.open() as fh:
                    rows += list(csv.DictReader(fh))
    return rows
