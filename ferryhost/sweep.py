"""sweep.py: a matrix of runs from a TOML file, one folder per sweep, resumable after an interruption."""

import json
import shutil
import sys
import time
from pathlib import Path

from . import RESULTS_SCHEMA, atomicio, build, env, meta, results, runner
from .errors import HarnessError

TOP_KEYS = {"name": str, "description": str, "timeout": (int, float), "samples": int, "warmup": int,
            "repetitions": int, "raw": bool, "system": list, "accel": list,
            "variants": dict, "benchmarks": list, "cpu_model": str}
VARIANT_KEYS = {"make": dict, "cmdline": list, "only": list, "accel": list}
GROUP_KEYS = {"names": list, "sizes": list, "samples": int, "timeout": (int, float), "system": list,
              "smp": int, "accel": list, "tlb_model": bool, "variants": list, "repetitions": int}
DONE = ("ok", "failed", "panic", "timeout", "malformed", "crashed", "incomplete")


_TOML_TYPE = {str: "a string", int: "an integer", float: "a number", bool: "a boolean",
              list: "an array", dict: "a table"}


def _check(table, keys, where):
    for k, v in table.items():
        if k not in keys:
            raise HarnessError(f"{where}: unknown key '{k}' (known: {', '.join(sorted(keys))})")
        t = keys[k]
        # bool is an int in Python; TOML `samples = true` is still wrong.
        if not isinstance(v, t) or (isinstance(v, bool) and t is not bool):
            want = " or ".join(_TOML_TYPE.get(x, x.__name__) for x in (t if isinstance(t, tuple) else (t,)))
            raise HarnessError(f"{where}: key '{k}' is {_TOML_TYPE.get(type(v), type(v).__name__)} "
                               f"{v!r}, expected {want}")


def load_config(path):
    """Read and validate a sweep TOML file; returns the normalized config dict."""
    import tomllib
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except OSError as e:
        raise HarnessError(f"cannot read sweep file {path}: {e.strerror}") from None
    except tomllib.TOMLDecodeError as e:
        raise HarnessError(f"bad TOML in {path}: {e}") from None
    return validate_config(raw, str(path))


def validate_config(raw, where="sweep"):
    _check(raw, TOP_KEYS, where)
    cfg = {"name": raw.get("name", "sweep"), "description": raw.get("description", ""),
           "timeout": raw.get("timeout", 120), "samples": raw.get("samples"),
           "warmup": raw.get("warmup"), "repetitions": raw.get("repetitions", 1),
           "raw": raw.get("raw", True), "system": raw.get("system", ["ferry"]),
           "accel": raw.get("accel", ["auto"]), "cpu_model": raw.get("cpu_model")}
    if cfg["repetitions"] < 1:
        raise HarnessError(f"{where}: repetitions must be at least 1")
    for s in cfg["system"]:
        if s not in runner.SYSTEMS:
            raise HarnessError(f"{where}: unknown system '{s}' (choose from {', '.join(runner.SYSTEMS)})")
    for a in cfg["accel"]:
        if a not in env.ACCELS:
            raise HarnessError(f"{where}: unknown accelerator '{a}' (choose from {', '.join(env.ACCELS)})")
    variants = raw.get("variants", {"default": {}})
    cfg["variants"] = {}
    for name, v in variants.items():
        if not isinstance(v, dict):
            raise HarnessError(f"{where}: variants.{name} must be a table")
        _check(v, VARIANT_KEYS, f"{where}: variants.{name}")
        flags = build.parse_flags([f"{k}={val}" for k, val in v.get("make", {}).items()],
                                  f"{where}: variants.{name}")
        cmdline = v.get("cmdline", [])
        if not all(isinstance(w, str) and w and " " not in w for w in cmdline):
            raise HarnessError(f"{where}: variants.{name}.cmdline must be single words")
        # only: the benchmarks (names, or name/variant) this variant runs,
        # where measuring all of them again would only cost time.
        only = v.get("only", [])
        if not all(isinstance(w, str) and w for w in only):
            raise HarnessError(f"{where}: variants.{name}.only must be benchmark names")
        # accel: the accelerators it runs under (idle polling only pays
        # where vCPUs run in parallel); each must be one the sweep uses.
        vaccel = v.get("accel", cfg["accel"])
        for a in vaccel:
            if a not in cfg["accel"]:
                raise HarnessError(f"{where}: variants.{name} names accelerator '{a}', which the sweep does not use")
        cfg["variants"][name] = {"make": flags, "cmdline": cmdline, "only": only, "accel": list(vaccel)}
    if not cfg["variants"]:
        raise HarnessError(f"{where}: no variants")
    groups = raw.get("benchmarks", [{"names": ["all"]}])
    if not groups:
        raise HarnessError(f"{where}: empty benchmarks list")
    cfg["benchmarks"] = []
    for i, g in enumerate(groups):
        if not isinstance(g, dict):
            raise HarnessError(f"{where}: benchmarks[{i}] must be a table ([[benchmarks]])")
        _check(g, GROUP_KEYS, f"{where}: benchmarks[{i}]")
        if not g.get("names"):
            raise HarnessError(f"{where}: benchmarks[{i}] needs a non-empty 'names'")
        # A group may name the systems it is for (benchmark names differ
        # between Ferry and Linux); by default it is for every system.
        systems = g.get("system", cfg["system"])
        for s in systems:
            if s not in cfg["system"]:
                raise HarnessError(f"{where}: benchmarks[{i}] is for system '{s}', "
                                   f"which the sweep does not run ({', '.join(cfg['system'])})")
        # ...and the accelerators it runs under (by default every one of the sweep's).
        accels = g.get("accel", cfg["accel"])
        for a in accels:
            if a not in cfg["accel"]:
                raise HarnessError(f"{where}: benchmarks[{i}] is for accelerator '{a}', "
                                   f"which the sweep does not use ({', '.join(cfg['accel'])})")
        # ...and the Ferry build variants it runs for (by default every one).
        gvariants = g.get("variants", list(cfg["variants"]))
        for v in gvariants:
            if v not in cfg["variants"]:
                raise HarnessError(f"{where}: benchmarks[{i}] is for variant '{v}', "
                                   f"which the sweep does not define ({', '.join(cfg['variants'])})")
        # ...and how often (timing groups in a sweep of deterministic counts want more).
        reps = g.get("repetitions", cfg["repetitions"])
        if reps < 1:
            raise HarnessError(f"{where}: benchmarks[{i}]: repetitions must be at least 1")
        for x in g.get("sizes", []):
            if type(x) is not int or x < 0:
                raise HarnessError(f"{where}: benchmarks[{i}]: size {x!r} is not a non-negative integer")
        cfg["benchmarks"].append({"names": g["names"], "sizes": g.get("sizes", []),
                                  "samples": g.get("samples"), "timeout": g.get("timeout"),
                                  "system": systems, "smp": g.get("smp", 1), "accel": accels,
                                  "tlb_model": g.get("tlb_model", False), "variants": gvariants,
                                  "repetitions": reps})
    # Let RunSpec validation check names, sizes and numbers once for every unit.
    for u in units(cfg):
        runner.validate(spec_for(cfg, u))
    return cfg


def units(cfg):
    """Every cell of the matrix, in the order they run; the id names its folder."""
    out = []
    for system in cfg["system"]:
        # The Linux baseline has no Ferry build variants: one cell per accelerator.
        variants = cfg["variants"] if system == "ferry" else {"linux": {"make": {}, "cmdline": []}}
        for vname in variants:
            for accel in cfg["accel"]:
                for gi, group in enumerate(cfg["benchmarks"]):
                    if system not in group.get("system", cfg["system"]) or \
                            accel not in group.get("accel", cfg["accel"]) or \
                            accel not in variants[vname].get("accel", cfg["accel"]) or \
                            (system == "ferry" and vname not in group.get("variants", variants)) or \
                            not _names_for(variants[vname], group):
                        continue
                    for rep in range(group.get("repetitions", cfg["repetitions"])):
                        out.append({"id": f"{system}-{vname}-{accel}-g{gi}-r{rep}", "system": system,
                                    "variant": vname, "accel": accel, "group": gi, "rep": rep})
    return out


def _names_for(variant, group):
    """The group's benchmark names a variant runs: all, or those its `only` list names
    (a name covers its name/variant forms; name/variant covers itself; `all`: the list)."""
    only = variant.get("only") or []
    if not only:
        return group["names"]
    if "all" in group["names"]:
        return list(only)
    return [n for n in group["names"] if any(n == o or n.startswith(o + "/") for o in only)]


def spec_for(cfg, u, qemu=None, kernel=None):
    g = cfg["benchmarks"][u["group"]]
    v = cfg["variants"].get(u["variant"], {"make": {}, "cmdline": []})
    return runner.RunSpec(system=u["system"], variant=u["variant"], flags=v["make"],
                          cmdline=v["cmdline"], accel=u["accel"],
                          cpu_model=cfg.get("cpu_model") if u["accel"] == "bochs" else None, smp=g.get("smp", 1), benches=_names_for(v, g),
                          sizes=g["sizes"], samples=g["samples"] or cfg["samples"],
                          warmup=cfg["warmup"], raw=cfg["raw"], reps=[u["rep"]],
                          timeout=g["timeout"] or cfg["timeout"], qemu=qemu, kernel=kernel,
                          tlb_model=g.get("tlb_model", False))


class Progress:
    """done/total, elapsed and an estimate: one rewritten line on a terminal, plain lines otherwise."""

    def __init__(self, total, done, stream=sys.stderr):
        self.total, self.done, self.stream = total, done, stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.ran = 0

    def _fmt(self, s):
        s = int(s)
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"

    def line(self, what):
        el = time.monotonic() - self.t0
        left = self.total - self.done
        est = f", ~{self._fmt(el / self.ran * left)} left" if self.ran else ""
        msg = f"[{self.done}/{self.total}] {self._fmt(el)} elapsed{est}: {what}"
        if self.tty:
            self.stream.write("\r\033[K" + msg)
        else:
            self.stream.write(msg + "\n")
        self.stream.flush()

    def finish_unit(self, what):
        self.done += 1
        self.ran += 1
        self.line(what)

    def close(self):
        """Leave the last progress line on screen."""
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()

    def note(self, msg):
        if self.tty:
            self.stream.write("\r\033[K")
        self.stream.write(msg + "\n")
        self.stream.flush()


def run_unit(cfg, u, udir, qemu=None, kernel=None):
    """One cell of the matrix into its folder udir: (status, problems); a HarnessError
    becomes status "error".  KeyboardInterrupt passes through."""
    try:
        _, st, problems = runner.execute(spec_for(cfg, u, qemu, kernel), rundir=udir)
    except HarnessError as e:
        st, problems = "error", [str(e)]
    return st, problems


def _save(sdir, state):
    atomicio.write_json(Path(sdir) / "sweep.json", state)


def find_resumable(name):
    root = results.results_root()
    cands = sorted((p for p in root.glob("sweep-*") if (p / "sweep.json").is_file()),
                   key=lambda p: p.name)
    for p in reversed(cands):
        st = json.loads((p / "sweep.json").read_text())
        if name is None or st.get("config", {}).get("name") == name:
            return p
    raise HarnessError(f"no earlier sweep{f' named {name!r}' if name else ''} under {root} to resume")


def preflight(cfg, qemu=None, kernel=None):
    """Build every variant and check every group's benchmark words against the built
    catalogue, before any folder exists or any guest boots; returns
    {"system/variant": build_id} of what the sweep will measure."""
    builds = {}
    for u in units(cfg):
        spec = spec_for(cfg, u, qemu, kernel)
        _, desc = runner.prepare(spec, [])
        builds[f"{u['system']}/{u['variant']}"] = desc["build_id"]
    return builds


def run_sweep(cfg, config_path=None, resume=None, retry_failed=False, qemu=None, kernel=None,
              stream=sys.stderr, allow_changed_build=False, jobs=1):
    """Run (or resume) a sweep; returns (sweep folder, number of units not ok).
    Every unit goes through runner.execute in one loop below; parallel and
    batch runners call run_unit for the same work on one unit.  With jobs > 1
    the instruction-count runs go first, that many at a time (parallel.py)."""
    if resume:
        sdir = Path(resume)
        state = json.loads((sdir / "sweep.json").read_text())
        if cfg is None:
            cfg = state["config"]
        elif cfg != state["config"]:
            raise HarnessError(f"{config_path} differs from the matrix of {sdir}; "
                               f"start a new sweep instead of resuming")
        builds = preflight(cfg, qemu, kernel)
        changed = sorted(k for k, v in builds.items() if state.get("builds", {}).get(k) not in (None, v))
        if changed and not allow_changed_build:
            raise HarnessError(f"the build of {', '.join(changed)} changed since {sdir.name} started "
                               f"(sources edited or rebuilt): resuming would pool two binaries; start a new "
                               f"sweep, or pass --allow-changed-build to resume anyway (the mix is recorded)")
        if changed:
            state.setdefault("build_history", []).append(
                {"date": meta.utc_now().isoformat(timespec="seconds"), "builds": builds})
        commit, dirty = meta.git_state()
        if (commit, dirty) != (state.get("git_commit"), state.get("git_dirty")):
            state.setdefault("resumed_at", []).append({"git_commit": commit, "git_dirty": dirty})
        state["builds"] = dict(state.get("builds", {}), **builds)
    else:
        builds = preflight(cfg, qemu, kernel)
        sdir = results.new_folder(results.results_root(), prefix="sweep-")
        commit, dirty = meta.git_state()
        state = {"schema": RESULTS_SCHEMA, "kind": "sweep", "config": cfg,
                 "config_path": str(config_path) if config_path else None,
                 "created": meta.utc_now().isoformat(timespec="seconds"),
                 "git_commit": commit, "git_dirty": dirty, "builds": builds,
                 "units": {u["id"]: dict(u, status="pending") for u in units(cfg)}}
        if dirty:
            atomicio.write_text(sdir / "git.diff", meta.git_diff())
        _save(sdir, state)
    todo = []
    for uid, u in state["units"].items():
        st = u.get("status")
        if st == "ok" or (st in DONE and not retry_failed):
            continue
        todo.append(u)
    prog = Progress(len(state["units"]), len(state["units"]) - len(todo), stream)
    prog.note(f"sweep {cfg['name']}: {len(todo)} of {len(state['units'])} runs to do, folder {sdir}")
    if "auto" in cfg["accel"] and env.resolve_accel("auto", env.kvm_kind()) != "kvm":
        prog.note("note: " + runner.TCG_FALLBACK)
    if jobs > 1:
        from . import parallel
        todo = parallel.run_deterministic(cfg, sdir, state, todo, jobs, qemu, kernel, prog,
                                          lambda: _save(sdir, state))
    for u in todo:
        udir = sdir / u["id"]
        if udir.exists():
            # Left by an interrupted attempt: its data are incomplete by
            # definition (finished units are never in `todo`).
            shutil.rmtree(udir)
        prog.line(f"{u['id']} ...")
        try:
            st, problems = run_unit(cfg, u, udir, qemu, kernel)
        except KeyboardInterrupt:
            u["status"] = "interrupted"
            _save(sdir, state)
            prog.note(f"interrupted: {prog.done}/{prog.total} runs finished; "
                      f"resume with: harness.py sweep --resume {sdir}")
            raise
        u.update(status=st, problem=problems[0] if problems else None)
        results.write_sweep_summary(sdir)
        _save(sdir, state)
        prog.finish_unit(f"{u['id']} {st}")
        if problems:
            prog.note(f"  {u['id']}: {problems[0]}")
    prog.close()
    bad = sum(1 for u in state["units"].values() if u["status"] != "ok")
    return sdir, bad
