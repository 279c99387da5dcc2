"""perf.py: count KVM tracepoints (VM exits) around a QEMU run with `perf stat` and flag disturbed runs."""

import shutil
import subprocess

from .errors import HarnessError

# Bound on VM exits per timed sample before a run counts as disturbed.  The
# count covers the whole boot (firmware, serial output of the records, the
# timer), not only the timed loops, so it is an upper bound on what reached
# the timed regions: a run under it is certainly clean, one over it is
# flagged for a human to look at.  Override with --max-exits-per-sample.
DEFAULT_MAX_EXITS_PER_SAMPLE = 1.0
EXIT_EVENT = "kvm:kvm_exit"
# Under the PVM software hypervisor the guest kernel runs emulated: kvm_exit
# stays at zero while kvm_emulate_insn counts every emulated instruction.
# Under hardware KVM an emulated instruction follows an exit, so taking the
# larger of the two counts each disturbance once on either kind of KVM.
EMULATE_EVENT = "kvm:kvm_emulate_insn"


def perf_binary():
    p = shutil.which("perf")
    if not p:
        raise HarnessError("perf not found: install the Debian package linux-perf")
    try:
        r = subprocess.run([p, "stat", "-e", EXIT_EVENT, "-x,", "--", "true"],
                           capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise HarnessError(f"perf does not run: {e}") from None
    if r.returncode != 0:
        last = (r.stderr.strip() or "no message").splitlines()[-1]
        raise HarnessError(f"perf cannot count {EXIT_EVENT} (need root or perf_event_paranoid<=-1): {last}")
    return p


def wrap(perf_bin, cmd, out_path):
    """perf stat exits with the status of the command it runs, so QEMU's 33/35 survive."""
    return [perf_bin, "stat", "-e", "kvm:*", "-x,", "-o", str(out_path), "--"] + list(cmd)


def parse(text):
    """perf stat -x, output -> {event: count}; '<not counted>' events are left out."""
    counts = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        f = line.split(",")
        if len(f) >= 3:
            try:
                counts[f[2]] = int(f[0])
            except ValueError:
                continue
    return counts


def read(path, timed_samples, bound, accel):
    try:
        counts = parse(open(path).read())
    except OSError as e:
        return {"error": f"no perf output: {e.strerror}", "disturbed": False}
    found = [counts[e] for e in (EXIT_EVENT, EMULATE_EVENT) if e in counts]
    exits = max(found) if found else None
    out = {"counts": counts, "exits": exits, "timed_samples": timed_samples, "bound": bound}
    if accel != "kvm":
        out["note"] = "not under KVM: no VM exits to count"
    if exits is not None and timed_samples:
        out["exits_per_sample"] = exits / timed_samples
        out["disturbed"] = out["exits_per_sample"] > bound
    else:
        out["disturbed"] = False
    return out
