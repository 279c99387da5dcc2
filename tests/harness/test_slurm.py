"""test_slurm.py: sweep --slurm, merge and resubmission: against a stand-in sbatch, and on a real one-node Slurm cluster started here."""

import json
import os
import subprocess
import sys

import pytest

import slurm_cluster
from conftest import PY, REPO, harness
from test_parallel import REAL, figures

FAKE = """
name = "sl"
samples = 20
repetitions = 2
accel = ["tcg-icount", "tcg"]
timeout = 60
[variants.default]
[[benchmarks]]
names = ["floor_rdtsc"]
"""


@pytest.fixture
def fake_slurm(fake_env, tmp_path, monkeypatch):
    """sbatch that keeps the script and answers with a job id; squeue that knows no job."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "sbatch").write_text(
        "#!/bin/sh\n"
        f'n=$(ls {tmp_path}/jobs 2>/dev/null | wc -l); n=$((n + 100))\n'
        f'mkdir -p {tmp_path}/jobs && cp "$2" {tmp_path}/jobs/$n.sbatch && echo "$n;ferrytest"\n')
    (bindir / "squeue").write_text("#!/bin/sh\nexit 0\n")
    for f in bindir.iterdir():
        f.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    return dict(fake_env, jobs=tmp_path / "jobs")


def test_submit_merge_resubmit_with_stand_in_sbatch(fake_slurm, tmp_path):
    p = tmp_path / "sl.toml"
    p.write_text(FAKE)
    r = harness("sweep", p, "--slurm", "--partition", "fast", "--kernel", fake_slurm["kernel"],
                "--sbatch-arg=--time=10")
    assert r.returncode == 0, r.stderr
    sdir = fake_slurm["results"] / r.stdout.strip().split(": ", 1)[1].rsplit("/", 1)[1]
    assert "submitted 2 icount runs as job array 100" in r.stderr
    assert "submitted 2 timing runs as job array 101 (whole nodes, --exclusive)" in r.stderr
    icount, timing = (fake_slurm["jobs"] / "100.sbatch").read_text(), (fake_slurm["jobs"] / "101.sbatch").read_text()
    assert "#SBATCH --array=0-1" in icount and "--exclusive" not in icount and "--pin" not in icount
    assert "#SBATCH --exclusive" in timing and "--pin" in timing
    for s in (icount, timing):
        assert "#SBATCH --partition=fast" in s and "#SBATCH --time=10" in s
        assert '--index "$SLURM_ARRAY_TASK_ID"' in s and str(sdir) in s
    state = json.loads((sdir / "sweep.json").read_text())
    assert {u["status"] for u in state["units"].values()} == {"submitted"}

    # Two tasks run (as Slurm would start them), the other two never do.
    for job, script in ((100, icount), (101, timing)):
        units = sdir / "slurm" / f"{'icount' if job == 100 else 'timing'}-{job - 99}.units"
        env = dict(os.environ, SLURM_JOB_ID=f"{job}0", SLURM_ARRAY_JOB_ID=str(job), SLURM_ARRAY_TASK_ID="0")
        t = subprocess.run([PY, str(REPO / "harness.py"), "task", str(sdir), "--units", str(units), "--index", "0",
                            "--kernel", str(fake_slurm["kernel"])] + (["--pin"] if job == 101 else []),
                           capture_output=True, text=True, env=env, cwd=REPO, timeout=120)
        assert t.returncode == 0 and t.stdout.startswith("ok: "), t.stderr
    r = harness("merge", sdir)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "2 lost, 2 ok" in r.stdout and "resubmit the 2 lost runs alone with" in r.stdout
    state = json.loads((sdir / "sweep.json").read_text())
    lost = sorted(k for k, u in state["units"].items() if u["status"] == "lost")
    assert lost == ["ferry-default-tcg-g0-r1", "ferry-default-tcg-icount-g0-r1"]
    m = json.loads((sdir / "ferry-default-tcg-g0-r0" / "meta.json").read_text())
    assert m["node"] and m["slurm"]["array_job_id"] == "101" and m["host_cpu"]
    assert (sdir / "summary.csv").read_text().count("\n") == 3     # header + the two finished runs

    # Resuming resubmits the two lost runs alone, one array each.
    r = harness("sweep", "--resume", sdir, "--kernel", fake_slurm["kernel"])
    assert r.returncode == 0, r.stderr
    assert (sdir / "slurm" / "icount-3.units").read_text() == "ferry-default-tcg-icount-g0-r1\n"
    assert (sdir / "slurm" / "timing-4.units").read_text() == "ferry-default-tcg-g0-r1\n"
    assert "#SBATCH --partition=fast" in (fake_slurm["jobs"] / "102.sbatch").read_text()
    r = harness("sweep", "--resume", sdir, "--kernel", fake_slurm["kernel"])
    assert "submitted 1 icount runs as job array 104" in r.stderr   # lost again: squeue knows nothing


def test_merge_refuses_a_local_sweep(fake_env, tmp_path):
    p = tmp_path / "sl.toml"
    p.write_text(FAKE.replace("repetitions = 2", "repetitions = 1"))
    r = harness("sweep", p, "--kernel", fake_env["kernel"])
    sdir = r.stdout.strip().split(": ", 1)[1]
    r = harness("merge", sdir)
    assert r.returncode != 0 and "is a local sweep, not one submitted to Slurm" in r.stderr


def test_timing_rows_split_by_cpu_model(fake_env, tmp_path):
    """Timing runs from two CPU models are never pooled; icount runs are."""
    from ferryhost import results
    p = tmp_path / "sl.toml"
    p.write_text(FAKE)
    r = harness("sweep", p, "--kernel", fake_env["kernel"])
    sdir = fake_env["results"] / r.stdout.strip().split(": ", 1)[1].rsplit("/", 1)[1]
    for uid, cpu in (("ferry-default-tcg-g0-r0", "CPU A"), ("ferry-default-tcg-g0-r1", "CPU B")):
        mp = sdir / uid / "meta.json"
        m = json.loads(mp.read_text())
        mp.write_text(json.dumps(dict(m, host_cpu=cpu)))
    ds = results.Dataset(sdir)
    builds = {(r["accel"], r["build"]) for r in ds.rows}
    assert builds == {("tcg-icount", "default"), ("tcg", "default @ CPU A"), ("tcg", "default @ CPU B")}


@pytest.fixture
def cluster():
    why = slurm_cluster.missing()
    if why:
        pytest.skip(why)
    c = slurm_cluster.Cluster()
    try:
        c.start()
        yield c
    finally:
        c.stop()     # always: also when start() or the test failed


def _sq(c, *args):
    return subprocess.run(list(args), capture_output=True, text=True, env=c.env, timeout=60)


def test_sweep_on_one_node_cluster(real_env, cluster, monkeypatch):
    """Submit a tiny sweep as job arrays (held), cancel one task, let the rest run,
    merge: the cancelled run is listed as lost, resubmitted alone, and the merged
    icount figures equal a local sweep's record for record."""
    monkeypatch.setenv("SLURM_CONF", str(cluster.conf))
    shared = real_env / "shared"
    toml = real_env / "tiny.toml"
    toml.write_text(REAL.replace('accel = ["tcg-icount"]', 'accel = ["tcg-icount", "tcg"]'))
    r = harness("sweep", toml, "--slurm", "--partition", "ferry", "--results", shared, "--sbatch-arg=--hold",
                timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr + cluster.logs()
    sdir = shared / r.stdout.strip().split(": ", 1)[1].rsplit("/", 1)[1]
    state = json.loads((sdir / "sweep.json").read_text())
    jobs = [j["job"] for j in state["slurm"]["jobs"]]
    assert len(jobs) == 2
    q = _sq(cluster, "scancel", f"{jobs[0]}_1")
    assert q.returncode == 0, q.stderr
    for j in jobs:
        assert _sq(cluster, "scontrol", "release", j).returncode == 0
    r = harness("merge", sdir, "--wait", "--timeout", "300", timeout=400)
    assert r.returncode == 1, r.stdout + r.stderr + cluster.logs()
    assert "1 lost, 3 ok" in r.stdout and "ferry-default-tcg-icount-g0-r1: lost" in r.stdout
    r = harness("sweep", "--resume", sdir, timeout=600)
    assert r.returncode == 0 and "submitted 1 icount runs" in r.stderr, r.stderr
    r = harness("merge", sdir, "--wait", "--timeout", "300", "--plot", timeout=400)
    assert r.returncode == 0, r.stdout + r.stderr + cluster.logs()
    # one latency figure per engine (latency-<engine>.png when a sweep has several)
    assert "4 ok" in r.stdout and list((real_env / "plots" / sdir.name).glob("latency*.png"))
    for uid in json.loads((sdir / "sweep.json").read_text())["units"]:
        m = json.loads((sdir / uid / "meta.json").read_text())
        assert m["status"] == "ok" and m["node"] == cluster.node and m["host_cpu"]
        assert m["slurm"]["array_job_id"] and m["slurm"]["partition"] == "ferry"
        # Two CPUs: too few to keep one free beside a pinned QEMU, so none is pinned.
        assert m["pinned_cpus"] is None

    local = real_env / "tiny-local.toml"
    local.write_text(REAL)
    r = harness("sweep", local, "--jobs", "1", "--results", real_env / "local", timeout=600)
    assert r.returncode == 0, r.stderr
    ldir = real_env / "local" / r.stdout.strip().split(": ", 1)[1].rsplit("/", 1)[1]
    merged, here = figures(sdir), figures(ldir)
    assert len(here) == 2 and merged == here, sys.stderr.write(f"{merged}\n{here}\n")
