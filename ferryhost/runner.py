"""runner.py: one run = one build variant under one accelerator, N fresh QEMU boots, one results folder."""

import json
from dataclasses import dataclass, field
from pathlib import Path

from . import atomicio, bochs, build, catalog, env, linux, meta, qemu, records, results, tlbmodel
from . import perf as perfmod
from .errors import HarnessError
from .records import REPO

SYSTEMS = ("ferry", "linux")
TCG_FALLBACK = ("no hardware KVM here: accelerator auto runs under TCG, so the numbers are emulator time "
                "(only ratios between them mean something; tcg-icount gives path lengths)")


@dataclass
class RunSpec:
    """Everything that decides what one run measures."""
    system: str = "ferry"
    variant: str = None                              # build-variant name; derived from flags if None
    flags: dict = field(default_factory=dict)        # make variables, e.g. {"FASTPATH": "0"}
    cmdline: list = field(default_factory=list)      # extra kernel command-line words of the variant
    accel: str = "auto"
    cpu_model: str = None                            # Bochs CPU model (accel bochs); None: bochs.DEFAULT_MODEL
    smp: int = 1                                     # vCPUs (Ferry: at most 8)
    benches: list = field(default_factory=lambda: ["all"])
    sizes: list = field(default_factory=list)
    samples: int = None
    warmup: int = None
    raw: bool = True
    reps: list = field(default_factory=lambda: [0])  # repetition indices (a sweep passes one)
    timeout: float = 120.0
    qemu: str = None
    kernel: str = None                               # prebuilt image: skip the build
    initrd: list = field(default_factory=list)
    perf: bool = False
    max_exits_per_sample: float = perfmod.DEFAULT_MAX_EXITS_PER_SAMPLE
    note: str = ""                                   # free text for the reader (--note)
    tags: list = field(default_factory=list)         # labels to select runs by later (--tag)
    tlb_model: bool = False                          # boot with the TLB-model plugin (tools/tlbmodel)
    tlb_args: list = field(default_factory=list)     # its options: global=on|off, l1i=, l1d=, l2= ENTRIES:WAYS

    def name(self):
        if self.variant:
            return self.variant
        # The Linux guest has no Ferry build variants.
        return "linux" if self.system == "linux" else build.variant_name(self.flags)

    def guest_words(self):
        """The benchmark words of the kernel command line (see the contract in docs/harness.md)."""
        w = ["bench=" + ",".join(self.benches)]
        if self.samples is not None:
            w.append(f"samples={self.samples}")
        if self.warmup is not None:
            w.append(f"warmup={self.warmup}")
        if self.sizes:
            w.append("sizes=" + ",".join(str(s) for s in self.sizes))
        if self.raw:
            w.append("raw=1")
        return w + list(self.cmdline)


# The kernel's limit (kernel/arch/x86_64/include/arch/percpu.h, FERRY_MAX_CPUS).
FERRY_MAX_CPUS = 8


def validate(spec):
    if spec.system not in SYSTEMS:
        raise HarnessError(f"unknown system '{spec.system}' (choose from {', '.join(SYSTEMS)})")
    for b in spec.benches:
        if not b or not all(c.isalnum() or c in "_-/" for c in b):
            raise HarnessError(f"bad benchmark name '{b}' (letters, digits, _, - and / (name/variant) only)")
    if type(spec.smp) is not int or spec.smp < 1:
        raise HarnessError(f"bad smp {spec.smp!r}: the number of vCPUs, 1 or more")
    if spec.smp > FERRY_MAX_CPUS and spec.system == "ferry":
        raise HarnessError(f"smp {spec.smp}: Ferry brings up at most {FERRY_MAX_CPUS} CPUs")
    if spec.system == "linux" and spec.flags:
        raise HarnessError("make variables are for Ferry builds; the Linux guest has none")
    for s in spec.sizes:
        if type(s) is not int or s < 0:
            raise HarnessError(f"bad size {s!r}: sizes are non-negative integers")
    for n, v in (("samples", spec.samples), ("warmup", spec.warmup)):
        if v is not None and (type(v) is not int or v < 0 or (n == "samples" and v == 0)):
            raise HarnessError(f"bad {n} {v!r}: a whole number" + (" above 0" if n == "samples" else ", 0 or more"))
    if not spec.reps:
        raise HarnessError("no repetitions: --reps must be 1 or more")
    if spec.accel == "bochs" and spec.system != "ferry":
        raise HarnessError("accelerator bochs boots Ferry's GRUB ISO only (the Linux guest runs under QEMU)")
    if spec.accel == "bochs" and spec.perf:
        raise HarnessError("perf counts KVM exits: it has nothing to count under Bochs")
    if spec.cpu_model and spec.accel != "bochs":
        raise HarnessError("--cpu-model names a Bochs CPU model: it needs --accel bochs")
    if spec.tlb_model:
        if spec.system != "ferry":
            raise HarnessError("--tlb-model runs Ferry (it watches the root task's benchmark runner)")
        if spec.accel not in tlbmodel.ACCELS:
            raise HarnessError(f"--tlb-model is a QEMU TCG plugin: it needs --accel "
                               f"{' or '.join(tlbmodel.ACCELS)} (got {spec.accel})")
        if spec.perf:
            raise HarnessError("--tlb-model runs under TCG, perf counts KVM exits: not both")
    for a in spec.tlb_args:
        tlbmodel.check_arg(a)
    if spec.tlb_args and not spec.tlb_model:
        raise HarnessError("--tlb-arg sets an option of the TLB model: it needs --tlb-model")
    if not spec.timeout or spec.timeout <= 0:
        raise HarnessError(f"bad timeout {spec.timeout!r}: seconds above 0")


def catalog_of(spec, boot):
    """The benchmark catalogue of what will boot, or None when it cannot be read
    (a prebuilt --kernel whose program has no catalogue section)."""
    prog = boot.get("program")
    if prog is None:
        return None
    try:
        return catalog.read(prog)
    except HarnessError:
        if spec.kernel:
            return None
        raise


def prepare(spec, build_log):
    """Build or locate what to boot, check the benchmark words against its catalogue and
    keep content-addressed copies of the files; returns (boot_args_fn, boot_description).
    Nothing is booted here, so every refusal comes before QEMU starts."""
    if spec.system == "linux":
        try:
            guest = linux.build_guest(REPO / "build" / "linux")
        except linux.LinuxGuestError as e:
            raise HarnessError(f"Linux guest: {e}") from None
        boot = {"kernel": Path(guest["kernel"]), "modules": [Path(guest["initrd"])], "iso": None,
                "program": Path(guest["initrd"]).parent / "ferry-linux-bench"}
        extra = {"linux": guest.get("meta", {})}
    else:
        if spec.kernel:
            modules = [Path(m) for m in spec.initrd] or build.modules_beside(spec.kernel)
            boot = {"kernel": Path(spec.kernel), "modules": modules, "iso": None}
            boot["program"] = boot["modules"][0] if boot["modules"] else None
        else:
            boot = build.build_variant(spec.name(), spec.flags, build_log)
            boot["program"] = next((m for m in boot["modules"] if Path(m).name == "root.elf"), None)
        build.check_boot_files(boot)
        extra = {}
    cat = catalog_of(spec, boot)
    if cat is not None:
        catalog.check(spec.benches, spec.sizes, cat, f"{spec.system}/{spec.name()}")
    files = [boot["kernel"]] + list(boot["modules"])
    stored = meta.store_boot_files(files, results.results_root() / ".binaries")
    # The 64-bit kernel ELF with its symbols (the booted -mb1 file is its
    # 32-bit copy): kept too, so addresses in a run's console log can be
    # looked up later.
    elf = Path(boot["kernel"]).with_name("ferry.elf")
    symbols = meta.store_boot_files([elf], results.results_root() / ".binaries")[0] \
        if spec.system == "ferry" and elf != Path(boot["kernel"]) and elf.is_file() else None
    hashes = [h for _, h in stored]
    desc = {"kernel": str(stored[0][0]), "modules": [str(p) for p, _ in stored[1:]],
            "built_kernel": str(boot["kernel"]), "built_modules": [str(m) for m in boot["modules"]],
            "sha256": {Path(f).name: h for f, h in zip(files, hashes)},
            "iso": str(boot["iso"]) if boot.get("iso") else None,
            # The ISO is not booted and `make all` does not rebuild it: its hash
            # is recorded only when it is at least as new as the kernel.
            "iso_sha256": meta.sha256(boot["iso"]) if boot.get("iso") and Path(boot["iso"]).is_file()
            and Path(boot["iso"]).stat().st_mtime >= Path(boot["kernel"]).stat().st_mtime else None,
            "kernel_elf": str(symbols[0]) if symbols else None,
            "kernel_elf_sha256": symbols[1] if symbols else None,
            "build_id": meta.build_id(hashes), "benchmarks_checked": cat is not None, **extra}
    if spec.tlb_model:
        # Built here, so a sweep's preflight builds it once before parallel
        # runs start (each run's make then finds it up to date).
        desc["tlb_plugin"] = str(tlbmodel.build_plugin(build_log))
    stored_boot = {"kernel": stored[0][0], "modules": [p for p, _ in stored[1:]]}
    # The disk image `make all` builds beside the kernel (ferryhost/disk.py),
    # for the file-system rows: attached when there is one, its hash kept.
    disk = Path(boot["kernel"]).with_name("disk.img")
    if spec.system == "ferry" and disk.is_file():
        stored_boot["disk"] = disk
        desc["disk"] = str(disk)
        desc["disk_sha256"] = meta.sha256(disk)
    if spec.system == "linux":
        if guest.get("disk"):
            # the same FAT image, for Linux's disk rows (ferryhost/linux.py)
            desc["disk"] = str(guest["disk"])
            desc["disk_sha256"] = meta.sha256(guest["disk"])
        guest = dict(guest, kernel=stored_boot["kernel"], initrd=stored_boot["modules"][0])
        return (lambda words: linux.qemu_boot_args(guest, words)), desc
    if spec.accel == "bochs":
        # Bochs boots the GRUB ISO (Multiboot 2, the 64-bit ELF): one is
        # built per boot with its words.
        elf64 = symbols[0] if symbols else bochs.elf64_of(boot["kernel"])
        return (lambda words: bochs_boot(elf64, stored_boot["modules"], words, stored_boot.get("disk"))), desc
    return (lambda words: qemu.ferry_boot_args(stored_boot, words)), desc


def bochs_boot(kernel_elf, modules, words, disk=None):
    """What a Bochs boot needs: the 64-bit kernel and the modules for the ISO, the words, the disk."""
    return {"kernel": kernel_elf, "modules": list(modules), "cmdline": " ".join(words), "disk": disk}


def bochs_rep(bochs_bin, spec, boot, rundir, rep, on_line):
    """One boot under Bochs: a GRUB ISO with this boot's words, then bochs.run; returns
    (qemu.Boot, the command line, with the configuration kept as bochsrc-rREP)."""
    import tempfile
    model = spec.cpu_model or bochs.DEFAULT_MODEL
    with tempfile.TemporaryDirectory(prefix="ferry-bochs-") as tmp:
        iso = bochs.make_iso(boot["kernel"], boot["modules"], boot["cmdline"], Path(tmp) / "ferry.iso")
        work = Path(tmp) / "work"
        bt = bochs.run(bochs_bin, iso, model, work, rundir / f"console-r{rep}.log", spec.timeout, on_line,
                       log_path=rundir / f"bochs-r{rep}.log", disk=boot.get("disk"), smp=spec.smp)
        atomicio.write_text(rundir / f"bochsrc-r{rep}", (work / "bochsrc").read_text())
    return bt, [bochs_bin, "-q", "-f", f"bochsrc-r{rep}", "-rc", "FILE(c)"]


_features_cache = {}


def _guest_features(qemu_bin, accel, kind):
    k = (qemu_bin, accel, kind)
    if k not in _features_cache:
        _features_cache[k] = env.guest_cpu_features(qemu_bin, accel, kind)
    return _features_cache[k]


def classify(parsed, boot, fmt):
    """(status, one-line problem or None) for one boot."""
    if boot.interrupted:
        return "interrupted", "interrupted by Ctrl-C"
    if "KVM internal error" in boot.stderr:
        # QEMU pauses the VM instead of exiting, so this shows up as a hang.
        why = next((l for l in boot.stderr.splitlines() if l.strip() in
                    ("emulation failure", "Suberror: 1")), "")
        return "crashed", "KVM internal error" + (f" ({why.strip()})" if why else "") + \
            "; QEMU paused the guest" + (", killed at the timeout" if boot.timed_out else "")
    if parsed.panic is not None:
        # Before the timeout check: a guest that panics and then hangs is
        # reported by its panic text.
        return "panic", f"kernel panic: {parsed.panic}" + \
            (" (the guest then hung and was killed at the timeout)" if boot.timed_out else "")
    if boot.timed_out:
        return "timeout", f"no @done within the timeout of {boot.timeout:g} s: killed " + \
            (f"after {len(parsed.results)} results (the guest hung, or --timeout is too short "
             f"for this many samples)" if parsed.results else
             "before any result (the guest hung, or --timeout is too short for the boot)")
    if parsed.malformed:
        return "malformed", parsed.malformed[0]
    if parsed.errors:
        e = parsed.errors[0]
        names = (parsed.meta or {}).get("benchmarks")
        if e.get("bench") and isinstance(names, list) and e["bench"] not in names:
            return "failed", f"unknown benchmark '{e['bench']}' (the guest offers: {', '.join(names)})"
        return "failed", f"guest error in {e.get('bench', '?')}: {e.get('msg', json.dumps(e))}"
    if boot.exit_code == fmt.exit_failure:
        return "failed", "guest reported failure (exit 35) without an @error record"
    if boot.exit_code != fmt.exit_success:
        last = boot.stderr.strip().splitlines()[-1] if boot.stderr.strip() else "no message"
        return "crashed", f"QEMU exited with status {boot.exit_code}: {last}"
    if parsed.done is None:
        return "incomplete", "guest exited successfully but printed no @done record"
    said = parsed.done.get("records")
    if type(said) is int and said != len(parsed.results):
        # The runner counts the @result records it printed: a difference
        # means console lines were lost or garbled on the way.
        return "incomplete", f"@done counts {said} results but {len(parsed.results)} arrived"
    return "ok", None


def _tlb_boot(rundir, rep, b, tlb_rows, system, accel, spec, unit):
    """Read one boot's TLB-model output, pair it with the boot's records, add
    the rows; returns a problem line or None."""
    path = rundir / f"tlb-r{rep}.txt"
    try:
        model = tlbmodel.parse(path.read_text())
    except OSError:
        return f"the plugin wrote no {path.name}"
    except HarnessError as e:
        return str(e)
    b["tlb_model"] = {"geometry": model["header"], "totals": model["exit"]}
    console = (rundir / f"console-r{rep}.log").read_text(errors="replace").splitlines()
    skipped = []
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model, skipped)
    if skipped:
        # Timed in the kernel (floor_*): the model has no region to give them.
        b["tlb_model"]["not_modelled"] = skipped
    if not problem and skipped and not rows and (model["exit"] or {}).get("regions", 0) == 0:
        # Not one region closed: the guest did not end its regions by RDTSCP.
        problem = ("the plugin saw no user-mode rdtsc..rdtscp region (the model needs a guest CPU with "
                   "RDTSCP: -cpu max)")
    for r in rows:
        r.update(system=system, build=spec.name(), accel=accel, rep=rep, unit=unit, run=rundir.name)
    tlb_rows += rows
    return problem


def execute(spec, parent=None, rundir=None, progress=None):
    """Do the run; returns (rundir, status, problems).  Raises KeyboardInterrupt after
    saving the folder when the user presses Ctrl-C."""
    validate(spec)
    fmt = records.load_format()
    qemu_bin = env.qemu_binary(spec.qemu)
    kind = env.kvm_kind()
    accel = env.resolve_accel(spec.accel, kind)
    if spec.perf and accel != "kvm":
        raise HarnessError(f"perf is not applicable under {accel}: VM exits exist only under KVM "
                           f"(use --accel kvm on a machine with /dev/kvm, or `run` to measure without perf)")
    if progress and spec.accel == "auto" and accel != "kvm":
        progress(TCG_FALLBACK)
    build_log = []
    boot_args, boot_desc = prepare(spec, build_log)
    perf_bin = perfmod.perf_binary() if spec.perf else None

    commit, dirty = meta.git_state()
    if rundir is None:
        rundir = results.new_folder(parent or results.results_root())
    else:
        Path(rundir).mkdir(parents=True, exist_ok=True)
    rundir = Path(rundir)
    if build_log:
        atomicio.write_text(rundir / "build.log", "\n".join(build_log))
    if dirty:
        atomicio.write_text(rundir / "git.diff", meta.git_diff())
    host = env.describe(qemu_bin)
    feats, feat_err = _guest_features(qemu_bin, accel, kind)
    bochs_bin = bochs.binary() if accel == "bochs" else None
    if bochs_bin:
        bochs.check_model(bochs_bin, spec.cpu_model or bochs.DEFAULT_MODEL)
    m = meta.run_meta(spec, accel, kind, qemu_bin, host, feats, feat_err, boot_desc, commit, dirty)
    m["unit"] = env.unit_of(accel)
    m["guest_tsc_method"] = None
    m["bochs"] = bochs.describe(bochs_bin, spec.cpu_model or bochs.DEFAULT_MODEL) if bochs_bin else None
    tlb = None
    if spec.tlb_model:
        if not boot_desc["modules"]:
            raise HarnessError("--tlb-model needs the root task (--initrd) to find its benchmark runner")
        plugin = boot_desc["tlb_plugin"]
        tlb = {"plugin": str(plugin), "plugin_sha256": meta.sha256(plugin),
               "mark": tlbmodel.mark_address(boot_desc["modules"][0])}
        m["tlb_model"] = dict(tlb, mark=f"{tlb['mark']:#x}", args=list(spec.tlb_args))
    summary, samples, recs, tlb_rows, fp_rows = [], [], [], [], []
    status = "ok"
    for rep in spec.reps:
        words = spec.guest_words()
        m["kernel_cmdline"] = " ".join(words)
        parser = records.Parser(fmt)
        if progress:
            progress(f"rep {rep}: booting {spec.system}/{spec.name()} under {accel}")
        if bochs_bin:
            boot, cmd = bochs_rep(bochs_bin, spec, boot_args(words), rundir, rep, parser.feed)
        else:
            cmd = qemu.command(qemu_bin, accel, kind, boot_args(words), smp=spec.smp)
            if tlb:
                cmd += tlbmodel.qemu_args(tlb["plugin"], rundir / f"tlb-r{rep}.txt", tlb["mark"], spec.tlb_args)
            if perf_bin:
                perf_out = rundir / f"perf-r{rep}.txt"
                cmd = perfmod.wrap(perf_bin, cmd, perf_out)
            boot = qemu.run(cmd, spec.timeout, parser.feed, rundir / f"console-r{rep}.log",
                            rundir / f"qemu-stderr-r{rep}.log")
        p = parser.out
        st, problem = classify(p, boot, fmt)
        b = {"rep": rep, "status": st, "problem": problem, "exit_code": boot.exit_code,
             "seconds": round(boot.seconds, 3), "qemu_cmdline": cmd, "qemu_nice": getattr(boot, "nice", None),
             "qemu_group_nice": getattr(boot, "group_nice", None),
             "panic": p.panic,
             "malformed": p.malformed, "errors": p.errors, "done": p.done,
             "results": len(p.results), "log_lines": len(p.log)}
        if bochs_bin:
            b.update(emulator="bochs", cpu_model=spec.cpu_model or bochs.DEFAULT_MODEL, bochs_end=boot.stderr)
        if p.meta:
            m["guest_meta"] = p.meta
            # Older kernels print a "cpu" object, newer ones cpu_* flags.
            m["guest_cpu"] = p.meta.get("cpu") or {k: v for k, v in p.meta.items() if k.startswith("cpu_")} or None
            m["guest_tsc_hz"] = p.meta.get("tsc_hz")
            m["guest_tsc_method"] = p.meta.get("tsc_method")   # rdtscp, lfence or mfence (lib/include/tsc.h)
            if bochs_bin:
                # With clock sync=none the TSC counts instructions, whatever
                # frequency the CPU model states (Skylake-X: 3.5 GHz).
                m["guest_tsc_hz"] = None
        system = (p.meta or {}).get("system") or spec.system
        # An interrupted boot's records stay in its console log, not in the
        # data: a partial repetition would be pooled with whole ones.
        kept = [] if boot.interrupted else p.results
        for r in kept:
            row = {k: r.get(k) for k in results.SUMMARY_COLUMNS}
            row.update(system=system, accel=accel, rep=rep, build=spec.name(), unit=m["unit"],
                       run=rundir.name, commit=commit, date=m["date"], schema=results.CSV_SCHEMA)
            summary.append(row)
        for s in ([] if boot.interrupted else p.samples):
            for v in s["values"]:
                samples.append({"rep": rep, "bench": s["bench"], "variant": s.get("variant", ""),
                                "size": s.get("size", -1), "value": v, "system": system, "accel": accel,
                                "build": spec.name(), "unit": m["unit"], "schema": results.CSV_SCHEMA})
        recs += [dict(r, _kind="result", _rep=rep) for r in p.results]
        recs += [dict(r, _kind="error", _rep=rep) for r in p.errors]
        recs += [dict(r, _kind="fastpath", _rep=rep) for r in p.fastpath]
        for r in ([] if boot.interrupted else p.fastpath):
            fp_rows.append(dict({f"fp_{k}": v for k, v in r["misses"].items()}, system=system,
                                build=spec.name(), accel=accel, rep=rep, bench=r["bench"],
                                variant=r.get("variant", ""), size=r.get("size", -1), samples=r.get("samples"),
                                total=r["total"], run=rundir.name))
        if fp_rows:
            atomicio.write_text(rundir / "fastpath.csv", results.csv_text(
                results.FASTPATH_COLUMNS + sorted({k for r in fp_rows for k in r if k.startswith("fp_")}),
                fp_rows))
        if p.meta:
            recs.append(dict(p.meta, _kind="meta", _rep=rep))
        if tlb and not boot.interrupted:
            tproblem = _tlb_boot(rundir, rep, b, tlb_rows, system, accel, spec, m["unit"])
            if tproblem and not problem:
                problem = f"TLB model: {tproblem}"
                st = "failed" if st == "ok" else st
                b.update(status=st, problem=problem)
            recs += [dict(r, _kind="tlb", _rep=rep) for r in tlb_rows if r["rep"] == rep]
            atomicio.write_text(rundir / "tlb.csv", results.csv_text(tlbmodel.COLUMNS, tlb_rows))
        if perf_bin:
            b["perf"] = perfmod.read(perf_out, sum(r["samples"] for r in p.results),
                                  spec.max_exits_per_sample, accel)
            if b["perf"].get("disturbed"):
                m["disturbed"] = True
        m["boots"].append(b)
        if problem:
            m["problems"].append(f"rep {rep}: {problem}")
        if st != "ok" and status == "ok":
            status = st
        m["status"] = status if (st == "interrupted" or rep == spec.reps[-1]) else "running"
        results.write_run_files(rundir, m, summary, samples, recs)
        if progress:
            progress(f"rep {rep}: {st}")
        if boot.interrupted:
            raise KeyboardInterrupt
    return rundir, status, m["problems"]
