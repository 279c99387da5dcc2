"""slurm_cluster.py: a throw-away one-node Slurm cluster on this machine (munged, slurmctld, slurmd) for the harness tests."""

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

DAEMONS = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "sinfo", "scancel", "scontrol")


def missing():
    """Why no cluster can be started here, or None."""
    gone = [d for d in DAEMONS if not shutil.which(d) and not Path("/usr/sbin", d).exists()]
    if gone:
        return (f"Slurm/munge not installed ({', '.join(gone)} missing): "
                f"install them as root with scripts/setup.sh cluster")
    if os.geteuid() != 0:
        return "slurmd must run as root to start jobs; this test runs only as root"
    try:
        pwd.getpwnam("munge")
    except KeyError:
        return "no munge user (the munge package creates it)"
    # slurmd (22.05) initialises its cgroup plugin whatever the task and
    # proctrack plugins are, and stops without a cgroup file system (a
    # chroot with only sysfs mounted, for example).
    if not any(Path("/sys/fs/cgroup").glob("*")):
        return "no cgroup file system at /sys/fs/cgroup: slurmd cannot start here"
    return None


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bin(name):
    return shutil.which(name) or str(Path("/usr/sbin", name))


class Cluster:
    """Started by start(), stopped by stop(): every process it started, and nothing else."""

    def __init__(self):
        self.base = Path(tempfile.mkdtemp(prefix="ferry-slurm-", dir="/tmp"))
        self.base.chmod(0o755)          # munged (user munge) must reach its folders
        self.procs = []
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.base / "slurm.conf"
        self.env = dict(os.environ, SLURM_CONF=str(self.conf))

    def _start(self, name, cmd, **kw):
        log = open(self.base / f"{name}.out", "wb")
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                             start_new_session=True, env=self.env, **kw)
        self.procs.append((name, p))
        return p

    def start(self, timeout=60):
        m = self.base / "munge"
        for d in ("etc", "run", "log", "lib"):
            (m / d).mkdir(parents=True)
        key = m / "etc" / "munge.key"
        subprocess.run([_bin("mungekey"), "--create", "--keyfile", str(key)], check=True, capture_output=True)
        key.chmod(0o600)
        subprocess.run(["chown", "-R", "munge:munge", str(m)], check=True)
        (m / "etc").chmod(0o700)
        self.munge_socket = m / "run" / "munge.socket.2"
        # -F: in the foreground, so stop() can end it by its pid.
        # As the munge user, started directly (no runuser in between) so that
        # stop() ends and reaps munged itself.
        self._start("munged", [_bin("munged"), "-F",
                               "--key-file", str(key), "--socket", str(self.munge_socket),
                               "--pid-file", str(m / "run" / "munged.pid"),
                               "--log-file", str(m / "log" / "munged.log"),
                               "--seed-file", str(m / "lib" / "munged.seed")],
                    user="munge", group="munge", extra_groups=[])
        self._wait(lambda: self.munge_socket.exists(), 20, "munged did not create its socket")
        for d in ("ctld", "spool", "log"):
            (self.base / d).mkdir()
        ncpu = 2
        self.conf.write_text("\n".join([
            "ClusterName=ferrytest",
            f"SlurmctldHost={self.node}(127.0.0.1)",
            f"SlurmctldPort={_free_port()}",
            f"SlurmdPort={_free_port()}",
            "AuthType=auth/munge", "CredType=cred/munge",
            f"AuthInfo=socket={self.munge_socket}",
            "SlurmUser=root", "SlurmdUser=root",
            f"StateSaveLocation={self.base / 'ctld'}",
            f"SlurmdSpoolDir={self.base / 'spool'}",
            f"SlurmctldPidFile={self.base / 'ctld.pid'}",
            f"SlurmdPidFile={self.base / 'slurmd.pid'}",
            f"SlurmctldLogFile={self.base / 'log' / 'slurmctld.log'}",
            f"SlurmdLogFile={self.base / 'log' / 'slurmd.log'}",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none",
            "JobAcctGatherType=jobacct_gather/none", "AccountingStorageType=accounting_storage/none",
            "SchedulerType=sched/builtin", "SelectType=select/cons_tres", "SelectTypeParameters=CR_CPU",
            "ReturnToService=2", "MpiDefault=none", "SlurmctldTimeout=30", "SlurmdTimeout=30",
            f"NodeName={self.node} NodeAddr=127.0.0.1 CPUs={ncpu} State=UNKNOWN",
            f"PartitionName=ferry Nodes={self.node} Default=YES MaxTime=INFINITE State=UP",
        ]) + "\n")
        self._start("slurmctld", [_bin("slurmctld"), "-D", "-i", "-f", str(self.conf)])
        self._start("slurmd", [_bin("slurmd"), "-D", "-f", str(self.conf), "-N", self.node])

        def idle():
            p = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, env=self.env)
            return p.returncode == 0 and p.stdout.strip() == "idle"
        self._wait(idle, timeout, "the node did not become idle")
        return self

    def _wait(self, cond, timeout, what):
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if cond():
                return
            for name, p in self.procs:
                if p.poll() is not None:
                    raise RuntimeError(f"{name} exited with {p.returncode}: {self.logs()}")
            time.sleep(0.3)
        raise RuntimeError(f"{what} within {timeout} s: {self.logs()}")

    def logs(self):
        out = []
        for f in sorted(self.base.glob("*.out")) + sorted((self.base / "log").glob("*.log")):
            try:
                out.append(f"--- {f.name}\n" + "\n".join(f.read_text(errors="replace").splitlines()[-15:]))
            except OSError:
                pass
        return "\n".join(out)

    def stop(self):
        """Cancel what is left in the queue, then stop the daemons in reverse order."""
        if any(n == "slurmctld" and p.poll() is None for n, p in self.procs):
            subprocess.run(["scancel", "--full", "--user", "root"], capture_output=True, env=self.env, timeout=30)
            time.sleep(1)
        for name, p in reversed(self.procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        self.procs = []
        shutil.rmtree(self.base, ignore_errors=True)
