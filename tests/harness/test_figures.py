"""test_figures.py: what the figures show: engines and units, family panels, one common floor, flags, size."""

import struct

from ferryhost import plot


def S(bench, variant="", size=-1, p50=100, build="default", accel="tcg", system="ferry", reps=(None,)):
    rows = [{"p50": p50 if r is None else r, "min": p50 - 1, "p90": p50 + 1, "tsc_hz": None,
             "disturbed": False} for r in reps]
    return plot.Series((system, bench, build if system == "ferry" else "linux", variant, size, accel), rows, None)


def _names(figs):
    return [f.name for f in figs]


def test_units_follow_the_engine_and_engines_are_not_mixed():
    ss = [S("floor_ipc", accel="tcg"), S("floor_ipc", accel="tcg-icount"), S("floor_ipc", accel="bochs")]
    figs, _ = plot.build_figures(ss)
    by = {f.name: f for f in figs}
    assert by["latency-tcg"].ylabel == "TSC ticks"
    assert by["latency-tcg-icount"].ylabel == "instructions"
    assert by["latency-bochs"].ylabel == "instructions"
    figs, _ = plot.build_figures([S("floor_ipc", accel="tcg-icount")])
    assert _names(figs)[0] == "latency" and figs[0].ylabel == "instructions"


def test_latency_panels_by_family_with_builds_adjacent():
    ss = [S("floor_ipc"), S("null_syscall", "syscall"), S("null_syscall", "int80"),
          S("ipc_call", "cross", 0), S("ipc_call", "cross", 8),
          S("ipc_call", "cross", 0, p50=300, build="nofastpath"), S("ipc_call", "same", 0),
          S("pipe_rt", "cpu1", system="linux"), S("pipe_rt", "cpu2", system="linux")]
    f = next(f for f in plot.build_figures(ss)[0] if f.name == "latency")
    assert [t for t, _ in f.panels] == ["hardware floors", "IPC and notification",
                                        "system calls, scheduling, memory", "Linux baseline"]
    ipc = dict(f.panels[1][1])
    # One slot per benchmark/variant holding every build's bar, default first.
    assert [p[0] for p in ipc["ipc_call/cross (0)"]] == ["default", "nofastpath"]
    assert list(ipc) == ["ipc_call/cross (0)", "ipc_call/same"]     # one size: no "(0)"
    assert [g for g, _ in f.panels[2][1]] == ["null_syscall/int80", "null_syscall/syscall"]
    assert [g for g, _ in f.panels[3][1]] == ["pipe_rt/cpu1", "pipe_rt/cpu2"]


def test_one_common_floor_and_no_floor_over_itself_or_linux():
    # Two builds measured the floor at different values (noisy boots): both
    # builds are divided by the one median of all of them.
    ss = [S("floor_ipc", p50=100, reps=(90, 100)), S("floor_ipc", build="nofastpath", p50=300, reps=(300,)),
          S("ipc_call", "cross", 0, p50=200), S("ipc_call", "cross", 0, p50=600, build="nofastpath"),
          S("pipe_rt", "cpu1", p50=5000, system="linux")]
    figs, _ = plot.build_figures(ss)
    g = next(f for f in figs if f.name == "latency-xfloor")
    assert "floor_ipc = 100" in g.title
    ys = {c[2].build: c[1][0][1] for c in g.curves}
    assert ys == {"default": 2.0, "nofastpath": 6.0}
    assert all(not c[2].bench.startswith("floor_") and c[2].system == "ferry" for c in g.curves)
    assert not any("cdf" in f.name and "xfloor" in f.name for f in figs)
    assert not any(f.name.startswith("bulk") and "xfloor" in f.name for f in figs)


def test_msglen_log_words_and_non_monotonic_flag():
    ss = [S("ipc_call", "cross", n, p50=100 + n) for n in (0, 1, 4, 10, 120)] + \
         [S("bulk_shm", "cpu1", n, p50=v, system="linux") for n, v in ((64, 10), (262144, 16300000),
                                                                       (1048576, 1300000))]
    figs, notes = plot.build_figures(ss)
    m = next(f for f in figs if f.name == "msglen")
    assert m.symlogx and "words" in m.xlabel and [p[0] for p in m.curves[0][1]] == [0, 1, 4, 10, 120]
    t = next(f for f in figs if f.name == "bulk-time")
    assert t.notes and "non-monotonic" in t.notes[0] and "262144" in t.notes[0]
    assert any(n.startswith("flag: bulk-time") for n in notes)


def test_unstable_repetitions_are_flagged():
    s = S("floor_ipc", p50=100, reps=(100, 150))
    assert s.unstable and "[unstable]" in plot.flags_of(s)
    assert not S("floor_ipc", reps=(100, 101)).unstable
    tail = S("pipe_rt", "cpu2", system="linux", p50=100)
    tail.p90 = 600
    assert "[tail]" in plot.flags_of(tail) and "[tail]" not in plot.flags_of(s)


def _png_size(path):
    w, h = struct.unpack(">II", path.read_bytes()[16:24])
    return w, h


def test_rendered_figures_are_legible(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    names = ["floor_ipc", "floor_syscall", "floor_rdtsc", "floor_fpu", "null_syscall", "yield", "vm_map",
             "vm_unmap", "fault_rt", "notify"]
    ss = [S(n, v, build=b) for n in names for v in ("a", "b") for b in ("default", "nofastpath", "eagerfpu")]
    ss += [S(n, "cpu1", system="linux") for n in ("pipe_rt", "futex_rt", "unix_rt", "eventfd_rt", "yield")]
    f = next(f for f in plot.build_figures(ss)[0] if f.name == "latency")
    png = plot.render_mpl(f, tmp_path)[0]
    w, h = _png_size(png)
    # ~75 bars: at most a two-column page wide, in panels, not a 3387 px strip.
    assert w <= 1800 and h <= 1400 and w / h < 3, (w, h)


def test_sizes_are_per_variant_and_size_axes_named():
    # ipc_call/oneway has no size while ipc_call/cross is swept: both get a bar.
    ss = [S("ipc_call", "oneway", -1), S("ipc_call", "cross", 0), S("ipc_call", "cross", 8),
          S("ipc_ring", "cross", 1), S("ipc_ring", "cross", 64)]
    figs, _ = plot.build_figures(ss)
    lat = next(f for f in figs if f.name == "latency")
    assert [g for g, _ in lat.panels[0][1]] == ["ipc_call/cross (0)", "ipc_call/oneway", "ipc_ring/cross (1)"]
    by = {f.name: f for f in figs}
    assert [c[0] for c in by["msglen"].curves] == ["ipc_call cross"]
    assert by["size-ipc_ring"].xlabel.startswith("messages per batch")
