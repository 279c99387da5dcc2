"""test_plot_compare.py: plots from fake results, the floor table, and compare's regression gate."""


from conftest import harness
from ferryhost import plot


def _run(fake_env, *extra):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--samples", "300", *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1].split(": ", 1)[1].strip()


def test_plot_all_figures(fake_env):
    d = _run(fake_env, "--bench", "floor_rdtsc,floor_ipc,ipc_call,ipc_len,bulk_copy,bulk_grant",
             "--sizes", "64,4096")
    r = harness("plot", d, "--vector", "svg", "--gnuplot")
    assert r.returncode == 0, r.stderr
    out = fake_env["plots"] / d.rsplit("/", 1)[1]
    # The fake's ipc_len is no benchmark of SIZE_AXIS: its own size figure.
    for name in ("latency", "size-ipc_len", "bulk", "bulk-time", "cdf-ipc_call"):
        for ext in ("png", "svg", "dat", "gp"):
            assert (out / f"{name}.{ext}").stat().st_size > 0, f"{name}.{ext}"
    assert (out / "latency.gnuplot.png").stat().st_size > 0
    dat = (out / "size-ipc_len.dat").read_text()
    assert '"ipc_len fake" x y lo hi' in dat
    # The index page shows the key figures and the summary table.
    page = (out / "index.html").read_text()
    assert '<img src="latency.png"' in page and "Summary (harness.py show)" in page and "ipc_len" in page
    # PNG only by default.
    r = harness("plot", d, "--out", fake_env["tmp"] / "pngonly")
    assert r.returncode == 0 and not list((fake_env["tmp"] / "pngonly").glob("*.svg"))
    assert not list((fake_env["tmp"] / "pngonly").glob("*.gp"))


def test_plot_skips_absent_data(fake_env):
    _run(fake_env, "--bench", "floor_rdtsc,floor_cr3", "--no-raw")
    r = harness("plot", "latest", "--vector", "pdf")
    assert r.returncode == 0, r.stderr
    assert "skipped bulk: no bulk_* benchmark" in r.stderr
    assert "skipped cdf: no raw samples" in r.stderr
    assert "skipped msglen" in r.stderr
    out = next(fake_env["plots"].iterdir())
    assert (out / "latency.pdf").stat().st_size > 0 and not (out / "latency.gnuplot.png").exists()


def test_plot_missing_folder(fake_env):
    r = harness("plot", "latest")
    assert r.returncode != 0 and r.stderr.startswith("harness: no runs or sweeps")


def test_floor_table():
    assert plot.floor_for("ipc_call", "cross") == "floor_ipc"
    assert plot.floor_for("ipc_call", "same") == "floor_syscall"
    assert plot.floor_for("null_syscall", "syscall") == "floor_syscall"
    assert plot.floor_for("floor_cr3", "flush") is None          # never a floor over itself
    assert plot.floor_for("something_new") is None              # no guessed floor
    assert all(v.startswith("floor_") for v in plot.FLOOR_OF.values())


def test_compare_gate(fake_env):
    a = _run(fake_env, "--bench", "floor_rdtsc,ipc_call")
    same = _run(fake_env, "--bench", "floor_rdtsc,ipc_call", "--cmdline", "fakeseed=2")
    slow = _run(fake_env, "--bench", "floor_rdtsc,ipc_call", "--cmdline", "fakescale=1.3")
    r = harness("compare", a, same, "--resamples", "200")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SLOWER" not in r.stdout and "ipc_call" in r.stdout
    r = harness("compare", a, slow, "--resamples", "200")
    assert r.returncode == 1 and "SLOWER" in r.stdout and "regressions beyond 5%" in r.stderr
    # B faster than A is no regression.
    r = harness("compare", slow, a, "--resamples", "200")
    assert r.returncode == 0 and "faster" in r.stdout


def test_disturbed_runs_are_labelled(fake_env):
    import json
    from pathlib import Path
    d = Path(_run(fake_env, "--bench", "floor_rdtsc"))
    m = json.loads((d / "meta.json").read_text())
    m["disturbed"] = True       # as perf.read() sets it above the bound
    (d / "meta.json").write_text(json.dumps(m))
    r = harness("plot", d, "--no-gnuplot")
    assert r.returncode == 0, r.stderr
    assert "[disturbed]" in (fake_env["plots"] / d.name / "latency.dat").read_text()


def test_plot_several_folders_together(fake_env):
    a = _run(fake_env, "--bench", "floor_rdtsc", "--variant", "one")
    b = _run(fake_env, "--bench", "floor_rdtsc", "--variant", "two")
    r = harness("plot", a, b, "--no-gnuplot")
    assert r.returncode == 0, r.stderr
    out = fake_env["plots"] / (a.rsplit("/", 1)[1] + "+1")
    dat = (out / "latency.dat").read_text()
    assert "floor_rdtsc/fake one" in dat and "floor_rdtsc/fake two" in dat


def test_ferry_vs_linux_pairs_shapes_with_ratio():
    from ferryhost import plot

    def series(system, bench, variant, size, p50, build=None):
        row = {"p50": p50, "min": p50 - 1, "p90": p50 + 1, "tsc_hz": None, "disturbed": False}
        return plot.Series((system, bench, build or system, variant, size, "tcg-icount"), [row], None)

    ss = [series("ferry", "null_syscall", "syscall", -1, 100, "default"),
          series("linux", "null_syscall", "getppid", -1, 250),
          # Ferry's smallest size stands for the shape; the nofastpath build is not used
          series("ferry", "ipc_call", "cross", 0, 300, "default"),
          series("ferry", "ipc_call", "cross", 8, 900, "default"),
          series("ferry", "ipc_call", "cross", 0, 1000, "nofastpath"),
          series("linux", "pipe_rt", "cpu1", -1, 9000),
          # a shape measured on one system only is left out
          series("linux", "futex_rt", "cpu1", -1, 7000)]
    figs, skipped = plot.versus_figures(ss, "instructions")
    assert len(figs) == 1
    f = figs[0]
    assert f.name == "ferry-vs-linux" and f.xlabel == "instructions"
    ys = [c[1][0][1] for c in f.curves]
    assert ys == [100, 250, 300, 9000]
    assert f.pairs == [("null syscall", 2.5), ("2 processes", 30.0)]
    assert "Ratio = Linux time / Ferry time" in f.title
    # A shape measured on one side only is named, not silently dropped.
    assert any("2 threads: ipc_call same | futex' not measured on Ferry" in x for x in skipped)
    assert plot.versus_figures([s for s in ss if s.system == "ferry"])[0] == []


def test_curve_styles_are_distinct():
    # More curves than matplotlib's ten colours must still be told apart.
    styles = {tuple(sorted(plot._curve_style(i).items())) for i in range(40)}
    assert len(styles) == 40


def _fake_run(folder, name, smp, p50):
    """A run folder with one ipc_call/cross row, as a sweep's run leaves it."""
    import csv
    import json
    rd = folder / name
    rd.mkdir(parents=True)
    (rd / "meta.json").write_text(json.dumps({"smp": smp, "accel": "tcg", "variant": "default"}))
    cols = ["system", "bench", "variant", "size", "accel", "rep", "samples", "min", "p50", "p90",
            "p99", "max", "mean", "stdev", "overhead", "build", "unit"]
    with (rd / "summary.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(cols)
        w.writerow(["ferry", "ipc_call", "cross", 0, "tcg", 0, 10, p50, p50, p50, p50, p50, p50, 0, 0,
                    "default", "ticks"])
        if smp == 2:
            w.writerow(["ferry", "ipc_call", "xcpu", 0, "tcg", 0, 10, 9, 9, 9, 9, 9, 9, 0, 0,
                        "default", "ticks"])


def test_vcpu_counts_are_not_pooled(tmp_path):
    """ipc_call/cross on one vCPU and on two (a sweep's smp group) are two configurations;
    a benchmark measured at one vCPU count only keeps its plain build label."""
    from ferryhost import results
    _fake_run(tmp_path, "ferry-default-tcg-g0-r0", 1, 100)
    _fake_run(tmp_path, "ferry-default-tcg-g1-r0", 2, 130)
    ds = results.Dataset(tmp_path)
    got = {(r["variant"], r["build"], r["p50"]) for r in ds.rows}
    assert got == {("cross", "default", 100), ("cross", "default, 2 vCPUs", 130), ("xcpu", "default", 9)}
