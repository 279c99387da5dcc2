"""slurm.py: a sweep as Slurm job arrays (one array task per run, run folders on a shared results path), and collecting the tasks back."""

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from . import RESULTS_SCHEMA, atomicio, merge, meta, parallel, results, sweep
from .errors import HarnessError
from .records import REPO

from .merge import LOST, QUEUED


def _tool(name):
    path = shutil.which(name)
    if not path:
        raise HarnessError(f"Slurm's {name} not found: run this on a Slurm submit host "
                           f"(Debian: slurm-client; scripts/setup.sh cluster installs all of Slurm)")
    return path


def new_sweep(cfg, config_path):
    """A sweep folder whose runs will be Slurm tasks: the same sweep.json as a local
    sweep (sweep.run_sweep writes the same fields) plus a "slurm" table of jobs."""
    sdir = results.new_folder(results.results_root(), prefix="sweep-")
    commit, dirty = meta.git_state()
    state = {"schema": RESULTS_SCHEMA, "kind": "sweep", "config": cfg,
             "config_path": str(config_path) if config_path else None,
             "created": meta.utc_now().isoformat(timespec="seconds"),
             "git_commit": commit, "git_dirty": dirty,
             "units": {u["id"]: dict(u, status="pending") for u in sweep.units(cfg)},
             "slurm": {"jobs": []}}
    merge._save(sdir, state)
    return sdir, state


def _script(sdir, state, tag, n, exclusive, cpus, partition, extra, qemu, kernel):
    units_file = Path(sdir) / "slurm" / f"{tag}.units"
    cmd = parallel.task_command(sdir, units_file=units_file, index="$SLURM_ARRAY_TASK_ID",
                                qemu=qemu, kernel=kernel, pin=exclusive)
    lines = ["#!/bin/sh",
             f"# Ferry sweep {state['config']['name']}: {tag}, one array task per run "
             f"(written by harness.py sweep --slurm)",
             f"#SBATCH --job-name=ferry-{state['config']['name']}-{tag}",
             f"#SBATCH --array=0-{n - 1}",
             f"#SBATCH --output={sdir}/slurm/{tag}-%A_%a.out",
             "#SBATCH --ntasks=1",
             f"#SBATCH --cpus-per-task={cpus}"]
    if exclusive:
        # A timing run has the node to itself: nothing else shares its cores.
        lines.append("#SBATCH --exclusive")
    if partition:
        lines.append(f"#SBATCH --partition={partition}")
    lines += [f"#SBATCH {a}" for a in extra]
    lines += [f"cd {shlex.quote(str(REPO))} || exit 1",
              "exec " + " ".join(shlex.quote(c) if c != "$SLURM_ARRAY_TASK_ID" else '"$SLURM_ARRAY_TASK_ID"'
                                 for c in cmd)]
    return "\n".join(lines) + "\n"


def submit(sdir, state, uids, partition=None, extra=(), qemu=None, kernel=None, stream=sys.stderr):
    """Submit the units `uids` of a sweep folder: one array for the instruction-count runs
    (one CPU per run, as many at once as Slurm fits) and one for the timing runs (a whole
    node each, --exclusive, pinned).  Returns the job ids."""
    sbatch = _tool("sbatch")
    sdir = Path(sdir).resolve()
    cfg = state["config"]
    units = [state["units"][i] for i in uids]
    if not units:
        return []
    # Built once here, on the submit host, into the shared repository: the tasks
    # boot these images and need no compiler (parallel.adopt).
    pre = parallel.prebuild(cfg, units, qemu, kernel)
    state["prebuilt"] = dict(state.get("prebuilt") or {}, **pre)
    (sdir / "slurm").mkdir(exist_ok=True)
    n = len(state["slurm"]["jobs"])
    ids = []
    for kind, exclusive in (("icount", False), ("timing", True)):
        group = [u for u in units if parallel.deterministic(u) != exclusive]
        if not group:
            continue
        n += 1
        tag = f"{kind}-{n}"
        cpus = max(cfg["benchmarks"][u["group"]].get("smp", 1) for u in group)
        atomicio.write_text(sdir / "slurm" / f"{tag}.units", "".join(u["id"] + "\n" for u in group))
        script = sdir / "slurm" / f"{tag}.sbatch"
        atomicio.write_text(script, _script(sdir, state, tag, len(group), exclusive, cpus, partition,
                                            list(extra), qemu, kernel))
        p = subprocess.run([sbatch, "--parsable", str(script)], capture_output=True, text=True, cwd=REPO)
        if p.returncode != 0:
            merge._save(sdir, state)
            raise HarnessError(f"sbatch refused {script}: {(p.stderr.strip() or p.stdout.strip()) or p.returncode}")
        job = p.stdout.strip().split(";")[0]
        ids.append(job)
        state["slurm"]["jobs"].append({"job": job, "tag": tag, "exclusive": exclusive, "partition": partition,
                                       "units": [u["id"] for u in group], "submitted": meta.utc_now().isoformat(
                                           timespec="seconds")})
        for i, u in enumerate(group):
            udir = sdir / u["id"]
            if udir.exists():
                shutil.rmtree(udir)     # an earlier attempt's remains
            u.pop("node", None)
            u.update(status="submitted", problem=None, slurm={"job": job, "index": i})
        print(f"harness: submitted {len(group)} {kind} runs as job array {job}"
              f"{' (whole nodes, --exclusive)' if exclusive else ''}", file=stream)
    merge._save(sdir, state)
    return ids


def queue_states(jobs):
    """{(job id, array index): Slurm state} of the tasks still queued or running, or None
    when squeue cannot be asked."""
    squeue = shutil.which("squeue")
    if not squeue or not jobs:
        return None if not squeue else {}
    p = subprocess.run([squeue, "-h", "-r", "-j", ",".join(jobs), "-o", "%i %T"], capture_output=True, text=True)
    if p.returncode != 0:
        if "Invalid job id" in p.stderr:
            return {}       # none of them is known any more: all finished
        return None
    out = {}
    for line in p.stdout.splitlines():
        jid, _, st = line.strip().partition(" ")
        job, _, idx = jid.partition("_")
        if idx.isdigit():
            out[(job, int(idx))] = st
    return out


def resubmit(sdir, retry_failed=False, partition=None, extra=(), qemu=None, kernel=None, stream=sys.stderr):
    """Collect, then resubmit alone the runs that have no result: lost, never submitted or
    interrupted ones (and failed ones with retry_failed); queued or running tasks are left
    alone.  Returns the state."""
    state = merge.collect(sdir)
    again = [uid for uid, u in state["units"].items()
             if u["status"] in (LOST, "pending", "interrupted") or
             (retry_failed and u["status"] not in ("ok",) + QUEUED)]
    if not again:
        print(f"harness: nothing to resubmit in {sdir}", file=stream)
        return state
    last = state["slurm"]["jobs"][-1] if state["slurm"]["jobs"] else {}
    submit(sdir, state, again, partition or last.get("partition"), extra, qemu, kernel, stream)
    return state


def sweep_command(a, cfg, resume):
    """`harness.py sweep FILE --slurm` and `sweep --resume` of a Slurm sweep."""
    if resume:
        sdir = resume
        if cfg is not None and cfg != json.loads((sdir / "sweep.json").read_text())["config"]:
            raise HarnessError(f"{a.config} differs from the matrix of {sdir}; "
                               f"start a new sweep instead of resuming")
        state = resubmit(sdir, a.retry_failed, a.partition, a.sbatch_arg, a.qemu, a.kernel)
        bad, waiting = merge.report(sdir, state, stream=sys.stderr)
    else:
        sdir, state = new_sweep(cfg, a.config)
        print(f"harness: sweep {cfg['name']}: {len(state['units'])} runs, folder {sdir}", file=sys.stderr)
        submit(sdir, state, list(state["units"]), a.partition, a.sbatch_arg, a.qemu, a.kernel)
    print(f"submitted: {sdir}")
    print(f"harness: collect with: harness.py merge {sdir} [--wait] [--plot]", file=sys.stderr)
    return 0
