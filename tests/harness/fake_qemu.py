#!/usr/bin/python3
"""fake_qemu.py: stands in for qemu-system-x86_64 in the harness tests, printing Ferry-style records.

Behaviour is chosen by kernel command-line words after -append:
  fake=ok (default) | hang | panic | panichang | lossy | malformed | crash | silent | hangafter
  fakescale=F   multiply every latency by F (to make one side slower)
  fakesleep=S   take S seconds more before @done (to see runs overlap)
  bench=..., samples=N, sizes=..., raw=1 as the real kernel reads them.
The exit status mimics isa-debug-exit: 33 success, 35 failure.
"""

import json
import random
import sys
import time

BENCHES = {"floor_rdtsc": 30, "floor_cr3": 200, "floor_ipc": 150, "ipc_call": 400,
           "ipc_len": 420, "bulk_copy": 1000, "bulk_grant": 600}
SIZED = ("ipc_len", "bulk_copy", "bulk_grant")


def main(argv):
    if "--version" in argv:
        print("QEMU emulator version 7.2.0 (fake for Ferry tests)")
        return 0
    if "-qmp" in argv:
        return 0        # no QMP: the harness records that it could not ask
    words = argv[argv.index("-append") + 1].split() if "-append" in argv else []
    opt = dict(w.split("=", 1) for w in words if "=" in w)
    mode = opt.get("fake", "ok")
    scale = float(opt.get("fakescale", "1"))
    n = int(opt.get("samples", "200"))
    sizes = [int(s) for s in opt["sizes"].split(",")] if "sizes" in opt else [0, 8, 64]
    names = opt.get("bench", "all").split(",")
    if names == ["all"]:
        names = ["floor_rdtsc", "floor_cr3"]
    out = sys.stdout
    out.write("Ferry fake kernel booting\n")
    out.write("@meta " + json.dumps({"schema": 1, "system": "ferry", "tsc_hz": 2000000000,
                                     "cpu": {"vendor": "Fake", "pcid": True},
                                     "cmdline": " ".join(words), "benchmarks": sorted(BENCHES)}) + "\n")
    out.flush()
    if mode == "crash":
        return 1
    if mode == "silent":
        time.sleep(3600)
    rng = random.Random(" ".join(words))
    nrec = 0
    for i, b in enumerate(names):
        if b not in BENCHES:
            out.write("@error " + json.dumps({"bench": b, "variant": "", "size": -1,
                                              "msg": "unknown benchmark"}) + "\n")
            out.write("@done " + json.dumps({"records": nrec, "errors": 1}) + "\n")
            return 35
        for size in (sizes if b in SIZED else [-1]):
            base = BENCHES[b] * scale * (1 + max(size, 0) / 64)
            vals = sorted(int(base + rng.expovariate(1 / (base * 0.05))) for _ in range(n))
            res = {"bench": b, "variant": "fake", "size": size, "unit": "tsc", "samples": n,
                   "overhead": 18, "min": vals[0], "p50": vals[(n + 1) // 2 - 1],
                   "p90": vals[-(-9 * n // 10) - 1], "p99": vals[-(-99 * n // 100) - 1],
                   "max": vals[-1], "mean": round(sum(vals) / n), "stdev": 1}
            if mode == "malformed" and i == 0:
                out.write('@result {"bench": "' + b + '", "p50": \n')
                continue
            nrec += 1
            if mode == "lossy" and nrec == 1:
                continue    # counted in @done but never printed, as if the line was lost
            out.write("@result " + json.dumps(res) + "\n")
            if opt.get("raw") == "1":
                out.write("@samples " + json.dumps({"bench": b, "variant": "fake", "size": size,
                                                    "values": vals}) + "\n")
            out.write(f"kernel log line after {b}\n")
            out.flush()
        if mode in ("panic", "panichang"):
            out.write("PANIC: page fault in kernel at rip=0xffffffff80001234 cr2=0x0\n")
            out.write("rax=0 rbx=0 rcx=0\n")
            if mode == "panichang":
                out.flush()
                time.sleep(3600)
            return 35
        if mode == "hangafter":
            out.flush()
            time.sleep(3600)
    if mode == "hang":
        time.sleep(3600)
    time.sleep(float(opt.get("fakesleep", "0")))
    out.write("@done " + json.dumps({"records": nrec, "errors": 0}) + "\n")
    return 33


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
