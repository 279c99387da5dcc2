"""conftest.py: shared fixtures: the fake QEMU, temporary results/plots folders, a dummy kernel image, the real build."""

import signal
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
FAKE_QEMU = HERE / "fake_qemu.py"
PY = "/usr/bin/python3"


def sigint_default():
    """preexec_fn for a harness that a test interrupts with SIGINT: a shell without job
    control starts its background commands with SIGINT ignored, the children inherit
    that, and Python then installs no KeyboardInterrupt handler, so the interrupt would
    be lost (make test run as `cmd &` from a script)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)

sys.path.insert(0, str(REPO))


@pytest.fixture
def fake_env(tmp_path, monkeypatch):
    """Point the harness at the fake QEMU and at temporary output folders."""
    monkeypatch.setenv("FERRY_QEMU", str(FAKE_QEMU))
    monkeypatch.setenv("FERRY_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERRY_PLOTS", str(tmp_path / "plots"))
    kernel = tmp_path / "kernel.elf"
    kernel.write_bytes(b"\x7fELF fake")
    return {"tmp": tmp_path, "kernel": kernel, "results": tmp_path / "results",
            "plots": tmp_path / "plots"}


@pytest.fixture
def real_env(tmp_path, monkeypatch):
    """The real QEMU and the default build (skipped before it is built), temporary output folders."""
    from ferryhost import build
    from ferryhost.errors import HarnessError
    monkeypatch.delenv("FERRY_QEMU", raising=False)
    monkeypatch.setenv("FERRY_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("FERRY_PLOTS", str(tmp_path / "plots"))
    try:
        build.print_boot([f"BUILD={build.builddir('default')}"])
    except HarnessError as e:
        pytest.skip(f"no bootable kernel build yet: {e}")
    return tmp_path


def harness(*args, timeout=120, **kw):
    """Run harness.py as the Makefile will; returns CompletedProcess with text output."""
    return subprocess.run([PY, str(REPO / "harness.py")] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, **kw)
