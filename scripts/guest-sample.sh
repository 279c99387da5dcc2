#!/usr/bin/env bash
# guest-sample.sh: where the guest's vCPUs spend their time, by sampling
# through QEMU's gdb stub: boots BUILD with the kernel command line CMDLINE
# on SMP vCPUs (multi-threaded TCG), waits START seconds, then stops the
# machine N times and records every vCPU's RIP, and prints per vCPU the
# functions (kernel symbols from BUILD/ferry.elf, else "user 0x...") with
# their share of the samples.  Works where perf sees only QEMU's JIT code
# (docs/smp.md "The convoy": how it found both CPUs spinning for the lock).
# Each sample stops every vCPU at its next translation-block boundary, so
# code that leaves its block often (a `pause` ends one under TCG) is
# over-sampled; read the result as "where", not as exact shares.
# Usage: scripts/guest-sample.sh BUILD SMP "CMDLINE" [START [N [GDB_PORT]]]
# (INITRD=BUILD/root.elf: the root task alone, no boot modules: benchmarks
# start at once, without the system's processes)
set -uo pipefail
build=$1 smp=$2 cmdline=$3 start=${4:-3} n=${5:-40} port=${6:-1299}
cd "$(dirname "$0")/.."
for tool in gdb addr2line qemu-system-x86_64; do
    command -v "$tool" >/dev/null || { echo "guest-sample: $tool is missing (scripts/setup.sh)" >&2; exit 2; }
done
[ -f "$build/ferry.elf" ] || { echo "guest-sample: no $build/ferry.elf (make BUILD=$build all)" >&2; exit 2; }
initrd=${INITRD:-$(make -s --no-print-directory BUILD="$build" print-initrd)}
log=$(mktemp) samples=$(mktemp)
qemu-system-x86_64 -M pc -m 256M -display none -no-reboot -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg,thread=multi -cpu max -smp "$smp" \
    -kernel "$build/ferry-mb1.elf" -initrd "$initrd" -append "$cmdline" -gdb "tcp:127.0.0.1:$port" 2>/dev/null &
qemu=$!
trap 'kill $qemu 2>/dev/null; rm -f "$log" "$samples"' EXIT
sleep "$start"
for _ in $(seq "$n"); do
    kill -0 $qemu 2>/dev/null || break
    # One stop: every vCPU's (gdb thread's) RIP, then the machine runs on.
    timeout 10 gdb -nx -batch -ex "target remote 127.0.0.1:$port" \
        -ex 'thread apply all printf "cpu %d %lx\n", $_thread - 1, $pc' -ex detach 2>/dev/null |
        grep -E '^cpu [0-9]+ [0-9a-f]+$' >>"$samples"
    sleep 0.05
done
taken=$(awk '{print $2}' "$samples" | sort | uniq -c | awk '{printf "%s%s", s, $1; s="/"}')
echo "guest-sample: $(wc -l <"$samples") vCPU samples (per vCPU: ${taken:-none}), $build, -smp $smp, \"$cmdline\""
# Symbolise: kernel addresses through addr2line, the rest as user code.
awk '{print $3}' "$samples" | sort -u | while read -r pc; do
    if [[ $pc == ffffffff* ]]; then
        echo "$pc $(addr2line -f -e "$build/ferry.elf" "0x$pc" | head -1)"
    else
        echo "$pc user"
    fi
done >"$samples.sym"
awk 'NR == FNR { sym[$1] = $2; next } { k = $2 " " sym[$3]; c[k]++; t[$2]++ }
     END { for (k in c) { split(k, a, " "); printf "cpu %s %5.1f%% %s\n", a[1], 100 * c[k] / t[a[1]], a[2] } }' \
    "$samples.sym" "$samples" | sort -k2,2n -k3,3nr
rm -f "$samples.sym"
