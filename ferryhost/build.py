"""build.py: build one kernel variant with the top-level Makefile and ask it what to boot."""

import json
import os
import re
import subprocess
from pathlib import Path

from .errors import HarnessError
from .records import REPO

_FLAG = re.compile(r"^[A-Z][A-Z0-9_]*$")

# The make variables a build variant may set: name -> (accepted values,
# default, meaning).  The one list `run`, `sweep` and `list` check against
# before anything is built; a new Makefile switch (say KPTI) is one line here,
# and tests/harness/test_variants.py fails until the Makefile's BUILD_FLAGS and
# this table name the same variables.
MAKE_VARIABLES = {
    "FASTPATH": (("1", "0"), "1", "IPC fast path (0: every IPC through the slow path)"),
    "LAZYFPU": (("1", "0"), "1", "FPU state switched on first use (0: eagerly on every switch)"),
    "BENCHMARK": (("1", "0"), "1", "floor benchmark system calls built (0: compiled out; floor_* fail)"),
    "DIRECTSWITCH": (("1", "0"), "1", "direct switch to the IPC partner (0: the scheduler picks; needs FASTPATH=0)"),
    "KPTI": (("0", "1"), "0", "Meltdown mitigation: user page tables with only the kernel's entry window (1)"),
    "UBSAN": (("0", "1"), "0", "kernel built with -fsanitize=undefined in trap mode (1; not for timing)"),
    "LOCKDEBUG": (("0", "1"), "0", "big kernel lock's order checked at run time (1; docs/smp.md; not for timing)"),
}
# Values that need others (the Makefile stops on these combinations): checked
# with the table, before make runs.
MAKE_REQUIRES = {
    ("DIRECTSWITCH", "0"): {"FASTPATH": "0"},
}
_BUILD_ERR = re.compile(r"error|undefined reference|no such file|fatal|cannot find", re.I)


def variant_name(flags):
    """A folder-safe name for a set of make variables: {} -> default, {FASTPATH: 0} -> fastpath0."""
    if not flags:
        return "default"
    return "-".join(f"{k.lower()}{v}" for k, v in sorted(flags.items()))


def parse_flags(words, where="the command line"):
    """['FASTPATH=0', ...] -> {'FASTPATH': '0'}, refusing variables and values
    MAKE_VARIABLES does not declare (a typo would otherwise build the default
    kernel under another variant's name)."""
    flags = {}
    for w in words or []:
        k, sep, v = w.partition("=")
        if not sep or not _FLAG.match(k):
            raise HarnessError(f"bad build flag '{w}' in {where} (expected NAME=value, NAME in capitals)")
        if k not in MAKE_VARIABLES:
            raise HarnessError(f"unknown make variable '{k}' in {where} (a variant may set "
                               f"{', '.join(MAKE_VARIABLES)}; see `harness.py list`)")
        ok = MAKE_VARIABLES[k][0]
        if v not in ok:
            raise HarnessError(f"bad value {k}={v} in {where} ({k} takes {' or '.join(ok)})")
        flags[k] = v
    for (k, v), need in MAKE_REQUIRES.items():
        if flags.get(k) == v:
            for nk, nv in need.items():
                if flags.get(nk, MAKE_VARIABLES[nk][1]) != nv:
                    raise HarnessError(f"{k}={v} needs {nk}={nv} in {where}")
    return flags


def _make(args, log=None, quiet=False):
    # One job per host CPU: a variant's first build is the whole kernel and
    # user space (about twice as fast on two cores as serially).
    cmd = (["make", "--no-print-directory", f"-j{os.cpu_count() or 1}", "-C", str(REPO)]
           + (["-s"] if quiet else []) + args)
    # Under `make bench` the parent make exports its command-line variables
    # (say FASTPATH=0) and jobserver through MAKEFLAGS; a variant must be built
    # from its own flags only.
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except OSError as e:
        raise HarnessError(f"cannot run make: {e.strerror}") from None
    if log is not None:
        log.append(f"$ {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


def builddir(name):
    return REPO / "build" / "variants" / name


def build_variant(name, flags, log):
    """`make BUILD=build/variants/<name> FLAGS all`, then `print-boot`; returns the boot dict
    {"kernel": Path, "modules": [Path], "iso": Path or None}."""
    bdir = builddir(name)
    var_args = [f"BUILD={bdir}"] + [f"{k}={v}" for k, v in sorted(flags.items())]
    key = (name, tuple(sorted(flags.items())))
    if key in _built:
        # One build per variant and process: every repetition of a sweep then
        # measures the same binary even while the tree changes under it, and a
        # broken build fails once instead of once per run.
        if isinstance(_built[key], HarnessError):
            raise _built[key]
        return _built[key]
    p = _make(var_args + ["all"], log)
    if p.returncode != 0:
        _built[key] = HarnessError(f"build of variant '{name}' failed: {build_error(p.stderr + p.stdout)} "
                                   f"(whole log: {save_log(bdir, log)})")
        raise _built[key]
    _built[key] = print_boot(var_args, log)
    return _built[key]


_built = {}


def build_error(text):
    """The line of a failed build that says why: a missing tool (make's own
    "make: nocc: No such file or directory") first, then the compiler's or
    linker's message, which says more than make's "Error 1" summary."""
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    missing = next((l for l in lines if "No such file or directory" in l and l.startswith("make")), None)
    if missing:
        return missing
    out = [l for l in lines if not l.startswith("make")]
    return next((l for l in out if _BUILD_ERR.search(l)), None) or (out[-1] if out else
                                                                     "make failed without a message")


def save_log(bdir, log):
    """Keep a failed build's output where the user can read it (no run folder exists yet)."""
    path = Path(bdir) / "build.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(log or []))
    except OSError:
        return "not saved"
    return str(path)


def print_boot(var_args, log=None):
    p = _make(var_args + ["print-boot"], log, quiet=True)
    if p.returncode != 0:
        if "No rule to make target" in p.stderr:
            raise HarnessError("the Makefile has no print-boot target yet; pass --kernel PATH instead")
        tail = (p.stderr.strip() or "no output").splitlines()[-1]
        raise HarnessError(f"make print-boot failed: {tail}")
    lines = [l for l in p.stdout.splitlines() if l.startswith("{")]
    try:
        boot = json.loads(lines[-1])
        kernel = Path(boot["kernel"])
        modules = [Path(m) for m in boot.get("modules") or []]
    except (IndexError, ValueError, KeyError, TypeError):
        raise HarnessError(f"make print-boot printed no boot JSON line: {p.stdout.strip()[:200]!r}") from None
    rel = lambda x: x if x.is_absolute() else REPO / x
    return {"kernel": rel(kernel), "modules": [rel(m) for m in modules],
            "iso": rel(Path(boot["iso"])) if boot.get("iso") else None}


def modules_beside(kernel):
    """The boot modules of the Ferry build folder a prebuilt kernel lies in (its
    root task, boot.conf and programs, as `make BUILD=that-folder print-boot`
    lists them), or [] when the folder is not one (no root.elf beside it).
    Without them a prebuilt kernel (`run --kernel` without --initrd, and every
    `sweep --kernel` run) boots no root task and prints no @done."""
    bdir = Path(kernel).resolve().parent
    if not (bdir / "root.elf").is_file():
        return []
    return print_boot([f"BUILD={bdir}"])["modules"]


def check_boot_files(boot):
    """A missing image is a one-line error, not a QEMU backtrace."""
    for what, path in [("kernel image", boot["kernel"])] + [("boot module", m) for m in boot["modules"]]:
        if not Path(path).is_file():
            raise HarnessError(f"{what} {path} is missing (build it with `make all`)")
