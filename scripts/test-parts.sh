#!/usr/bin/env bash
# test-parts.sh: `make test`'s driver: runs each part (a make target) in
# order, stops at the first that fails, as a plain list of make lines
# would, and at the end, passed or not, prints how long each part took.
# CI must finish a clean clone's `make test` within 30 minutes; this table
# in its log says where the time went when it grows.
# Usage: scripts/test-parts.sh MAKE PART...
set -uo pipefail
make_cmd=$1
shift
names=() secs=() status=0
summary() {
    local total=0 i
    echo "== make test: time per part"
    for i in "${!names[@]}"; do
        printf '   %-22s %5d s\n' "${names[$i]}" "${secs[$i]}"
        total=$((total + ${secs[$i]}))
    done
    printf '   %-22s %5d s (%d min)\n' total "$total" $((total / 60))
}
# The default build first, with one job per CPU (a whole kernel and user
# space: about 25 s serially, 13 s with two jobs on two cores); the parts
# themselves run serially: a part's make with -j hands its sub-makes a
# MAKEFLAGS under which `make -s --no-print-directory print-initrd`
# still printed "make[2]: Entering directory" into the module list the
# boot tests read (the variant builds take -j in guest-tests-variant.sh).
t0=$SECONDS
$make_cmd -j"$(nproc)" all
rc=$?
names+=("build (all, -j$(nproc))$([ $rc -ne 0 ] && echo ' (FAILED)')") secs+=($((SECONDS - t0)))
if [ $rc -ne 0 ]; then summary; exit $rc; fi
for part in "$@"; do
    t0=$SECONDS
    $make_cmd "$part"
    rc=$?
    names+=("$part$([ $rc -ne 0 ] && echo ' (FAILED)')") secs+=($((SECONDS - t0)))
    if [ $rc -ne 0 ]; then status=$rc; break; fi
done
summary
exit $status
