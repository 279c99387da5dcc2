"""test_tlbmodel.py: the TLB-model plugin's output parser and pairing with records, its argument checks, and a real boot in which it loads and tells flush from tagged."""

import csv
import json

import pytest

from conftest import harness
from ferryhost import tlbmodel
from ferryhost.errors import HarnessError

HEADER = ("# tlbmodel 1 l1i=128:8 l1d=64:4 l2=1536:12 global=on mark=0x420b80\n"
          "# R insns flush_l1i flush_l1d flush_l2 tagged_l1i tagged_l1d tagged_l2 cr3_writes\n")


def _model(segments, before=()):
    out = [HEADER] + [f"R {r}\n" for r in before]
    for i, seg in enumerate(segments, 1):
        out.append(f"M {i}\n")
        out += [f"R {r}\n" for r in seg]
    out.append("E insns=100 regions=3 marks=2 cr3_writes=4 flush=1,2,3 tagged=0,1,1\n")
    return "".join(out)


def test_parse_segments_header_and_totals():
    m = tlbmodel.parse(_model([["10 1 2 3 0 0 1 2"], ["20 0 0 0 0 0 0 0", "30 4 5 6 1 1 1 2"]],
                              before=["8 0 0 0 0 0 0 0"]))
    assert m["header"]["l1d"] == "64:4" and m["header"]["global"] == "on"
    assert len(m["before"]) == 1 and [len(s) for s in m["segments"]] == [1, 2]
    assert m["segments"][1][1] == {"insns": 30, "flush_l1i": 4, "flush_l1d": 5, "flush_l2": 6,
                                   "tagged_l1i": 1, "tagged_l1d": 1, "tagged_l2": 1, "cr3_writes": 2}
    assert m["exit"]["flush"] == [1, 2, 3] and m["exit"]["regions"] == 3
    assert "64-entry 4-way" in tlbmodel.geometry(m["header"])


@pytest.mark.parametrize("bad", ["R 1 2 3\n", "R 1 2 3 4 5 6 7 x\n", "what\n"])
def test_parse_refuses_malformed_lines(bad):
    with pytest.raises(HarnessError, match="line 3"):
        tlbmodel.parse(HEADER + bad)


def test_parse_needs_the_header():
    with pytest.raises(HarnessError, match="header"):
        tlbmodel.parse("M 1\nR 1 0 0 0 0 0 0 0\n")


def _console(*recs):
    return [f"@{k} {json.dumps(o)}" for k, o in recs] + ["kernel log line", "@done {}"]


def test_attach_takes_the_last_samples_regions_of_each_configuration():
    # Two set-up/warm-up regions then two timed ones; the mean is over the timed ones.
    model = tlbmodel.parse(_model([["900 9 9 9 9 9 9 0", "300 3 1 4 0 0 0 2", "300 3 1 4 0 0 0 2",
                                    "310 5 1 4 0 0 0 2"],
                                   ["150 0 0 0 0 0 0 0"]]))
    console = _console(("result", {"bench": "ipc_call", "variant": "cross", "size": 0, "samples": 2, "p50": 290}),
                       ("result", {"bench": "null_syscall", "variant": "syscall", "size": -1, "samples": 1}))
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model)
    assert problem is None
    assert rows[0]["bench"] == "ipc_call" and rows[0]["regions"] == 2
    assert rows[0]["tlb_flush_l1i"] == 4.0 and rows[0]["tlb_flush_l2"] == 4.0 and rows[0]["tlb_tagged_l2"] == 0
    assert rows[0]["tlb_insns"] == 305.0
    assert rows[1]["tlb_flush_l1d"] == 0


def test_attach_skips_errors_but_keeps_their_place():
    model = tlbmodel.parse(_model([["5 1 1 1 1 1 1 0"], ["7 2 2 2 0 0 0 1"]]))
    console = _console(("error", {"bench": "x", "variant": "", "size": 0, "msg": "broke"}),
                       ("result", {"bench": "y", "variant": "", "size": 0, "samples": 1}))
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model)
    assert problem is None and [r["bench"] for r in rows] == ["y"] and rows[0]["tlb_flush_l1i"] == 2


def test_configurations_not_run_here_keep_their_place():
    """ipc_call/xcpu on one CPU is marked, then prints a note instead of a record
    (the full sweep's TLB-model boots failed to pair their 62 marks with 59 records)."""
    model = tlbmodel.parse(_model([["5 1 1 1 1 1 1 0"], ["9 9 9 9 9 9 9 0"], ["7 2 2 2 0 0 0 1"]]))
    console = (_console(("result", {"bench": "a", "variant": "", "size": 0, "samples": 1}))[:1] +
               ["note: ipc_call/xcpu: not run here: the server on another CPU needs two CPUs (-smp 2)"] +
               _console(("result", {"bench": "b", "variant": "", "size": 0, "samples": 1})))
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model)
    assert problem is None and [r["bench"] for r in rows] == ["a", "b"] and rows[1]["tlb_flush_l1i"] == 2


def test_attach_refuses_to_guess_when_counts_differ():
    model = tlbmodel.parse(_model([["5 1 1 1 1 1 1 0"]]))
    console = _console(("result", {"bench": "a", "size": 0, "samples": 1}),
                       ("result", {"bench": "b", "size": 0, "samples": 1}))
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model)
    assert rows == [] and "cannot pair" in problem


def test_attach_leaves_out_benchmarks_timed_in_the_kernel():
    model = tlbmodel.parse(_model([["5 1 1 1 1 1 1 0"], ["7 2 2 2 0 0 0 1"]]))
    console = _console(("result", {"bench": "floor_cr3", "variant": "flush", "size": -1, "samples": 50}),
                       ("result", {"bench": "ipc_call", "variant": "cross", "size": 0, "samples": 1}))
    skipped = []
    rows, problem = tlbmodel.attach(tlbmodel.runner_records(console), model, skipped)
    assert problem is None and [r["bench"] for r in rows] == ["ipc_call"]
    assert skipped == ["floor_cr3/flush size -1: 1 user-mode timed regions for 50 samples"]


def test_runner_errors_before_any_configuration_are_not_paired():
    recs = tlbmodel.runner_records(_console(("error", {"bench": "nosuch", "size": -1, "msg": "unknown benchmark"}),
                                            ("result", {"bench": "a", "size": 0, "samples": 1})))
    assert [o["bench"] for _, o in recs] == ["a"]


def test_table_text_names_both_policies():
    row = {"build": "default", "bench": "ipc_call", "variant": "cross", "size": "0", "accel": "tcg-icount",
           **{f"tlb_{c}": "1" for c in tlbmodel.COUNTERS}}
    t = tlbmodel.table_text([row])
    assert "flush i/d/L2" in t and "tagged i/d/L2" in t and "default/ipc_call/cross/0/tcg-icount" in t


@pytest.mark.parametrize("args,why", [(["--accel", "kvm"], "TCG plugin"),
                                      (["--accel", "bochs"], "TCG plugin"),
                                      (["--system", "linux", "--accel", "tcg"], "runs Ferry")])
def test_run_refuses_tlb_model_off_tcg(fake_env, args, why):
    p = harness("run", "--tlb-model", "--bench", "ipc_call", "--kernel", fake_env["kernel"], *args)
    assert p.returncode != 0 and why in p.stderr


def test_plugin_loads_and_tagging_removes_the_flush_misses(real_env):
    """A real boot under tcg-icount: the cross-space round trip writes CR3 twice
    and misses after each flush; the same round trip with tagging misses less.
    The same-space round trip writes no CR3: both policies agree there."""
    p = harness("run", "--accel", "tcg-icount", "--tlb-model", "--bench", "ipc_call/cross,ipc_call/same",
                "--sizes", "0", "--samples", "50", "--no-raw", timeout=600)
    assert p.returncode == 0, p.stderr + p.stdout
    assert "TLB model: misses per timed region" in p.stdout
    runs = [d for d in (real_env / "results").iterdir() if not d.name.startswith(".")]
    assert len(runs) == 1
    with (runs[0] / "tlb.csv").open() as f:
        rows = {r["variant"]: r for r in csv.DictReader(f)}
    cross, same = rows["cross"], rows["same"]
    flush = sum(float(cross[f"tlb_flush_{l}"]) for l in tlbmodel.LEVELS)
    tagged = sum(float(cross[f"tlb_tagged_{l}"]) for l in tlbmodel.LEVELS)
    assert float(cross["tlb_cr3_writes"]) == 2
    assert flush > 0 and tagged < flush
    assert float(same["tlb_cr3_writes"]) == 0
    assert all(same[f"tlb_flush_{l}"] == same[f"tlb_tagged_{l}"] for l in tlbmodel.LEVELS)
    meta = json.loads((runs[0] / "meta.json").read_text())
    assert meta["tlb_model"]["mark"].startswith("0x")
    assert meta["boots"][0]["tlb_model"]["totals"]["marks"] == 2
    # The same boot's @fastpath records: the plain cross-space round trip never
    # falls off the fast path for a reason of its own (set-up's object
    # invocations count as call_cap, the first Call before the server waits
    # as call_no_receiver).
    with (runs[0] / "fastpath.csv").open() as f:
        fp = {r["variant"]: r for r in csv.DictReader(f)}
    assert int(fp["cross"]["samples"]) == 50
    assert all(int(v) == 0 for k, v in fp["cross"].items()
               if k.startswith("fp_") and k not in ("fp_call_cap", "fp_call_no_receiver"))


@pytest.mark.parametrize("opt", ["global=off", "global=on", "l1d=32:4", "l2=2048:16"])
def test_plugin_options_pass(opt):
    args = tlbmodel.qemu_args("/p/tlbmodel.so", "/r/tlb-r0.txt", 0x420b80, [opt])
    assert args == ["-plugin", f"/p/tlbmodel.so,out=/r/tlb-r0.txt,mark=0x420b80,{opt}"]


@pytest.mark.parametrize("opt", ["global=maybe", "l1d=64", "l1d=65:4", "out=/tmp/x", "mark=0x1", "l3=8:2"])
def test_plugin_options_refused(opt):
    with pytest.raises(HarnessError, match="TLB-model option"):
        tlbmodel.check_arg(opt)


def test_tlb_arg_needs_tlb_model(fake_env):
    p = harness("run", "--tlb-arg", "global=off", "--accel", "tcg", "--bench", "ipc_call", "--kernel",
                fake_env["kernel"])
    assert p.returncode != 0 and "needs --tlb-model" in p.stderr


def test_tlb_figure_from_tlb_csv(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from ferryhost import plot, results
    row = {"system": "ferry", "build": "default", "accel": "tcg-icount", "rep": 0, "bench": "ipc_call",
           "variant": "cross", "size": 0, "p50": 290, "regions": 10, "unit": "instructions", "run": "r",
           **{f"tlb_{c}": 1 for c in tlbmodel.COUNTERS}}
    (tmp_path / "tlb.csv").write_text(results.csv_text(tlbmodel.COLUMNS, [row, dict(row, rep=1)]))
    fig, made = plot.tlb_figure([tmp_path], tmp_path)
    assert fig.name == "tlb" and made == [tmp_path / "tlb.png"] and made[0].stat().st_size > 0
    assert plot.tlb_figure([tmp_path / "nothing"], tmp_path) == (None, [])


def test_no_region_at_all_is_a_problem(tmp_path):
    """A guest whose regions never end by RDTSCP (another TSC method) leaves the
    model nothing: said, not silently an empty table."""
    from ferryhost import runner
    (tmp_path / "tlb-r0.txt").write_text(HEADER + "M 1\nE insns=5 regions=0 marks=1 cr3_writes=0 "
                                         "flush=0,0,0 tagged=0,0,0\n")
    (tmp_path / "console-r0.log").write_text(
        '@result {"bench":"ipc_call","variant":"cross","size":0,"samples":5,"p50":1}\n')
    b, rows = {}, []
    spec = runner.RunSpec(tlb_model=True, accel="tcg-icount")
    problem = runner._tlb_boot(tmp_path, 0, b, rows, "ferry", "tcg-icount", spec, "instructions")
    assert rows == [] and "RDTSCP" in problem
    assert b["tlb_model"]["not_modelled"] == ["ipc_call/cross size 0: 0 user-mode timed regions for 5 samples"]
