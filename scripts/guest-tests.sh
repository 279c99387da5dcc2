#!/usr/bin/env bash
# guest-tests.sh: run the in-guest test suite on several guest CPUs, each
# boot bounded in time: QEMU TCG with CPU models that lack RDTSCP, PCID,
# x2APIC and TSC-deadline (qemu64: AMD vendor, so the mfence TSC reads;
# Nehalem: Intel, lfence) and with them partly (max: RDTSCP, SMAP), and
# Bochs (ferryhost/bochs.py) with a Haswell (PCID + INVPCID, x2APIC,
# TSC-deadline) and a Skylake-X (the same plus SMAP), so those kernel paths
# run in every `make test`.  Prints the suite's own "N passed, N failed" line
# per run, checks the log lines that say which paths ran, then (full set)
# runs a short benchmark on qemu64, Nehalem and Bochs Haswell; fails when
# any run fails.
# Usage: guest-tests.sh BUILD_DIR [TIMEOUT_SECONDS] [full|variant]
#   full (default): the whole suite on qemu64, max with 2 CPUs, Bochs Haswell
#         and Bochs Skylake-X; the smp tests on more CPU counts; benchmarks
#   variant: qemu64, and Bochs Haswell or (GUEST_TESTS_BOCHS=0) QEMU -cpu max
#            (the FASTPATH=0, LAZYFPU=0, BENCHMARK=0, UBSAN=1 builds;
#            GUEST_TESTS_SMP=1 adds the smp tests and the fuzzer on two vCPUs)
#   kpti: variant's, and the smp tests on Bochs Haswell with 2 CPUs (KPTI=1:
#         APs, IPIs and shootdowns with two tables and PCIDs)
set -uo pipefail
build=$1
limit=${2:-600}   # Bochs runs the whole suite, the io tests with 100 driver restarts, in 4-5 min on a busy machine
set_=${3:-full}
cd "$(dirname "$0")/.."
# The root task, the boot configuration and the programs (Makefile MODULES):
# one -initrd list for QEMU, one --module each for Bochs's GRUB ISO.
initrd=$(make -s --no-print-directory BUILD="$build" print-initrd)
bochs_modules=()
IFS=, read -ra mods <<<"$initrd"
for m in "${mods[@]}"; do bochs_modules+=(--module "$m"); done
# The FAT disk image (ferryhost/disk.py) on the primary IDE master, as in
# make run; the guest's writes go to a snapshot (Bochs: to a copy).
disk="$build/disk.img"
make -s --no-print-directory BUILD="$build" "$disk" || exit 1
# Guest memory: 256 MiB, as the harness's boots; the KPTI=1 kernel reserves
# 16 MiB of user page tables in its image, and with the process server's
# 112 MiB moved out the root task's test sandbox would shrink from 64 MiB
# to 32 (too small for long_ops_preemptible and the fuzzer): 320 MiB there.
megs=256
[ "$set_" = kpti ] && megs=320
qemu_common=(qemu-system-x86_64 -M pc -m "${megs}M" -display none -no-reboot -serial stdio
             -device isa-debug-exit,iobase=0xf4,iosize=0x04 -accel tcg
             -drive "file=$disk,format=raw,if=ide,index=0,snapshot=on"
             -kernel "$build/ferry-mb1.elf" -initrd "$initrd")
# The boots are independent and each emulator is (nearly) single-threaded,
# so they run GUEST_TEST_JOBS at a time (default: one per host CPU); each
# run's report is printed whole, in the order below, once all have ended.
jobs_max=${GUEST_TEST_JOBS:-$(nproc)}
reports=()
report_dir=$(mktemp -d)
trap 'rm -rf "$report_dir"' EXIT
# run NAME EMULATOR MODEL CMDLINE [REGEX...]: each REGEX must match a log line.
# QEMU gets $smp vCPUs (1 unless the call sets smp=N).
# The suite's "N passed, N failed" or a benchmark run's @done are checked by
# the exit status (33: success).
# The runs are listed once (schedule, below) and started in two passes,
# Bochs's first: they are the long ones (a whole suite takes about three
# times QEMU's), and a long run started last leaves the other CPU idle
# at the end (guest-tests-ubsan took 265 s for a 195 s Bochs run started
# after a 60 s QEMU one).  Reports keep the list's order.
run() {
    local report
    report="$report_dir/$(printf %03d "$pos")"
    pos=$((pos + 1))
    [ "$2" = "$pass" ] || return 0
    reports+=("$report")
    while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do wait -n; done
    ( status=0; run_one "$@"; echo "$status" >"$report.status" ) >"$report" 2>&1 &
}
run_one() {
    local name=$1 emu=$2 model=$3 cmdline=$4 log rc t0=$SECONDS
    shift 4
    log=$(mktemp)
    echo "== in-guest tests: $name ($emu, cpu $model, command line '$cmdline')"
    if [ "$emu" = bochs ]; then
        /usr/bin/python3 -m ferryhost.bochs --cpu-model "$model" --smp "${smp:-1}" --megs "$megs" --kernel "$build/ferry.elf" \
            "${bochs_modules[@]}" --cmdline "$cmdline" --timeout "$limit" --disk "$disk" >"$log" 2>&1
    else
        timeout --foreground "$limit" "${qemu_common[@]}" -smp "${smp:-1}" -cpu "$model" -append "$cmdline" >"$log" 2>&1
    fi
    rc=$?
    echo "   ($((SECONDS - t0)) s)"
    # The log without CRs, once (grep -q on a pipe would end tr early: SIGPIPE).
    tr -d '\r' <"$log" >"$log.txt"
    grep -aE '^(pcid:|idle:|paging:|apic:|timer:|smp:|tsc: timed|system:|test .*: (ok|FAILED)|    |thread |invariant|PANIC|[0-9]+ passed, [0-9]+ failed|bochs: guest)' "$log.txt"
    case $rc in
    33) ;;
    124) why "the guest did not finish within ${limit}s (killed)" ;;
    *) why "exit status $rc" ;;
    esac
    local re
    for re in "$@"; do
        grep -aEq "$re" "$log.txt" || why "no log line matches '$re'"
    done
    # A failed run's last console lines go to the closing summary too: in
    # a CI log only the end may be shown, and the reports come in run order.
    if [ "$status" != 0 ]; then
        { echo "   the console's last lines:"; grep -av '^ *$' "$log.txt" | tail -n 12 | cut -c1-200 | sed 's/^/   | /'; } \
            >>"$report.why"
    fi
    rm -f "$log" "$log.txt"
}
# why REASON: the run fails; the reason is printed now and again at the end.
why() {
    echo "guest-tests: $name: $1"
    echo "guest-tests: FAILED: $name: $1" >>"$report.why"
    status=1
}
schedule() {
# The boot demo (make run's: a disk file through fatfs, ata and serial)
# runs on every boot that names no tests: checked on qemu64 and Bochs.
demo_ok='^system: demo done .*memory back'
run "qemu64" qemu qemu64 "pcid=off" '^tsc: timed regions read by mfence' '^pcid: off' '^apic: xAPIC' "$demo_ok"
# (Nehalem, an Intel CPU whose TSC reads take lfence, boots below with the
# short benchmark; the Intel paths run the whole suite under Bochs, and
# QEMU's -cpu max runs it on two vCPUs: a whole suite on each of these
# single-CPU models as well cost about 3 minutes of make test.)
# Multiprocessor (docs/smp.md): the whole suite on two vCPUs (the smp_*
# tests then run threads on both), and the smp_* tests on four vCPUs of
# a CPU without x2APIC; every CPU must come up.
smp_tests="test=smp_affinity,smp_per_core_preemption,smp_notify_xcpu,smp_xcpu_call_stress,smp_delete_running_thread,smp_churn_under_ipc,smp_tlb_shootdown,smp_handoff_churn,smp_floor_ipi_halt"
# The SMP stress and churn tests are cut to a few thousand Calls and a few
# dozen rounds here: under multi-threaded TCG every vCPU spins for the big
# kernel lock while its holder's host thread may be descheduled, and with
# the boots run in parallel on a two-core host the default counts ran past
# the 600 s limit (`make stress` runs the 1,000,000-Call stress).
smp_short="smp_stress_calls=2000 smp_churn_rounds=30"
[ "$set_" = full ] && smp=2 run "max, 2 CPUs" qemu max "$smp_short" '^smp: 2 CPUs up' \
    '^tsc: timed regions read by rdtscp' 'SMAP on'
# The smp tests again with idle CPUs that poll before they halt (docs/smp.md,
# "Idle polling"): wake-ups without an IPI while they poll, with one after.
# Not the whole suite: on a loaded two-core host the whole suite with
# polling ran past the limit (one run took 15 min at load 11; not separated
# from the load: each PAUSE of the poll leaves QEMU's translated code, and
# its vCPU thread then takes QEMU's global lock, which device I/O needs).
[ "$set_" = full ] && smp=2 run "max, 2 CPUs, idle polling: the smp tests" qemu max "$smp_tests $smp_short idle_poll_us=50" \
    '^smp: 2 CPUs up' '^idle: a CPU polls its ready queues for 50 us'
[ "$set_" = full ] && smp=4 run "qemu64, 4 CPUs: the smp tests" qemu qemu64 "$smp_tests $smp_short" '^smp: 4 CPUs up'
# A variant build asked for it (GUEST_TESTS_SMP=1: the UBSAN=1 LOCKDEBUG=1
# kernel, whose lock-order checks panic on a breach): the smp tests on two
# vCPUs too.
[ "$set_" = variant ] && [ "${GUEST_TESTS_SMP:-0}" = 1 ] && smp=2 run "qemu64, 2 CPUs: the smp tests" qemu qemu64 \
    "$smp_tests,syscall_fuzz" '^smp: 2 CPUs up' 'build: .*LOCKDEBUG=1'
# Bochs on two CPUs: x2APIC IPIs, and the shootdown with PCIDs and INVPCID.
smp_set() { [ "$set_" = full ] || [ "$set_" = kpti ]; }
smp_set && smp=2 run "Bochs Haswell, 2 CPUs: the smp tests" bochs corei7_haswell_4770 "$smp_tests" \
    '^smp: 2 CPUs up .*x2APIC' '^pcid: on \(ASID = PCID, INVPCID'
# Under Bochs the fuzzer runs too: Bochs 2.7 delivers a single-step #DB at
# the kernel's first entry instruction after a `syscall` made with TF set
# (hardware does not: SYSCALL clears TF through FMASK, Xen XSA-204); the
# kernel takes #DB on a stack of its own and returns into the entry
# (traps.c), so that is no longer a way to stop it.
# GUEST_TESTS_BOCHS=0 (the FASTPATH=0, LAZYFPU=0 and BENCHMARK=0 builds,
# whose switches touch no path Bochs's CPU models are here for: without the
# fast path every IPC takes the slow path, which the default build's Bochs
# runs take for most of the suite's IPC already): QEMU -cpu max instead
# (XSAVE, RDTSCP, SMAP), a third as long as Bochs, to keep make test
# within CI's 30 minutes.
if [ "${GUEST_TESTS_BOCHS:-1}" = 1 ]; then
    run "Bochs Haswell: PCID, INVPCID, x2APIC, TSC-deadline" bochs corei7_haswell_4770 "" \
        '^pcid: on \(ASID = PCID, INVPCID' '^apic: x2APIC' '^timer: .*TSC-deadline mode' "$demo_ok"
else
    run "max (Bochs left out: GUEST_TESTS_BOCHS=0)" qemu max "" '^tsc: timed regions read by rdtscp' 'SMAP on' "$demo_ok"
fi
[ "$set_" = full ] && run "Bochs Skylake-X: also SMAP" bochs corei7_skylake_x "" \
    '^pcid: on' 'SMEP on, SMAP on' '^apic: x2APIC'
# A short benchmark run on CPUs with each TSC read method (and PCID under
# Bochs): every record arrives, none is an error.
bench="bench=floor_rdtsc,floor_cr3,floor_ipc,null_syscall,ipc_call,yield samples=100 warmup=10 sizes=0,4"
done_ok='^@done \{"records":[1-9][0-9]*,"errors":0\}'
if [ "$set_" = full ]; then
    run "benchmarks, qemu64" qemu qemu64 "$bench" "$done_ok" '"tsc_method":"mfence"'
    run "benchmarks, Nehalem" qemu Nehalem "$bench" "$done_ok" '"tsc_method":"lfence"' \
        '^tsc: timed regions read by lfence' '^timer: .*APIC periodic'
    run "benchmarks, Bochs Haswell" bochs corei7_haswell_4770 "$bench" "$done_ok" '"tsc_method":"rdtscp"' \
        '^@result \{"bench":"floor_cr3","variant":"pcid"'
fi
}
for pass in bochs qemu; do
    pos=0
    schedule
done
wait
# In the list's order (the report files' names).
mapfile -t reports < <(printf '%s\n' "${reports[@]}" | sort)
failed=0
for r in "${reports[@]}"; do
    cat "$r"
    [ "$(cat "$r.status" 2>/dev/null)" = 0 ] || failed=$((failed + 1))
done
# The failures again, last, with each failed run's closing console lines.
for r in "${reports[@]}"; do
    [ -s "$r.why" ] && cat "$r.why"
done
echo "guest-tests: $failed of ${#reports[@]} runs failed"
[ "$failed" = 0 ]
