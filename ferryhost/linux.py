"""linux.py: build and describe the Linux baseline guest (Debian's kernel + an initramfs whose /init is bench/linux)."""

import argparse
import gzip
import hashlib
import json
import lzma
import os
import re
import selectors
import shlex
import subprocess
import sys
import time
from pathlib import Path

from . import disk as fatdisk
from .errors import HarnessError
from .records import REPO

KERNEL_PACKAGE = "linux-image-amd64"

# Kernel command line before the benchmark words: records on the first
# serial port, no kernel chatter between them, and a panic (e.g. /init
# died) reboots at once, which QEMU's -no-reboot turns into an exit
# instead of a hang.
BASE_CMDLINE = ["console=ttyS0", "quiet", "loglevel=0", "panic=-1"]

# The benchmark program is built as the harness builds Ferry's: the
# project's C flags, plus -static because the initramfs holds no libc.
CFLAGS = ["-std=gnu17", "-O2", "-Wall", "-Wextra", "-Werror", "-static", "-pthread"]

# The initramfs holds only what /init needs: the kernel opens /dev/console
# for init's stdio before anything could mount devtmpfs, so it is a node in
# the archive; /proc and /sys are mount points /init uses for its @meta.
# (type, path, mode, (major, minor) for device nodes)
DIRS = [("dir", "dev", 0o755), ("dir", "proc", 0o555), ("dir", "sys", 0o555)]
CONSOLE = ("chr", "dev/console", 0o600, (5, 1))

# The disk rows (file_read/disk, file_read/disk_cached) read the FAT image
# Ferry's ATA driver serves, on the same emulated IDE disk.  Debian builds
# the PIIX IDE driver, the SCSI disk, vfat and its code pages as modules, so
# the archive carries them (and what they depend on, modules.dep) from the
# installed kernel package's /lib/modules/RELEASE under lib/modules/, with
# lib/modules/order naming them in load order; /init loads them
# (finit_module) when a disk row runs.
DISK_MODULES = ["ata_piix", "sd_mod", "vfat", "nls_cp437", "nls_ascii"]
MODULE_DIR = "lib/modules"


class LinuxGuestError(HarnessError):
    """A problem building the guest, stated in one line the user can act on
    (a HarnessError, so harness.py prints it as one line)."""


def setup_hint():
    return f"Debian kernel package {KERNEL_PACKAGE} is not installed: run `scripts/setup.sh linux` as root"


def _run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def find_kernel():
    """(kernel image path, kernel release, package name, package version) of the installed Debian kernel."""
    try:
        dep = _run(["dpkg-query", "-W", "-f=${Status}|${Depends}", KERNEL_PACKAGE], timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        raise LinuxGuestError(setup_hint()) from None
    status, _, depends = dep.stdout.partition("|")
    if dep.returncode != 0 or "install ok installed" not in status:
        raise LinuxGuestError(setup_hint())
    # The meta-package depends on exactly one versioned image package,
    # e.g. "linux-image-6.1.0-56-amd64 (= 6.1.192-2)".
    m = re.search(r"linux-image-(\d[^\s,(]*)", depends)
    if not m:
        raise LinuxGuestError(f"cannot tell the kernel release from {KERNEL_PACKAGE}'s dependencies: {depends!r}")
    release = m.group(1)
    package = f"linux-image-{release}"
    ver = _run(["dpkg-query", "-W", "-f=${Version}", package], timeout=30)
    kernel = Path("/boot") / f"vmlinuz-{release}"
    if not kernel.is_file():
        raise LinuxGuestError(f"{kernel} is missing although {KERNEL_PACKAGE} is installed; "
                              f"reinstall it: apt-get install --reinstall {package}")
    if not os.access(kernel, os.R_OK):
        raise LinuxGuestError(f"{kernel} is not readable by this user")
    return kernel, release, package, ver.stdout.strip() or None


def disk_modules(release, root="/lib/modules"):
    """[(file name, path)] of DISK_MODULES and their dependencies,
    dependencies first, from the kernel package's modules.dep; [] when the
    release has no modules (the disk rows then say so)."""
    base = Path(root) / release
    try:
        lines = (base / "modules.dep").read_text().splitlines()
    except OSError:
        return []
    deps = {}
    for ln in lines:
        mod, _, rest = ln.partition(":")
        deps[mod.strip()] = rest.split()
    by_name = {}
    for mod in deps:
        by_name[Path(mod).name.split(".ko")[0].replace("-", "_")] = mod
    order, seen = [], set()

    def visit(mod):
        if mod in seen:
            return
        seen.add(mod)
        for d in deps.get(mod, []):
            visit(d)
        order.append(mod)
    for name in DISK_MODULES:
        mod = by_name.get(name)
        if mod is None:
            return []
        visit(mod)
    out = []
    for mod in order:
        if not mod.endswith(".ko"):
            raise LinuxGuestError(f"{base / mod}: compressed kernel modules are not supported")
        out.append((Path(mod).name, base / mod))
    return out


def _kernel_config(release):
    try:
        return Path(f"/boot/config-{release}").read_text()
    except OSError:
        return ""


def extract_vmlinux(bzimage, release, outdir):
    """The uncompressed ELF kernel inside Debian's bzImage, or None.

    Under TCG, decompressing the XZ-packed kernel in the guest takes about
    5 of a 9 s boot.  The same kernel decompressed here (Python's lzma) and
    started through its PVH entry point (CONFIG_PVH; QEMU boots such an ELF
    with -kernel) reaches /init in about a third of the time.  It is
    byte-for-byte the kernel in the package, just not compressed; the
    result is cached per bzImage hash."""
    if "CONFIG_PVH=y" not in _kernel_config(release):
        return None
    digest = _sha256(bzimage)
    out = outdir / f"vmlinux-{release}"
    stamp = outdir / f"vmlinux-{release}.source-sha256"
    if out.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return out
    data = Path(bzimage).read_bytes()
    body = None
    for magic, unpack in ((b"\xfd7zXZ\x00", lambda b: lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(b)),
                          (b"\x1f\x8b\x08", lambda b: gzip.GzipFile(fileobj=__import__("io").BytesIO(b)).read())):
        at = data.find(magic)
        if at < 0:
            continue
        try:
            body = unpack(data[at:])
        except (lzma.LZMAError, OSError, EOFError):
            body = None
        if body and body[:4] == b"\x7fELF":
            break
        body = None
    if body is None:
        return None
    tmp = out.with_suffix(".tmp")
    tmp.write_bytes(body)
    os.replace(tmp, out)
    stamp.write_text(digest + "\n")
    return out


def sources():
    return (sorted((REPO / "bench" / "linux").glob("*.c")) + sorted((REPO / "bench" / "lib").glob("*.c"))
            + [REPO / "lib" / "tsc.c"])


def compile_command(out):
    return ["gcc"] + CFLAGS + ["-I", str(REPO / "kernel" / "include" / "uapi"), "-I", str(REPO / "bench" / "lib"), "-I", str(REPO / "lib" / "include"),
                               "-I", str(REPO / "bench" / "linux")] + [str(s) for s in sources()] + ["-o", str(out)]


def build_program(out):
    """Compile bench/linux (with bench/lib) into one static executable."""
    cmd = compile_command(out)
    try:
        r = _run(cmd, timeout=300)
    except OSError as e:
        raise LinuxGuestError(f"cannot run gcc: {e.strerror} (scripts/setup.sh build)") from None
    if r.returncode != 0:
        first = next((ln for ln in r.stderr.splitlines() if "error" in ln), r.stderr.strip()[:300])
        raise LinuxGuestError(f"building the Linux benchmark failed: {first}")
    return cmd


def _newc_entry(ino, name, mode, data=b"", rdev=(0, 0), nlink=1):
    """One cpio "newc" member (the format the kernel unpacks, see
    Documentation/driver-api/early-userspace/buffer-format.rst): a 110-byte
    ASCII header, the NUL-terminated name and the data, each padded to 4."""
    nameb = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(nameb), 0]
    hdr = b"070701" + b"".join(b"%08x" % f for f in fields)
    out = hdr + nameb
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def write_initramfs(path, init_bytes, modules=()):
    """Write the uncompressed newc archive (the kernel unpacks it fastest) and
    return its contents list.  Owners are root and times 0, so the archive
    depends only on the program and the modules ([(file name, path)] in load
    order, under lib/modules/ with lib/modules/order)."""
    S_IFDIR, S_IFREG, S_IFCHR = 0o040000, 0o100000, 0o020000
    members, listing, ino = [], [], 1
    for kind, name, mode in DIRS:
        members.append(_newc_entry(ino, name, S_IFDIR | mode, nlink=2))
        listing.append({"path": "/" + name, "type": kind, "mode": oct(mode)})
        ino += 1
    kind, name, mode, rdev = CONSOLE
    members.append(_newc_entry(ino, name, S_IFCHR | mode, rdev=rdev))
    listing.append({"path": "/" + name, "type": kind, "mode": oct(mode), "rdev": f"{rdev[0]}:{rdev[1]}"})
    ino += 1
    members.append(_newc_entry(ino, "init", S_IFREG | 0o755, data=init_bytes))
    listing.append({"path": "/init", "type": "file", "mode": oct(0o755), "size": len(init_bytes),
                    "sha256": hashlib.sha256(init_bytes).hexdigest(), "source": "bench/linux (static)"})
    ino += 1
    if modules:
        for d in ("lib", MODULE_DIR):
            members.append(_newc_entry(ino, d, S_IFDIR | 0o755, nlink=2))
            listing.append({"path": "/" + d, "type": "dir", "mode": oct(0o755)})
            ino += 1
        order = "".join(name + "\n" for name, _ in modules).encode()
        for name, data, source in [(n, Path(p).read_bytes(), str(p)) for n, p in modules] + \
                [("order", order, "load order (modules.dep)")]:
            members.append(_newc_entry(ino, f"{MODULE_DIR}/{name}", S_IFREG | 0o644, data=data))
            listing.append({"path": f"/{MODULE_DIR}/{name}", "type": "file", "mode": oct(0o644), "size": len(data),
                            "sha256": hashlib.sha256(data).hexdigest(), "source": source})
            ino += 1
    members.append(_newc_entry(0, "TRAILER!!!", 0, nlink=1))
    data = b"".join(members)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return listing


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _tool_version(cmd):
    try:
        r = _run(cmd, timeout=30)
        return r.stdout.splitlines()[0].strip() if r.returncode == 0 and r.stdout else None
    except (OSError, subprocess.TimeoutExpired):
        return None


def build_guest(outdir):
    """Build the benchmark and initramfs into outdir; returns
    {"kernel": Path, "initrd": Path, "meta": {...}} (meta: kernel release,
    package and hash, base command line, initramfs contents, compiler)."""
    outdir = Path(outdir)
    kernel, release, package, pkg_version = find_kernel()
    outdir.mkdir(parents=True, exist_ok=True)
    prog = outdir / "ferry-linux-bench"
    cmd = build_program(prog)
    initrd = outdir / "initramfs.cpio"
    modules = disk_modules(release)
    listing = write_initramfs(initrd, prog.read_bytes(), modules)
    disk = _disk_image(outdir)
    vmlinux = extract_vmlinux(kernel, release, outdir)
    meta = {
        "kernel_release": release,
        "kernel_package": package,
        "kernel_package_version": pkg_version,
        "kernel_image": str(kernel),
        "kernel_sha256": _sha256(kernel),
        "kernel_boot": "pvh (the package's bzImage decompressed on the host)" if vmlinux
                       else "bzImage (decompressed by the guest)",
        "kernel_booted": str(vmlinux or kernel),
        "kernel_cmdline_base": " ".join(BASE_CMDLINE),
        "initramfs": str(initrd),
        "initramfs_bytes": initrd.stat().st_size,
        "initramfs_sha256": _sha256(initrd),
        "initramfs_contents": listing,
        "disk_modules": [name for name, _ in modules],
        "disk": str(disk) if disk else None,
        "compiler": _tool_version(["gcc", "--version"]),
        "libc": _tool_version(["dpkg-query", "-W", "-f=libc6-dev ${Version}\n", "libc6-dev"]),
        "build_command": " ".join(shlex.quote(c) for c in cmd),
    }
    guest = {"kernel": vmlinux or kernel, "initrd": initrd, "meta": meta}
    if disk:
        guest["disk"] = disk
    return guest


def _disk_image(outdir):
    """Ferry's FAT disk image (ferryhost/disk.py, the same files), made here
    for the disk rows; None when its tools are missing."""
    out = Path(outdir) / "disk.img"
    src = Path(fatdisk.__file__)
    if out.is_file() and out.stat().st_mtime >= src.stat().st_mtime:
        return out
    try:
        return fatdisk.make_disk(out)
    except (SystemExit, OSError, subprocess.CalledProcessError):
        return None


def qemu_boot_args(guest, cmdline_words):
    """The -kernel/-initrd/-append part of the QEMU command line (and the
    disk image as the primary IDE master, its writes to a snapshot, as
    Ferry's); the benchmark words reach /init as environment variables."""
    disk = ["-drive", f"file={guest['disk']},format=raw,if=ide,index=0,snapshot=on"] if guest.get("disk") else []
    return ["-kernel", str(guest["kernel"]), "-initrd", str(guest["initrd"]),
            "-append", " ".join(BASE_CMDLINE + list(cmdline_words))] + disk


# --- a stand-alone boot, for trying the guest and for this module's tests;
# --- real runs go through harness.py, which adds its metadata and perf.

QEMU_BASE = ["-M", "pc", "-m", "256M", "-display", "none", "-no-reboot", "-serial", "stdio",
             "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
# The same accelerator options as harness.py uses (ferryhost/env.py).
ACCEL = {"tcg": ["-accel", "tcg", "-cpu", "max"],
         "tcg-icount": ["-accel", "tcg", "-icount", "shift=0,sleep=off", "-cpu", "max"],
         "kvm": ["-accel", "kvm", "-cpu", "host"]}


def boot(guest, words, accel="tcg", smp=1, timeout=300, qemu="qemu-system-x86_64", timing=None):
    """Boot once; returns (qemu exit status or None on timeout, console text, seconds).
    If timing is a dict, it gets "done_s": seconds from QEMU's start to the
    @done line (None if none came) and "exit_s"."""
    cmd = [qemu] + QEMU_BASE + ACCEL[accel] + ["-smp", str(smp)] + qemu_boot_args(guest, words)
    t0 = time.monotonic()
    deadline = t0 + timeout
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    sel = selectors.DefaultSelector()
    sel.register(p.stdout, selectors.EVENT_READ)
    chunks, pending, done_s, code = [], b"", None, None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not sel.select(left):
                continue
            data = os.read(p.stdout.fileno(), 65536)
            if not data:
                code = p.wait(timeout=max(1.0, deadline - time.monotonic()))
                break
            chunks.append(data)
            pending = (pending + data)[-4096:]
            if done_s is None and b"\n@done " in b"\n" + pending:
                done_s = time.monotonic() - t0
    except subprocess.TimeoutExpired:
        code = None
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        sel.close()
        p.stdout.close()
    secs = time.monotonic() - t0
    if timing is not None:
        timing.update(done_s=done_s, exit_s=secs)
    return code, b"".join(chunks).decode("utf-8", "replace"), secs


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m ferryhost.linux", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build the guest and print its description as JSON")
    b.add_argument("outdir", nargs="?", default=str(REPO / "build" / "linux"))
    r = sub.add_parser("run", help="build, boot once and print the console")
    r.add_argument("--accel", choices=sorted(ACCEL), default="tcg")
    r.add_argument("--smp", type=int, default=1)
    r.add_argument("--timeout", type=float, default=600)
    r.add_argument("--outdir", default=str(REPO / "build" / "linux"))
    r.add_argument("words", nargs="*", help="benchmark words, e.g. bench=pipe_rt samples=1000")
    a = ap.parse_args(argv)
    try:
        guest = build_guest(Path(a.outdir))
    except LinuxGuestError as e:
        print(f"ferryhost.linux: {e}", file=sys.stderr)
        return 1
    if a.cmd == "build":
        print(json.dumps({"kernel": str(guest["kernel"]), "initrd": str(guest["initrd"]), "meta": guest["meta"]},
                         indent=2))
        return 0
    timing = {}
    code, out, secs = boot(guest, a.words, a.accel, a.smp, a.timeout, timing=timing)
    sys.stdout.write(out)
    sys.stdout.flush()
    done = f"{timing['done_s']:.2f} s" if timing["done_s"] is not None else "never"
    print(f"# qemu exit status {code}; @done after {done}, exit after {secs:.2f} s", file=sys.stderr)
    return 0 if code == 33 else 1


if __name__ == "__main__":
    sys.exit(main())
