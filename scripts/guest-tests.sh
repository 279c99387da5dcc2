#!/usr/bin/env bash
# guest-tests.sh: run the in-guest test suite under TCG, once per
# configuration, each boot bounded in time.  Prints the suite's own
# "N passed, N failed" line per run and fails when any run fails.
# Usage: guest-tests.sh BUILD_DIR [TIMEOUT_SECONDS]
set -uo pipefail
build=$1
limit=${2:-300}
qemu_common=(qemu-system-x86_64 -M pc -m 256M -display none -no-reboot -serial stdio
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg
             -kernel "$build/ferry-mb1.elf" -initrd "$build/root.elf")
status=0
run() {
    local name=$1 cpu=$2 cmdline=$3 log
    log=$(mktemp)
    echo "== in-guest tests: $name (-cpu $cpu, command line '$cmdline')"
    timeout --foreground "$limit" "${qemu_common[@]}" -cpu "$cpu" -append "$cmdline" >"$log" 2>&1
    local rc=$?
    tr -d '\r' <"$log" | grep -aE '^(pcid:|test .*: (ok|FAILED)|    |thread |invariant|PANIC|[0-9]+ passed, [0-9]+ failed)'
    case $rc in
    33) ;;
    124) echo "guest-tests: $name: the guest did not finish within ${limit}s (killed)"; status=1 ;;
    *) echo "guest-tests: $name: QEMU exit status $rc"; status=1 ;;
    esac
    rm -f "$log"
}
run "PCID off" max "pcid=off"
run "-cpu max, PCID if offered" max ""
exit $status
