/* bench_format.h: the serial record format shared by in-guest benchmarks and the host parser.
 *
 * Every record is one line on the serial port: a prefix below, then (except
 * for @done) one JSON object.  The host harness (ferryhost/records.py) reads
 * the FERRY_REC_* prefixes and FERRY_BENCH_SCHEMA from this very file, so
 * changing a value here changes both sides at once.
 *
 *   @meta {"schema":1,"system":"ferry","tsc_hz":...,"cpu":{...},"cmdline":"..."}
 *   @result {"bench":"ipc_call","variant":"cross","size":0,"unit":"tsc",
 *            "samples":10000,"overhead":18,"min":..,"p50":..,"p90":..,"p99":..,
 *            "max":..,"mean":..,"stdev":..}
 *   @samples {"bench":"ipc_call","variant":"cross","size":0,"values":[..]}
 *   @error {"bench":"ipc_call","variant":"cross","size":0,"msg":"..."}
 *   @fastpath {"bench":"ipc_call","variant":"cross","size":0,"samples":10000,
 *              "total":N,"misses":{"call_cap":N,...}}
 *   @done {"records":N,"errors":N}
 *
 * @fastpath (Ferry, kernels with the fast path and BENCHMARK=1) follows each
 * benchmark configuration's @result or @error: how many Call/ReplyRecv the
 * fast path handed to the slow path during it (set-up, warm-up and timed
 * rounds), by reason (FERRY_FP_* in syscall.h, named in lower case without
 * the prefix).
 *
 * Numbers are integers in TSC ticks; "mean" and "stdev" are integers too
 * (rounded), so the guest needs no floating point.  "size" is the benchmark's
 * size parameter (message words, bytes) or -1 when it has none.
 */
#ifndef FERRY_UAPI_BENCH_FORMAT_H
#define FERRY_UAPI_BENCH_FORMAT_H

#define FERRY_BENCH_SCHEMA 1

#define FERRY_REC_META    "@meta "
#define FERRY_REC_RESULT  "@result "
#define FERRY_REC_SAMPLES "@samples "
#define FERRY_REC_ERROR   "@error "
#define FERRY_REC_DONE    "@done "
#define FERRY_REC_FASTPATH "@fastpath "

/* The start of the console line that reports a kernel panic (the kernel
 * prints it; the harness and the tests look for it). */
#define FERRY_CONSOLE_PANIC "PANIC: "

/* Exit codes through QEMU's isa-debug-exit (port FERRY_DEBUG_EXIT_PORT):
 * QEMU exits with (value << 1) | 1, so the host sees 33 for success and
 * 35 for failure. */
#define FERRY_DEBUG_EXIT_PORT    0xf4
#define FERRY_EXIT_SUCCESS       0x10
#define FERRY_EXIT_FAILURE       0x11
#define FERRY_QEMU_EXIT_SUCCESS  33
#define FERRY_QEMU_EXIT_FAILURE  35

/* Without isa-debug-exit (Bochs) the kernel prints this prefix and the
 * status QEMU would have exited with ("ferry-exit: 33"), then asks the
 * emulator to stop: Bochs's shutdown port takes the string "Shutdown".
 * The harness maps the line back to the same exit status. */
#define FERRY_EXIT_LINE          "ferry-exit: "
#define FERRY_BOCHS_SHUTDOWN_PORT 0x8900

#endif
