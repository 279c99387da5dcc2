"""errors.py: the one exception type whose message the CLI prints as a single line."""


class HarnessError(Exception):
    """A failure the user can act on; harness.py prints str(e) on one line and exits non-zero."""

    def __init__(self, msg, code=1):
        super().__init__(msg)
        self.code = code


def need_module(name, package):
    """Import an optional module or fail in one line naming the Debian package that provides it."""
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError:
        raise HarnessError(f"python module '{name}' missing: install the Debian package {package} "
                           f"(apt-get install {package}) and run with /usr/bin/python3") from None
