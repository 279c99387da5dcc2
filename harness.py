#!/usr/bin/python3
"""harness.py: command-line entry of the Ferry host harness (see docs/harness.md); the work is in ferryhost/."""

import sys

if sys.version_info < (3, 11):
    sys.exit("harness.py: needs Python 3.11 or newer (tomllib); run it with /usr/bin/python3")

from ferryhost.cli import main

if __name__ == "__main__":
    sys.exit(main())
