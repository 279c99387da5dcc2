"""merge.py: collect a Slurm sweep's finished tasks into its sweep.json and summary, list what is missing; timing figures kept apart per CPU model."""

import collections
import json
import sys
import time
from pathlib import Path

from . import atomicio, meta, parallel, results
from .errors import HarnessError

QUEUED = ("submitted", "queued", "running")
LOST = "lost"        # the task ended without writing its outcome: cancelled, out of time, node lost


def _save(sdir, state):
    atomicio.write_json(Path(sdir) / "sweep.json", state)


def _task_log_tail(sdir, state, u):
    s = u.get("slurm") or {}
    job = next((j for j in state["slurm"]["jobs"] if j["job"] == s.get("job")), None)
    if not job:
        return None
    out = Path(sdir) / "slurm" / f"{job['tag']}-{job['job']}_{s['index']}.out"
    try:
        lines = [l for l in out.read_text(errors="replace").splitlines() if l.strip()]
    except OSError:
        return None
    return lines[-1].strip() if lines else None


def collect(sdir):
    """Bring sweep.json up to date with what the tasks left in their run folders: final
    statuses, queued/running ones, and `lost` tasks (ended without an outcome).  Rewrites
    the sweep's summary.csv.  Returns the state."""
    sdir = Path(sdir)
    state = json.loads((sdir / "sweep.json").read_text())
    if "slurm" not in state:
        raise HarnessError(f"{sdir} is a local sweep, not one submitted to Slurm: nothing to collect")
    from .slurm import queue_states
    queued = queue_states([j["job"] for j in state["slurm"]["jobs"]])
    for uid, u in state["units"].items():
        got = parallel.outcome(sdir / uid)
        if got:
            st, problem, node = got
            u.update(status=st, problem=problem, node=node)
            continue
        s = u.get("slurm")
        if not s or u["status"] not in QUEUED + (LOST,):
            continue
        if queued is None:
            u["status"] = "submitted"       # cannot tell: leave it for a later merge
        elif (s["job"], s["index"]) in queued:
            u["status"] = "running" if queued[(s["job"], s["index"])] in ("RUNNING", "COMPLETING") else "queued"
        else:
            tail = _task_log_tail(sdir, state, u)
            u.update(status=LOST, problem="the task ended without a result (cancelled, out of time, or its "
                                          "node failed)" + (f"; its last output line: {tail}" if tail else ""))
    results.write_sweep_summary(sdir)
    state["collected"] = meta.utc_now().isoformat(timespec="seconds")
    _save(sdir, state)
    return state


def report(sdir, state, stream=sys.stdout):
    """Counts per status, each run not ok with its node and reason, the CPU models the runs
    came from, and what to type next.  Returns (not ok, still queued or running)."""
    units = state["units"]
    count = collections.Counter(u["status"] for u in units.values())
    print(f"{sdir}: " + ", ".join(f"{n} {s}" for s, n in sorted(count.items())), file=stream)
    cpus = collections.Counter()
    for uid in units:
        try:
            cpus[json.loads((Path(sdir) / uid / "meta.json").read_text()).get("host_cpu")] += 1
        except (OSError, ValueError):
            pass
    if len(cpus) > 1:
        print("runs came from several CPU models; timing figures are shown per model, never pooled:",
              file=stream)
        for c, n in cpus.most_common():
            print(f"  {n:4d} runs on {c}", file=stream)
    waiting = [u for u in units.values() if u["status"] in QUEUED]
    bad = [u for u in units.values() if u["status"] not in ("ok",) + QUEUED]
    for u in bad:
        print(f"  {u['id']}: {u['status']}" + (f" on {u['node']}" if u.get("node") else "") +
              (f": {u['problem']}" if u.get("problem") else ""), file=stream)
    if waiting:
        print(f"{len(waiting)} runs still queued or running: merge again when they end "
              f"(harness.py merge {sdir} --wait)", file=stream)
    lost = [u for u in bad if u["status"] in (LOST, "interrupted", "pending")]
    if lost:
        print(f"resubmit the {len(lost)} lost runs alone with: harness.py sweep --resume {sdir}", file=stream)
    if len(bad) > len(lost):
        print(f"resubmit the runs that failed too with: harness.py sweep --resume {sdir} --retry-failed",
              file=stream)
    return len(bad), len(waiting)


def wait(sdir, timeout, poll=2.0):
    """Collect until no task is queued or running, or `timeout` seconds pass."""
    t0 = time.monotonic()
    while True:
        state = collect(sdir)
        if not any(u["status"] in QUEUED for u in state["units"].values()):
            return state
        if time.monotonic() - t0 > timeout:
            return state
        time.sleep(poll)


# Engines whose figures are instruction counts: the same on every CPU model.
def split_by_cpu(rows, metas):
    """Rows of timing runs (kvm, tcg) from several host CPU models get the model in their
    build label ("default @ <CPU>"), so figures, tables and compare keep each model's
    runs apart instead of pooling machines of different speeds.  Instruction-count rows
    and data sets from one CPU model are left as they are."""
    cpu = {run: (m.get("host_cpu") or "unknown CPU") for run, m in metas.items()}
    timing = [r for r in rows if r.get("accel") not in parallel.DETERMINISTIC]
    if len({cpu.get(r["run"]) for r in timing}) < 2:
        return
    for r in timing:
        r["host_cpu"] = cpu.get(r["run"])
        r["build"] = f"{r['build']} @ {r['host_cpu']}"
