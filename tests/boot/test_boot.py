"""test_boot.py: both boot paths reach the banner and exit cleanly; every
fault self-test is caught, reported and exits with the failure code."""
import re
import subprocess
import sys

import pytest

from conftest import BUILD, EXIT_FAILURE, EXIT_SUCCESS, ROOT, TCG, boot

sys.path.insert(0, str(ROOT))
from ferryhost import disk  # noqa: E402

BANNER = re.compile(r"^Ferry microkernel \S+ \(x86-64\)", re.M)


def check_full_boot(b, multiboot):
    assert b.status == EXIT_SUCCESS, b
    assert BANNER.search(b.output), b
    assert f"boot: multiboot{multiboot} " in b.output, b
    assert re.search(r"^memory map \(\d+ ranges", b.output, re.M), b
    assert re.search(r"^\s+\[0x[0-9a-f]+ - 0x[0-9a-f]+\)\s+\d+ KiB\s+available", b.output, re.M), b
    assert re.search(r"^cpu features: ([+-]\w+ ?)+$", b.output, re.M), b
    assert re.search(r"^tsc: ", b.output, re.M), b
    m = re.search(r"^free memory at boot: (\d+) frames", b.output, re.M)
    assert m and int(m.group(1)) > 60000, b          # 256 MiB guest: ~255 MiB free
    assert "boot self-check passed" in b.output, b
    assert "PANIC" not in b.output, b


def test_multiboot1_qemu_kernel(kernel_mb1):
    b = boot(["-kernel", kernel_mb1, "-append", "alpha=1 beta"])
    check_full_boot(b, 1)
    assert re.search(r'^command line: ".*alpha=1 beta"$', b.output, re.M), b


def test_multiboot2_grub_iso(iso):
    # the suite's file tests read the disk image (ferryhost/disk.py) on the primary master;
    # the BIOS must boot the CD, not that disk
    b = boot(["-cdrom", iso, "-boot", "order=d",
              "-drive", f"file={BUILD / 'disk.img'},format=raw,if=ide,index=0,snapshot=on"],
             timeout=300)       # the ISO's menu has no command line: the whole suite runs
    check_full_boot(b, 2)
    assert 'from "GRUB' in b.output, b
    # The programs arrive as module2 lines: the system starts from boot.conf.
    assert re.search(r"^system: \d+ modules, \d+ programs in boot.conf$", b.output, re.M), b
    assert re.search(r"^system: process server procsrv.elf started \(", b.output, re.M), b
    assert "hello from pid 5: hello started-by boot.conf" in b.output, b
    # No test= word: the boot demo runs before the suite (userspace/init/demo.c):
    # the disk image's HELLO.TXT through file:, blk: and serial:, both servers stopped
    demo = b.output.index("demo: /HELLO.TXT from the disk image (file: on blk:):\n")
    assert b.output.index("system: demo: blk: (ata, pid ") < demo, b
    assert b.output.startswith(disk.HELLO.decode(), demo + len("demo: /HELLO.TXT from the disk image (file: on blk:):\n")), b
    assert re.search(r"^system: demo done \(pid \d+, status 0\); ata and fatfs stopped, memory back$", b.output, re.M), b
    first_test = re.search(r"^test \w+: \.\.\.$", b.output, re.M)
    assert first_test and b.output.index("system: demo done") < first_test.start(), b


def initrd_modules():
    out = subprocess.run(["make", "-s", "--no-print-directory", f"BUILD={BUILD}", "print-initrd"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    return out.split(",")


def test_programs_as_qemu_modules(kernel_mb1):
    b = boot(["-kernel", kernel_mb1, "-initrd", ",".join(initrd_modules()),
              "-append", "test=sys_spawn_exit,sys_names"])
    assert b.status == EXIT_SUCCESS, b
    assert re.search(r"^root task: \d+ boot modules, \d+ read-only frames$", b.output, re.M), b
    # the process server, a process of its own, before the servers it starts
    assert re.search(r"^system: process server procsrv.elf started \(", b.output, re.M), b
    assert re.search(r"^procsrv: the process server runs as a process of its own \(", b.output, re.M), b
    assert re.search(r"^system: name service names started \(pid 1\)$", b.output, re.M), b
    assert re.search(r"^system: pager pager started \(pid 2\)$", b.output, re.M), b
    assert re.search(r"^system: supervisor supervisor started \(pid 3\)$", b.output, re.M), b
    # the boot service first (boot.conf: start restart), then hello, which prints through it
    assert re.search(r"^system: service serial started \(pid 4\)$", b.output, re.M), b
    assert "hello from pid 5: hello started-by boot.conf" in b.output, b
    assert "system: demo" not in b.output, b      # test= runs: no boot demo (no disk here either)
    assert "2 passed, 0 failed" in b.output, b


def test_too_many_modules_are_left_out(kernel_mb1):
    mods = initrd_modules()
    extra = [m for m in mods if m.endswith("hello.elf")] * (24 - len(mods))
    b = boot(["-kernel", kernel_mb1, "-initrd", ",".join(mods + extra), "-append", "test=sys_spawn_exit"])
    assert b.status == EXIT_SUCCESS, b
    assert "boot modules: 2 left out (at most 22 are kept)" in b.output, b
    assert "PANIC" not in b.output, b


def test_memory_size_is_honoured(kernel_mb1):
    b = boot(["-kernel", kernel_mb1], accel=TCG + ["-m", "64M"])
    assert b.status == EXIT_SUCCESS, b
    frames = int(re.search(r"^free memory at boot: (\d+) frames", b.output, re.M).group(1))
    assert 14000 < frames < 16384, b


SELFTESTS = [
    ("pagefault", r"PANIC: kernel-mode page fault at 0x1000 \(not present, read\)", 14),
    ("stackoverflow", r"PANIC: kernel stack overflow \(kernel stack, guard page 0x[0-9a-f]+ hit\)", 8),
    ("divzero", r"PANIC: kernel-mode divide error", 0),
    ("invalidop", r"PANIC: kernel-mode invalid opcode", 6),
    ("gpf", r"PANIC: kernel-mode general protection fault", 13),
]


@pytest.mark.parametrize("name,report,vector", SELFTESTS, ids=[t[0] for t in SELFTESTS])
def test_fault_selftest_is_reported(kernel_mb1, name, report, vector):
    b = boot(["-kernel", kernel_mb1, "-append", f"selftest={name}"])
    assert b.status == EXIT_FAILURE, b
    assert re.search(report, b.output), b
    # The register dump follows the reason: vector, error code, RIP, CR2, registers.
    assert re.search(rf"^\s+vector {vector} \(", b.output, re.M), b
    assert re.search(r"^\s+rip 0xffffffff8[0-9a-f]+ ", b.output, re.M), b
    assert re.search(r"cr2 0x[0-9a-f]{16}", b.output), b
    assert re.search(r"^\s+rax [0-9a-f]{16} rbx", b.output, re.M), b


def test_unknown_selftest_fails_cleanly(kernel_mb1):
    b = boot(["-kernel", kernel_mb1, "-append", "selftest=nosuchtest"])
    assert b.status == EXIT_FAILURE, b
    assert "unknown test 'nosuchtest'" in b.output, b
    assert "PANIC" not in b.output, b


def accel_sh(*args):
    return subprocess.run([str(ROOT / "scripts/accel.sh"), *args],
                          capture_output=True, text=True, check=True).stdout.strip()


def test_kvm_boot(kernel_mb1):
    kind = accel_sh("--kind")
    if kind == "none":
        pytest.skip("no usable /dev/kvm on this machine: the KVM boot is not run")
    # The harness's options (PVM, a software hypervisor, needs the
    # arch-capabilities MSR hidden).
    b = boot(["-kernel", kernel_mb1], accel=accel_sh("kvm").split(), timeout=300)
    print(f"KVM ({kind}) boot to exit: {b.seconds:.1f}s")
    check_full_boot(b, 1)
    assert "under hypervisor KVMKVMKVM" in b.output, b


def test_benchmarks_print_records(kernel_mb1, root_task):
    b = boot(["-kernel", kernel_mb1, "-initrd", root_task,
              "-append", "bench=floor_rdtsc,floor_cr3,null_syscall samples=500"])
    assert b.status == EXIT_SUCCESS, b
    results = [l for l in b.output.splitlines() if l.startswith("@result ")]
    assert any('"bench":"floor_rdtsc"' in l and '"samples":500' in l for l in results), b
    assert any('"bench":"floor_cr3","variant":"flush"' in l for l in results), b
    assert any('"bench":"null_syscall","variant":"syscall"' in l for l in results), b
    assert any('"bench":"null_syscall","variant":"int80"' in l for l in results), b
    assert b.output.splitlines()[-1].startswith('@done {"records":4,"errors":0}'), b


def test_ipc_ring_survives_preemption_inside_a_put(kernel_mb1, root_task):
    # Under tcg-icount the timer lands at the same instruction every run;
    # with 10000 samples it once preempted the producer between its look at
    # the ring and its put, and the lost wake-up left every thread blocked
    # after batch size 16 (exit 35).  Every batch size must finish.
    b = boot(["-kernel", kernel_mb1, "-initrd", root_task,
              "-append", "bench=ipc_ring samples=10000 warmup=1000"],
             accel=accel_sh("tcg-icount").split(), timeout=120)
    assert b.status == EXIT_SUCCESS, b
    sizes = [int(m) for m in re.findall(r'^@result \{"bench":"ipc_ring".*?"size":(\d+)', b.output, re.M)]
    assert sizes == [1, 2, 4, 8, 16, 32, 64], b
    assert b.output.splitlines()[-1].startswith('@done {"records":7,"errors":0}'), b


def test_unknown_benchmark_is_an_error(kernel_mb1, root_task):
    b = boot(["-kernel", kernel_mb1, "-initrd", root_task, "-append", "bench=nosuch samples=10"])
    assert b.status == EXIT_FAILURE, b
    assert re.search(r'^@error \{"bench":"nosuch".*\}$', b.output, re.M), b


def test_broken_root_task_module_is_reported(kernel_mb1, tmp_path):
    bad = tmp_path / "bad.elf"
    bad.write_bytes(b"\x7fELF" + bytes(200))
    b = boot(["-kernel", kernel_mb1, "-initrd", str(bad)])
    assert b.status == EXIT_FAILURE, b
    assert re.search(r'^PANIC: root task ".*": not a 64-bit little-endian ELF file', b.output, re.M), b
