"""conftest.py: boot Ferry under QEMU for the boot tests, always with a timeout."""
import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = ROOT / os.environ.get("FERRY_BUILD", "build")
QEMU_COMMON = [
    "qemu-system-x86_64", "-M", "pc", "-m", "256M", "-display", "none",
    "-no-reboot", "-serial", "stdio",
    "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
]
TCG = ["-accel", "tcg", "-cpu", "max"]
EXIT_SUCCESS = 33
EXIT_FAILURE = 35


class Boot:
    def __init__(self, status, output, seconds):
        self.status, self.output, self.seconds = status, output, seconds

    def __repr__(self):
        return f"<boot status={self.status} {self.seconds:.1f}s>\n{self.output}"


def boot(media, accel=TCG, timeout=60):
    """Boots once; a guest that outlives the timeout is killed and fails the test."""
    cmd = QEMU_COMMON + accel + media
    start = time.monotonic()
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode(errors="replace")
        pytest.fail(f"guest did not exit within {timeout}s: {' '.join(cmd)}\n{out}")
    out = p.stdout.decode(errors="replace").replace("\r\n", "\n")
    return Boot(p.returncode, out, time.monotonic() - start)


def artifact(name):
    path = BUILD / name
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make all iso` first (make test does)")
    return str(path)


@pytest.fixture
def kernel_mb1():
    return artifact("ferry-mb1.elf")


@pytest.fixture
def root_task():
    return artifact("root.elf")


@pytest.fixture
def iso():
    return artifact("ferry.iso")
