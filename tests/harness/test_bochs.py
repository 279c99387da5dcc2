"""test_bochs.py: Bochs as an accelerator (configuration, exit mapping, real boots with PCID) and the KVM kind classifier."""

import json
import os
import shutil
import subprocess

import pytest

from conftest import PY, REPO, harness
from ferryhost import bochs, build, env, sweep
from ferryhost.errors import HarnessError


# ---- pure parts -------------------------------------------------------------

def test_config_counts_instructions_and_logs_com1(tmp_path):
    c = bochs.config(tmp_path / "f.iso", tmp_path / "console.log", tmp_path / "bochs.log", "corei7_skylake_x")
    lines = c.splitlines()
    assert "clock: sync=none, time0=1" in lines
    assert any(l.startswith("cpu: model=corei7_skylake_x,") and "reset_on_triple_fault=0" in l for l in lines)
    assert f"com1: enabled=1, mode=file, dev={tmp_path / 'console.log'}" in lines
    assert f"ata0-master: type=cdrom, path={tmp_path / 'f.iso'}, status=inserted" in lines
    assert "boot: cdrom" in lines and "display_library: term" in lines


def test_end_status_is_the_guests_last_exit_line():
    line = bochs._exit_line()
    assert line == "ferry-exit: "
    assert bochs.end_status("boot\n48 passed, 0 failed\r\nferry-exit: 33\r\n") == 33
    assert bochs.end_status("ferry-exit: 35") == 35
    assert bochs.end_status("ferry-exit: 33\nferry-exit: 35\n") == 35
    # Not at the start of a line, or no number: not the guest's request.
    assert bochs.end_status("say ferry-exit: 33\nferry-exit: x\n") is None
    assert bochs.end_status("") is None


def test_bochs_problem_names_the_panic():
    log = "00001i[CPU0 ] ok\n00002p[CPU0 ] >>PANIC<< exception(): 3rd (13) exception with no resolution\n"
    assert bochs.bochs_problem(log) == "Bochs: >>PANIC<< exception(): 3rd (13) exception with no resolution"
    assert bochs.bochs_problem("nothing here\n") is None


def test_elf64_of_prefers_the_multiboot2_kernel(tmp_path):
    (tmp_path / "ferry-mb1.elf").write_bytes(b"x")
    assert bochs.elf64_of(tmp_path / "ferry-mb1.elf") == tmp_path / "ferry-mb1.elf"
    (tmp_path / "ferry.elf").write_bytes(b"x")
    assert bochs.elf64_of(tmp_path / "ferry-mb1.elf") == tmp_path / "ferry.elf"


def test_bochs_accel_is_validated():
    from ferryhost import runner
    assert env.resolve_accel("bochs", None) == "bochs" and "bochs" in env.ACCELS
    with pytest.raises(HarnessError, match="Ferry's GRUB ISO only"):
        runner.validate(runner.RunSpec(system="linux", accel="bochs"))
    with pytest.raises(HarnessError, match="needs --accel bochs"):
        runner.validate(runner.RunSpec(accel="tcg", cpu_model="corei7_haswell_4770"))
    with pytest.raises(HarnessError, match="perf"):
        runner.validate(runner.RunSpec(accel="bochs", perf=True))
    feats, why = env.guest_cpu_features("qemu-system-x86_64", "bochs", None)
    assert feats is None and "not QEMU" in why


def test_pcid_sweep_file_is_valid():
    cfg = sweep.load_config(REPO / "bench" / "sweeps" / "pcid.toml")
    assert cfg["accel"] == ["bochs"] and cfg["cpu_model"]
    assert {tuple(v["cmdline"]) for v in cfg["variants"].values()} == {("pcid=on",), ("pcid=off",)}
    names = {n for g in cfg["benchmarks"] for n in g["names"]}
    assert {"floor_cr3", "ipc_call/cross"} <= names
    specs = [sweep.spec_for(cfg, u) for u in sweep.units(cfg)]
    assert all(s.accel == "bochs" and s.cpu_model == cfg["cpu_model"] for s in specs)


# ---- the KVM kind classifier, on fake machines ------------------------------

def fake_machine(root, kvm=True, flags=(), modules=()):
    """A fake root: /dev/kvm as a plain file (openable read-write), /proc/cpuinfo
    with these flags, /sys/module with these modules."""
    (root / "dev").mkdir(parents=True)
    (root / "proc").mkdir()
    (root / "sys" / "module").mkdir(parents=True)
    if kvm:
        (root / "dev" / "kvm").write_bytes(b"")
    (root / "proc" / "cpuinfo").write_text(
        "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Fake CPU\n"
        f"flags\t\t: fpu sse2 {' '.join(flags)}\n\n")
    for m in modules:
        (root / "sys" / "module" / m).mkdir()
    return root


@pytest.mark.parametrize("name, kvm, flags, modules, kind, auto", [
    ("intel-vtx", True, ["vmx"], ["kvm", "kvm_intel"], "hardware", "kvm"),
    ("amd-svm", True, ["svm"], ["kvm", "kvm_amd"], "hardware", "kvm"),
    # PVM answers on /dev/kvm too, even on a CPU with vmx: never hardware.
    ("pvm", True, ["vmx"], ["kvm", "kvm_pvm"], "pvm", "tcg"),
    ("pvm-no-vmx", True, [], ["kvm", "kvm_pvm"], "pvm", "tcg"),
    ("no-dev-kvm", False, ["vmx"], ["kvm", "kvm_intel"], None, "tcg"),
    # /dev/kvm without a module that says what it is: not used.
    ("unknown-kvm", True, [], ["kvm"], None, "tcg"),
    ("vmx-flag-without-module", True, ["vmx"], ["kvm"], None, "tcg"),
])
def test_kvm_kind_classifier(tmp_path, name, kvm, flags, modules, kind, auto):
    root = fake_machine(tmp_path / name, kvm, flags, modules)
    assert env.kvm_kind(root) == kind
    assert env.resolve_accel("auto", kind) == auto
    if kind is None:
        with pytest.raises(HarnessError, match="absent or not usable"):
            env.resolve_accel("kvm", kind)
    else:
        assert env.resolve_accel("kvm", kind) == "kvm"
        cpu = env.accel_args("kvm", kind)[-1]
        assert cpu == ("host,-arch-capabilities" if kind == "pvm" else "host")


def test_kvm_module_in_proc_modules_only(tmp_path):
    root = fake_machine(tmp_path / "m", True, ["svm"], [])
    (root / "proc" / "modules").write_text("kvm_amd 200704 0 - Live 0x0\nkvm 1200128 1 kvm_amd, Live 0x0\n")
    assert env.kvm_kind(root) == "hardware"


# ---- real Bochs boots ---------------------------------------------------------

@pytest.fixture
def bochs_env(request):
    if shutil.which("bochs") is None:
        pytest.skip("Bochs not installed (scripts/setup.sh bochs)")
    return request.getfixturevalue("real_env")


def test_bochs_run_uses_pcid_and_ends_cleanly(bochs_env):
    """The Done-means run: floor_cr3 and ipc_call under Bochs (Haswell), which
    offers PCID: the kernel says it uses it, floor_cr3/pcid is recorded, and
    the run ends by the guest's shutdown with status 33, not a timeout."""
    r = harness("run", "--accel", "bochs", "--bench", "floor_cr3,ipc_call", "--sizes", "0",
                "--samples", "100", "--reps", "2", "--timeout", "300", timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr
    # the run folder (not the content-addressed store of booted binaries, .binaries)
    rundir = next(d for d in (bochs_env / "results").iterdir() if not d.name.startswith("."))
    m = json.loads((rundir / "meta.json").read_text())
    assert m["accel"] == "bochs" and m["status"] == "ok"
    assert m["bochs"]["cpu_model"] == "corei7_haswell_4770" and m["bochs"]["clock"] == "sync=none"
    assert m["bochs"]["bochs_version"] == bochs.version(shutil.which("bochs"))[0] != "unknown"
    b = m["boots"][0]
    assert b["exit_code"] == 33 and "port 0x8900" in b["bochs_end"] and b["seconds"] < 300
    assert m["guest_meta"]["pcid"] is True and m["guest_tsc_method"] == "rdtscp"
    assert m["guest_tsc_hz"] is None   # instruction counts, not time
    recs = [json.loads(l) for l in (rundir / "records.jsonl").read_text().splitlines()]
    got = {(x["bench"], x["variant"]) for x in recs if x.get("_kind") == "result"}
    assert {("floor_cr3", "pcid"), ("floor_cr3", "flush"), ("ipc_call", "cross"), ("ipc_call", "same")} <= got
    console = (rundir / "console-r0.log").read_text(errors="replace")
    assert "pcid: on (ASID = PCID, INVPCID" in console
    assert "apic: x2APIC" in console and "TSC-deadline mode" in console
    assert "clock: sync=none" in (rundir / "bochsrc-r0").read_text()
    # Instruction counts: two boots give the same figures, exactly.
    res = [x for x in recs if x.get("_kind") == "result"]
    by_rep = [{(x["bench"], x["variant"], x["size"]): (x["min"], x["p50"], x["max"]) for x in res if x["_rep"] == rep}
              for rep in (0, 1)]
    assert by_rep[0] == by_rep[1] and by_rep[0][("ipc_call", "cross", 0)][0] > 0


def test_bochs_failure_is_status_35(bochs_env):
    """A kernel that fails (a fault self-test) ends Bochs with QEMU's failure status."""
    kernel = bochs.elf64_of(build.build_variant("default", {}, [])["kernel"])
    p = subprocess.run([PY, "-m", "ferryhost.bochs", "--kernel", str(kernel), "--cmdline", "selftest=divzero",
                        "--timeout", "300"], capture_output=True, text=True, timeout=600, cwd=REPO)
    assert p.returncode == 35, p.stdout[-2000:] + p.stderr
    assert "ferry-exit: 35" in p.stdout and "port 0x8900" in p.stderr
