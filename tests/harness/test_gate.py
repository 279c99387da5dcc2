"""test_gate.py: compare as a regression gate: threshold syntax, option checks, header, size order, filters."""

import pytest

from conftest import harness
from ferryhost import compare
from ferryhost.errors import HarnessError


def _run(fake_env, *extra):
    r = harness("run", "--kernel", fake_env["kernel"], "--accel", "tcg", "--samples", "300", *extra)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1].split(": ", 1)[1].strip()


def test_threshold_syntax():
    assert compare.parse_threshold("5%") == pytest.approx(0.05)
    assert compare.parse_threshold("0.05") == pytest.approx(0.05)
    assert compare.parse_threshold("12.5 %") == pytest.approx(0.125)
    assert compare.parse_threshold("0") == 0
    for bad in ("5", "1", "-1", "-5%", "abc", "", "5%%"):
        with pytest.raises(HarnessError):
            compare.parse_threshold(bad)


@pytest.mark.parametrize("args, says", [
    (["--threshold", "5"], "would tolerate a 6x slowdown"),
    (["--threshold", "-1"], "bad threshold"),
    (["--confidence", "2"], "bad --confidence"),
    (["--resamples", "0"], "bad --resamples"),
])
def test_bad_options_are_one_line_errors(fake_env, args, says):
    a = _run(fake_env, "--bench", "floor_rdtsc")
    r = harness("compare", a, a, *args)
    assert r.returncode != 0 and says in r.stderr and "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1


def test_slow_path_fails_the_readme_gate(fake_env):
    """The README's example, `compare <default> <FASTPATH=0> --threshold 5%`: a slow-path
    build 3.5x slower (the fake QEMU's fakescale stands in for FASTPATH=0's 3.1-4.6x)
    must fail the gate; the bare `--threshold 5` that once let it pass is refused."""
    a = _run(fake_env, "--bench", "ipc_call,floor_rdtsc", "--reps", "2")
    b = _run(fake_env, "FASTPATH=0", "--bench", "ipc_call,floor_rdtsc", "--reps", "2",
             "--cmdline", "fakescale=3.5")
    r = harness("compare", a, b, "--threshold", "5%")
    assert r.returncode == 1, r.stdout + r.stderr
    assert r.stdout.count("SLOWER") == 2 and "regressions beyond 5%" in r.stderr
    r = harness("compare", a, b, "--threshold", "5")
    assert r.returncode != 0 and "SLOWER" not in r.stdout
    # The header names both sides with their commit, engine and build.
    r = harness("compare", a, b)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("A (baseline):") and "engine tcg" in lines[0] and "build default" in lines[0]
    assert lines[1].startswith("B (candidate):") and "build fastpath0" in lines[1] and "commit " in lines[1]


def test_sizes_in_numeric_order_and_filters(fake_env):
    a = _run(fake_env, "--bench", "ipc_len,floor_rdtsc", "--sizes", "0,4,10")
    r = harness("compare", a, a, "--resamples", "200")
    assert r.returncode == 0, r.stderr
    rows = [l.split()[0] for l in r.stdout.splitlines() if l.startswith("ferry/ipc_len")]
    assert [x.split("/")[-2] for x in rows] == ["0", "4", "10"]
    r = harness("compare", a, a, "--resamples", "200", "--bench", "floor_rdtsc")
    assert "ipc_len" not in r.stdout and "floor_rdtsc" in r.stdout
    r = harness("compare", a, a, "--resamples", "200", "--variant", "nosuch")
    assert r.returncode != 0 and "(after --bench/--variant)" in r.stderr
