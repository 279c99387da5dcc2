#!/usr/bin/env bash
# smp-stress.sh: the long cross-core stress (docs/smp.md): CALLS Calls in all
# by two clients per CPU to two servers per CPU on SMP vCPUs (QEMU's
# multi-threaded TCG), every answer and a checksum checked, then the
# kernel invariant check; fails unless the guest's suite passed.
# Usage: smp-stress.sh BUILD_DIR CALLS SMP [TIMEOUT_SECONDS]
set -uo pipefail
build=$1 calls=$2 smp=$3 limit=${4:-3600}
cd "$(dirname "$0")/.."
initrd=$(make -s --no-print-directory BUILD="$build" print-initrd)
make -s --no-print-directory BUILD="$build" "$build/disk.img" || exit 1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
start=$(date +%s)
timeout --foreground "$limit" qemu-system-x86_64 -M pc -m 256M -display none -no-reboot -serial stdio \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg,thread=multi -cpu max -smp "$smp" \
    -drive "file=$build/disk.img,format=raw,if=ide,index=0,snapshot=on" \
    -kernel "$build/ferry-mb1.elf" -initrd "$initrd" \
    -append "test=smp_xcpu_call_stress smp_stress_calls=$calls" >"$log" 2>&1
rc=$?
tr -d '\r' <"$log" | grep -aE '^(smp:|test .*: (ok|FAILED)|    |invariant|PANIC|[0-9]+ passed, [0-9]+ failed)'
echo "smp-stress: $calls Calls on $smp vCPUs: exit status $rc, $(( $(date +%s) - start )) s"
[ "$rc" = 33 ] && tr -d '\r' <"$log" | grep -aq "^    $calls Calls by .*all answered right"
