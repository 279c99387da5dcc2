"""bochs.py: Bochs as a second emulator: its configuration file, one boot of a GRUB ISO, and the clean end.

Bochs (Debian 2.7) offers CPU models with PCID, INVPCID, x2APIC, TSC-deadline
and SMAP, which QEMU's TCG here lacks.  One boot:

- the ISO is built by scripts/mkiso.sh (GRUB2, Multiboot 2) with the run's
  kernel command line, or an ISO is given as is (`make run ACCEL=bochs`);
- `clock: sync=none` makes emulated time, and so the TSC, advance with
  executed instructions: results are instruction counts, as under QEMU's
  tcg-icount, and repeat exactly;
- COM1 goes to a file (the console log), which is followed as it grows;
- Debian's build has the debugger compiled in, so `-rc` gives it one
  command, `c`; its display libraries are term, rfb and X11/SDL ones (no
  nogui), and term needs a terminal: Bochs runs on a pseudo-terminal of its
  own, whose output is drained and thrown away;
- Bochs has no isa-debug-exit device.  The kernel (machine_exit) prints
  FERRY_EXIT_LINE with the status QEMU would have exited with and writes
  "Shutdown" to Bochs's port 0x8900, on which Bochs ends; that line gives
  the exit status (33 ok, 35 failure), so runs end without a timeout.  A
  triple fault stops Bochs too (reset_on_triple_fault=0, as -no-reboot).
"""

import fcntl
import os
import re
import selectors
import shutil
import signal
import struct
import subprocess
import tempfile
import termios
import time
from pathlib import Path

from .errors import HarnessError
from .records import HEADER, REPO

DEFAULT_MODEL = "corei7_haswell_4770"
# Emulated instructions per emulated second: with sync=none it only sets how
# many instructions a timer period lasts (the 1 ms tick is 100,000 here).
IPS = 100_000_000
MEGS = 256
BIOS = "/usr/share/bochs/BIOS-bochs-latest"
VGABIOS = "/usr/share/vgabios/vgabios.bin"
SHUTDOWN_MSG = "Shutdown port: shutdown requested"


def _exit_line():
    m = re.search(r'#define\s+FERRY_EXIT_LINE\s+"([^"]*)"', HEADER.read_text())
    if not m:
        raise HarnessError(f"{HEADER}: no FERRY_EXIT_LINE")
    return m.group(1)


def binary(override=None):
    b = override or os.environ.get("FERRY_BOCHS") or "bochs"
    path = shutil.which(b)
    if not path:
        raise HarnessError(f"Bochs not found: '{b}' (scripts/setup.sh bochs installs the Debian "
                           f"packages bochs bochs-term bochsbios vgabios)")
    return path


def _run_quiet(cmd, timeout=20):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        return p.stdout + p.stderr
    except (OSError, subprocess.TimeoutExpired):
        return ""


def version(bochs):
    """(upstream version, Debian package version or None)."""
    out = _run_quiet([bochs, "--help"])
    m = re.search(r"Bochs x86 Emulator (\S+)", out)
    pkg = _run_quiet(["dpkg-query", "-W", "-f=${Version}", "bochs"]).strip() or None
    return (m.group(1) if m else "unknown"), pkg


def models(bochs):
    """CPU models this Bochs knows (`bochs --help cpu`)."""
    out = _run_quiet([bochs, "--help", "cpu"])
    part = out.split("Supported CPU models:", 1)
    if len(part) < 2:
        return []
    return [w.strip() for w in part[1].splitlines() if re.fullmatch(r"\s*[a-z][a-z0-9_]+\s*", w)]


def check_model(bochs, model):
    known = models(bochs)
    if known and model not in known:
        raise HarnessError(f"Bochs has no CPU model '{model}' (it has: {', '.join(known)})")


def config(iso, com1, log, model=DEFAULT_MODEL, ips=IPS, megs=MEGS, disk=None, smp=1):
    """The bochsrc for one boot of `iso` on `smp` CPUs of model `model`, COM1 into `com1`, Bochs's log into `log`
    (Debian's Bochs 2.7 is built with SMP support: its log says "SMP support: yes").

    With `disk` (a raw image, a whole number of 16-head 63-sector
    cylinders): it is the primary master, where the guest's ATA driver
    looks (as QEMU's if=ide index 0), and the CD-ROM moves to the secondary."""
    drives = [f"ata0-master: type=cdrom, path={iso}, status=inserted"]
    if disk:
        drives = [f"ata0-master: type=disk, path={disk}, mode=flat",
                  f"ata1-master: type=cdrom, path={iso}, status=inserted"]
    return "\n".join([
        f"megs: {megs}",
        f"romimage: file={BIOS}",
        f"vgaromimage: file={VGABIOS}",
        *drives,
        "boot: cdrom",
        f"cpu: model={model}, count={smp}, ips={ips}, reset_on_triple_fault=0",
        # Emulated time follows instructions, not the host clock: the TSC
        # counts instructions and runs repeat exactly.
        "clock: sync=none, time0=1",
        "display_library: term",
        f"com1: enabled=1, mode=file, dev={com1}",
        f"log: {log}",
        "panic: action=fatal",
        "error: action=report",
        "info: action=report",
        "debug: action=ignore",
        "",
    ])


def describe(bochs, model=DEFAULT_MODEL, ips=IPS):
    """What a results folder records about the emulator."""
    ver, pkg = version(bochs)
    return {"bochs": bochs, "bochs_version": ver, "bochs_package": pkg, "cpu_model": model,
            "clock": "sync=none", "ips": ips,
            "tsc": "counts emulated instructions (clock: sync=none): figures are path lengths"}


def make_iso(kernel_elf, modules, cmdline, out):
    """A GRUB2 ISO of the kernel and modules with this command line (scripts/mkiso.sh)."""
    cmd = [str(REPO / "scripts" / "mkiso.sh"), str(out), str(kernel_elf), cmdline] + [str(m) for m in modules]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        tail = (p.stderr.strip() or "no message").splitlines()[-1]
        raise HarnessError(f"cannot build the ISO for Bochs: {tail}")
    return Path(out)


def elf64_of(kernel):
    """GRUB loads the 64-bit kernel by Multiboot 2; the harness's boot files
    name the 32-bit copy for qemu -kernel (ferry-mb1.elf) next to it."""
    k = Path(kernel)
    if k.name.endswith("-mb1.elf") and (k.parent / k.name.replace("-mb1", "")).is_file():
        return k.parent / k.name.replace("-mb1", "")
    return k


def end_status(console_text, exit_line=None):
    """The exit status the guest asked for (the last FERRY_EXIT_LINE), or None."""
    exit_line = exit_line or _exit_line()
    found = None
    for line in console_text.splitlines():
        line = line.strip("\r")
        if line.startswith(exit_line):
            try:
                found = int(line[len(exit_line):].split()[0])
            except (ValueError, IndexError):
                pass
    return found


def bochs_problem(log_text):
    """Bochs's own reason for ending when it was not the guest's shutdown."""
    for l in reversed(log_text.splitlines()):
        if ">>PANIC<<" in l or "triple fault" in l.lower():
            return "Bochs: " + l.split("]", 1)[-1].strip()
    return None


def run(bochs, iso, model, workdir, console_path, timeout, on_line, ips=IPS, log_path=None, disk=None, smp=1,
        megs=MEGS):
    """Boot `iso` under Bochs; pass each COM1 line to on_line as it arrives.

    Returns a qemu.Boot whose exit_code follows QEMU's convention (33/35)
    when the guest ended itself, else Bochs's own status (or None when
    killed at the timeout or by Ctrl-C, as for QEMU) and whose stderr says
    why Bochs ended."""
    from .qemu import Boot
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    console_path = Path(console_path)
    log_path = Path(log_path or workdir / "bochs.log")
    rc_path = workdir / "bochs-rc"
    cfg_path = workdir / "bochsrc"
    console_path.write_bytes(b"")
    if disk:    # Bochs writes to it: a copy per boot, as QEMU's snapshot=on
        shutil.copyfile(disk, workdir / "disk.img")
        disk = (workdir / "disk.img").resolve()
    cfg_path.write_text(config(Path(iso).resolve(), console_path.resolve(), log_path.resolve(), model, ips,
                               megs=megs, disk=disk, smp=smp))
    rc_path.write_text("c\n")
    cmd = [bochs, "-q", "-f", str(cfg_path), "-rc", str(rc_path)]

    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 25, 80, 0, 0))
    env = dict(os.environ, TERM="vt100")
    out = Boot()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True,
                         cwd=workdir)
    os.close(slave)
    sel = selectors.DefaultSelector()
    sel.register(master, selectors.EVENT_READ)
    buf, pos = b"", 0

    def follow():
        nonlocal buf, pos
        with open(console_path, "rb") as f:
            f.seek(pos)
            chunk = f.read()
        pos += len(chunk)
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for line in lines:
            on_line(line.decode("utf-8", "replace"))

    try:
        while p.poll() is None:
            if time.monotonic() - t0 > timeout:
                out.timed_out = True
                break
            # The terminal's output (the emulated screen, the debugger's
            # lines) is read only so that Bochs never blocks on a full pty.
            for _key, _ev in sel.select(timeout=0.1):
                try:
                    os.read(master, 65536)
                except OSError:
                    sel.unregister(master)
                    break
            follow()
    except KeyboardInterrupt:
        out.interrupted = True
    finally:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        rc = p.wait()
        sel.close()
        os.close(master)
        follow()
        if buf:
            on_line(buf.decode("utf-8", "replace"))
    out.seconds = time.monotonic() - t0
    text = console_path.read_text(errors="replace")
    try:
        blog = log_path.read_text(errors="replace")
    except OSError:
        blog = ""
    status = end_status(text)
    if out.timed_out or out.interrupted:
        out.exit_code = None
        out.stderr = "Bochs killed by the harness" + (" at the timeout" if out.timed_out else "")
    elif status is not None and SHUTDOWN_MSG in blog:
        out.exit_code = status
        out.stderr = f"guest shut Bochs down (port 0x8900) with status {status}"
    else:
        out.exit_code = rc if rc not in (33, 35) else 1
        out.stderr = bochs_problem(blog) or f"Bochs exited with status {rc} without the guest's shutdown"
    return out


def main(argv=None):
    """`python3 -m ferryhost.bochs`: one boot for make run ACCEL=bochs and
    scripts/guest-tests.sh; the console goes to stdout, the exit status is
    the guest's (33 ok, 35 failure), 124 at the timeout."""
    import argparse
    import sys
    ap = argparse.ArgumentParser(prog="python3 -m ferryhost.bochs", description=main.__doc__)
    ap.add_argument("--iso", help="boot this ISO as is (its GRUB menu holds the command line)")
    ap.add_argument("--kernel", help="build an ISO of this kernel ELF (with --module and --cmdline)")
    ap.add_argument("--module", action="append", default=[], help="boot module for --kernel")
    ap.add_argument("--cmdline", default="", help="kernel command line for --kernel")
    ap.add_argument("--cpu-model", default=DEFAULT_MODEL, help=f"Bochs CPU model (default {DEFAULT_MODEL})")
    ap.add_argument("--timeout", type=float, default=600, help="seconds before Bochs is killed")
    ap.add_argument("--smp", type=int, default=1, help="CPUs (default 1)")
    ap.add_argument("--megs", type=int, default=MEGS, help=f"guest memory in MiB (default {MEGS})")
    ap.add_argument("--bochs", help="Bochs binary (default $FERRY_BOCHS or bochs)")
    ap.add_argument("--keep", help="keep the configuration, console and Bochs log in this folder")
    ap.add_argument("--disk", help="raw disk image for the primary ATA master (a copy is used)")
    a = ap.parse_args(argv)
    if bool(a.iso) == bool(a.kernel):
        ap.error("give --iso or --kernel")
    try:
        b = binary(a.bochs)
        check_model(b, a.cpu_model)
        work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="ferry-bochs-"))
        work.mkdir(parents=True, exist_ok=True)
        try:
            iso = a.iso or make_iso(elf64_of(a.kernel), a.module, a.cmdline, work / "ferry.iso")
            ver, _ = version(b)
            print(f"bochs: Bochs {ver}, cpu model {a.cpu_model}, clock sync=none (TSC counts instructions)",
                  file=sys.stderr, flush=True)

            def show(line):
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            boot = run(b, iso, a.cpu_model, work, work / "console.log", a.timeout, show, disk=a.disk, smp=a.smp,
                       megs=a.megs)
        finally:
            if not a.keep:
                shutil.rmtree(work, ignore_errors=True)
    except HarnessError as e:
        print(f"bochs: {e}", file=sys.stderr)
        return 2
    print(f"bochs: {boot.stderr} ({boot.seconds:.1f} s)", file=sys.stderr)
    if boot.timed_out:
        return 124
    if boot.interrupted:
        return 130
    return boot.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
