"""qemu.py: assemble the QEMU command line and run one boot: stream the serial console, enforce the timeout."""

import os
import selectors
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from . import env
from .errors import HarnessError

# Fixed by the project's QEMU contract: the machine, serial on stdio and the
# isa-debug-exit device through which the guest reports success or failure.
BASE_ARGS = ["-M", "pc", "-m", "256M", "-display", "none", "-no-reboot", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]


def ferry_boot_args(boot, cmdline_words):
    args = ["-kernel", str(boot["kernel"])]
    if boot.get("disk"):
        # The FAT image the guest's ATA driver serves (ferryhost/disk.py);
        # its writes go to a snapshot, so every boot sees the same disk.
        args += ["-drive", f"file={boot['disk']},format=raw,if=ide,index=0,snapshot=on"]
    if boot["modules"]:
        args += ["-initrd", ",".join(str(m) for m in boot["modules"])]
    return args + ["-append", " ".join(cmdline_words)]


# The niceness QEMU runs at (FERRY_QEMU_NICE, default -20). Under the
# timing engines a vCPU is a host thread, and on a host with no more cores
# than vCPUs every other runnable process (a build, an editor, another
# boot) takes turns with it: two-vCPU figures then measure the host's
# scheduler (docs/smp.md "Throughput": ipc_tput's N = 2 samples fell into
# two modes, 1.9x and 1.1x, by the host's load). The harness asks for the
# highest priority it may have; without the right to raise it (not root)
# QEMU runs at the harness's own niceness. Each boot records what QEMU got.
NICE_ENV = "FERRY_QEMU_NICE"
DEFAULT_NICE = -20


def wanted_nice():
    """The niceness asked for: FERRY_QEMU_NICE (-20..19, or "off" for none)."""
    v = os.environ.get(NICE_ENV, "").strip()
    if v == "":
        return DEFAULT_NICE
    if v.lower() == "off":
        return None
    try:
        n = int(v)
    except ValueError:
        raise HarnessError(f"{NICE_ENV}={v!r}: give a niceness from -20 to 19, or off") from None
    if not -20 <= n <= 19:
        raise HarnessError(f"{NICE_ENV}={v!r}: give a niceness from -20 to 19, or off")
    return n


def _set_nice(n):
    """In the child before exec (after setsid): take niceness n where
    allowed (lowering it needs CAP_SYS_NICE), otherwise keep the inherited
    one. With the kernel's autogroups (sched_autogroup_enabled), a new
    session is a scheduling group of its own and a process's niceness
    weighs only inside its group, so the group's niceness is set too."""
    def apply():
        try:
            os.setpriority(os.PRIO_PROCESS, 0, n)
        except OSError:
            pass
        try:
            with open("/proc/self/autogroup", "w") as f:
                f.write(str(n))
        except OSError:
            pass
    return apply


def autogroup_nice_of(pid):
    """A process's autogroup niceness (/proc/PID/autogroup: "/autogroup-N nice K"),
    or None where the kernel has no autogroups."""
    try:
        return int(Path(f"/proc/{pid}/autogroup").read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        return None


def nice_of(pid):
    """A running process's niceness (/proc/PID/stat field 19), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[16])
    except (OSError, ValueError, IndexError):
        return None


def command(qemu, accel, kind, boot_args, smp=1):
    """The whole QEMU command; smp > 1 gives the guest that many vCPUs (the
    Linux baseline's two-CPU variants), 1 keeps QEMU's default of one."""
    return [qemu] + BASE_ARGS + env.accel_args(accel, kind) + (["-smp", str(smp)] if smp > 1 else []) + \
        list(boot_args)


@dataclass
class Boot:
    exit_code: int = None      # QEMU's exit status; None when killed by the harness
    timed_out: bool = False
    timeout: float = 0.0       # the limit it ran under, for the messages
    interrupted: bool = False
    seconds: float = 0.0
    stderr: str = ""
    nice: int = None           # the niceness QEMU ran at (None: not read)
    group_nice: int = None     # its autogroup's niceness (None: no autogroups)


def run(cmd, timeout, on_line, console_path, stderr_path=None):
    """Run `cmd`, pass each console line to on_line as it arrives and append it to console_path.

    The guest is killed when `timeout` seconds pass; Ctrl-C kills it too and
    is then re-raised to the caller, after the console log is on disk.
    """
    t0 = time.monotonic()
    out = Boot(timeout=timeout)
    nice = wanted_nice()
    stderr_path = stderr_path or Path(str(console_path) + ".stderr")
    with open(console_path, "wb") as log, open(stderr_path, "wb") as err:
        # A session of its own: the terminal's Ctrl-C reaches the harness only,
        # which then stops QEMU itself and records what happened.
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err,
                             start_new_session=True, preexec_fn=_set_nice(nice) if nice is not None else None)
        out.nice, out.group_nice = nice_of(p.pid), autogroup_nice_of(p.pid)
        sel = selectors.DefaultSelector()
        sel.register(p.stdout, selectors.EVENT_READ)
        buf = b""
        try:
            while True:
                left = t0 + timeout - time.monotonic()
                if left <= 0:
                    out.timed_out = True
                    break
                if not sel.select(timeout=min(left, 0.5)):
                    continue
                chunk = os.read(p.stdout.fileno(), 65536)
                if not chunk:
                    break   # EOF: QEMU closed stdout, it is exiting
                log.write(chunk)
                log.flush()     # so `tail -f` on the console log follows the guest live
                buf += chunk
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    on_line(line.decode("utf-8", "replace"))
        except KeyboardInterrupt:
            out.interrupted = True
        finally:
            if buf:
                on_line(buf.decode("utf-8", "replace"))
            if out.timed_out or out.interrupted:
                _kill(p)
            try:
                out.exit_code = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _kill(p)
                out.exit_code = p.wait()
            if out.timed_out or out.interrupted:
                out.exit_code = None
            sel.close()
            p.stdout.close()
    out.seconds = time.monotonic() - t0
    try:
        out.stderr = Path(stderr_path).read_text(errors="replace")
    except OSError:
        pass
    return out


def _children(pid):
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def _kill(p):
    """Stop the guest so that what wraps QEMU still finishes its work.

    When QEMU runs under `perf stat`, only QEMU gets SIGTERM: perf then sees
    its child exit and writes its counts (closing its tracepoints can take
    several seconds), whereas a signal to perf itself would lose them.
    SIGTERM rather than SIGINT because a process started from a
    non-interactive shell's background job inherits SIGINT ignored.
    Whatever is left after the grace period gets SIGKILL.
    """
    kids = _children(p.pid)
    for pid in kids or [p.pid]:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    try:
        p.wait(timeout=15.0 if kids else 5.0)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
