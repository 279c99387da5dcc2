#!/usr/bin/env bash
# fuzz.sh: the long system-call fuzz: one boot per seed (TCG), each running
# the in-guest fuzzer for CALLS calls followed by the kernel invariant check,
# with the guest's progress lines shown as they come.  Fails on a panic, a
# broken invariant or a boot that does not finish, and prints the command
# that replays the failing seed.
# Usage: fuzz.sh BUILD_DIR "SEEDS" CALLS [EXTRA_WORDS] [TIMEOUT_PER_BOOT]
set -uo pipefail
build=$1
seeds=$2
calls=$3
extra=${4:-}
limit=${5:-900}
qemu=(qemu-system-x86_64 -M pc -m 256M -display none -no-reboot -serial stdio
      -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg -cpu max
      -kernel "$build/ferry-mb1.elf" -initrd "$build/root.elf")
total=0
status=0
start=$(date +%s)
for seed in $seeds; do
    cmdline="test=syscall_fuzz,kernel_invariants fuzz_seed=$seed fuzz_calls=$calls $extra"
    log=$(mktemp)
    echo "== fuzz: seed $seed, $calls calls ($(date -u +%H:%M:%S))"
    t0=$(date +%s)
    timeout --foreground "$limit" "${qemu[@]}" -append "$cmdline" 2>&1 | tr -d '\r' | tee "$log" |
        grep --line-buffered -aE '^(    fuzz:|    [0-9]+ random|    untyped|invariant|PANIC|test .*: (ok|FAILED)|[0-9]+ passed)'
    rc=${PIPESTATUS[0]}
    done_calls=$(grep -aoE 'fuzz: done, seed [^,]+, [0-9]+ calls' "$log" | grep -oE '[0-9]+ calls' | grep -oE '[0-9]+')
    if [ "$rc" -eq 33 ] && [ -n "$done_calls" ] && grep -aq '^2 passed, 0 failed' "$log"; then
        total=$((total + done_calls))
        echo "   seed $seed: $done_calls calls in $(( $(date +%s) - t0 ))s, invariants intact"
    else
        status=1
        case $rc in
        124) why="did not finish within ${limit}s" ;;
        33) why="exited with success but without the fuzzer's closing line (a sandbox thread ended the run?)" ;;
        *) why="QEMU exit status $rc" ;;
        esac
        echo "fuzz: seed $seed FAILED: $why"
        echo "fuzz: replay: make run ACCEL=tcg CMDLINE=\"$cmdline\"   (full log kept in $log)"
        continue
    fi
    rm -f "$log"
done
echo "fuzz: $total calls over seeds [$seeds] in $(( $(date +%s) - start ))s$([ $status -eq 0 ] && echo ', no panic, invariants intact' || echo ', FAILED')"
exit $status
