"""test_linux.py: the Linux baseline: the initramfs builds, and Debian's kernel boots it under TCG and prints valid records."""

import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(REPO))

from ferryhost import linux, records  # noqa: E402

# Bounds for each QEMU run under TCG (a boot with pipe_rt+futex_rt at
# samples=200 takes about 4 s on the 2-core build machine).
BOOT_TIMEOUT = 120
SMP2_TIMEOUT = 240


def _kernel_or_skip():
    try:
        return linux.find_kernel()
    except linux.LinuxGuestError as e:
        pytest.skip(f"Debian kernel not available ({e})")


@pytest.fixture(scope="module")
def guest(tmp_path_factory):
    _kernel_or_skip()
    return linux.build_guest(tmp_path_factory.mktemp("linux"))


def _qemu_or_skip():
    if shutil.which("qemu-system-x86_64") is None:
        pytest.skip("qemu-system-x86_64 not installed (scripts/setup.sh build)")


def read_newc(data):
    """Members of a cpio newc archive as {name: (mode, rdevmajor, rdevminor, data)}."""
    out, off = {}, 0
    while True:
        assert data[off:off + 6] == b"070701", f"bad newc magic at {off}"
        f = [int(data[off + 6 + 8 * i: off + 14 + 8 * i], 16) for i in range(13)]
        mode, size, rmaj, rmin, namesize = f[1], f[6], f[9], f[10], f[11]
        name_at = off + 110
        name = data[name_at:name_at + namesize - 1].decode()
        assert data[name_at + namesize - 1] == 0
        data_at = (name_at + namesize + 3) & ~3
        body = data[data_at:data_at + size]
        off = (data_at + size + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = (mode, rmaj, rmin, body)


def elf_is_static(blob):
    """True for an x86-64 ELF with no PT_INTERP (needs no dynamic loader)."""
    assert blob[:4] == b"\x7fELF" and blob[4] == 2  # 64-bit
    phoff, = struct.unpack_from("<Q", blob, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", blob, 0x36)
    types = [struct.unpack_from("<I", blob, phoff + i * phentsize)[0] for i in range(phnum)]
    return 3 not in types  # PT_INTERP


def test_initramfs_builds(guest):
    meta = guest["meta"]
    initrd = Path(guest["initrd"])
    assert initrd.is_file() and Path(guest["kernel"]).is_file()
    members = read_newc(initrd.read_bytes())
    base = {"dev", "proc", "sys", "dev/console", "init"}
    mods = {f"{linux.MODULE_DIR}/{name}" for name in meta["disk_modules"]}
    assert set(members) == base | ({"lib", linux.MODULE_DIR, f"{linux.MODULE_DIR}/order"} | mods if mods else set())
    if mods:
        # the load order lists every module once, each after what it depends on
        order = members[f"{linux.MODULE_DIR}/order"][3].decode().split()
        assert order == meta["disk_modules"] and order.index("libata.ko") < order.index("ata_piix.ko")
    mode, rmaj, rmin, _ = members["dev/console"]
    assert mode & 0o170000 == 0o020000 and (rmaj, rmin) == (5, 1)
    mode, _, _, body = members["init"]
    assert mode & 0o170000 == 0o100000 and mode & 0o111
    assert elf_is_static(body)
    # The metadata lists what is really in the archive and names the kernel.
    assert sorted(e["path"] for e in meta["initramfs_contents"]) == sorted("/" + n for n in members)
    init_entry = next(e for e in meta["initramfs_contents"] if e["path"] == "/init")
    assert init_entry["size"] == len(body)
    assert meta["kernel_release"] and meta["kernel_release"] in meta["kernel_package"]
    assert meta["kernel_image"].startswith("/boot/vmlinuz-")
    assert meta["kernel_cmdline_base"] == " ".join(linux.BASE_CMDLINE)


def test_pvh_kernel_is_the_package_kernel(guest):
    """When the guest boots the host-decompressed kernel, it must be an ELF
    that decompresses from exactly the packaged bzImage."""
    kernel = Path(guest["kernel"])
    if kernel == Path(guest["meta"]["kernel_image"]):
        pytest.skip("kernel has no PVH entry; the bzImage is booted as is")
    assert kernel.read_bytes()[:4] == b"\x7fELF"
    stamp = kernel.with_name(kernel.name + ".source-sha256").read_text().strip()
    assert stamp == guest["meta"]["kernel_sha256"]


def test_qemu_boot_args(guest):
    args = linux.qemu_boot_args(guest, ["bench=pipe_rt", "samples=10"])
    assert args[:4] == ["-kernel", str(guest["kernel"]), "-initrd", str(guest["initrd"])]
    assert args[4] == "-append"
    words = args[5].split()
    assert words[:len(linux.BASE_CMDLINE)] == linux.BASE_CMDLINE
    assert words[-2:] == ["bench=pipe_rt", "samples=10"]
    assert "console=ttyS0" in words
    # the FAT image for the disk rows, when its tools made one
    if guest.get("disk"):
        assert args[6:] == ["-drive", f"file={guest['disk']},format=raw,if=ide,index=0,snapshot=on"]
    else:
        assert len(args) == 6


def test_missing_kernel_package_is_one_clear_line(monkeypatch):
    monkeypatch.setattr(linux, "KERNEL_PACKAGE", "linux-image-ferry-no-such-package")
    with pytest.raises(linux.LinuxGuestError) as e:
        linux.find_kernel()
    msg = str(e.value)
    assert "linux-image-ferry-no-such-package" in msg and "scripts/setup.sh linux" in msg
    assert "\n" not in msg


def parse(out):
    return records.parse_lines(out.splitlines())


def check_result(r):
    assert r["unit"] == "tsc" and r["samples"] > 0
    assert 0 <= r["min"] <= r["p50"] <= r["p90"] <= r["p99"] <= r["max"]
    assert r["min"] <= r["mean"] <= r["max"]
    assert r["min"] > 0, "a round trip between two tasks cannot take 0 ticks"


def test_boot_tcg_pipe_and_futex(guest):
    _qemu_or_skip()
    code, out, secs = linux.boot(guest, ["bench=pipe_rt,futex_rt", "samples=200", "raw=1"],
                                 accel="tcg", smp=1, timeout=BOOT_TIMEOUT)
    assert code is not None, f"guest did not finish within {BOOT_TIMEOUT} s:\n{out[-2000:]}"
    p = parse(out)
    assert not p.malformed, p.malformed
    assert not p.errors, p.errors
    assert code == records.load_format().exit_success, out[-2000:]
    assert p.done == {"records": 2, "errors": 0}
    m = p.meta
    assert m["system"] == "linux" and m["pid1"] is True
    assert m["kernel"]["release"] == guest["meta"]["kernel_release"]
    assert "bench=pipe_rt,futex_rt" in m["cmdline"] and "console=ttyS0" in m["cmdline"]
    assert m["benchmarks"] == ["pipe_rt", "futex_rt"]
    assert m["cpu"]["online"] == 1
    # With one CPU the two-CPU variants are reported as skipped, not failed.
    assert {(s["bench"], s["variant"]) for s in m["skipped"]} == {("pipe_rt", "cpu2"), ("futex_rt", "cpu2")}
    got = {(r["bench"], r["variant"]): r for r in p.results}
    assert set(got) == {("pipe_rt", "cpu1"), ("futex_rt", "cpu1")}
    for r in got.values():
        check_result(r)
        assert r["samples"] == 200
    # raw=1: every sample is there and the summary agrees with it.
    for s in p.samples:
        r = got[(s["bench"], s["variant"])]
        assert len(s["values"]) == 200
        assert min(s["values"]) == r["min"] and max(s["values"]) == r["max"]
        assert sorted(s["values"])[99] == r["p50"]  # nearest rank: ceil(0.5*200) = 100


def test_libc_test_programs_pass_in_the_guest(guest):
    """filetest and pipetest, the programs Ferry's io_libc_files and io_pipes run
    through its libc, built unchanged into /init, pass in the Linux guest too."""
    _qemu_or_skip()
    code, out, secs = linux.boot(guest, ["libccheck=1"], accel="tcg", smp=1, timeout=BOOT_TIMEOUT)
    assert "libccheck: filetest 0, pipetest 0" in out, out[-3000:]
    assert "pipetest: all checks passed" in out, out[-3000:]
    assert code == records.load_format().exit_success, out[-2000:]


def test_boot_reports_failures(guest):
    """A wrong reply (injected) and an unknown name give @error and exit 35."""
    _qemu_or_skip()
    code, out, _ = linux.boot(guest, ["bench=pipe_rt,nosuch", "samples=50", "lbfault=reply"],
                              accel="tcg", smp=1, timeout=BOOT_TIMEOUT)
    assert code is not None, f"guest did not finish within {BOOT_TIMEOUT} s"
    p = parse(out)
    assert code == records.load_format().exit_failure
    msgs = {(e["bench"], e["msg"]) for e in p.errors}
    assert ("nosuch", "unknown benchmark") in msgs
    assert ("pipe_rt", "wrong reply token") in msgs
    assert p.done == {"records": 0, "errors": 2}


def test_boot_tcg_two_cpus(guest):
    _qemu_or_skip()
    if (os.cpu_count() or 1) < 2:
        pytest.skip("the host has one CPU; a two-CPU TCG guest would only be slower")
    code, out, _ = linux.boot(guest, ["bench=futex_rt,eventfd_rt", "samples=100"],
                              accel="tcg", smp=2, timeout=SMP2_TIMEOUT)
    assert code is not None, f"guest did not finish within {SMP2_TIMEOUT} s"
    p = parse(out)
    assert not p.errors, p.errors
    assert code == records.load_format().exit_success
    assert p.meta["cpu"]["online"] == 2 and p.meta["skipped"] == []
    got = {(r["bench"], r["variant"]) for r in p.results}
    assert got == {("futex_rt", "cpu1"), ("futex_rt", "cpu2"), ("eventfd_rt", "cpu1"), ("eventfd_rt", "cpu2")}
    for r in p.results:
        check_result(r)


def test_program_runs_on_the_host(guest, tmp_path):
    """The same static program run by hand (not PID 1): every benchmark's
    checks pass, the bulk checks catch injected stale data, and it exits
    with a status instead of touching the debug-exit port."""
    prog = Path(guest["initrd"]).with_name("ferry-linux-bench")
    words = ["bench=null_syscall,pipe_rt/cpu1,unix_rt/cpu1,yield,bulk_pipe/cpu1,bulk_shm/cpu1",
             "samples=50", "sizes=64,64K"]
    r = subprocess.run([str(prog)] + words, capture_output=True, text=True, timeout=120)
    p = parse(r.stdout)
    assert r.returncode == 0 and not p.errors and not p.malformed, r.stdout[-2000:]
    assert p.meta["pid1"] is False
    assert len(p.results) == 1 + 1 + 1 + 1 + 2 + 2
    for x in p.results:
        assert 0 <= x["min"] <= x["p50"] <= x["p99"] <= x["max"]
    assert {x["size"] for x in p.results if x["bench"].startswith("bulk")} == {64, 65536}
    r = subprocess.run([str(prog), "bench=bulk_shm/cpu1", "samples=10", "sizes=4K", "lbfault=data"],
                       capture_output=True, text=True, timeout=60)
    p = parse(r.stdout)
    assert r.returncode == 1
    assert [e["msg"] for e in p.errors] == ["receiver: data check failed"]


def _host_expected_tsc_method():
    """What lib/tsc.c must pick on this host, from /proc/cpuinfo."""
    info = Path("/proc/cpuinfo").read_text()
    flags = set(next(l for l in info.splitlines() if l.startswith("flags")).split(":", 1)[1].split())
    vendor = next(l for l in info.splitlines() if l.startswith("vendor_id")).split(":", 1)[1].strip()
    if "rdtscp" in flags:
        return "rdtscp"
    if vendor not in ("AuthenticAMD", "HygonGenuine"):
        return "lfence"
    return None   # AMD: lfence or mfence, by CPUID 0x80000021 which cpuinfo may not show


def test_tsc_method_follows_the_cpu_and_can_be_forced(guest):
    """No host CPU is assumed: the program picks RDTSCP where the CPU has it
    and the vendor's fence otherwise, says which in @meta, and tsc=lfence /
    tsc=mfence force a fallback (so both code paths run on any host)."""
    prog = Path(guest["initrd"]).with_name("ferry-linux-bench")
    want = _host_expected_tsc_method()
    for word, method in (("", want), ("tsc=lfence", "lfence"), ("tsc=mfence", "mfence")):
        r = subprocess.run([str(prog), "bench=null_syscall", "samples=50"] + ([word] if word else []),
                           capture_output=True, text=True, timeout=60)
        p = parse(r.stdout)
        assert r.returncode == 0 and not p.errors and not p.malformed, r.stdout[-2000:]
        assert p.meta["tsc_method"] in ("rdtscp", "lfence", "mfence")
        if method:
            assert p.meta["tsc_method"] == method, (word, p.meta)
        assert p.meta["tsc_read"].startswith(("lfence;rdtsc", "mfence;rdtsc"))
        assert p.meta["tsc_overhead"] > 0
        check_result(p.results[0])
    if want != "rdtscp":
        # Without RDTSCP a forced rdtscp is refused, not executed.
        r = subprocess.run([str(prog), "bench=null_syscall", "samples=20", "tsc=rdtscp"],
                           capture_output=True, text=True, timeout=60)
        p = parse(r.stdout)
        assert r.returncode == 0 and p.meta["tsc_method"] != "rdtscp" and "refused" in p.meta["tsc_note"]


def test_bad_words_are_reported(guest):
    prog = Path(guest["initrd"]).with_name("ferry-linux-bench")
    r = subprocess.run([str(prog), "bench=pipe_rt", "samples=12x"], capture_output=True, text=True, timeout=60)
    p = parse(r.stdout)
    assert r.returncode == 1 and p.results == []
    assert [e["msg"] for e in p.errors] == ["samples=12x: not a number"]


def test_boot_timeout_is_enforced(guest):
    """boot() kills a guest that is not done within its bound."""
    _qemu_or_skip()
    timing = {}
    code, _, secs = linux.boot(guest, ["bench=pipe_rt", "samples=1000000"], accel="tcg",
                               timeout=2, timing=timing)
    assert code is None and timing["done_s"] is None
    assert secs < 15


def test_bzimage_fallback_boots(guest):
    """Without a PVH entry the packaged bzImage itself is booted; it must work too."""
    _qemu_or_skip()
    plain = dict(guest, kernel=Path(guest["meta"]["kernel_image"]))
    code, out, _ = linux.boot(plain, ["bench=null_syscall", "samples=100"], accel="tcg",
                              timeout=BOOT_TIMEOUT)
    p = parse(out)
    assert code == records.load_format().exit_success, out[-2000:]
    assert [(r["bench"], r["variant"]) for r in p.results] == [("null_syscall", "getppid")]
    check_result(p.results[0])


def test_one_cpu_skips_cpu2_even_when_named(guest):
    """With one usable CPU, naming a cpu2 variant reports it as skipped in
    @meta, not as an error (run on the host under taskset, no QEMU)."""
    if shutil.which("taskset") is None:
        pytest.skip("taskset (util-linux) not installed")
    prog = Path(guest["initrd"]).with_name("ferry-linux-bench")
    r = subprocess.run(["taskset", "-c", "0", str(prog), "bench=pipe_rt/cpu2,futex_rt", "samples=20"],
                       capture_output=True, text=True, timeout=60)
    p = parse(r.stdout)
    assert r.returncode == 0 and not p.errors, r.stdout[-2000:]
    assert p.meta["cpu"]["online"] == 1
    assert {(s["bench"], s["variant"]) for s in p.meta["skipped"]} == {("pipe_rt", "cpu2"), ("futex_rt", "cpu2")}
    assert [(x["bench"], x["variant"]) for x in p.results] == [("futex_rt", "cpu1")]


def test_dead_peer_is_reported_not_hung(guest):
    """A ping-pong peer that exits mid-run (injected) fails its benchmark
    with the peer's own reason, on every transport, eventfd included (it
    has no end-of-file), instead of leaving the parent blocked."""
    prog = Path(guest["initrd"]).with_name("ferry-linux-bench")
    r = subprocess.run([str(prog), "bench=pipe_rt,eventfd_rt,unix_rt", "samples=20", "lbfault=die"],
                       capture_output=True, text=True, timeout=60)
    p = parse(r.stdout)
    assert r.returncode == 1 and p.results == []
    assert len(p.errors) == len(p.meta["benchmarks"]) * (2 if p.meta["cpu"]["online"] >= 2 else 1)
    assert {e["msg"] for e in p.errors} == {"peer: exited early (injected fault)"}
