#!/usr/bin/env bash
# guest-tests-nofp.sh: the in-guest suite against a kernel built without the
# IPC fast path (FASTPATH=0, in its own build folder), so that every IPC
# test runs on both paths.  Usage: guest-tests-nofp.sh [BUILD_DIR] [TIMEOUT]
set -euo pipefail
build=${1:-build-nofp}
make -s FASTPATH=0 BUILD="$build" all
exec "$(dirname "$0")/guest-tests.sh" "$build" "${2:-300}"
