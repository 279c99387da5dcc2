"""test_cli.py: the command line: env output, missing-module message, usage errors."""

import json

import pytest

from conftest import harness
from ferryhost.errors import HarnessError, need_module


def test_missing_module_names_debian_package():
    with pytest.raises(HarnessError) as e:
        need_module("no_such_module_xyz", "python3-nosuch")
    msg = str(e.value)
    assert "python3-nosuch" in msg and "\n" not in msg


def test_env_with_fake_qemu(fake_env):
    r = harness("env")
    assert r.returncode == 0, r.stderr
    assert "QEMU:" in r.stdout and "7.2.0" in r.stdout and "auto accel:" in r.stdout
    r = harness("env", "--json")
    d = json.loads(r.stdout)
    assert d["qemu_version"] == "7.2.0" and d["auto_accel"] in ("kvm", "tcg")
    assert d["kvm_kind"] in ("hardware", "pvm", None)


def test_missing_qemu_one_line(fake_env, monkeypatch):
    monkeypatch.setenv("FERRY_QEMU", "/nonexistent/qemu")
    r = harness("env")
    assert r.returncode != 0 and r.stderr.count("\n") == 1 and "qemu-system-x86" in r.stderr


def test_sweep_without_config(fake_env):
    r = harness("sweep")
    assert r.returncode != 0 and "sweep needs CONFIG.toml" in r.stderr


def test_compare_nothing_in_common(fake_env):
    a = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_rdtsc")
    b = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_cr3")
    last = lambda r: r.stdout.strip().splitlines()[-1].split(": ", 1)[1]
    r = harness("compare", last(a), last(b))
    assert r.returncode != 0 and "no benchmark configuration in common" in r.stderr


def test_accel_sh_uses_the_harness_rules():
    # scripts/accel.sh (the Makefile's accelerator options) is a front end to
    # ferryhost/env.py: the same kind and the same options as the harness.
    import subprocess
    from pathlib import Path
    from ferryhost import env
    sh = Path(__file__).resolve().parents[2] / "scripts/accel.sh"

    def run(*args):
        return subprocess.run([str(sh), *args], capture_output=True, text=True)
    kind = env.kvm_kind()
    assert run("--kind").stdout.strip() == (kind or "none")
    for accel in ("auto", "tcg", "tcg-icount"):
        want = " ".join(env.accel_args(env.resolve_accel(accel, kind), kind))
        assert run(accel).stdout.strip() == want
    bad = run("bogus")
    assert bad.returncode != 0 and "unknown accelerator 'bogus'" in bad.stderr
