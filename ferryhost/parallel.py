"""parallel.py: a sweep's instruction-count runs several at a time, each in a harness process of its own; timing runs stay serial."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import atomicio, build, env, results, runner, sweep
from .errors import HarnessError
from .records import REPO

# Engines whose figures count guest instructions: a run's numbers do not
# depend on what else the host runs, so several may share its cores.
# Everything else (kvm, tcg, auto) measures time and runs alone.
DETERMINISTIC = ("tcg-icount", "bochs")


# What a Slurm task records about itself (meta.json "slurm"), from its environment.
SLURM_IDS = {"job_id": "SLURM_JOB_ID", "array_job_id": "SLURM_ARRAY_JOB_ID",
             "array_task_id": "SLURM_ARRAY_TASK_ID", "partition": "SLURM_JOB_PARTITION",
             "cluster": "SLURM_CLUSTER_NAME"}


def deterministic(u):
    return u["accel"] in DETERMINISTIC


def default_jobs():
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def prebuild(cfg, units, qemu=None, kernel=None):
    """Build every Ferry variant and the Linux guest the units need, once, here; returns
    a JSON-able map that unit processes adopt (see adopt()) instead of building again.
    A build that fails is left out: the unit's own process then reports it as a run
    error, exactly as the serial loop does."""
    out = {}
    for u in units:
        spec = sweep.spec_for(cfg, u, qemu, kernel)
        if spec.system == "linux":
            if "linux" in out:
                continue
            lx = _linux()
            try:
                guest = lx.build_guest(REPO / "build" / "linux")
            except Exception as e:     # the unit process reports it with its own message
                out["linux"] = None
                print(f"harness: Linux guest not built ahead of the runs: {e}", file=sys.stderr)
                continue
            out["linux"] = json.loads(json.dumps(guest, default=str))
        elif not spec.kernel and f"ferry/{spec.name()}" not in out:
            try:
                boot = build.build_variant(spec.name(), spec.flags, [])
            except HarnessError:
                out[f"ferry/{spec.name()}"] = None
                continue
            out[f"ferry/{spec.name()}"] = {"flags": spec.flags, "kernel": str(boot["kernel"]),
                                           "modules": [str(m) for m in boot["modules"]],
                                           "iso": str(boot["iso"]) if boot.get("iso") else None}
    return out


def _linux():
    from . import linux
    return linux


def adopt(prebuilt):
    """Make this process boot what prebuild() built instead of building again: unit
    processes run side by side (or on cluster nodes without a compiler), and two of them
    rebuilding the same files at once would race each other's writes."""
    for key, b in (prebuilt or {}).items():
        if b is None:
            continue
        if key == "linux":
            guest = dict(b, kernel=Path(b["kernel"]), initrd=Path(b["initrd"]))
            _linux().build_guest = lambda outdir, _g=guest: _g
        else:
            name = key.split("/", 1)[1]
            build._built[(name, tuple(sorted(b["flags"].items())))] = {
                "kernel": Path(b["kernel"]), "modules": [Path(m) for m in b["modules"]],
                "iso": Path(b["iso"]) if b.get("iso") else None}


def pin_cpus(smp):
    """CPUs for one timing run: QEMU's vCPU threads and its main loop (smp + 1), the
    highest-numbered of those this process may use (CPU 0 takes most housekeeping
    interrupts); None when there are not more CPUs than that."""
    allowed = sorted(os.sched_getaffinity(0))
    want = smp + 1
    return allowed[-want:] if len(allowed) > want else None


def run_task(sdir, uid, qemu=None, kernel=None, pin=False):
    """Run one unit of a sweep folder into its run folder, as a process of its own (a local
    parallel worker or a Slurm array task).  Writes task.json (node, CPU, Slurm ids, status)
    beside the run's files and adds the node and Slurm ids to meta.json; never writes
    sweep.json, which the parent (or `merge`) owns.  Returns the status."""
    sdir = Path(sdir)
    state = json.loads((sdir / "sweep.json").read_text())
    if uid not in state["units"]:
        raise HarnessError(f"{sdir} has no run {uid!r}")
    u = state["units"][uid]
    cfg = state["config"]
    adopt(state.get("prebuilt"))
    udir = sdir / uid
    if udir.exists():
        # Left by an earlier attempt of this task (a requeue, a resubmission).
        shutil.rmtree(udir)
    udir.mkdir(parents=True)
    task = {"unit": uid, "node": socket.gethostname(), "host_cpu": env.host_cpu_model(),
            "started": _now(), "status": "running", "problem": None, "pinned_cpus": None,
            "slurm": {k: os.environ[v] for k, v in SLURM_IDS.items() if v in os.environ} or None}
    spec = sweep.spec_for(cfg, u, qemu, kernel)
    if pin:
        cpus = pin_cpus(spec.smp)
        if cpus:
            os.sched_setaffinity(0, cpus)     # QEMU and its threads inherit it
            task["pinned_cpus"] = cpus
    atomicio.write_json(udir / "task.json", task)
    try:
        _, st, problems = runner.execute(spec, rundir=udir)
    except KeyboardInterrupt:
        st, problems = "interrupted", ["interrupted"]
    except HarnessError as e:
        st, problems = "error", [str(e)]
    task.update(status=st, problem=problems[0] if problems else None, ended=_now())
    mp = udir / "meta.json"
    if mp.is_file():
        m = json.loads(mp.read_text())
        m.update(node=task["node"], slurm=task["slurm"], pinned_cpus=task["pinned_cpus"])
        atomicio.write_json(mp, m)
    atomicio.write_json(udir / "task.json", task)
    return st, problems


def _now():
    from . import meta
    return meta.utc_now().isoformat(timespec="seconds")


def outcome(udir):
    """(status, problem, node) of a unit's folder as its task left it, or None when no task
    finished there (never started, still running, or killed before it could say)."""
    udir = Path(udir)
    try:
        t = json.loads((udir / "task.json").read_text())
    except (OSError, ValueError):
        t = None
    if t and t.get("status") not in (None, "running"):
        return t["status"], t.get("problem"), t.get("node")
    return None


def task_command(sdir, uid=None, units_file=None, index=None, qemu=None, kernel=None, pin=False):
    cmd = [sys.executable, str(REPO / "harness.py"), "task", str(sdir)]
    cmd += [uid] if uid else ["--units", str(units_file), "--index", str(index)]
    if qemu:
        cmd += ["--qemu", qemu]
    if kernel:
        cmd += ["--kernel", str(kernel)]
    return cmd + (["--pin"] if pin else [])


def run_deterministic(cfg, sdir, state, todo, jobs, qemu, kernel, prog, save):
    """Run the instruction-count units of `todo` up to `jobs` at a time; returns the
    units left for the serial loop (the timing runs)."""
    par = [u for u in todo if deterministic(u)]
    rest = [u for u in todo if not deterministic(u)]
    if jobs <= 1 or len(par) < 2:
        return todo
    prog.note(f"{len(par)} instruction-count runs ({', '.join(sorted({u['accel'] for u in par}))}), "
              f"up to {jobs} at a time")
    if rest:
        prog.note(f"{len(rest)} timing runs ({', '.join(sorted({u['accel'] for u in rest}))}) run one at a "
                  f"time afterwards: runs sharing the cores would disturb their timings")
    state["prebuilt"] = prebuild(cfg, par, qemu, kernel)
    save()
    queue, running = list(par), {}
    try:
        while queue or running:
            while queue and len(running) < jobs:
                u = queue.pop(0)
                udir = sdir / u["id"]
                if udir.exists():
                    shutil.rmtree(udir)
                err = tempfile.TemporaryFile()
                # A session of its own: Ctrl-C reaches this process only, which
                # passes it on once (below), as a terminal would have.
                p = subprocess.Popen(task_command(sdir, u["id"], qemu=qemu, kernel=kernel),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                     start_new_session=True, cwd=REPO)
                running[p] = (u, err)
                u["status"] = "running"
                prog.line(f"{u['id']} ... ({len(running)} running)")
            save()
            time.sleep(0.2)
            for p in [p for p in running if p.poll() is not None]:
                u, err = running.pop(p)
                _finish(sdir, u, p.returncode, err)
                results.write_sweep_summary(sdir)
                save()
                prog.finish_unit(f"{u['id']} {u['status']}")
                if u.get("problem"):
                    prog.note(f"  {u['id']}: {u['problem']}")
    except KeyboardInterrupt:
        for p in running:
            p.send_signal(signal.SIGINT)
        for p, (u, err) in running.items():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            u["status"] = "interrupted"
            err.close()
        for u in queue:
            u["status"] = "pending"
        save()
        prog.note(f"interrupted: {prog.done}/{prog.total} runs finished; "
                  f"resume with: harness.py sweep --resume {sdir}")
        raise
    return rest


def _finish(sdir, u, rc, err):
    """Take a finished unit process's status from what it wrote."""
    err.seek(0)
    text = err.read().decode("utf-8", "replace").strip()
    err.close()
    got = outcome(sdir / u["id"])
    if got:
        st, problem, _ = got
    else:
        st = "error"
        problem = (text.splitlines()[-1] if text else f"unit process exited with status {rc} "
                   f"and left no task.json")
    u.update(status=st, problem=problem)
