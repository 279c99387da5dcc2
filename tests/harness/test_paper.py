"""test_paper.py: the paper's generator (macros, tables, figures) on a fixture sweep, and make paper on it."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import REPO, harness
from ferryhost import paper

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "paper-sweep"
MACRO = re.compile(r"^\\newcommand\{\\([A-Za-z]+)\}\{(.*)\\xspace\}", re.M)


def _generate(tmp_path, folders=(FIXTURE,)):
    out, used, files, notes = paper.generate(list(folders), tmp_path / "generated")
    macros = dict(MACRO.findall((out / "numbers.tex").read_text()))
    return out, macros, notes


def test_macros_from_the_fixture(tmp_path):
    out, m, notes = _generate(tmp_path)
    # Instruction counts (every sample of a configuration is the same) and their ratios.
    assert m["ipcCrossI"] == "292" and m["ipcCrossILo"] == "292" and m["ipcCrossIHi"] == "292"
    assert m["ipcCrossSlowI"] == "1,333"
    assert m["slowOverFastI"] == "4.57"          # 1333 / 292
    assert m["ipcCrossXfloorI"] == "4.87"        # 292 / floor_ipc 60
    assert m["intEightyOverSyscallI"] == "1.50"  # 135 / 90
    assert m["tenOverFourI"] == "1.42"           # 469 / 330
    assert m["linuxPipeOverCallI"] == "10.0"     # 2920 / 292
    assert m["grantOverCopyMiBI"] == "0.45"
    # Timing-engine figures: a median inside its bootstrap interval.
    t, lo, hi = (int(m[k].replace(",", "")) for k in ("ipcCrossT", "ipcCrossTLo", "ipcCrossTHi"))
    assert lo <= t <= hi and lo < hi
    assert 1.1 < float(m["ipcCrossXfloorT"]) < 1.5
    # Machine facts from the metadata.
    assert m["hostCPU"] == "Fixture CPU" and m["engineI"] == "tcg-icount" and m["engineT"] == "tcg"
    assert m["qemuVersion"] == "7.2.0" and m["hardwareKvm"] == "no" and m["resultsCommit"] == "0123456789"
    assert m["runsTotal"] == "4" and m["runsFailed"] == "0"
    # The TLB model's misses per round trip (tlb.csv): L1 i+d and L2, flushed against tagged.
    assert m["tlbCrossFlush"] == "16" and m["tlbCrossTagged"] == "2" and m["tlbCrossFlushWalks"] == "4"
    assert m["tlbCrossTaggedWalks"] == "0" and m["tlbSameFlush"] == "n/a"
    # What the fixture does not hold prints n/a, never a missing macro.
    for k in ("kptiOverDefaultI", "ipcXcpuT", "fileReadFourKI", "pcidOffOverOnB", "engineB", "bochsVersion",
              "slowOverFastT"):
        assert m[k] == "n/a", k
    assert any("macros are n/a" in n for n in notes)


def test_every_macro_the_paper_uses_is_generated(tmp_path):
    """camelCase control words in paper.tex are the generated macros (LaTeX's own are lower case)."""
    _, m, _ = _generate(tmp_path)
    used = set(re.findall(r"\\([a-z]+[A-Z][A-Za-z]*)", (REPO / "paper" / "paper.tex").read_text()))
    assert used and not used - set(m), sorted(used - set(m))


def test_tables_and_figures_degrade(tmp_path):
    out, _, _ = _generate(tmp_path)
    floor = (out / "tables" / "floor.tex").read_text()
    assert "\\toprule" in floor and "\\bottomrule" in floor and " 292 " in floor
    system = (out / "tables" / "system.tex").read_text()
    assert system.count(paper.NOT_MEASURED) == len(paper.SYSTEM_ROWS)
    pcid = (out / "tables" / "pcid.tex").read_text()
    assert paper.NOT_MEASURED in pcid                       # the Bochs rows: no Bochs run in the fixture
    assert "TLB misses, L1 i+d" in pcid and "& 16 & 2 & 8.00" in pcid
    assert (out / "fig-msglen.pdf").stat().st_size > 0 and (out / "fig-xfloor.pdf").stat().st_size > 0
    assert "fig-msglen.pdf" in (out / "fig-msglen.tex").read_text()
    pub = (out / "tables" / "published.tex").read_text()
    assert "\\cite{elphinstone13}" in pub and "292 instructions" in pub


def test_figure_without_data_is_a_box(tmp_path):
    """A results folder with nothing sized: the message-length figure says it was not measured."""
    one = tmp_path / "one"
    shutil.copytree(FIXTURE / "linux-linux-tcg-icount", one)
    out, m, notes = _generate(tmp_path, [one])
    assert not (out / "fig-msglen.pdf").exists()
    assert paper.NOT_MEASURED in (out / "fig-msglen.tex").read_text()
    assert m["ipcCrossI"] == "n/a" and m["linuxGetppidI"] == "180"
    assert any("figure msglen" in n for n in notes)


def test_default_folders_prefer_a_finished_full_sweep(tmp_path):
    root = tmp_path / "results"

    def sweep(name, cfg, status="ok"):
        d = root / name
        shutil.copytree(FIXTURE, d)
        s = json.loads((d / "sweep.json").read_text())
        s["config"]["name"] = cfg
        s["units"] = {k: dict(v, status=status) for k, v in s["units"].items()}
        (d / "sweep.json").write_text(json.dumps(s))
        return d
    older_full = sweep("sweep-20261124T100000Z-aaaa", "full")
    sweep("sweep-20261124T110000Z-bbbb", "default")
    pcid = sweep("sweep-20261124T113000Z-cccc", "pcid")
    sweep("sweep-20261124T120000Z-dddd", "full", status="pending")    # still running
    assert paper.default_folders(root) == [older_full, pcid]


def test_cli(tmp_path):
    r = harness("paper", FIXTURE, "--out", tmp_path / "gen")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "gen" / "numbers.tex").is_file() and "macros are n/a" in r.stderr
    r = harness("paper", tmp_path / "nothing", "--out", tmp_path / "gen2")
    assert r.returncode != 0 and r.stderr.startswith("harness: no such run or sweep folder")


@pytest.mark.skipif(not (shutil.which("latexmk") and shutil.which("pdftotext")),
                    reason="LaTeX or poppler-utils not installed (scripts/setup.sh paper)")
def test_make_paper_on_the_fixture(tmp_path):
    pdf = tmp_path / "paper.pdf"
    r = subprocess.run(["make", "-s", "paper", f"PAPER_RESULTS={FIXTURE}", f"PAPER_BUILD={tmp_path / 'build'}",
                        f"PAPER_PDF={pdf}"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    # Generated numbers reach the PDF: the path length, the slow/fast ratio, the host named in the metadata.
    assert "292 instructions" in text and "4.57" in text and "Fixture CPU" in text
    assert paper.NOT_MEASURED in text


def test_runs_that_ended_early_are_counted(tmp_path):
    """A run that stopped (a hung guest, a failed boot) keeps its earlier records; the paper says so."""
    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURE, sweep)
    meta = sweep / "ferry-nofastpath-tcg-icount" / "meta.json"
    m = json.loads(meta.read_text())
    meta.write_text(json.dumps(dict(m, status="failed")))
    _, macros, _ = _generate(tmp_path, [sweep])
    assert macros["runsFailed"] == "1" and macros["ipcCrossSlowI"] == "1,333"


def test_system_rows_fill_in_when_results_have_them(tmp_path):
    """A feature measured later (here a file_read row without raw samples) fills its row
    of the system table, and the macro of the same quantity."""
    sweep = tmp_path / "sweep"
    shutil.copytree(FIXTURE, sweep)
    summary = sweep / "ferry-default-tcg-icount" / "summary.csv"
    lines = summary.read_text().splitlines()
    cols = lines[0].split(",")
    row = dict(zip(cols, lines[1].split(",")))
    row.update(bench="file_read", variant="cached_grant", size="4096", p50="5000", min="5000", p90="5000",
               p99="5000", max="5000", mean="5000", stdev="0")
    summary.write_text("\n".join(lines + [",".join(row[c] for c in cols)]) + "\n")
    out, m, _ = _generate(tmp_path, [sweep])
    assert m["fileReadFourKI"] == "5,000"
    system = (out / "tables" / "system.tex").read_text()
    assert "5,000" in system and system.count(paper.NOT_MEASURED) == len(paper.SYSTEM_ROWS) - 1


def test_later_folders_supersede_earlier_ones(tmp_path):
    """Given a full sweep and then a re-measurement of part of it, the paper takes the later
    folder's rows for the configurations it holds (not a pool of both) and the earlier
    folder's for the rest."""
    later = tmp_path / "later"
    shutil.copytree(FIXTURE, later)
    for run in [p for p in later.iterdir() if p.is_dir() and p.name != "ferry-default-tcg-icount"]:
        shutil.rmtree(run)
    summary = later / "ferry-default-tcg-icount" / "summary.csv"
    lines = summary.read_text().splitlines()
    cols = lines[0].split(",")
    rows = [dict(zip(cols, ln.split(","))) for ln in lines[1:]]
    for r in rows:
        if r["bench"] == "ipc_call" and r["variant"] == "cross" and r["size"] == "0":
            for k in ("min", "p50", "p90", "p99", "max", "mean"):
                r[k] = "200"
            r["stdev"] = "0"
    summary.write_text("\n".join([lines[0]] + [",".join(r[c] for c in cols) for r in rows]) + "\n")
    samples = later / "ferry-default-tcg-icount" / "samples.csv"
    if samples.is_file():
        sl = samples.read_text().splitlines()
        sc = sl[0].split(",")
        keep = []
        for ln in sl[1:]:
            r = dict(zip(sc, ln.split(",")))
            if r["bench"] == "ipc_call" and r["variant"] == "cross" and r["size"] == "0":
                r["value"] = "200"
            keep.append(",".join(r[c] for c in sc))
        samples.write_text("\n".join([sl[0]] + keep) + "\n")
    tlb = later / "ferry-default-tcg-icount" / "tlb.csv"
    tl = tlb.read_text().splitlines()
    tlb.write_text("\n".join([tl[0]] + [ln.replace(",10,6,4,", ",20,6,4,", 1) for ln in tl[1:]]) + "\n")
    _, m, _ = _generate(tmp_path, [FIXTURE, later])
    assert m["tlbCrossFlush"] == "26"             # 20 + 6 from the later folder; a pool gives 21
    assert m["ipcCrossI"] == "200" and m["ipcCrossILo"] == "200" and m["ipcCrossIHi"] == "200"
    assert m["ipcCrossSlowI"] == "1,333"          # only in the earlier folder: kept
    assert m["slowOverFastI"] == "6.67"           # 1333 / 200: the superseding row, not a pool
    _, m, _ = _generate(tmp_path, [later, FIXTURE])
    assert m["ipcCrossI"] == "292"                # the order decides
