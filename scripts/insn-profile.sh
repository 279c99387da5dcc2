#!/usr/bin/env bash
# insn-profile.sh: where a benchmark's timed instructions go, by function.
# Boots BUILD under QEMU with the insnprof plugin (tools/insnprof), which
# counts the instructions executed while a timed region is open (every
# vCPU's), then prints per function (kernel symbols from BUILD/ferry.elf,
# user ones from BUILD/root.elf) the instructions per region, the share and
# how often per region it was entered.
# Run one benchmark configuration at a time (one name, one size): every
# region of the boot is pooled.  Regions shorter than MIN_REGION
# instructions (the runner's calibration of an empty region) are left out
# of the count of regions, not of the instructions (they are a few each).
# Usage: scripts/insn-profile.sh BUILD "CMDLINE" [SMP]
#   ACCEL=icount (default: tcg -icount shift=0,sleep=off) or ACCEL=mttcg
#   INITRD=BUILD/root.elf: the root task alone; TOP=N rows (default 25)
# Example: scripts/insn-profile.sh build "bench=ipc_call/xcpu sizes=0 samples=2000" 2
set -uo pipefail
build=$1 cmdline=$2 smp=${3:-1}
cd "$(dirname "$0")/.."
[ -f "$build/ferry.elf" ] || { echo "insn-profile: no $build/ferry.elf (make BUILD=$build all)" >&2; exit 2; }
make -s --no-print-directory BUILD="$build" insnprof || exit 2
initrd=${INITRD:-$(make -s --no-print-directory BUILD="$build" print-initrd)}
case ${ACCEL:-icount} in
    icount) accel=(-accel tcg -icount shift=0,sleep=off) ;;
    mttcg) accel=(-accel tcg,thread=multi) ;;
    *) echo "insn-profile: ACCEL is icount or mttcg" >&2; exit 2 ;;
esac
disk=()
[ -f "$build/disk.img" ] && disk=(-drive "file=$build/disk.img,format=raw,if=ide,index=0,snapshot=on")
prof=$(mktemp) log=$(mktemp)
trap 'rm -f "$prof" "$log"' EXIT
timeout "${TIMEOUT:-600}" qemu-system-x86_64 -M pc -m 256M -display none -no-reboot -serial "file:$log" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 "${accel[@]}" -cpu max -smp "$smp" "${disk[@]}" \
    -plugin "$build/insnprof.so,out=$prof" -kernel "$build/ferry-mb1.elf" -initrd "$initrd" -append "$cmdline"
grep -a '^@result\|^@error' "$log" | cut -c1-200
/usr/bin/python3 - "$prof" "$build/ferry.elf" "$build/root.elf" "${MIN_REGION:-50}" "${TOP:-25}" <<'EOF'
import bisect, collections, statistics, subprocess, sys
prof, kernel, root, min_region, top = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])

def symbols(elf):
    out = subprocess.run(["nm", "-n", "--defined-only", elf], capture_output=True, text=True).stdout
    syms = [(int(a, 16), n) for a, t, n in (l.split()[:3] for l in out.splitlines() if len(l.split()) >= 3)
            if t in "tTwW"]
    return [a for a, _ in syms], [n for _, n in syms]

tables = {"kernel": symbols(kernel), "user": symbols(root)}
def name(va):
    """The function va lies in, and whether va is its first instruction."""
    side = "kernel" if va >= 0xffff800000000000 else "user"
    addrs, names = tables[side]
    i = bisect.bisect_right(addrs, va) - 1
    return (names[i] if i >= 0 else "?") + ("" if side == "kernel" else " [user]"), i >= 0 and addrs[i] == va

per_fn, calls, regions = collections.Counter(), collections.Counter(), []
for line in open(prof):
    f = line.split()
    if f[0] == "B":
        fn, entry = name(int(f[1], 16))
        per_fn[fn] += int(f[2]) * int(f[3])
        if entry:
            calls[fn] += int(f[3])   # blocks that start at the symbol: entries (a jump back to it counts too)
    elif f[0] == "R":
        regions.append(int(f[2]))
big = [r for r in regions if r >= min_region]
if not big:
    sys.exit(f"insn-profile: no region of {min_region} instructions or more ({len(regions)} regions in all)")
total = sum(per_fn.values())
print(f"insn-profile: {len(big)} regions of >= {min_region} instructions (median {statistics.median(big):,.0f}, "
      f"{len(regions) - len(big)} shorter); per region: instructions, share, entries, function")
for fn, n in per_fn.most_common(top):
    print(f"{n / len(big):10.1f}  {100 * n / total:5.1f}%  {calls[fn] / len(big):5.1f}  {fn}")
print(f"{total / len(big):10.1f}  100.0%         (all)")
EOF
