"""A one-node SLURM cluster on localhost: munged, slurmctld and slurmd run as root in the foreground, with every
file (slurm.conf, munge key, state, logs) in one folder that `SLURM_CONF` points to; nothing goes to /etc/slurm,
so SLURM clients elsewhere on the machine find no controller to wait for. The daemons stop by PID.
`Cluster.environ()` is the environment a SLURM client (Snakemake, the tests) runs with.

There is no accounting database (`sacct` answers "accounting storage is disabled"); finished jobs stay listed by
`squeue --states=all` for an hour (MinJobAge), which is how the tests read each job's rule, partition, CPUs and
state. Partition `main` (the default) and `gpu` hold the same node: `gpu` stands for a cluster's GPU partition,
to which the documented `--set-resources train:slurm_partition=gpu` sends the training jobs.

    .venv/bin/python tests/slurm_cluster.py -- .venv/bin/snakemake table3 --profile workflow/profiles/slurm \
        --config profile=smoke
runs one command against such a cluster (installing Debian's SLURM daemons, clients and munge first when absent).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")  # slurm-wlm without its many plugin packages
PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "srun", "squeue", "scancel", "sinfo")
PARTITIONS = ("main", "gpu")
START_TIMEOUT_S = 60.0
JOB_FIELDS = ("id", "comment", "partition", "cpus", "state")  # squeue %i %k %P %C %T


class ClusterError(RuntimeError):
    """The cluster could not be installed or started; the message says which step and shows its log."""


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def install() -> None:
    """Debian's SLURM packages and munge, when one of their programs is missing (as root, with apt-get)."""
    if all(shutil.which(p) for p in PROGRAMS):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise ClusterError(f"SLURM is not installed and cannot be here (needs root and apt-get): "
                           f"install {' and '.join(PACKAGES)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        proc = _run(cmd, env=env)
        if proc.returncode != 0:
            raise ClusterError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_line() -> str:
    """This machine as slurmd sees it (`slurmd -C`: name, CPUs, memory), reachable on 127.0.0.1 only."""
    proc = _run(["slurmd", "-C"])
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("NodeName=")), None)
    if line is None:
        raise ClusterError(f"slurmd -C printed no node line:\n{proc.stdout}{proc.stderr}")
    return f"{line} NodeAddr=127.0.0.1 NodeHostname={socket.gethostname()} State=UNKNOWN"


def slurm_conf(root: Path, node: str) -> str:
    name = node.split()[0].removeprefix("NodeName=")
    host = socket.gethostname()
    lines = [
        "ClusterName=localhost",
        f"SlurmctldHost={host}(127.0.0.1)",
        f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}",
        "SlurmUser=root",
        "SlurmdUser=root",
        "AuthType=auth/munge",
        "CredType=cred/munge",
        f"AuthInfo=socket={root}/munge.socket",
        f"StateSaveLocation={root}/state",
        f"SlurmdSpoolDir={root}/spool",
        f"SlurmctldPidFile={root}/slurmctld.pid",
        f"SlurmdPidFile={root}/slurmd.pid",
        f"SlurmctldLogFile={root}/slurmctld.log",
        f"SlurmdLogFile={root}/slurmd.log",
        f"PlugStackConfig={root}/plugstack.conf",
        # No cgroups (none in a container without systemd): processes are tracked through /proc.
        "ProctrackType=proctrack/linuxproc",
        "TaskPlugin=task/none",
        "JobAcctGatherType=jobacct_gather/none",
        "AccountingStorageType=accounting_storage/none",
        "JobCompType=jobcomp/none",
        "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_CPU",
        "SchedulerType=sched/backfill",
        "MpiDefault=none",
        "MailProg=/bin/true",
        "ReturnToService=2",
        "MinJobAge=3600",  # finished jobs stay in squeue's view for the tests to read
        "KillWait=10",
        node,
        *(f"PartitionName={p} Nodes={name} Default={'YES' if p == PARTITIONS[0] else 'NO'} MaxTime=INFINITE "
          f"State=UP" for p in PARTITIONS),
    ]
    return "\n".join(lines) + "\n"


@dataclass
class Cluster:
    """A running cluster, reached by SLURM clients run with `environ()`."""

    root: Path
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def environ(self, base: Mapping[str, str] = os.environ) -> dict[str, str]:
        """`base` with what a SLURM client needs to reach this cluster: SLURM_CONF, and the srun below on PATH."""
        return {**base, "SLURM_CONF": str(self.root / "slurm.conf"),
                "PATH": f"{self.root / 'bin'}{os.pathsep}{base.get('PATH', '')}"}

    def _srun_shim(self) -> None:
        """Inside a job, the executor plugin's job step (snakemake-executor-plugin-slurm-jobstep 0.6.1) starts
        the rule with `srun` after dropping every SLURM_* variable, SLURM_CONF included; that srun finds no
        configuration outside /etc/slurm. The `srun` first on the jobs' PATH sets it again."""
        shim = self.root / "bin" / "srun"
        shim.parent.mkdir(exist_ok=True)
        shim.write_text(f'#!/bin/sh\nexport SLURM_CONF="{self.root / "slurm.conf"}"\n'
                        f'exec {shutil.which("srun")} "$@"\n')
        shim.chmod(0o755)

    def client(self, *cmd: str) -> subprocess.CompletedProcess:
        return _run(list(cmd), env=self.environ(), timeout=60)

    def jobs(self) -> list[dict[str, str]]:
        """Every job the controller still knows (running and finished): id, comment, partition, cpus, state.
        The executor plugin's comment names the rule and wildcards (`rule_train_wildcards_smoke_mrcfa_b1_0`)."""
        out = self.client("squeue", "--states=all", "--noheader", "--format=%i|%k|%P|%C|%T").stdout
        return [dict(zip(JOB_FIELDS, line.split("|"))) for line in out.splitlines() if line.strip()]

    def _start(self, name: str, cmd: list[str]) -> None:
        with open(self.root / f"{name}.out", "w") as log:  # the daemon keeps its own copy of the descriptor
            self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                                env=self.environ(), start_new_session=True)

    def _wait(self, what: str, ready) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not ready():
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                raise ClusterError(f"{what}: " + (f"{dead[0]} exited" if dead else "timed out") + self._logs())
            time.sleep(0.3)

    def _logs(self) -> str:
        parts = []
        for f in sorted(self.root.glob("*.out")) + sorted(self.root.glob("*.log")):
            parts.append(f"\n--- {f.name}\n" + f.read_text(errors="replace")[-1500:])
        return "".join(parts)

    def start(self) -> None:
        if os.geteuid() != 0:
            raise ClusterError("the local SLURM cluster runs its daemons as root, without systemd")
        root = self.root
        for sub in ("state", "spool"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        key = root / "munge.key"
        key.write_bytes(os.urandom(1024))
        key.chmod(0o400)
        (root / "plugstack.conf").write_text("")
        (root / "slurm.conf").write_text(slurm_conf(root, _node_line()))
        self._srun_shim()
        self._start("munged", ["munged", "--foreground", "--force", f"--key-file={key}",
                               f"--socket={root}/munge.socket", f"--pid-file={root}/munged.pid",
                               f"--log-file={root}/munged.log", f"--seed-file={root}/munged.seed"])
        self._wait("munged", lambda: (root / "munge.socket").exists())
        self._start("slurmctld", ["slurmctld", "-D", "-i"])
        self._wait("slurmctld", lambda: self.client("scontrol", "ping").returncode == 0)
        self._start("slurmd", ["slurmd", "-D"])
        self._wait("slurmd", lambda: self.client("sinfo", "--noheader", "--format=%T").stdout.split()[:1]
                   in (["idle"], ["mixed"]))

    def stop(self) -> None:
        """Cancel every job, wait until none runs, then stop the daemons (their PIDs) in reverse order."""
        if "slurmctld" in self.procs and self.procs["slurmctld"].poll() is None:
            self.client("scancel", "--full", f"--partition={','.join(PARTITIONS)}")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and any(
                    j["state"] in ("RUNNING", "PENDING", "COMPLETING", "CONFIGURING") for j in self.jobs()):
                time.sleep(0.5)
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


@contextlib.contextmanager
def local_cluster(root: Path) -> Iterator[Cluster]:
    """Install if needed, start, yield, stop. Root only: the daemons run as root, without systemd."""
    install()
    cluster = Cluster(Path(root))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


def main(argv: list[str]) -> int:
    if argv[:1] != ["--"] or len(argv) < 2:
        print("usage: slurm_cluster.py -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="slurm-") as tmp:
        try:
            with local_cluster(Path(tmp)) as cluster:
                return subprocess.run(argv[1:], env=cluster.environ()).returncode
        except ClusterError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
