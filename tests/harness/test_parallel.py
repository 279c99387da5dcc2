"""test_parallel.py: sweep --jobs: instruction-count runs at once give the same records as a serial sweep; timing runs stay serial."""

import csv
import io
import json
import time

from conftest import harness
from ferryhost import sweep

# What a run measured (not when or where): these must match record for record.
FIGURES = ["system", "bench", "variant", "size", "accel", "rep", "samples", "min", "p50", "p90", "p99",
           "max", "mean", "stdev", "overhead", "build"]

FAKE = """
name = "par"
samples = 30
repetitions = 2
accel = ["tcg-icount", "tcg"]
timeout = 60
[variants.default]
cmdline = ["fakesleep=3"]
[variants.nofast]
make = { FASTPATH = "0" }
[[benchmarks]]
names = ["floor_rdtsc", "ipc_call"]
"""


def figures(sdir, accel=("tcg-icount",)):
    """{run id: (summary rows, raw samples)} of a sweep's runs under these engines."""
    out = {}
    state = json.loads((sdir / "sweep.json").read_text())
    for uid, u in state["units"].items():
        if u["accel"] not in accel:
            continue
        with (sdir / uid / "summary.csv").open() as f:
            rows = [{k: r[k] for k in FIGURES} for r in csv.DictReader(f)]
        with (sdir / uid / "samples.csv").open() as f:
            samples = [tuple(r[k] for k in ("rep", "bench", "variant", "size", "value")) for r in csv.DictReader(f)]
        out[uid] = (rows, samples)
    return out


def test_parallel_equals_serial_and_timing_runs_stay_serial(fake_env, tmp_path):
    p = tmp_path / "par.toml"
    p.write_text(FAKE)
    cfg = sweep.load_config(p)
    err = io.StringIO()
    t0 = time.monotonic()
    par, bad = sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=err, jobs=2)
    assert bad == 0, err.getvalue()
    text = err.getvalue()
    assert "4 instruction-count runs (tcg-icount), up to 2 at a time" in text
    assert "4 timing runs (tcg) run one at a time afterwards" in text
    ser, bad = sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=io.StringIO(), jobs=1)
    assert bad == 0
    a, b = figures(par, ("tcg-icount", "tcg")), figures(ser, ("tcg-icount", "tcg"))
    assert len(a) == 8 and a == b      # the fake's figures depend on its command line only

    # The icount runs overlapped: their boots add up to more than the time
    # they took together.  Each task recorded where it ran.
    def boots(accel):
        ms = [json.loads((par / uid / "meta.json").read_text()) for uid in a if f"-{accel}-" in uid]
        return ms, sum(b["seconds"] for m in ms for b in m["boots"])
    icount, icount_s = boots("tcg-icount")
    first_tcg = min(json.loads((par / uid / "meta.json").read_text())["date"] for uid in a if "-tcg-g" in uid)
    tasks = [json.loads((par / uid / "task.json").read_text()) for uid in a if "-tcg-icount-" in uid]
    assert all(t["status"] == "ok" and t["node"] and t["host_cpu"] for t in tasks)
    assert all(m["node"] == tasks[0]["node"] for m in icount)
    started = [t["started"] for t in tasks]
    ended = [t["ended"] for t in tasks]
    # the default variant: 2 boots of 3 s or more each (time stamps are whole seconds)
    assert icount_s >= 6.0
    assert time.monotonic() - t0 > 0 and max(ended) <= first_tcg     # timing runs came after
    span = _seconds(max(ended)) - _seconds(min(started))
    assert span < icount_s, (span, icount_s)


def _seconds(iso):
    import datetime
    return datetime.datetime.fromisoformat(iso).timestamp()


def test_jobs_must_be_positive(fake_env, tmp_path):
    p = tmp_path / "par.toml"
    p.write_text(FAKE)
    r = harness("sweep", p, "--jobs", "0", "--kernel", fake_env["kernel"])
    assert r.returncode != 0 and "--jobs 0: at least 1" in r.stderr


def test_failed_unit_in_parallel_is_reported(fake_env, tmp_path):
    p = tmp_path / "par.toml"
    p.write_text(FAKE.replace('accel = ["tcg-icount", "tcg"]', 'accel = ["tcg-icount"]')
                 .replace('cmdline = ["fakesleep=3"]', 'cmdline = ["fake=panic"]'))
    sdir, bad = sweep.run_sweep(sweep.load_config(p), kernel=str(fake_env["kernel"]), stream=io.StringIO(),
                                jobs=2)
    state = json.loads((sdir / "sweep.json").read_text())
    st = {k: u["status"] for k, u in state["units"].items()}
    assert bad == 2 and sorted(st.values()) == ["ok", "ok", "panic", "panic"]
    assert all("kernel panic" in u["problem"] for u in state["units"].values() if u["status"] == "panic")


REAL = """
name = "tiny"
accel = ["tcg-icount"]
repetitions = 2
samples = 20
warmup = 5
timeout = 300
[variants.default]
[[benchmarks]]
names = ["floor_rdtsc", "ipc_call"]
sizes = [0]
"""


def test_real_icount_sweep_parallel_equals_serial(real_env):
    """The real kernel under tcg-icount: two runs at once give exactly the
    figures (and raw samples) of the same runs one after another."""
    p = real_env / "tiny.toml"
    p.write_text(REAL)
    out = {}
    for jobs in ("1", "2"):
        r = harness("sweep", p, "--jobs", jobs, timeout=900)
        assert r.returncode == 0, r.stdout + r.stderr
        out[jobs] = figures(real_env / "results" / r.stdout.strip().split(": ", 1)[1].rsplit("/", 1)[1])
    assert len(out["1"]) == 2 and all(rows for rows, _ in out["1"].values())
    assert out["1"] == out["2"]


def test_ctrl_c_stops_every_parallel_run(fake_env, tmp_path):
    """Ctrl-C reaches the sweep, which passes it on once to each running unit: both
    guests stop, both folders keep what their guest printed, and resume is offered."""
    import signal
    import subprocess
    from conftest import PY, REPO, sigint_default
    p = tmp_path / "c.toml"
    p.write_text('name = "c"\naccel = ["tcg-icount"]\ntimeout = 60\nrepetitions = 2\n'
                 '[variants.a]\ncmdline = ["fake=hangafter"]\n')
    proc = subprocess.Popen([PY, str(REPO / "harness.py"), "sweep", str(p), "--jobs", "2",
                             "--kernel", str(fake_env["kernel"])],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            preexec_fn=sigint_default)
    logs = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        logs = [f for f in fake_env["results"].glob("sweep-*/*/console-r*.log") if "@result" in f.read_text()]
        if len(logs) == 2:
            break
        time.sleep(0.2)
    assert len(logs) == 2
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    sdir = logs[0].parent.parent
    state = json.loads((sdir / "sweep.json").read_text())
    assert {u["status"] for u in state["units"].values()} == {"interrupted"}
    for uid in state["units"]:
        assert json.loads((sdir / uid / "meta.json").read_text())["status"] == "interrupted"
    assert "resume with: harness.py sweep --resume" in err
