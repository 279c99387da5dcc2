"""test_sweep.py: TOML validation, progress output and resuming an interrupted sweep."""

import io
import json

import pytest

from conftest import harness
from ferryhost import runner, sweep
from ferryhost.errors import HarnessError

GOOD = """
name = "t"
samples = 20
repetitions = 2
accel = ["tcg"]
timeout = 20
[variants.default]
[variants.nofast]
make = { FASTPATH = "0" }
cmdline = ["pcid=off"]
[[benchmarks]]
names = ["floor_rdtsc"]
"""


def _folder(stdout):
    """The folder of the final "ok: FOLDER" line (the show table comes before it)."""
    return next(l for l in stdout.splitlines() if l.startswith(("ok: ", "1 runs not ok: "))).split(": ", 1)[1]


def _cfg(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return p


def test_good_config(tmp_path):
    cfg = sweep.load_config(_cfg(tmp_path, GOOD))
    us = sweep.units(cfg)
    assert len(us) == 4 and len({u["id"] for u in us}) == 4
    spec = sweep.spec_for(cfg, us[-1])
    assert spec.flags == {"FASTPATH": "0"} and "pcid=off" in spec.guest_words()
    assert "samples=20" in spec.guest_words()


def test_groups_for_one_system(tmp_path):
    """Ferry and Linux name their benchmarks differently: a group may say
    which system it is for, and runs only there (Linux has no build variants)."""
    text = GOOD.replace('accel = ["tcg"]', 'accel = ["tcg"]\nsystem = ["ferry", "linux"]') + \
        '[[benchmarks]]\nsystem = ["linux"]\nnames = ["pipe_rt"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = sweep.units(cfg)
    ferry = [u for u in us if u["system"] == "ferry"]
    linux = [u for u in us if u["system"] == "linux"]
    # the first group (no system key) is for both; the second for Linux only
    assert len(ferry) == 2 * 2 and all(u["group"] == 0 for u in ferry)
    assert len(linux) == 2 * 2 and {u["group"] for u in linux} == {0, 1}
    assert sweep.spec_for(cfg, [u for u in linux if u["group"] == 1][0]).benches == ["pipe_rt"]


def test_groups_for_some_accelerators(tmp_path):
    """A group may name the accelerators it runs under (e.g. Linux's two-vCPU
    variants only where the engine runs vCPUs in parallel); others are refused."""
    text = GOOD.replace('accel = ["tcg"]', 'accel = ["tcg", "tcg-icount"]') + \
        '[[benchmarks]]\nnames = ["floor_ipc"]\naccel = ["tcg-icount"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = sweep.units(cfg)
    assert {u["accel"] for u in us if u["group"] == 0} == {"tcg", "tcg-icount"}
    assert {u["accel"] for u in us if u["group"] == 1} == {"tcg-icount"}
    bad = text.replace('accel = ["tcg-icount"]', 'accel = ["kvm"]')
    with pytest.raises(HarnessError, match="accelerator 'kvm', which the sweep does not use"):
        sweep.load_config(_cfg(tmp_path, bad))


def test_variant_only_some_benchmarks(tmp_path):
    """A variant with `only` (the KPTI kernel: its cost is kernel entries) runs
    just those benchmarks: groups without them are skipped, `all` becomes the list."""
    text = GOOD + '[variants.kpti]\nmake = { KPTI = "1" }\nonly = ["ipc_call", "yield/cross"]\n' + \
        '[[benchmarks]]\nnames = ["ipc_call/cross", "yield/cross", "yield/same", "floor_ipc"]\n' + \
        '[[benchmarks]]\nnames = ["all"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = sweep.units(cfg)
    kpti = [u for u in us if u["variant"] == "kpti"]
    assert {u["group"] for u in kpti} == {1, 2}            # not group 0 (floor_rdtsc)
    assert sweep.spec_for(cfg, next(u for u in kpti if u["group"] == 1)).benches == ["ipc_call/cross", "yield/cross"]
    assert sweep.spec_for(cfg, next(u for u in kpti if u["group"] == 2)).benches == ["ipc_call", "yield/cross"]
    assert sweep.spec_for(cfg, next(u for u in us if u["variant"] == "default" and u["group"] == 1)).benches == \
        ["ipc_call/cross", "yield/cross", "yield/same", "floor_ipc"]
    with pytest.raises(HarnessError, match="only must be benchmark names"):
        sweep.load_config(_cfg(tmp_path, text.replace('only = ["ipc_call", "yield/cross"]', 'only = [1]')))


def test_variant_for_some_accelerators(tmp_path):
    """A variant may name the accelerators it runs under (idle polling: only
    where vCPUs run in parallel); one the sweep does not use is refused."""
    text = GOOD.replace('accel = ["tcg"]', 'accel = ["tcg", "tcg-icount"]') + \
        '[variants.idlepoll]\ncmdline = ["idle_poll_us=50"]\naccel = ["tcg"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = sweep.units(cfg)
    assert {u["accel"] for u in us if u["variant"] == "idlepoll"} == {"tcg"}
    assert {u["accel"] for u in us if u["variant"] == "default"} == {"tcg", "tcg-icount"}
    assert "idle_poll_us=50" in sweep.spec_for(cfg, next(u for u in us if u["variant"] == "idlepoll")).guest_words()
    with pytest.raises(HarnessError, match="variants.idlepoll names accelerator 'kvm', which the sweep does not use"):
        sweep.load_config(_cfg(tmp_path, text.replace('accel = ["tcg"]\n', 'accel = ["kvm"]\n')))


def test_linux_group_with_two_cpus(tmp_path):
    """A group may ask for vCPUs (Linux's cpu2 benchmarks and Ferry's xcpu
    ones need 2); Ferry takes at most 8, and under QEMU only."""
    text = GOOD.replace('accel = ["tcg"]', 'accel = ["tcg"]\nsystem = ["ferry", "linux"]') + \
        '[[benchmarks]]\nsystem = ["linux"]\nnames = ["pipe_rt/cpu2"]\nsmp = 2\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = [u for u in sweep.units(cfg) if u["group"] == 1]
    spec = sweep.spec_for(cfg, us[0])
    assert spec.smp == 2 and spec.benches == ["pipe_rt/cpu2"]
    assert all(sweep.spec_for(cfg, u).smp == 1 for u in sweep.units(cfg) if u["group"] == 0)
    cfg = sweep.load_config(_cfg(tmp_path, GOOD + "smp = 2\n"))
    assert all(sweep.spec_for(cfg, u).smp == 2 for u in sweep.units(cfg))
    with pytest.raises(HarnessError, match="at most 8 CPUs"):
        sweep.load_config(_cfg(tmp_path, GOOD + "smp = 9\n"))


def test_group_for_some_variants(tmp_path):
    """A group may name the Ferry variants it runs for (full.toml's two-vCPU group runs
    for the default and idle-polling kernels only); Linux cells are not Ferry variants."""
    text = GOOD.replace('accel = ["tcg"]', 'accel = ["tcg"]\nsystem = ["ferry", "linux"]') + \
        '[[benchmarks]]\nnames = ["null_syscall"]\nvariants = ["default"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    g1 = {(u["system"], u["variant"]) for u in sweep.units(cfg) if u["group"] == 1}
    assert g1 == {("ferry", "default"), ("linux", "linux")}
    g0 = {(u["system"], u["variant"]) for u in sweep.units(cfg) if u["group"] == 0}
    assert g0 == {("ferry", "default"), ("ferry", "nofast"), ("linux", "linux")}
    with pytest.raises(HarnessError, match="is for variant 'nope', which the sweep does not define"):
        sweep.load_config(_cfg(tmp_path, text.replace('variants = ["default"]', 'variants = ["nope"]')))


def test_group_repetitions(tmp_path):
    """A group may repeat more (or less) than the sweep: ferry-rerun.toml runs its
    deterministic counts once and its two-vCPU timing groups twice."""
    text = GOOD + '[[benchmarks]]\nnames = ["null_syscall"]\nrepetitions = 3\nvariants = ["default"]\n'
    cfg = sweep.load_config(_cfg(tmp_path, text))
    us = sweep.units(cfg)
    assert sorted(u["rep"] for u in us if u["group"] == 1) == [0, 1, 2]
    assert sorted(u["rep"] for u in us if u["group"] == 0) == [0, 0, 1, 1]
    with pytest.raises(HarnessError, match=r"benchmarks\[1\]: repetitions must be at least 1"):
        sweep.load_config(_cfg(tmp_path, text.replace("repetitions = 3", "repetitions = 0")))
    # The shipped re-measurement sweep loads, with its timing groups repeated.
    from conftest import REPO
    cfg = sweep.load_config(REPO / "bench" / "sweeps" / "ferry-rerun.toml")
    assert {g["repetitions"] for g in cfg["benchmarks"]} == {1, 2}


@pytest.mark.parametrize("text, msg", [
    ('name = "x"\nsamples = [', "bad TOML"),
    ('colour = "red"', "unknown key 'colour'"),
    ('samples = "many"', "key 'samples' is a string 'many', expected an integer"),
    ('samples = true', "key 'samples' is a boolean True, expected an integer"),
    ('accel = ["warp"]', "unknown accelerator 'warp'"),
    ('system = ["plan9"]', "unknown system 'plan9'"),
    ('repetitions = 0', "repetitions must be at least 1"),
    ('[[benchmarks]]\nnames = ["a b"]', "bad benchmark name"),
    ('[[benchmarks]]\nsizes = [1]', "needs a non-empty 'names'"),
    ('[[benchmarks]]\nnames = ["x"]\nsizes = [-4]', "size -4 is not a non-negative integer"),
    ('[[benchmarks]]\nnames = ["x"]\nsizes = [1.5]', r"s\.toml: benchmarks\[0\]: size 1\.5 is not"),
    ('[variants.v]\nmake = { FASTPAHT = "0" }', "unknown make variable 'FASTPAHT'.*variants.v"),
    ('[variants.v]\nmake = { FASTPATH = "7" }', "bad value FASTPATH=7.*takes 1 or 0"),
    ('[variants.v]\nmake = { fastpath = 0 }', "bad build flag"),
    ('[[benchmarks]]\nnames = ["x"]\nsystem = ["linux"]', "is for system 'linux', which the sweep does not run"),
    ('[[benchmarks]]\nnames = ["x"]\nsmp = 0', "bad smp 0"),
])
def test_bad_configs(tmp_path, text, msg):
    with pytest.raises(HarnessError, match=msg):
        sweep.load_config(_cfg(tmp_path, text))


def test_bad_config_cli_one_line(tmp_path):
    r = harness("sweep", _cfg(tmp_path, "x = ["))
    assert r.returncode != 0 and r.stderr.startswith("harness: bad TOML") and r.stderr.count("\n") == 1


def test_shipped_sweeps_are_valid():
    from conftest import REPO
    files = sorted((REPO / "bench" / "sweeps").glob("*.toml"))
    assert any(f.name == "default.toml" for f in files)
    for f in files:
        assert sweep.units(sweep.load_config(f)), f.name


def test_resume_after_interrupt(fake_env, tmp_path, monkeypatch):
    cfg = sweep.load_config(_cfg(tmp_path, GOOD))
    real = runner.execute
    calls = []

    def interrupting(spec, **kw):
        calls.append(kw["rundir"].name)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(spec, **kw)
    monkeypatch.setattr(runner, "execute", interrupting)
    err = io.StringIO()
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=err)
    sdir = next(fake_env["results"].glob("sweep-*"))
    state = json.loads((sdir / "sweep.json").read_text())
    st = {k: u["status"] for k, u in state["units"].items()}
    assert sorted(st.values()) == ["interrupted", "ok", "ok", "pending"]
    done = {k for k, v in st.items() if v == "ok"}
    before = {k: (sdir / k / "meta.json").read_bytes() for k in done}
    assert "resume with: harness.py sweep --resume" in err.getvalue()

    calls.clear()
    sdir2, bad = sweep.run_sweep(cfg, resume=sdir, kernel=str(fake_env["kernel"]), stream=err)
    assert sdir2 == sdir and bad == 0
    assert len(calls) == 2 and not set(calls) & done      # finished runs are not redone
    assert {k: (sdir / k / "meta.json").read_bytes() for k in done} == before
    state = json.loads((sdir / "sweep.json").read_text())
    assert all(u["status"] == "ok" for u in state["units"].values())


def test_resume_refuses_changed_config(fake_env, tmp_path):
    cfg = sweep.load_config(_cfg(tmp_path, GOOD))
    sdir, _ = sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=io.StringIO())
    cfg2 = sweep.load_config(_cfg(tmp_path, GOOD.replace("samples = 20", "samples = 30")))
    with pytest.raises(HarnessError, match="differs from the matrix"):
        sweep.run_sweep(cfg2, "s.toml", resume=sdir, stream=io.StringIO())


def test_progress_plain_lines(fake_env, tmp_path):
    cfg = sweep.load_config(_cfg(tmp_path, GOOD.replace("repetitions = 2", "repetitions = 1")))
    err = io.StringIO()    # not a terminal: plain lines, no carriage returns
    sdir, bad = sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=err)
    text = err.getvalue()
    assert bad == 0 and "\r" not in text
    assert "[1/2]" in text and "[2/2]" in text and "elapsed" in text and "left" in text
    assert len([p for p in sdir.iterdir() if (p / "meta.json").is_file()]) == 2
    # One combined table: a row per run (one benchmark each), naming its run folder.
    import csv
    rows = list(csv.DictReader((sdir / "summary.csv").open()))
    assert len(rows) == 2 and {r["build"] for r in rows} == {"default", "nofast"}
    assert all((sdir / r["run"] / "summary.csv").is_file() for r in rows)


def test_sweep_cli_resume_and_plot(fake_env, tmp_path):
    cfg = _cfg(tmp_path, GOOD.replace("repetitions = 2", "repetitions = 1"))
    r = harness("sweep", cfg, "--kernel", fake_env["kernel"])
    assert r.returncode == 0, r.stderr
    sdir = _folder(r.stdout)
    # Resuming a finished sweep has nothing left to do.
    r = harness("sweep", "--resume", sdir, "--kernel", fake_env["kernel"])
    assert r.returncode == 0 and "0 of 2 runs to do" in r.stderr
    r = harness("sweep", cfg, "--resume", "latest", "--kernel", fake_env["kernel"])
    assert r.returncode == 0 and sdir in r.stdout
    r = harness("plot", "latest", "--no-gnuplot")
    assert r.returncode == 0, r.stderr
    out = fake_env["plots"] / sdir.rsplit("/", 1)[1]
    # sweep --plot draws the sweep it just ran.
    r = harness("sweep", cfg, "--kernel", fake_env["kernel"], "--plot")
    assert r.returncode == 0, r.stderr
    sdir2 = _folder(r.stdout)
    assert (fake_env["plots"] / sdir2.rsplit("/", 1)[1] / "latency.png").stat().st_size > 0
    assert (out / "latency.png").stat().st_size > 0
    # Both build variants of the sweep appear in the figure data.
    dat = (out / "latency.dat").read_text()
    assert "default" in dat and "nofast" in dat


def test_resume_of_a_run_is_refused(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg")
    run = _folder(r.stdout)
    r = harness("sweep", "--resume", run)
    assert r.returncode != 0 and "is a run, not a sweep" in r.stderr


def test_ctrl_c_during_sweep(fake_env, tmp_path):
    import signal
    import subprocess
    import time
    from conftest import PY, REPO, sigint_default
    cfg = _cfg(tmp_path, 'name = "c"\naccel = ["tcg"]\ntimeout = 60\n'
                         '[variants.a]\n[variants.b]\ncmdline = ["fake=hangafter"]\n')
    p = subprocess.Popen([PY, str(REPO / "harness.py"), "sweep", str(cfg), "--kernel", str(fake_env["kernel"])],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                         preexec_fn=sigint_default)
    deadline = time.monotonic() + 30
    state = {}
    while time.monotonic() < deadline:
        sj = list(fake_env["results"].glob("sweep-*/sweep.json"))
        if sj:
            state = json.loads(sj[0].read_text())
            # Unit a finished and unit b's guest has printed its first result.
            if state["units"]["ferry-a-tcg-g0-r0"]["status"] == "ok" and \
                    (sj[0].parent / "ferry-b-tcg-g0-r0" / "console-r0.log").is_file() and \
                    "@result" in (sj[0].parent / "ferry-b-tcg-g0-r0" / "console-r0.log").read_text():
                break
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    sdir = sj[0].parent
    state = json.loads((sdir / "sweep.json").read_text())
    assert state["units"]["ferry-a-tcg-g0-r0"]["status"] == "ok"
    assert state["units"]["ferry-b-tcg-g0-r0"]["status"] == "interrupted"
    assert json.loads((sdir / "ferry-a-tcg-g0-r0" / "meta.json").read_text())["status"] == "ok"
    # The interrupted run kept what its guest printed before Ctrl-C.
    assert json.loads((sdir / "ferry-b-tcg-g0-r0" / "meta.json").read_text())["status"] == "interrupted"
    assert "resume with" in err
