"""atomicio.py: write files so a reader sees the old content or the new one, never a torn mix."""

import json
import os
import tempfile
from pathlib import Path


# mkstemp creates files 0600; results are meant to be read by everyone the
# umask allows, like any file the user creates.
_UMASK = os.umask(0)
os.umask(_UMASK)


def write_bytes(path, data):
    path = Path(path)
    # The temporary file lives in the same folder so os.replace stays a rename
    # on one filesystem, which POSIX guarantees to be atomic.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        # Covers KeyboardInterrupt too: no stray temporary is left behind.
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write_text(path, text):
    write_bytes(path, text.encode("utf-8"))


def write_json(path, obj):
    write_text(path, json.dumps(obj, indent=2, sort_keys=True) + "\n")
