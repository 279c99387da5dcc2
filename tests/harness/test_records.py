"""test_records.py: the record parser reads its format from bench_format.h and rejects malformed records."""

import pytest

from ferryhost import records
from ferryhost.errors import HarnessError

GOOD = ('@result {"bench":"floor_rdtsc","variant":"","size":-1,"unit":"tsc","samples":3,'
        '"overhead":18,"min":1,"p50":2,"p90":3,"p99":3,"max":3,"mean":2,"stdev":1}')


@pytest.fixture(scope="module")
def fmt():
    return records.load_format()


def test_format_comes_from_header(fmt):
    text = records.HEADER.read_text()
    for kind, prefix in fmt.prefixes.items():
        assert f'"{prefix}"' in text
    assert set(fmt.prefixes) >= {"meta", "result", "samples", "error", "done"}
    assert (fmt.exit_success, fmt.exit_failure) == (33, 35)


def test_changed_header_changes_parser(tmp_path):
    h = tmp_path / "bench_format.h"
    h.write_text(records.HEADER.read_text().replace('"@result "', '"#R "')
                 .replace("FERRY_BENCH_SCHEMA 1", "FERRY_BENCH_SCHEMA 7"))
    f = records.load_format(h)
    assert f.schema == 7 and f.prefixes["result"] == "#R "
    out = records.parse_lines([GOOD.replace("@result ", "#R "), GOOD], f)
    assert len(out.results) == 1
    assert out.log == [GOOD]        # the old prefix is now plain kernel log


def test_missing_header_is_one_line_error(tmp_path):
    with pytest.raises(HarnessError, match="cannot read record format header"):
        records.load_format(tmp_path / "nope.h")


def test_good_lines(fmt):
    lines = ["Ferry booting", '@meta {"schema":1,"system":"ferry","tsc_hz":1000}', GOOD,
             '@samples {"bench":"floor_rdtsc","variant":"","size":-1,"values":[1,2,3]}\r',
             '@error {"bench":"x","msg":"unknown benchmark"}', '@done {"records":1,"errors":1}']
    out = records.parse_lines(lines, fmt)
    assert out.meta["tsc_hz"] == 1000
    assert out.results[0]["p50"] == 2
    assert out.samples[0]["values"] == [1, 2, 3]
    assert out.errors[0]["bench"] == "x"
    assert out.done == {"records": 1, "errors": 1}
    assert out.log == ["Ferry booting"]
    assert out.malformed == [] and out.panic is None


def test_samples_fewer_than_the_result_took(fmt):
    """Bytes lost on the console can leave valid JSON (a dropped ",2"): the raw samples
    must number what their @result says it took (GOOD: 3)."""
    meta = '@meta {"schema":1,"system":"ferry","tsc_hz":1000}'
    ok = '@samples {"bench":"floor_rdtsc","variant":"","size":-1,"values":[1,2,3]}'
    short = '@samples {"bench":"floor_rdtsc","variant":"","size":-1,"values":[1,3]}'
    assert records.parse_lines([meta, ok, GOOD], fmt).results[0]["samples"] == 3
    out = records.parse_lines([meta, short, GOOD], fmt)
    assert out.results == [] and "has 2 values but its @result took 3 samples" in out.malformed[0]


def test_done_without_json(fmt):
    assert records.parse_lines(["@done"], fmt).done == {}


@pytest.mark.parametrize("line, why", [
    ('@result {"bench":"a",', "malformed @result"),
    ('@result [1,2]', "not a JSON object"),
    (GOOD.replace('"p50":2', '"p50":"2"'), "'p50' is not an integer"),
    (GOOD.replace('"p50":2', '"p50":true'), "'p50' is not an integer"),
    (GOOD.replace('"bench":"floor_rdtsc",', ''), "lacks string field 'bench'"),
    ('@samples {"bench":"a","values":[1,"x"]}', "integer 'values'"),
    ('@meta {"schema":99}', "schema 99"),
    ('@result', "malformed @result"),
])
def test_malformed_lines(fmt, line, why):
    out = records.parse_lines(["log", line, GOOD], fmt)
    assert len(out.malformed) == 1 and why in out.malformed[0]
    assert out.malformed[0].startswith("console line 2:")
    assert len(out.results) == 1     # the good record after it still counts


def test_panic_text_kept(fmt):
    out = records.parse_lines(["x", "PANIC: double fault rip=0xffff rsp=0x10", "rax=1", "PANIC: again"], fmt)
    assert out.panic == "double fault rip=0xffff rsp=0x10"
    assert "rax=1" in out.log


def test_non_record_at_lines_are_log(fmt):
    out = records.parse_lines(["@resultant thing", "@foo {}"], fmt)
    assert out.log == ["@resultant thing", "@foo {}"] and not out.malformed


FASTPATH = ('@fastpath {"bench":"ipc_call","variant":"cross","size":0,"samples":10,"total":3,'
            '"misses":{"call_cap":2,"rr_queued":1}}')


def test_fastpath_record(fmt):
    out = records.parse_lines([GOOD, FASTPATH], fmt)
    assert out.fastpath == [{"bench": "ipc_call", "variant": "cross", "size": 0, "samples": 10, "total": 3,
                             "misses": {"call_cap": 2, "rr_queued": 1}}]
    assert out.log == [] and out.malformed == []


@pytest.mark.parametrize("bad", ['{"bench":"x","total":1}', '{"bench":"x","total":1,"misses":{"a":"1"}}',
                                 '{"bench":"x","misses":{}}'])
def test_fastpath_record_malformed(fmt, bad):
    out = records.parse_lines(["@fastpath " + bad], fmt)
    assert out.fastpath == [] and "@fastpath needs" in out.malformed[0]


def test_fastpath_table_in_show(tmp_path):
    from ferryhost import report, results
    rows = [{"system": "ferry", "build": "default", "accel": "tcg-icount", "rep": 0, "bench": "ipc_call",
             "variant": "cross", "size": 0, "samples": 100, "total": 2, "run": "r", "fp_call_cap": 2,
             "fp_rr_queued": 0},
            {"system": "ferry", "build": "default", "accel": "tcg-icount", "rep": 0, "bench": "null_syscall",
             "variant": "syscall", "size": -1, "samples": 100, "total": 0, "run": "r", "fp_call_cap": 0,
             "fp_rr_queued": 0}]
    (tmp_path / "fastpath.csv").write_text(results.csv_text(results.FASTPATH_COLUMNS + ["fp_call_cap", "fp_rr_queued"],
                                                            rows))
    t = report.fastpath_text([tmp_path])
    assert "default/ipc_call/cross/0/tcg-icount" in t and "call_cap 2" in t
    assert "null_syscall" not in t      # no IPC and nothing counted: left out


def test_bulk_transport_is_total_minus_the_touch_floor():
    from ferryhost import report

    def row(system, bench, variant, size, med, accel="tcg-icount"):
        return {"system": system, "build": "default" if system == "ferry" else "linux", "bench": bench,
                "variant": variant, "size": size, "accel": accel, "unit": "instructions", "median": med}
    summary = [row("ferry", "bulk_touch", "", 4096, 6000), row("ferry", "bulk_grant", "", 4096, 6300),
               row("ferry", "bulk_copy", "", 4096, 10000), row("ferry", "bulk_grant", "", 8192, 9999),
               row("linux", "bulk_touch", "cpu1", 4096, 6100), row("linux", "bulk_shm", "cpu2", 4096, 9100),
               row("ferry", "bulk_grant", "", 4096, 100, accel="tcg")]
    t = {(r["system"], r["bench"], r["size"], r["accel"]): r["transport"] for r in report.transport_rows(summary)}
    assert t == {("ferry", "bulk_grant", 4096, "tcg-icount"): 300, ("ferry", "bulk_copy", 4096, "tcg-icount"): 4000,
                 ("linux", "bulk_shm", 4096, "tcg-icount"): 3000}
    assert "not bytes" in report.transport_text(summary)


def test_compare_lists_bulk_transport_on_both_sides():
    from ferryhost import compare

    def r(bench, size, a, b, variant=""):
        return {"key": ("ferry", bench, variant, size, "tcg-icount"), "median_a": a, "median_b": b}
    t = compare.transport_table([r("bulk_touch", 4096, 6000, 6000), r("bulk_grant", 4096, 6300, 6150),
                                 r("bulk_copy", 8192, 1, 2)])
    lines = t.splitlines()
    assert len(lines) == 3 and "ferry/bulk_grant/4096/tcg-icount" in lines[2]
    assert lines[2].split()[-3:] == ["300", "150", "0.500"]
