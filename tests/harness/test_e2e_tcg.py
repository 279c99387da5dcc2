"""test_e2e_tcg.py: build the real kernel, boot it under TCG with a short benchmark, plot the run."""

import csv
import json

from conftest import harness


def test_tcg_floor_run_and_plot(real_env):
    r = harness("run", "--accel", "tcg", "--bench", "floor_rdtsc", "--samples", "500",
                "--timeout", "120", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    rundir = next(p for p in (real_env / "results").iterdir() if not p.name.startswith("."))
    for f in ("console-r0.log", "summary.csv", "samples.csv", "meta.json"):
        assert (rundir / f).stat().st_size > 0, f
    m = json.loads((rundir / "meta.json").read_text())
    assert m["status"] == "ok" and m["accel"] == "tcg" and m["guest_meta"]["system"] == "ferry"
    rows = list(csv.DictReader((rundir / "summary.csv").open()))
    assert rows and all(r["bench"] == "floor_rdtsc" for r in rows)
    assert all(int(r["samples"]) == 500 for r in rows)
    r = harness("plot", rundir)
    assert r.returncode == 0, r.stderr
    png = real_env / "plots" / rundir.name / "latency.png"
    assert png.stat().st_size > 0
