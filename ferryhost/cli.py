"""cli.py: the command line of harness.py: one function per subcommand."""

import argparse
import json
import os
import sys

from .errors import HarnessError

DESC = "Ferry host harness: build, boot under QEMU, record, sweep, plot and compare IPC benchmarks."


def _csv_words(s):
    return [w for w in s.split(",") if w]


def _csv_ints(s):
    try:
        return [int(w) for w in _csv_words(s)]
    except ValueError:
        raise argparse.ArgumentTypeError(f"sizes must be integers: {s!r}") from None


def _spec(a):
    from . import build, runner
    return runner.RunSpec(system=a.system, variant=a.variant, flags=build.parse_flags(a.flags),
                          cmdline=a.cmdline or [], accel=a.accel, cpu_model=a.cpu_model, smp=a.smp, benches=a.bench, sizes=a.sizes,
                          samples=a.samples, warmup=a.warmup, raw=not a.no_raw,
                          reps=list(range(a.reps)),
                          # Bochs runs some 50-100 M instructions a second: a longer bound.
                          timeout=a.timeout or (1200.0 if a.accel == "bochs" else 120.0), qemu=a.qemu,
                          kernel=a.kernel, initrd=a.initrd or [],
                          perf=getattr(a, "perf_mode", False),
                          max_exits_per_sample=getattr(a, "max_exits_per_sample", 1.0))


def _report_run(rundir, status, problems):
    for p in problems:
        print(f"harness: {p}", file=sys.stderr)
    try:
        m = json.loads((rundir / "meta.json").read_text())
    except (OSError, ValueError):
        m = {}
    for b in m.get("boots", []):
        pf = b.get("perf")
        if not pf:
            continue
        if "exits_per_sample" in pf:
            print(f"perf: rep {b['rep']}: {pf['exits']} VM exits/emulations, {pf['exits_per_sample']:.3g} "
                  f"per timed sample (bound {pf['bound']:g}): {'DISTURBED' if pf['disturbed'] else 'clean'}")
        else:
            print(f"perf: rep {b['rep']}: {pf.get('exits')} VM exits/emulations, no timed samples to relate them to"
                  + (f" ({pf['note']})" if pf.get("note") else ""))
    print(f"{status}: {rundir}")
    return 0 if status == "ok" else 1


def cmd_run(a):
    """Build the variant, boot a fresh QEMU per repetition, write one run folder."""
    from . import runner
    spec = _spec(a)
    quiet = lambda msg: print(f"harness: {msg}", file=sys.stderr)
    try:
        rundir, status, problems = runner.execute(spec, parent=a.results, progress=quiet)
    except KeyboardInterrupt:
        print("harness: interrupted; finished repetitions are kept", file=sys.stderr)
        return 130
    return _report_run(rundir, status, problems)


def cmd_perf(a):
    """`run` with perf stat counting KVM tracepoints around QEMU."""
    a.perf_mode = True
    return cmd_run(a)


def cmd_sweep(a):
    """Run every cell of a TOML matrix into one sweep folder; resumable."""
    from . import sweep, results
    if not a.config and not a.resume:
        raise HarnessError("sweep needs CONFIG.toml or --resume")
    cfg = sweep.load_config(a.config) if a.config else None
    resume = None
    if a.resume == "latest":
        resume = sweep.find_resumable(cfg["name"] if cfg else None)
    elif a.resume:
        resume = results.resolve(a.resume)
        if not (resume / "sweep.json").is_file():
            raise HarnessError(f"{resume} is a run, not a sweep: nothing to resume")
    try:
        sdir, bad = sweep.run_sweep(cfg, a.config, resume=resume, retry_failed=a.retry_failed,
                                    qemu=a.qemu, kernel=a.kernel)
    except KeyboardInterrupt:
        return 130
    print(f"{'ok' if not bad else f'{bad} runs not ok'}: {sdir}")
    if a.plot:
        # Plot this very sweep (not `latest`, which a concurrent run could
        # have become), and also when some runs failed: the rest is data.
        from . import plot
        try:
            out, made, skipped = plot.plot_all(sdir)
        except HarnessError as e:
            print(f"harness: plot: {e}", file=sys.stderr)
            return 1
        for s in skipped:
            print(f"harness: skipped {s}", file=sys.stderr)
        print(f"{len(made)} figures in {out}")
    return 0 if not bad else 1


def cmd_plot(a):
    """Figures (matplotlib and gnuplot) from run or sweep folders; reads result files only."""
    from . import plot, results
    folders = [results.resolve(f) for f in a.folder]
    out, made, skipped = plot.plot_all(folders, a.out, vector=a.vector, gnuplot=not a.no_gnuplot)
    for s in skipped:
        print(f"harness: skipped {s}", file=sys.stderr)
    print(f"{len(made)} figures in {out}")
    return 0 if made else 1


def cmd_compare(a):
    """Ratio of medians B/A with bootstrap intervals; non-zero exit on a regression."""
    from . import compare, results
    A, B = results.resolve(a.a), results.resolve(a.b)
    rows = compare.compare(A, B, resamples=a.resamples, confidence=a.confidence)
    if not rows:
        raise HarnessError("the two results have no benchmark configuration in common")
    print(compare.table(rows, a.threshold))
    bad = compare.regressions(rows, a.threshold)
    if bad:
        print(f"harness: {len(bad)} regressions beyond {a.threshold:.0%}", file=sys.stderr)
        return 1
    return 0


def cmd_env(a):
    """What this machine offers to the benchmarks."""
    from . import env
    qemu = env.qemu_binary(a.qemu)
    d = env.describe(qemu)
    kinds = {"hardware": "hardware (VT-x/AMD-V)", "pvm": "PVM software hypervisor (not used by auto)",
             None: "none"}
    feats = {}
    for accel in ("tcg", "tcg-icount", "kvm"):
        if accel == "kvm" and d["kvm_kind"] is None:
            feats[accel] = (None, "no usable /dev/kvm")
            continue
        feats[accel] = env.guest_cpu_features(qemu, accel, d["kvm_kind"])
    if a.json:
        d["guest_cpu_features"] = {k: f or e for k, (f, e) in feats.items()}
        print(json.dumps(d, indent=2))
        return 0
    print(f"KVM:            {kinds[d['kvm_kind']]}")
    print(f"auto accel:     {d['auto_accel']}")
    print(f"QEMU:           {d['qemu_version']} ({d['qemu']})")
    print(f"host CPU:       {d['host_cpu']}")
    hz = d["host_tsc_hz"]
    print(f"host TSC:       {hz / 1e6:.3f} MHz ({d['host_tsc_source']})" if hz else "host TSC:       unknown")
    interesting = ["pcid", "invpcid", "smep", "smap", "tsc-deadline", "invtsc", "syscall", "rdtscp",
                   "x2apic", "pdpe1gb", "fsgsbase", "xsave"]
    for accel, (f, err) in feats.items():
        if f is None:
            print(f"guest CPU {accel + ':':11} unknown ({err})")
            continue
        have = set(f)
        marks = " ".join(("+" if x in have else "-") + x for x in interesting)
        print(f"guest CPU {accel + ':':11} {len(f)} features; {marks}")
    return 0


def _run_options(p):
    p.add_argument("flags", nargs="*", metavar="VAR=VAL", help="make variables of the variant, e.g. FASTPATH=0")
    p.add_argument("--system", default="ferry", help="ferry (default) or linux")
    p.add_argument("--variant", help="name of the build variant (default: derived from the flags)")
    p.add_argument("--cmdline", action="append", metavar="WORD", help="extra kernel command-line word")
    p.add_argument("--accel", default="auto", help="auto, kvm, tcg, tcg-icount or bochs (default auto)")
    p.add_argument("--cpu-model", help="Bochs CPU model with --accel bochs (default corei7_haswell_4770; "
                   "corei7_skylake_x has SMAP)")
    p.add_argument("--smp", type=int, default=1,
                   help="vCPUs of the guest (Linux only: its cpu2 benchmarks need 2; default 1)")
    p.add_argument("--bench", type=_csv_words, default=["all"], help="benchmark names, comma-separated, or all")
    p.add_argument("--sizes", type=_csv_ints, default=[], help="sizes, comma-separated")
    p.add_argument("--samples", type=int, help="timed samples per benchmark (guest default 10000)")
    p.add_argument("--warmup", type=int, help="warm-up iterations")
    p.add_argument("--reps", type=int, default=1, help="repetitions, each a fresh QEMU (default 1)")
    p.add_argument("--timeout", type=float,
                   help="seconds per boot before the guest is killed (default 120; 1200 under bochs)")
    p.add_argument("--no-raw", action="store_true", help="do not ask for raw samples")
    p.add_argument("--qemu", help="QEMU binary (default $FERRY_QEMU or qemu-system-x86_64)")
    p.add_argument("--kernel", help="boot this prebuilt kernel instead of building")
    p.add_argument("--initrd", type=_csv_words, help="boot modules for --kernel, comma-separated")
    p.add_argument("--results", help="parent folder for the run (default results/)")


def parser():
    ap = argparse.ArgumentParser(prog="harness.py", description=DESC)
    sub = ap.add_subparsers(dest="cmd", required=True, metavar="COMMAND")
    p = sub.add_parser("run", help=cmd_run.__doc__)
    _run_options(p)
    p.set_defaults(fn=cmd_run)
    p = sub.add_parser("perf", help=cmd_perf.__doc__)
    _run_options(p)
    p.add_argument("--max-exits-per-sample", type=float, default=1.0,
                   help="flag the run as disturbed above this many VM exits per timed sample")
    p.set_defaults(fn=cmd_perf)
    p = sub.add_parser("sweep", help=cmd_sweep.__doc__)
    p.add_argument("config", nargs="?", help="sweep TOML file, e.g. bench/sweeps/default.toml")
    p.add_argument("--resume", metavar="SWEEP|latest", help="continue an interrupted sweep")
    p.add_argument("--retry-failed", action="store_true", help="on resume, redo runs that did not succeed")
    p.add_argument("--qemu", help="QEMU binary")
    p.add_argument("--kernel", help="boot this prebuilt kernel for every Ferry run instead of building")
    p.add_argument("--plot", action="store_true", help="plot the sweep when it ends (as `plot` does)")
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("plot", help=cmd_plot.__doc__)
    p.add_argument("folder", metavar="RUN_OR_SWEEP", nargs="+",
                   help="a results folder, its name, or latest; several are drawn together")
    p.add_argument("--out", help="output folder (default plots/<name>)")
    p.add_argument("--vector", choices=("svg", "pdf"), default="svg", help="vector format next to PNG")
    p.add_argument("--no-gnuplot", action="store_true", help="write gnuplot files but do not run gnuplot")
    p.set_defaults(fn=cmd_plot)
    p = sub.add_parser("compare", help=cmd_compare.__doc__)
    p.add_argument("a", metavar="A", help="baseline run or sweep")
    p.add_argument("b", metavar="B", help="candidate run or sweep")
    p.add_argument("--threshold", type=float, default=0.05, help="tolerated slowdown, 0.05 = 5%%")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level of the interval")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("env", help=cmd_env.__doc__)
    p.add_argument("--qemu", help="QEMU binary")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(fn=cmd_env)
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    try:
        return a.fn(a)
    except HarnessError as e:
        print(f"harness: {e}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into `head`: not an error of the harness.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
