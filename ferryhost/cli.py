"""cli.py: the command line of harness.py: one function per subcommand."""

import argparse
import json
import os
import sys

from .errors import HarnessError
from .records import REPO

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
                          max_exits_per_sample=getattr(a, "max_exits_per_sample", 1.0),
                          note=a.note or "", tags=a.tag or [],
                          tlb_model=getattr(a, "tlb_model", False), tlb_args=getattr(a, "tlb_arg", None) or [])


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
    if (rundir / "summary.csv").is_file() and (rundir / "summary.csv").read_text().count("\n") > 1:
        from . import report
        print(report.show_text([rundir]))
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
    if a.results:
        # Through the environment: unit processes and Slurm tasks inherit it.
        os.environ["FERRY_RESULTS"] = os.path.abspath(a.results)
    cfg = sweep.load_config(a.config) if a.config else None
    resume = None
    if a.resume == "latest":
        resume = sweep.find_resumable(cfg["name"] if cfg else None)
    elif a.resume:
        resume = results.resolve(a.resume)
        if not (resume / "sweep.json").is_file():
            raise HarnessError(f"{resume} is a run, not a sweep: nothing to resume")
    if a.slurm or (resume and "slurm" in json.loads((resume / "sweep.json").read_text())):
        from . import slurm
        return slurm.sweep_command(a, cfg, resume)
    try:
        sdir, bad = sweep.run_sweep(cfg, a.config, resume=resume, retry_failed=a.retry_failed,
                                    qemu=a.qemu, kernel=a.kernel, allow_changed_build=a.allow_changed_build,
                                    jobs=_jobs(a.jobs))
    except KeyboardInterrupt:
        return 130
    from . import report
    try:
        print(report.show_text([sdir]))
    except HarnessError as e:
        print(f"harness: show: {e}", file=sys.stderr)
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
        _report_skipped(skipped)
        print(f"{len(made)} files in {out} (open {out / 'index.html'})")
    return 0 if not bad else 1


def _jobs(n):
    from . import parallel
    if n is not None and n < 1:
        raise HarnessError(f"--jobs {n}: at least 1")
    return n or parallel.default_jobs()


def cmd_task(a):
    """One run of a sweep folder, as a process of its own (parallel sweeps, Slurm array tasks)."""
    from . import parallel
    uid = a.unit
    if uid is None:
        if a.units is None or a.index is None:
            raise HarnessError("task needs UNIT or --units FILE --index N")
        ids = [l.strip() for l in open(a.units) if l.strip()]
        if not 0 <= a.index < len(ids):
            raise HarnessError(f"--index {a.index} outside {a.units} ({len(ids)} runs)")
        uid = ids[a.index]
    st, problems = parallel.run_task(a.sweep, uid, qemu=a.qemu, kernel=a.kernel, pin=a.pin)
    print(f"{st}: {uid}" + (f": {problems[0]}" if problems else ""))
    return 0 if st == "ok" else 130 if st == "interrupted" else 1


def cmd_merge(a):
    """Collect a Slurm sweep's finished tasks into its folder; list failed, lost and waiting runs."""
    from . import merge, results
    sdir = results.resolve(a.sweep)
    state = merge.wait(sdir, a.timeout) if a.wait else merge.collect(sdir)
    bad, waiting = merge.report(sdir, state)
    if a.plot and not waiting:
        from . import plot
        out, made, skipped = plot.plot_all(sdir)
        print(f"{len(made)} figures in {out}")
    return 3 if waiting else 1 if bad else 0


def cmd_plot(a):
    """PNG figures (SVG/PDF, gnuplot on request) and index.html from run or sweep folders."""
    from . import plot, results
    folders = [results.resolve(f) for f in a.folder]
    out, made, skipped = plot.plot_all(folders, a.out, vector=a.vector, gnuplot=a.gnuplot)
    _report_skipped(skipped)
    print(f"{len(made)} files in {out} (open {out / 'index.html'})")
    return 0 if made else 1


def _report_skipped(lines):
    """Figures left out say why; warnings and flags (non-monotonic, mixed builds) say so."""
    for s in lines:
        print(f"harness: {'' if s.startswith(('warning', 'flag')) else 'skipped '}{s}", file=sys.stderr)


def cmd_compare(a):
    """Ratio of medians B/A with bootstrap intervals; non-zero exit on a regression."""
    from . import compare, results
    threshold = compare.parse_threshold(a.threshold)
    compare.check_options(a.resamples, a.confidence)
    A, B = results.resolve(a.a), results.resolve(a.b)
    rows, da, db = compare.compare(A, B, resamples=a.resamples, confidence=a.confidence,
                                   benches=a.bench or (), variants=a.variant or ())
    if not rows:
        raise HarnessError("the two results have no benchmark configuration in common"
                           + (" (after --bench/--variant)" if a.bench or a.variant else ""))
    print(compare.table(rows, threshold, da, db))
    tr = compare.transport_table(rows)
    if tr:
        print("\n" + tr)
    bad = compare.regressions(rows, threshold)
    if bad:
        print(f"harness: {len(bad)} regressions beyond {threshold * 100:g}%", file=sys.stderr)
        return 1
    return 0


def cmd_paper(a):
    """The paper's numbers (LaTeX macros), tables and figures from results folders (paper/generated)."""
    from . import paper, results
    folders = [results.resolve(f) for f in a.folder] if a.folder else paper.default_folders()
    out, used, files, notes = paper.generate(folders, a.out)
    for n in notes:
        print(f"harness: {n}", file=sys.stderr)
    print(f"{len(files)} files in {out} from {', '.join(str(f) for f in used)}")
    return 0


def cmd_list(a):
    """Benchmarks, their variants and sizes, from the built program's catalogue; the make
    variables a variant may set; the engines."""
    from . import build, catalog, env, linux
    if a.system == "linux":
        prog = REPO / "build" / "linux" / "ferry-linux-bench"
        prog.parent.mkdir(parents=True, exist_ok=True)
        linux.build_program(prog)
    else:
        flags = build.parse_flags(a.flags)
        boot = build.build_variant(build.variant_name(flags), flags, [])
        prog = next((m for m in boot["modules"] if m.name == "root.elf"), None)
        if prog is None:
            raise HarnessError("the build boots no root.elf: nothing to read the catalogue from")
    cat = catalog.read(prog)
    if a.json:
        print(json.dumps({"program": str(prog), "benchmarks": cat,
                          "make_variables": {k: {"values": v[0], "default": v[1], "meaning": v[2]}
                                             for k, v in build.MAKE_VARIABLES.items()},
                          "engines": {x: env.unit_of(x) for x in env.ACCELS if x != "auto"}}, indent=1))
        return 0
    print(f"benchmarks of {a.system} (from {prog.relative_to(REPO) if prog.is_relative_to(REPO) else prog}):")
    for e in cat:
        name = e["name"] + (f"/{e['variant']}" if e["variant"] else "")
        sizes = ",".join(map(str, e["sizes"])) if e["sizes"] is not None else "-"
        print(f"  {name:22} sizes {sizes:34} {e['description']}")
    print("make variables of a Ferry build variant (run VAR=VAL, sweep [variants.X] make = {...}):")
    for k, (vals, default, meaning) in build.MAKE_VARIABLES.items():
        print(f"  {k}={'|'.join(vals):8} default {default}: {meaning}")
    print("engines (--accel): " + ", ".join(f"{x} ({env.unit_of(x)})" for x in env.ACCELS if x != "auto")
          + ", auto (kvm when usable, else tcg)")
    return 0


def cmd_show(a):
    """Medians, p10-p90 and bootstrap intervals per benchmark, with a stability warning."""
    from . import report
    print(report.show_text(report.folders_of(a.folder), a.resamples, a.confidence))
    return 0


def cmd_export(a):
    """One long CSV or JSON table (one row per value) of any set of runs and sweeps."""
    from . import report
    n = report.export(report.folders_of(a.folder), a.out, a.format, a.samples)
    if a.out not in (None, "-"):
        print(f"{n} rows in {a.out}", file=sys.stderr)
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
                   help="vCPUs of the guest (Linux cpu2 and Ferry xcpu/floor_ipi benchmarks need 2; Ferry: at most 8; default 1)")
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
    p.add_argument("--note", help="free text stored in meta.json and exports")
    p.add_argument("--tag", action="append", metavar="TAG", help="a label stored with the run (repeatable)")
    p.add_argument("--tlb-model", action="store_true",
                   help="boot with the TLB-model QEMU plugin (tcg or tcg-icount): TLB misses per timed region "
                        "under flush-on-CR3-write and tagged (PCID) policies, in tlb.csv and the show table")
    p.add_argument("--tlb-arg", action="append", metavar="OPT",
                   help="a TLB-model option (repeatable): global=off (kernel half not global), "
                        "l1i=, l1d=, l2=ENTRIES:WAYS (default 128:8, 64:4, 1536:12)")


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
    p.add_argument("--allow-changed-build", action="store_true",
                   help="resume although a variant's binary changed (the mix is recorded and flagged)")
    p.add_argument("--qemu", help="QEMU binary")
    p.add_argument("--kernel", help="boot this prebuilt kernel for every Ferry run instead of building")
    p.add_argument("--plot", action="store_true", help="plot the sweep when it ends (as `plot` does)")
    p.add_argument("--jobs", "-j", type=int, metavar="N",
                   help="instruction-count runs (tcg-icount) at once; timing runs stay serial (default: cores)")
    p.add_argument("--results", metavar="DIR", help="parent folder of the sweep (default results/ or $FERRY_RESULTS)")
    p.add_argument("--slurm", action="store_true",
                   help="submit the runs as Slurm job arrays instead (see docs/cluster.md)")
    p.add_argument("--partition", help="Slurm partition for --slurm")
    p.add_argument("--sbatch-arg", action="append", default=[], metavar="OPT",
                   help="extra sbatch option for --slurm, e.g. --sbatch-arg=--time=2:00:00 (repeatable)")
    p.set_defaults(fn=cmd_sweep)
    p = sub.add_parser("merge", help=cmd_merge.__doc__)
    p.add_argument("sweep", metavar="SWEEP", help="a sweep folder submitted with sweep --slurm")
    p.add_argument("--wait", action="store_true", help="collect until no task is queued or running")
    p.add_argument("--timeout", type=float, default=86400, help="seconds --wait waits at most")
    p.add_argument("--plot", action="store_true", help="plot the sweep when no task is left waiting")
    p.set_defaults(fn=cmd_merge)
    p = sub.add_parser("task", help=cmd_task.__doc__)
    p.add_argument("sweep", metavar="SWEEP", help="the sweep folder")
    p.add_argument("unit", nargs="?", help="the run's id (its folder name)")
    p.add_argument("--units", metavar="FILE", help="file of run ids, one a line (a Slurm array's list)")
    p.add_argument("--index", type=int, help="line of --units to run (0-based: $SLURM_ARRAY_TASK_ID)")
    p.add_argument("--pin", action="store_true", help="pin QEMU to CPUs of its own (timing runs on a whole node)")
    p.add_argument("--qemu", help="QEMU binary")
    p.add_argument("--kernel", help="boot this prebuilt kernel instead of building")
    p.set_defaults(fn=cmd_task)
    p = sub.add_parser("plot", help=cmd_plot.__doc__)
    p.add_argument("folder", metavar="RUN_OR_SWEEP", nargs="+",
                   help="a results folder, its name, or latest; several are drawn together")
    p.add_argument("--out", help="output folder (default plots/<name>)")
    p.add_argument("--vector", choices=("svg", "pdf"), help="also this vector format next to each PNG")
    p.add_argument("--gnuplot", action="store_true", help="also gnuplot scripts (<name>.gp), rendered when "
                   "gnuplot is installed")
    p.add_argument("--no-gnuplot", action="store_true", help=argparse.SUPPRESS)   # the default now
    p.set_defaults(fn=cmd_plot)
    p = sub.add_parser("compare", help=cmd_compare.__doc__)
    p.add_argument("a", metavar="A", help="baseline run or sweep")
    p.add_argument("b", metavar="B", help="candidate run or sweep")
    p.add_argument("--threshold", default="5%", help="tolerated slowdown: 5%% or 0.05 (default 5%%)")
    p.add_argument("--bench", type=_csv_words, help="only these benchmarks, comma-separated")
    p.add_argument("--variant", type=_csv_words, help="only these record or build variants, comma-separated")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level of the interval")
    p.set_defaults(fn=cmd_compare)
    p = sub.add_parser("paper", help=cmd_paper.__doc__)
    p.add_argument("folder", metavar="RESULTS", nargs="*",
                   help="run or sweep folders, names or latest (default: the latest full sweep, else the "
                        "latest sweep, plus the latest pcid sweep)")
    p.add_argument("--out", help="output folder (default paper/generated)")
    p.set_defaults(fn=cmd_paper)
    p = sub.add_parser("list", help=cmd_list.__doc__)
    p.add_argument("flags", nargs="*", metavar="VAR=VAL", help="the build variant to list (default: default)")
    p.add_argument("--system", default="ferry", choices=("ferry", "linux"))
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(fn=cmd_list)
    p = sub.add_parser("show", help=cmd_show.__doc__)
    p.add_argument("folder", metavar="RUN_OR_SWEEP", nargs="+", help="folders, names or latest")
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples")
    p.add_argument("--confidence", type=float, default=0.95, help="confidence level of the interval")
    p.set_defaults(fn=cmd_show)
    p = sub.add_parser("export", help=cmd_export.__doc__)
    p.add_argument("folder", metavar="RUN_OR_SWEEP", nargs="+", help="folders, names or latest")
    p.add_argument("--out", help="output file (default: standard output)")
    p.add_argument("--format", choices=("csv", "json"), help="default: from --out's suffix, else csv")
    p.add_argument("--samples", action="store_true", help="also one row per raw sample (metric 'sample')")
    p.set_defaults(fn=cmd_export)
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
