#!/usr/bin/env bash
# guest-tests-variant.sh: the in-guest suite against a kernel built with
# other make variables, in its own build folder: FASTPATH=0 (every IPC test
# on the slow path too) or LAZYFPU=0 (eager FPU switching).
# Usage: guest-tests-variant.sh BUILD_DIR VAR=VAL...
set -euo pipefail
build=${1:?usage: guest-tests-variant.sh BUILD_DIR VAR=VAL...}
shift
# One job per CPU: a whole kernel and user space (about half the time of a
# serial build on two cores).
make -s -j"$(nproc)" "$@" BUILD="$build" all
# GUEST_TEST_SET: which runs (guest-tests.sh: variant, or kpti).
exec "$(dirname "$0")/guest-tests.sh" "$build" 600 "${GUEST_TEST_SET:-variant}"
