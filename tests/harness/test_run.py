"""test_run.py: `run` against the fake QEMU: folder layout, metadata, hang, panic, errors, Ctrl-C."""

import csv
import json
import signal
import subprocess
import time

import pytest

from conftest import PY, REPO, harness, sigint_default
from ferryhost import env, runner
from ferryhost.errors import HarnessError


def _only_run(results):
    dirs = [p for p in results.iterdir() if p.is_dir() and not p.name.startswith(".")]
    assert len(dirs) == 1
    return dirs[0]


def test_ok_run_folder(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench",
                "floor_rdtsc,ipc_len", "--sizes", "0,8", "--samples", "50", "--reps", "2")
    assert r.returncode == 0, r.stderr
    d = _only_run(fake_env["results"])
    for f in ("console-r0.log", "console-r1.log", "summary.csv", "samples.csv", "meta.json"):
        assert (d / f).stat().st_size > 0, f
    m = json.loads((d / "meta.json").read_text())
    assert m["schema"] >= 1 and m["status"] == "ok" and m["accel"] == "tcg"
    assert m["qemu_version"] == "7.2.0" and len(m["git_commit"]) >= 7
    assert "bench=floor_rdtsc,ipc_len" in m["kernel_cmdline"] and "sizes=0,8" in m["kernel_cmdline"]
    assert m["boots"][0]["qemu_cmdline"][-1] == m["kernel_cmdline"]
    assert "-accel" in m["boots"][0]["qemu_cmdline"] and m["guest_tsc_hz"] == 2000000000
    rows = list(csv.DictReader((d / "summary.csv").open()))
    assert list(rows[0])[:15] == ["system", "bench", "variant", "size", "accel", "rep", "samples", "min",
                                  "p50", "p90", "p99", "max", "mean", "stdev", "overhead"]
    # floor_rdtsc once + ipc_len at two sizes, for each of two repetitions
    assert len(rows) == 6 and {r["rep"] for r in rows} == {"0", "1"}
    assert "Ferry fake kernel booting" in (d / "console-r0.log").read_text()
    assert d.name.split("-")[1] == m["git_commit"][:10]


def test_hang_is_killed_and_partial_results_kept(fake_env):
    t0 = time.monotonic()
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_rdtsc,floor_cr3",
                "--cmdline", "fake=hangafter", "--timeout", "2")
    assert time.monotonic() - t0 < 30
    assert r.returncode != 0 and "no @done within the timeout of 2 s: killed after 1 results" in r.stderr
    assert "--timeout is too short" in r.stderr
    d = _only_run(fake_env["results"])
    m = json.loads((d / "meta.json").read_text())
    assert m["status"] == "timeout"
    assert len(list(csv.DictReader((d / "summary.csv").open()))) == 1


def test_panic_reported(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--cmdline", "fake=panic")
    assert r.returncode != 0
    assert "kernel panic: page fault in kernel at rip=0xffffffff80001234" in r.stderr
    m = json.loads((_only_run(fake_env["results"]) / "meta.json").read_text())
    assert m["status"] == "panic" and m["boots"][0]["exit_code"] == 35


def test_panic_then_hang_reports_panic(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--cmdline", "fake=panichang",
                "--timeout", "2")
    assert r.returncode != 0
    assert "kernel panic: page fault in kernel" in r.stderr and "killed at the timeout" in r.stderr


@pytest.mark.parametrize("args, msg", [
    (["--bench", "no_such_bench"], "unknown benchmark 'no_such_bench'"),
    (["--cmdline", "fake=malformed"], "malformed @result record"),
    (["--cmdline", "fake=crash"], "QEMU exited with status 1"),
    (["--cmdline", "fake=lossy"], "@done counts 2 results but 1 arrived"),
])
def test_guest_problems_one_line(fake_env, args, msg):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", *args)
    assert r.returncode != 0
    lines = [l for l in r.stderr.splitlines() if msg in l]
    assert len(lines) == 1


def test_missing_image_and_bad_options(fake_env):
    r = harness("run", "--kernel", fake_env["tmp"] / "missing.elf", "--accel", "tcg")
    assert r.returncode != 0 and r.stderr.strip().count("\n") == 0 and "is missing" in r.stderr
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "warp")
    assert r.returncode != 0 and "unknown accelerator 'warp'" in r.stderr
    r = harness("run", "--kernel", fake_env["kernel"], "--bench", "a;b")
    assert r.returncode != 0 and "bad benchmark name" in r.stderr
    assert not fake_env["results"].exists() or not any(fake_env["results"].iterdir())


def test_ctrl_c_keeps_finished_reps(fake_env):
    p = subprocess.Popen([PY, str(REPO / "harness.py"), "run", "--kernel", str(fake_env["kernel"]),
                          "--accel", "tcg", "--reps", "2", "--bench", "floor_rdtsc",
                          "--cmdline", "fake=hangafter", "--timeout", "1"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                         preexec_fn=sigint_default)
    # Rep 0 times out after a second; interrupt during rep 1.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        runs = list(fake_env["results"].glob("*/meta.json"))
        if runs and json.loads(runs[0].read_text())["boots"]:
            break
        time.sleep(0.1)
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=30)
    assert p.returncode == 130, err
    m = json.loads(runs[0].read_text())
    assert [b["status"] for b in m["boots"]] == ["timeout", "interrupted"]
    assert not list(fake_env["results"].glob("*/.*.tmp"))
    # The interrupted repetition printed a result (its console log keeps it),
    # but only whole repetitions reach the data that get pooled.
    d = runs[0].parent
    assert "@result" in (d / "console-r1.log").read_text()
    assert {r["rep"] for r in csv.DictReader((d / "summary.csv").open())} == {"0"}
    assert {r["rep"] for r in csv.DictReader((d / "samples.csv").open())} <= {"0"}


def test_kvm_kind_detection(tmp_path):
    def root(flags, mods, dev=True):
        r = tmp_path / "-".join([flags] + mods + [str(dev)])
        (r / "proc").mkdir(parents=True)
        (r / "proc/cpuinfo").write_text(f"model name\t: Test CPU\nflags\t\t: fpu {flags}\n")
        for m in mods:
            (r / "sys/module" / m).mkdir(parents=True)
        if dev:
            (r / "dev").mkdir()
            (r / "dev/kvm").write_text("")
        return r
    assert env.kvm_kind(root("vmx", ["kvm", "kvm_intel"])) == "hardware"
    assert env.kvm_kind(root("svm", ["kvm", "kvm_amd"])) == "hardware"
    assert env.kvm_kind(root("svm", ["kvm", "kvm_pvm"])) == "pvm"
    assert env.kvm_kind(root("vmx", ["kvm", "kvm_intel"], dev=False)) is None
    assert env.host_cpu_model(root("vmx", [])) == "Test CPU"


def test_accel_resolution():
    assert env.resolve_accel("auto", "hardware") == "kvm"
    assert env.resolve_accel("auto", "pvm") == "tcg"       # PVM only when asked
    assert env.resolve_accel("auto", None) == "tcg"
    assert env.resolve_accel("kvm", "pvm") == "kvm"
    with pytest.raises(HarnessError):
        env.resolve_accel("kvm", None)
    assert env.accel_args("kvm", "pvm")[-1] == "host,-arch-capabilities"
    assert env.accel_args("tcg-icount", None) == ["-accel", "tcg", "-icount", "shift=0,sleep=off", "-cpu", "max"]


def test_linux_system_through_module_interface(fake_env, monkeypatch):
    """run --system linux uses build_guest() and qemu_boot_args() of ferryhost/linux.py."""
    seen = {}

    def build_guest(outdir):
        seen["outdir"] = outdir
        return {"kernel": fake_env["kernel"], "initrd": fake_env["kernel"], "meta": {"kernel_release": "x"}}

    def qemu_boot_args(guest, words):
        seen["words"] = words
        return ["-kernel", str(guest["kernel"]), "-initrd", str(guest["initrd"]), "-append", " ".join(words)]
    monkeypatch.setattr(runner.linux, "build_guest", build_guest)
    monkeypatch.setattr(runner.linux, "qemu_boot_args", qemu_boot_args)
    # The fake guest has no benchmark program to read a catalogue from.
    monkeypatch.setattr(runner, "catalog_of", lambda spec, boot: None)
    rundir, status, problems = runner.execute(runner.RunSpec(system="linux", accel="tcg", smp=2,
                                                             benches=["floor_rdtsc"], samples=10))
    assert status == "ok", problems
    assert "bench=floor_rdtsc" in seen["words"] and "samples=10" in seen["words"]
    m = json.loads((rundir / "meta.json").read_text())
    assert m["system"] == "linux" and m["variant"] == "linux" and m["boot"]["linux"]["kernel_release"] == "x"
    assert m["smp"] == 2


def test_qemu_command_smp():
    from ferryhost import qemu
    one = qemu.command("q", "tcg", None, ["-kernel", "k"])
    two = qemu.command("q", "tcg", None, ["-kernel", "k"], smp=2)
    assert "-smp" not in one
    assert two[two.index("-smp") + 1] == "2" and two[-2:] == ["-kernel", "k"]


def test_perf_wraps_and_parses(tmp_path):
    from ferryhost import perf
    cmd = perf.wrap("/usr/bin/perf", ["qemu", "-x"], tmp_path / "p.txt")
    assert cmd[-2:] == ["qemu", "-x"] and "kvm:*" in cmd
    (tmp_path / "p.txt").write_text("# started\n\n5000,,kvm:kvm_exit,1,100.00,,\n<not counted>,,kvm:kvm_mmio,0,0,,\n")
    r = perf.read(tmp_path / "p.txt", 1000, 1.0, "kvm")
    assert r["exits"] == 5000 and r["exits_per_sample"] == 5 and r["disturbed"]
    r = perf.read(tmp_path / "p.txt", 10000, 1.0, "kvm")
    assert not r["disturbed"]
    # PVM: no exits, but every instruction emulated.
    (tmp_path / "q.txt").write_text("0,,kvm:kvm_exit,1,100.00,,\n6436356,,kvm:kvm_emulate_insn,1,100.00,,\n")
    r = perf.read(tmp_path / "q.txt", 10000, 1.0, "kvm")
    assert r["exits"] == 6436356 and r["disturbed"]


def test_variant_build_ignores_parent_make_flags(monkeypatch):
    """`make bench FASTPATH=0` must not turn the default variant into a FASTPATH=0 build."""
    from ferryhost import build
    seen = {}

    def fake_run(cmd, **kw):
        seen["cmd"], seen["env"] = cmd, kw.get("env")
        return subprocess.CompletedProcess(cmd, 0, '{"kernel": "k", "modules": [], "iso": ""}\n', "")
    monkeypatch.setenv("MAKEFLAGS", " -- FASTPATH=0")
    monkeypatch.setattr(build.subprocess, "run", fake_run)
    build.print_boot(["BUILD=x"])
    assert "MAKEFLAGS" not in seen["env"] and "BUILD=x" in seen["cmd"]


def test_qemu_runs_at_the_niceness_asked_for(fake_env, monkeypatch):
    """Each boot records the niceness QEMU got: FERRY_QEMU_NICE when the
    harness may set it (raising it always is), the harness's own with
    "off", and a clear error for a bad value."""
    import os
    from ferryhost import qemu
    own = os.getpriority(os.PRIO_PROCESS, 0)
    for asked, expected in (("19", 19), ("off", own)):
        monkeypatch.setenv(qemu.NICE_ENV, asked)
        r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_rdtsc",
                    "--samples", "20")
        assert r.returncode == 0, r.stderr
        d = sorted(p for p in fake_env["results"].iterdir() if p.is_dir())[-1]
        assert json.loads((d / "meta.json").read_text())["boots"][0]["qemu_nice"] == expected, asked
    monkeypatch.delenv(qemu.NICE_ENV)
    assert qemu.wanted_nice() == qemu.DEFAULT_NICE == -20
    for bad in ("-21", "20", "fast"):
        monkeypatch.setenv(qemu.NICE_ENV, bad)
        with pytest.raises(HarnessError, match="give a niceness from -20 to 19, or off"):
            qemu.wanted_nice()
