"""env.py: what this machine offers: KVM kind, QEMU version, host CPU, TSC frequency, guest CPU features."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

from .errors import HarnessError

ACCELS = ("auto", "kvm", "tcg", "tcg-icount", "bochs")
# Accelerators that are QEMU (bochs is a second emulator: ferryhost/bochs.py).
QEMU_ACCELS = ("kvm", "tcg", "tcg-icount")

# What a benchmark's tick counts are under each engine: under an engine that
# counts instructions (QEMU's -icount; Bochs, whose TSC follows its
# instruction count) they are path lengths, elsewhere TSC ticks.
INSTRUCTION_COUNT_ENGINES = {"tcg-icount", "bochs"}


def unit_of(accel):
    return "instructions" if accel in INSTRUCTION_COUNT_ENGINES else "ticks"


def qemu_binary(override=None):
    """The QEMU to run: --qemu, else $FERRY_QEMU (tests point it at a fake), else the Debian one."""
    q = override or os.environ.get("FERRY_QEMU") or "qemu-system-x86_64"
    path = shutil.which(q)
    if not path:
        raise HarnessError(f"QEMU not found: '{q}' (install the Debian package qemu-system-x86 "
                           f"or set FERRY_QEMU)")
    return path


def qemu_version(qemu):
    try:
        out = subprocess.run([qemu, "--version"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        raise HarnessError(f"cannot run {qemu} --version: {e}") from None
    m = re.search(r"version\s+(\S+)", out)
    return m.group(1) if m else out.strip().splitlines()[0] if out.strip() else "unknown"


def _cpuinfo(root):
    try:
        return (Path(root) / "proc/cpuinfo").read_text()
    except OSError:
        return ""


def _modules(root):
    """Names of loaded kernel modules, from /sys/module and /proc/modules (either may be absent)."""
    root = Path(root)
    names = set()
    try:
        names.update(p.name for p in (root / "sys/module").iterdir())
    except OSError:
        pass
    try:
        names.update(line.split()[0] for line in (root / "proc/modules").read_text().splitlines() if line)
    except OSError:
        pass
    return names


def host_cpu_flags(root="/"):
    m = re.search(r"^flags\s*:\s*(.*)$", _cpuinfo(root), re.M)
    return set(m.group(1).split()) if m else set()


def host_cpu_model(root="/"):
    m = re.search(r"^model name\s*:\s*(.*)$", _cpuinfo(root), re.M)
    return m.group(1).strip() if m else "unknown"


def kvm_kind(root="/"):
    """'hardware', 'pvm' or None.

    PVM is checked first: it is a software hypervisor that also answers on
    /dev/kvm, and under it Ferry is emulated, so it must never be mistaken
    for VT-x/AMD-V.  A KVM whose kind cannot be told counts as unusable.
    """
    dev = Path(root) / "dev/kvm"
    try:
        fd = os.open(dev, os.O_RDWR | os.O_CLOEXEC)
        os.close(fd)
    except OSError:
        return None
    mods = _modules(root)
    if "kvm_pvm" in mods:
        return "pvm"
    flags = host_cpu_flags(root)
    if ("vmx" in flags and "kvm_intel" in mods) or ("svm" in flags and "kvm_amd" in mods):
        return "hardware"
    return None


def resolve_accel(accel, kind):
    """Turn the user's accelerator choice into a concrete one, refusing what cannot work."""
    if accel not in ACCELS:
        raise HarnessError(f"unknown accelerator '{accel}' (choose from {', '.join(ACCELS)})")
    if accel == "auto":
        # PVM is only used when asked for explicitly: there the kernel is
        # emulated and SYSCALL from ring 3 does not work.
        return "kvm" if kind == "hardware" else "tcg"
    if accel == "kvm" and kind is None:
        raise HarnessError("accelerator kvm requested but /dev/kvm is absent or not usable")
    return accel


def accel_args(accel, kind):
    """QEMU options for a concrete accelerator (see the QEMU contract in docs/harness.md)."""
    if accel == "tcg":
        return ["-accel", "tcg", "-cpu", "max"]
    if accel == "tcg-icount":
        return ["-accel", "tcg", "-icount", "shift=0,sleep=off", "-cpu", "max"]
    if accel == "bochs":
        raise HarnessError("accelerator bochs is not QEMU: its command line is ferryhost/bochs.py's")
    if accel == "kvm":
        # PVM cannot offer IA32_ARCH_CAPABILITIES; QEMU refuses to start with it.
        return ["-accel", "kvm", "-cpu", "host,-arch-capabilities" if kind == "pvm" else "host"]
    raise HarnessError(f"no QEMU options for accelerator '{accel}'")


def tsc_hz(root="/"):
    """Host TSC frequency in Hz and where it came from, or (None, reason)."""
    # The kernel's boot log states the calibrated TSC; it is the best source
    # a user-space program has without reading CPUID leaf 0x15 itself.
    try:
        log = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        log = ""
    for pat in (r"tsc: Refined TSC clocksource calibration: ([\d.]+) MHz",
                r"tsc: Detected ([\d.]+) MHz processor"):
        m = re.findall(pat, log)
        if m:
            return int(float(m[-1]) * 1e6), "dmesg"
    m = re.search(r"^cpu MHz\s*:\s*([\d.]+)", _cpuinfo(root), re.M)
    if m:
        return int(float(m.group(1)) * 1e6), "cpuinfo (current clock, estimate)"
    return None, "unknown"


def guest_cpu_features(qemu, accel, kind, timeout=30):
    """Enabled CPU feature names QEMU would give a guest under `accel`, asked through QMP
    (query-cpu-model-expansion), without booting anything."""
    if accel not in QEMU_ACCELS:
        return None, f"not QEMU ({accel}: the CPU model is in the results' metadata)"
    args = accel_args(accel, kind)
    i = args.index("-cpu")
    model = args[i + 1].split(",")[0]
    minus = [f[1:] for f in args[i + 1].split(",")[1:] if f.startswith("-")]
    cmd = [qemu, "-machine", "none", "-nodefaults", "-display", "none", "-qmp", "stdio"] + \
        [a for j, a in enumerate(args) if j not in (i, i + 1) and a != "-icount" and
         not (j > 0 and args[j - 1] == "-icount")]
    req = ('{"execute":"qmp_capabilities"}\n'
           '{"execute":"query-cpu-model-expansion","arguments":{"type":"full","model":{"name":"%s"}}}\n'
           '{"execute":"quit"}\n' % model)
    try:
        out = subprocess.run(cmd, input=req, capture_output=True, text=True, timeout=timeout).stdout
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"QMP query failed: {e}"
    for line in out.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        ret = msg.get("return")
        if isinstance(ret, dict) and "model" in ret:
            props = ret["model"].get("props", {})
            feats = sorted(k for k, v in props.items() if v is True and k not in minus)
            return feats, None
        if "error" in msg:
            return None, msg["error"].get("desc", "QMP error")
    return None, "QEMU gave no answer to query-cpu-model-expansion"


def describe(qemu, root="/"):
    """Everything `harness.py env` prints, as a dict (also stored in meta.json)."""
    kind = kvm_kind(root)
    hz, src = tsc_hz(root)
    return {"kvm_kind": kind, "auto_accel": resolve_accel("auto", kind),
            "qemu": qemu, "qemu_version": qemu_version(qemu),
            "host_cpu": host_cpu_model(root), "host_tsc_hz": hz, "host_tsc_source": src}


def main(argv=None):
    """The accelerator rules for the Makefile and shell scripts (scripts/accel.sh):
    `python3 -m ferryhost.env --kind` prints hardware, pvm or none;
    `python3 -m ferryhost.env --accel-args ACCEL` prints QEMU's options for ACCEL."""
    import argparse
    import sys
    p = argparse.ArgumentParser(prog="python3 -m ferryhost.env")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--kind", action="store_true", help="print the KVM kind: hardware, pvm or none")
    g.add_argument("--accel-args", metavar="ACCEL", help=f"print QEMU's options for one of {', '.join(ACCELS)}")
    a = p.parse_args(argv)
    kind = kvm_kind()
    if a.kind:
        print(kind or "none")
        return 0
    try:
        print(" ".join(accel_args(resolve_accel(a.accel_args, kind), kind)))
    except HarnessError as e:
        print(f"accel: {e}", file=sys.stderr)
        return e.code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
