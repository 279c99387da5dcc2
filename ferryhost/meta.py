"""meta.py: the facts stored with every run: git state, time, host and QEMU description."""

import datetime
import subprocess

from .records import REPO


def git_state():
    """(full commit or 'nocommit', dirty flag).  Run output under results/ is ignored by git,
    so writing results never makes the tree dirty by itself."""
    def git(*args):
        return subprocess.run(["git", "-C", str(REPO)] + list(args), capture_output=True, text=True)
    p = git("rev-parse", "HEAD")
    commit = p.stdout.strip() if p.returncode == 0 else "nocommit"
    st = git("status", "--porcelain", "--untracked-files=no")
    dirty = st.returncode != 0 or bool(st.stdout.strip())
    return commit, dirty


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(t=None):
    """Folder time stamp: sorts as text in time order."""
    return (t or utc_now()).strftime("%Y%m%dT%H%M%SZ")
