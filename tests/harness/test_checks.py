"""test_checks.py: what is refused before building or booting, the benchmark catalogue, provenance, show and export."""

import csv
import io
import json
import re

import pytest

from conftest import REPO, harness
from ferryhost import build, catalog, report, results, runner, sweep
from ferryhost.errors import HarnessError

ROOT_ELF = REPO / "build" / "root.elf"     # `make harness-tests` builds it first


def _no_runs(results_dir):
    return not results_dir.exists() or not [p for p in results_dir.iterdir() if not p.name.startswith(".")]


def _run(fake_env, *extra):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--samples", "200", *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1].split(": ", 1)[1].strip()


# -- the catalogue: read from the built root task, not from a copy -------------

def test_catalog_of_the_built_root_task():
    cat = catalog.read(ROOT_ELF)
    by = {(e["name"], e["variant"]): e for e in cat}
    assert ("ipc_call", "cross") in by and ("floor_rdtsc", "") in by
    assert 0 in by[("ipc_call", "cross")]["sizes"] and by[("floor_rdtsc", "")]["sizes"] is None
    assert by[("bulk_copy", "")]["max_samples"] > 0
    # Every benchmark source file's table contributes (one name per family at least).
    src = "".join(p.read_text() for p in (REPO / "bench" / "ferry").glob("*.c"))
    for name in re.findall(r'\.name = "(\w+)"', src):
        assert any(e["name"] == name for e in cat), name
    names = catalog.names(cat)
    assert "ipc_call/cross" in names and "ipc_call" in names


def test_catalog_check_refuses_unknown_names_and_useless_sizes():
    cat = catalog.read(ROOT_ELF)
    catalog.check(["ipc_call", "floor_rdtsc", "all"], [0, 4], cat, "here")
    with pytest.raises(HarnessError, match="unknown benchmark 'ipc_cal'.*did you mean.*ipc_call"):
        catalog.check(["ipc_cal"], [], cat, "here")
    with pytest.raises(HarnessError, match="none of floor_rdtsc takes a size"):
        catalog.check(["floor_rdtsc"], [8], cat, "here")


def test_catalog_of_a_file_without_one(tmp_path):
    p = tmp_path / "x.elf"
    p.write_bytes(b"not an elf")
    with pytest.raises(HarnessError, match="not a little-endian ELF64"):
        catalog.read(p)


def test_unknown_benchmark_refused_before_booting(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--initrd", ROOT_ELF, "--accel", "tcg",
                "--bench", "ipc_cal")
    assert r.returncode != 0 and "unknown benchmark 'ipc_cal'" in r.stderr and r.stderr.count("\n") == 1
    assert _no_runs(fake_env["results"])


def test_sweep_with_unknown_benchmark_leaves_no_folder(fake_env, tmp_path, monkeypatch):
    # futex_rt: a Linux benchmark with no Ferry counterpart (pipe_rt now has one: the libc's pipes).
    monkeypatch.setattr(runner, "catalog_of", lambda spec, boot: catalog.read(ROOT_ELF))
    cfg = tmp_path / "s.toml"
    cfg.write_text('name = "t"\naccel = ["tcg"]\n[[benchmarks]]\nnames = ["floor_rdtsc", "futex_rt"]\n')
    with pytest.raises(HarnessError, match="unknown benchmark 'futex_rt' in ferry/default"):
        sweep.run_sweep(sweep.load_config(cfg), kernel=str(fake_env["kernel"]), stream=io.StringIO())
    assert _no_runs(fake_env["results"])


# -- make variables: one declared table ------------------------------------------

@pytest.mark.parametrize("flag, says", [("FOO=1", "unknown make variable 'FOO'"),
                                        ("FASTPAHT=0", "unknown make variable 'FASTPAHT'"),
                                        ("FASTPATH=7", "bad value FASTPATH=7"),
                                        ("CC=nocc", "unknown make variable 'CC'")])
def test_bad_make_variables_refused_before_building(fake_env, flag, says):
    r = harness("run", flag, "--accel", "tcg", "--bench", "floor_rdtsc")
    assert r.returncode != 0 and says in r.stderr and r.stderr.count("\n") == 1
    assert _no_runs(fake_env["results"])


def test_variable_table_matches_the_makefile():
    """Adding a switch to the Makefile's BUILD_FLAGS without its line in MAKE_VARIABLES
    (or the reverse) fails here."""
    mk = (REPO / "Makefile").read_text()
    line = re.search(r"^BUILD_FLAGS\s*:=(.*)$", mk, re.M).group(1)
    assert set(re.findall(r"\$\(([A-Z][A-Z0-9_]*)\)", line)) == set(build.MAKE_VARIABLES)
    for k, (vals, default, _) in build.MAKE_VARIABLES.items():
        assert re.search(rf"^{k}\s*\?=\s*{default}\s*$", mk, re.M), k
        assert default in vals
    # A combination the Makefile stops on is refused before make runs.
    assert build.parse_flags(["DIRECTSWITCH=0", "FASTPATH=0"]) == {"DIRECTSWITCH": "0", "FASTPATH": "0"}
    with pytest.raises(HarnessError, match="DIRECTSWITCH=0 needs FASTPATH=0"):
        build.parse_flags(["DIRECTSWITCH=0"])


def test_build_error_names_the_missing_tool(tmp_path):
    text = ("  CC      kernel/core/ipc.c\nmake: nocc: No such file or directory\n"
            "make: *** [Makefile:97: build/kobj/kernel/core/ipc.c.o] Error 127\n")
    assert build.build_error(text) == "make: nocc: No such file or directory"
    assert build.build_error("x.c:3:1: error: expected ';'\nmake: *** Error 1").startswith("x.c:3:1: error")
    path = build.save_log(tmp_path / "v", ["$ make", "out"])
    assert (tmp_path / "v" / "build.log").read_text() == "$ make\nout" and path.endswith("build.log")


# -- other edges ----------------------------------------------------------------

def test_zero_reps_and_perf_without_kvm(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--reps", "0")
    assert r.returncode != 0 and "--reps must be 1 or more" in r.stderr
    r = harness("perf", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_rdtsc")
    assert r.returncode != 0 and "perf is not applicable under tcg" in r.stderr
    assert _no_runs(fake_env["results"])


# -- provenance -----------------------------------------------------------------

def test_run_provenance(fake_env):
    d = results.resolve(_run(fake_env, "--bench", "floor_rdtsc", "--note", "baseline", "--tag", "t1"))
    m = json.loads((d / "meta.json").read_text())
    from ferryhost import meta
    h = meta.sha256(fake_env["kernel"])
    assert m["boot"]["sha256"]["kernel.elf"] == h and len(m["build_id"]) == 16
    # The run booted (and its command line names) a content-addressed copy,
    # which a later build or edit of the original cannot change.
    stored = m["boot"]["kernel"]
    assert h in stored and meta.sha256(stored) == h and stored in m["boots"][0]["qemu_cmdline"]
    fake_env["kernel"].write_bytes(b"\x7fELF changed")
    assert meta.sha256(stored) == h
    assert m["tools"]["cc"] and "gcc" in m["tools"]["cc"].lower()
    assert m["note"] == "baseline" and m["tags"] == ["t1"]
    assert (d / "git.diff").is_file() == m["git_dirty"]


def test_resume_refuses_a_changed_build(fake_env, tmp_path, monkeypatch):
    cfg = tmp_path / "s.toml"
    cfg.write_text('name = "r"\naccel = ["tcg"]\nrepetitions = 2\nsamples = 50\n'
                   '[[benchmarks]]\nnames = ["floor_rdtsc"]\n')
    cfg = sweep.load_config(cfg)
    real = runner.execute
    calls = []

    def interrupting(spec, **kw):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(spec, **kw)
    monkeypatch.setattr(runner, "execute", interrupting)
    with pytest.raises(KeyboardInterrupt):
        sweep.run_sweep(cfg, kernel=str(fake_env["kernel"]), stream=io.StringIO())
    monkeypatch.setattr(runner, "execute", real)
    sdir = next(fake_env["results"].glob("sweep-*"))
    fake_env["kernel"].write_bytes(b"\x7fELF edited and rebuilt")
    with pytest.raises(HarnessError, match="build of ferry/default changed.*--allow-changed-build"):
        sweep.run_sweep(cfg, resume=sdir, kernel=str(fake_env["kernel"]), stream=io.StringIO())
    _, bad = sweep.run_sweep(cfg, resume=sdir, kernel=str(fake_env["kernel"]), stream=io.StringIO(),
                             allow_changed_build=True)
    assert bad == 0 and json.loads((sdir / "sweep.json").read_text())["build_history"]
    # The pooled result is flagged wherever it is read.
    assert "different binaries" in report.show_text([sdir])
    r = harness("compare", sdir, sdir, "--resamples", "200")
    assert " !" in r.stdout and "more than one binary" in r.stdout
    r = harness("plot", sdir)
    assert r.returncode == 0 and "warning: 1 configuration(s) pool rows from different binaries" in r.stderr


# -- show and export ------------------------------------------------------------

def test_show_table_and_stability_warning(fake_env):
    a = _run(fake_env, "--bench", "floor_rdtsc,ipc_len", "--sizes", "0,8", "--reps", "2")
    text = report.show_text([results.resolve(a)])
    assert "ferry/default/ipc_len/fake/8/tcg" in text and "UNSTABLE" not in text
    row = next(l for l in text.splitlines() if "floor_rdtsc" in l)
    assert re.search(r"\[\d[\d.]*, \d[\d.]*\]", row)
    # Two folders of one configuration whose repetitions disagree by 50%.
    b = _run(fake_env, "--bench", "floor_rdtsc", "--cmdline", "fakescale=1.5")
    text = report.show_text([results.resolve(a), results.resolve(b)])
    assert "UNSTABLE" in text and "warning: 1 configuration(s) UNSTABLE" in text
    r = harness("show", a)
    assert r.returncode == 0 and "median" in r.stdout


def test_run_ends_with_the_show_table(fake_env):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--bench", "floor_rdtsc")
    assert r.returncode == 0 and "bootstrap interval" in r.stdout and "floor_rdtsc" in r.stdout


def test_export_long_table_loads_in_pandas(fake_env, tmp_path):
    pd = pytest.importorskip("pandas")
    a = _run(fake_env, "--bench", "floor_rdtsc,ipc_len", "--sizes", "0,8", "--tag", "x")
    b = _run(fake_env, "FASTPATH=0", "--bench", "floor_rdtsc")
    out = tmp_path / "all.csv"
    r = harness("export", a, b, "--out", out, "--samples")
    assert r.returncode == 0, r.stderr
    df = pd.read_csv(out)
    for c in ("run", "commit", "date", "engine", "build", "unit", "schema", "metric", "value", "size"):
        assert c in df.columns, c
    assert set(df["build"]) == {"default", "fastpath0"} and set(df["engine"]) == {"tcg"}
    assert set(df["unit"]) == {"ticks"} and (df["schema"] >= 1).all()
    p50 = df[(df.metric == "p50") & (df.bench == "floor_rdtsc")]
    assert len(p50) == 2 and p50["size"].isna().all()          # sizeless: empty, not -1
    assert (df[df.bench == "ipc_len"]["size"].dropna() >= 0).all()
    assert (df.metric == "sample").sum() > 0
    j = tmp_path / "all.json"
    assert harness("export", a, "--out", j).returncode == 0
    dj = pd.read_json(j)
    assert {"run", "engine", "unit"} <= set(dj.columns) and len(dj) > 0


def test_csv_columns_name_run_commit_unit(fake_env):
    d = results.resolve(_run(fake_env, "--bench", "floor_rdtsc", "--accel", "tcg-icount"))
    rows = list(csv.DictReader((d / "summary.csv").open()))
    assert rows[0]["run"] == d.name and rows[0]["unit"] == "instructions" and rows[0]["schema"]
    s = list(csv.DictReader((d / "samples.csv").open()))
    assert s[0]["accel"] == "tcg-icount" and s[0]["build"] == "default" and s[0]["system"] == "ferry"


def test_linux_program_has_a_catalogue(tmp_path):
    """The Linux baseline program carries the same catalogue section (BENCH_CATALOG)."""
    from ferryhost import linux
    prog = tmp_path / "ferry-linux-bench"
    linux.build_program(prog)
    names = catalog.names(catalog.read(prog))
    assert {"pipe_rt", "pipe_rt/cpu2", "futex_rt/cpu1", "bulk_shm", "null_syscall"} <= names
    assert "ipc_call" not in names


def test_stats_refuses_zero_resamples():
    from ferryhost import stats
    with pytest.raises(ValueError):
        stats.hierarchical_ratio([[1, 2]], [[1, 2]], resamples=0)


def test_list_from_the_build():
    r = harness("list", "--json", timeout=600)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["program"].endswith("root.elf")
    names = {(e["name"], e["variant"]) for e in d["benchmarks"]}
    assert ("ipc_call", "cross") in names and ("floor_ipc", "") in names
    assert set(d["make_variables"]) == set(build.MAKE_VARIABLES)
    assert d["engines"]["tcg-icount"] == "instructions" and d["engines"]["tcg"] == "ticks"
    r = harness("list")
    assert "ipc_call/cross" in r.stdout and "FASTPATH=1|0" in r.stdout
    r = harness("list", "FOO=1")
    assert r.returncode != 0 and "unknown make variable 'FOO'" in r.stderr


def test_failed_build_names_the_tool_and_keeps_its_log(tmp_path, monkeypatch):
    import subprocess
    monkeypatch.setattr(build, "builddir", lambda name: tmp_path / name)
    monkeypatch.setattr(build, "_make", lambda args, log=None, quiet=False: (
        log.append("$ make all\nmake: nocc: No such file or directory") if log is not None else None,
        subprocess.CompletedProcess(args, 2, "  CC      kernel/core/ipc.c\n",
                                    "make: nocc: No such file or directory\n"
                                    "make: *** [Makefile:97: build/kobj/kernel/core/ipc.c.o] Error 127\n"))[1])
    log = []
    with pytest.raises(HarnessError) as e:
        build.build_variant("broken", {"FASTPATH": "0"}, log)
    assert "failed: make: nocc: No such file or directory" in str(e.value)
    assert (tmp_path / "broken" / "build.log").read_text().startswith("$ make all")
    assert str(tmp_path / "broken" / "build.log") in str(e.value)


def test_sweep_says_when_auto_falls_back_to_tcg(fake_env, tmp_path):
    from ferryhost import env
    if env.resolve_accel("auto", env.kvm_kind()) == "kvm":
        pytest.skip("this machine has hardware KVM: auto does not fall back")
    cfg = tmp_path / "s.toml"
    cfg.write_text('name = "t"\n[[benchmarks]]\nnames = ["floor_rdtsc"]\n')
    err = io.StringIO()
    sdir, bad = sweep.run_sweep(sweep.load_config(cfg), kernel=str(fake_env["kernel"]), stream=err)
    assert bad == 0 and "runs under TCG, so the numbers are emulator time" in err.getvalue()
    # The sweep folder also merges the raw samples, each row naming its run.
    rows = list(csv.DictReader((sdir / "samples.csv").open()))
    assert rows and all((sdir / r["run"]).is_dir() for r in rows)


def test_structure():
    """Item 8 of issue #14: REPO defined once, no dead Linux-module scaffolding, run
    metadata assembled in meta.py, build_figures in pieces."""
    import inspect
    from ferryhost import meta, plot
    src = {p.name: p.read_text() for p in (REPO / "ferryhost").glob("*.py")}
    assert [n for n, t in src.items() if re.search(r"^REPO\s*=", t, re.M)] == ["records.py"]
    assert "linux_module" not in src["runner.py"] and "not in this tree yet" not in src["runner.py"]
    assert "def run_meta" in src["meta.py"] and "meta.run_meta(" in src["runner.py"]
    assert len(inspect.getsource(plot.build_figures).splitlines()) < 40
    assert "ipc_len" not in (REPO / "docs" / "harness.md").read_text()
    assert meta.tool_version("gcc")


# -- a prebuilt kernel takes the modules of the build folder it lies in ----------

def test_prebuilt_kernel_takes_its_build_folders_modules(tmp_path):
    mods = build.modules_beside(REPO / "build" / "ferry-mb1.elf")
    names = [m.name for m in mods]
    assert names[0] == "root.elf" and "boot.conf" in names and "names.elf" in names
    assert all(m.is_file() for m in mods)
    # Not a build folder (no root.elf beside the kernel): nothing is guessed.
    (tmp_path / "ferry-mb1.elf").write_bytes(b"\x7fELF")
    assert build.modules_beside(tmp_path / "ferry-mb1.elf") == []
