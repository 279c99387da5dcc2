"""meta.py: the facts stored with every run: git state and diff, time, tools, binary hashes, host and engine."""

import datetime
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from . import RESULTS_SCHEMA
from .records import REPO


def _git(*args):
    return subprocess.run(["git", "-C", str(REPO)] + list(args), capture_output=True, text=True)


def git_state():
    """(full commit or 'nocommit', dirty flag).  Run output under results/ is ignored by git,
    so writing results never makes the tree dirty by itself."""
    p = _git("rev-parse", "HEAD")
    commit = p.stdout.strip() if p.returncode == 0 else "nocommit"
    st = _git("status", "--porcelain", "--untracked-files=no")
    dirty = st.returncode != 0 or bool(st.stdout.strip())
    return commit, dirty


def git_diff():
    """The uncommitted changes to tracked files (what a dirty run measured beyond its commit)."""
    p = _git("diff", "HEAD", "--no-color")
    return p.stdout if p.returncode == 0 else ""


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(t=None):
    """Folder time stamp: sorts as text in time order."""
    return (t or utc_now()).strftime("%Y%m%dT%H%M%SZ")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_tools = {}


def tool_version(cmd):
    """First line of `cmd --version`, or None; asked once per process."""
    if cmd not in _tools:
        try:
            p = subprocess.run([cmd, "--version"], capture_output=True, text=True, timeout=20)
            _tools[cmd] = p.stdout.splitlines()[0].strip() if p.returncode == 0 and p.stdout else None
        except (OSError, subprocess.TimeoutExpired):
            _tools[cmd] = None
    return _tools[cmd]


def build_id(hashes):
    """One identity for everything booted: the hash of the files' hashes, in order."""
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()[:16]


def store_boot_files(paths, store):
    """Copy each file into store/<sha256>/<name> (content-addressed, never overwritten) and
    return [(stored path, sha256)]: a run boots and records the stored copy, so a later
    build of the same variant cannot change what its QEMU command line points at."""
    out = []
    for p in paths:
        p = Path(p)
        h = sha256(p)
        dest = Path(store) / h / p.name
        if not dest.is_file():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
            shutil.copyfile(p, tmp)
            os.replace(tmp, dest)
        out.append((dest, h))
    return out


def run_meta(spec, accel, kind, qemu_bin, host, feats, feat_err, boot_desc, commit, dirty):
    """The meta.json of a run before its first boot (boots, guest facts and status follow)."""
    from dataclasses import asdict
    return {
        "schema": RESULTS_SCHEMA, "kind": "run", "status": "running",
        "date": utc_now().isoformat(timespec="seconds"),
        "git_commit": commit, "git_dirty": dirty,
        "note": spec.note, "tags": list(spec.tags),
        "system": spec.system, "variant": spec.name(), "build_flags": spec.flags,
        "spec": asdict(spec), "boot": boot_desc, "build_id": boot_desc.get("build_id"),
        "tools": {"cc": tool_version("gcc"), "ld": tool_version("ld"), "make": tool_version("make")},
        "accel": accel, "accel_requested": spec.accel, "smp": spec.smp,
        "kvm_kind": kind if accel == "kvm" else None, "host_kvm_kind": kind,
        "qemu": qemu_bin, "qemu_version": host["qemu_version"],
        "host_cpu": host["host_cpu"], "host_tsc_hz": host["host_tsc_hz"],
        "host_tsc_source": host["host_tsc_source"],
        "qemu_cpu_features": feats, "qemu_cpu_features_error": feat_err,
        "guest_meta": None, "guest_cpu": None, "guest_tsc_hz": None,
        "kernel_cmdline": None, "boots": [], "disturbed": False, "problems": [],
    }
