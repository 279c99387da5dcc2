"""results.py: the on-disk layout of runs and sweeps under results/, writing and reading it back."""

import csv
import io
import json
import os
from pathlib import Path

from . import atomicio, meta
from .env import unit_of
from .errors import HarnessError
from .records import REPO

RESULTS = REPO / "results"

# The contract's columns, in order; `build` (the build-variant name) is
# appended because a sweep mixes build variants and the record's own
# "variant" field cannot tell them apart.
# After them, the columns that let rows of many runs be pooled and still
# be told apart: unit (ticks or instructions), the run folder, its commit
# and date, and the CSV layout version (CSV_SCHEMA, bumped when a column
# changes meaning).
CSV_SCHEMA = 2
SUMMARY_COLUMNS = ["system", "bench", "variant", "size", "accel", "rep", "samples", "min", "p50",
                   "p90", "p99", "max", "mean", "stdev", "overhead", "build",
                   "unit", "run", "commit", "date", "schema"]
# fastpath.csv (Ferry kernels that count, from @fastpath records): these,
# then one fp_<reason> column per fall-back reason the kernel names.
FASTPATH_COLUMNS = ["system", "build", "accel", "rep", "bench", "variant", "size", "samples", "total", "run"]
SAMPLE_COLUMNS = ["rep", "bench", "variant", "size", "value", "system", "accel", "build", "unit", "schema"]


def results_root():
    # FERRY_RESULTS lets the tests write into a temporary folder.
    return Path(os.environ.get("FERRY_RESULTS") or RESULTS)


def new_folder(parent, prefix=""):
    """Create a fresh folder named <prefix><UTC time>-<short commit>[-dirty]; never reuse one."""
    commit, dirty = meta.git_state()
    base = f"{prefix}{meta.stamp()}-{commit[:10]}{'-dirty' if dirty else ''}"
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        path = parent / (base if n == 1 else f"{base}-{n}")
        try:
            path.mkdir()      # atomic: fails if another harness took the name
            return path
        except FileExistsError:
            continue
    raise HarnessError(f"cannot create a new results folder under {parent}")


def csv_text(columns, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()


def write_run_files(rundir, meta_obj, summary_rows, sample_rows, records):
    """Rewrite a run folder's data files atomically; called after every boot so a later
    hang or Ctrl-C leaves the earlier repetitions on disk."""
    rundir = Path(rundir)
    atomicio.write_text(rundir / "summary.csv", csv_text(SUMMARY_COLUMNS, summary_rows))
    if sample_rows:
        atomicio.write_text(rundir / "samples.csv", csv_text(SAMPLE_COLUMNS, sample_rows))
    atomicio.write_text(rundir / "records.jsonl", "".join(json.dumps(r, sort_keys=True) + "\n" for r in records))
    # meta.json last: its presence with a final status marks the folder complete.
    atomicio.write_json(rundir / "meta.json", meta_obj)


def write_sweep_summary(sdir):
    """sweep-folder/summary.csv and samples.csv: the summaries and raw samples of all its
    runs, each row naming its run folder, for readers (the paper, spreadsheets) that want
    one table."""
    rows, samples = [], []
    for rd in run_dirs(sdir):
        sp = rd / "summary.csv"
        if sp.is_file():
            with sp.open() as f:
                rows += [dict(r, run=rd.name) for r in csv.DictReader(f)]
        sp = rd / "samples.csv"
        if sp.is_file():
            with sp.open() as f:
                samples += [dict(r, run=rd.name) for r in csv.DictReader(f)]
    atomicio.write_text(Path(sdir) / "summary.csv", csv_text(SUMMARY_COLUMNS, rows))
    if samples:
        atomicio.write_text(Path(sdir) / "samples.csv", csv_text(SAMPLE_COLUMNS + ["run"], samples))


def resolve(arg):
    """A run or sweep folder from a path, a name under results/, or 'latest'."""
    root = results_root()
    if arg == "latest":
        cands = [p for p in root.iterdir() if p.is_dir() and
                 ((p / "meta.json").is_file() or (p / "sweep.json").is_file())] if root.is_dir() else []
        if not cands:
            raise HarnessError(f"no runs or sweeps under {root}")
        # Names start with the UTC time (after an optional 'sweep-'), so the
        # newest sorts last.
        return max(cands, key=lambda p: p.name.removeprefix("sweep-"))
    p = Path(arg)
    if not p.exists() and (root / arg).exists():
        p = root / arg
    if not p.is_dir():
        raise HarnessError(f"no such run or sweep folder: {arg}")
    if not (p / "meta.json").is_file() and not (p / "sweep.json").is_file():
        raise HarnessError(f"{p} holds neither meta.json (a run) nor sweep.json (a sweep)")
    return p


def run_dirs(folder):
    """The run folders inside a run (itself) or a sweep (its subfolders with meta.json)."""
    folder = Path(folder)
    if (folder / "meta.json").is_file():
        return [folder]
    return sorted(p for p in folder.iterdir() if (p / "meta.json").is_file())


def _int_or_none(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        try:
            return float(v)
        except (TypeError, ValueError):
            return None


def split_by_smp(rows, metas):
    """A configuration measured on guests with different vCPU counts (a sweep's `smp = 2`
    group repeats `ipc_call/cross`, which another group runs on one vCPU) is two
    configurations: the multi-vCPU rows get the count in their build label ("default,
    2 vCPUs") instead of being pooled with the one-vCPU rows.  A configuration measured at
    one vCPU count only (`ipc_call/xcpu`, only ever on two) keeps its plain label."""
    smp_of = {run: int(m.get("smp") or 1) for run, m in metas.items()}
    counts = {}
    for r in rows:
        counts.setdefault(Dataset.key(r), set()).add(smp_of.get(r["run"], 1))
    for r in rows:
        n, seen = smp_of.get(r["run"], 1), counts[Dataset.key(r)]
        if len(seen) > 1 and n != min(seen):
            r["smp"] = n
            r["build"] = f"{r['build']}, {n} vCPUs"


def latest_by_key(tagged, key):
    """(folder index, row) pairs -> the rows, in order, of the last folder that holds each
    row's key: a later folder supersedes an earlier one configuration by configuration
    (the paper's results and TLB-model rows alike)."""
    keyed = [(i, key(r), r) for i, r in tagged]
    last = {}
    for i, k, _ in keyed:
        last[k] = max(last.get(k, -1), i)
    return [r for i, k, r in keyed if last[k] == i]


class Dataset:
    """Every summary row and raw sample of a run or sweep, read back from disk."""

    def __init__(self, folders, supersede=False):
        """folders: one run or sweep folder, or a list of them read as one data set.
        supersede: a configuration held by several of the folders is taken from the last
        of them alone (a later, smaller sweep re-measuring part of a full one after a
        change), where by default the folders' repetitions are pooled."""
        folders = [folders] if isinstance(folders, (str, Path)) else list(folders)
        self.folder = Path(folders[0])
        self.rows = []          # summary rows with numbers converted, plus run/tsc_hz/disturbed
        self.samples = {}       # key(row) -> list of raw values
        self.metas = {}
        dirs = [(fi, rd) for fi, f in enumerate(folders) for rd in run_dirs(f)]
        for fi, rd in dirs:
            try:
                m = json.loads((rd / "meta.json").read_text())
            except (OSError, ValueError) as e:
                raise HarnessError(f"{rd}/meta.json unreadable: {e}") from None
            self.metas[str(rd)] = m
            tsc = m.get("guest_tsc_hz") or None
            disturbed = bool(m.get("disturbed"))
            accel = m.get("accel")
            sp = rd / "summary.csv"
            if not sp.is_file():
                continue
            with sp.open() as f:
                for r in csv.DictReader(f):
                    for k in ("size", "rep", "samples", "min", "p50", "p90", "p99", "max", "mean",
                              "stdev", "overhead"):
                        r[k] = _int_or_none(r.get(k))
                    r["build"] = r.get("build") or m.get("variant") or "default"
                    # The path, not the name: two sweeps have runs of the same name.
                    r["run"] = str(rd)
                    r["tsc_hz"] = tsc
                    r["disturbed"] = disturbed
                    r["build_id"] = m.get("build_id")
                    r["unit"] = r.get("unit") or unit_of(accel)
                    r["commit"] = r.get("commit") or m.get("git_commit")
                    r["date"] = r.get("date") or m.get("date")
                    r["source"] = fi
                    self.rows.append(r)
            smp = rd / "samples.csv"
            if smp.is_file():
                with smp.open() as f:
                    for r in csv.DictReader(f):
                        key = (r["bench"], r["variant"], int(r["size"]), int(r["rep"]), str(rd))
                        self.samples.setdefault(key, []).append(int(r["value"]))
        from .merge import split_by_cpu
        split_by_cpu(self.rows, self.metas)
        split_by_smp(self.rows, self.metas)
        if supersede:
            # After the splits: the keys are the labelled ones the readers see.
            self.rows = latest_by_key([(r["source"], r) for r in self.rows], Dataset.key)

    def mixed_builds(self):
        """Configurations whose rows come from different binaries (build_id): a resumed
        sweep across a rebuild, or folders of different commits read together."""
        ids = {}
        for r in self.rows:
            ids.setdefault(Dataset.key(r), set()).add(r.get("build_id"))
        return {k: v for k, v in ids.items() if len(v) > 1}

    def raw(self, row):
        return self.samples.get((row["bench"], row["variant"], row["size"], row["rep"], row["run"]))

    @staticmethod
    def key(row):
        """What identifies one measured configuration across repetitions."""
        return (row["system"], row["bench"], row["build"], row["variant"], row["size"], row["accel"])
