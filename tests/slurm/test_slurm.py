#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The `slurm` CTest test: a sweep submitted to a real one-node Slurm cluster started here.

  test_slurm.py --sim BUILD/platforms/iommusim --source SOURCE_DIR

It starts munged, slurmctld and slurmd in the foreground from a generated slurm.conf (private
ports on 127.0.0.1, state and logs in a temporary directory, no systemd), submits a sweep with
`iommusim_regress.py slurm-submit`, waits for the array job, collects it, checks that the CSV is
byte-identical to the same sweep run locally, and stops every daemon it started.
Exit status 77 (CTest: skipped) with one line where Slurm or munge is not installed, or not root.
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
DAEMONS = ("munged", "slurmctld", "slurmd")
SWEEP = "regress/sweeps/outstanding_x_op.json"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_conf(tmp, host, cpus):
    """A one-node cluster: this host, addressed as 127.0.0.1, every path in `tmp`, no cgroups."""
    return f"""ClusterName=iommusim-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={tmp}/munge.socket
StateSaveLocation={tmp}/ctld
SlurmdSpoolDir={tmp}/slurmd
SlurmctldPidFile={tmp}/slurmctld.pid
SlurmdPidFile={tmp}/slurmd.pid
SlurmctldLogFile={tmp}/slurmctld.log
SlurmdLogFile={tmp}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2,sched_min_interval=0,batch_sched_delay=0
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName={host} NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


class Cluster:
    """The three daemons, started in the foreground, each in its own session; stop() ends exactly them."""

    def __init__(self, tmp):
        self.tmp, self.procs = tmp, []
        self.env = dict(os.environ, SLURM_CONF=os.path.join(tmp, "slurm.conf"))

    def start(self, cpus):
        for d in ("ctld", "slurmd"):
            os.makedirs(os.path.join(self.tmp, d))
        key = os.path.join(self.tmp, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        with open(self.env["SLURM_CONF"], "w") as f:
            f.write(slurm_conf(self.tmp, socket.gethostname().split(".")[0], cpus))
        t = self.tmp
        self.spawn(["munged", "--foreground", "--force", f"--socket={t}/munge.socket", f"--key-file={key}",
                    f"--pid-file={t}/munged.pid", f"--log-file={t}/munged.log", f"--seed-file={t}/munge.seed"])
        self.wait_for(lambda: os.path.exists(f"{t}/munge.socket"), "munged's socket")
        self.spawn(["slurmctld", "-D", "-i"])
        self.spawn(["slurmd", "-D"])
        self.wait_for(self.node_idle, "the node to come up idle")

    def spawn(self, cmd):
        log = open(os.path.join(self.tmp, os.path.basename(cmd[0]) + ".out"), "w")
        self.procs.append(subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                           start_new_session=True))

    def run(self, *cmd):
        return subprocess.run(list(cmd), capture_output=True, text=True, env=self.env, timeout=60)

    def node_idle(self):
        return self.run("sinfo", "-h", "-o", "%t").stdout.strip() == "idle"

    def wait_for(self, ready, what, seconds=60):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if any(p.poll() is not None for p in self.procs):
                raise RuntimeError(f"a daemon exited while waiting for {what}:\n{self.logs()}")
            if ready():
                return
            time.sleep(0.2)
        raise RuntimeError(f"timed out waiting for {what}:\n{self.logs()}")

    def logs(self):
        out = []
        for name in ("munged.out", "slurmctld.log", "slurmd.log", "slurmctld.out", "slurmd.out"):
            path = os.path.join(self.tmp, name)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    out.append(f"--- {name}\n" + "".join(f.readlines()[-15:]))
        return "\n".join(out)

    def stop(self):
        for p in reversed(self.procs):  # slurmd, slurmctld, then munged
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def sweep_through_slurm(cluster, args, tmp):
    """Submit, wait for the array to leave the queue, collect; the collected CSV's path."""
    tool = os.path.join(args.source, "regress", "iommusim_regress.py")
    out = os.path.join(tmp, "slurm-sweep")
    p = cluster.run(sys.executable, tool, "slurm-submit", os.path.join(args.source, SWEEP), "--sim", args.sim,
                    "--out", out, "--time", "0:05:00")
    if p.returncode != 0:
        raise RuntimeError(f"slurm-submit failed:\n{p.stdout}{p.stderr}")
    job = p.stdout.split("submitted job ")[1].split(";")[0].strip()
    cluster.wait_for(lambda: cluster.run("squeue", "-h", "-j", job).stdout.strip() == "", f"job {job}", 300)
    p = cluster.run(sys.executable, tool, "collect", "--manifest", os.path.join(out, "manifest.json"), "-q")
    if p.returncode != 0:
        raise RuntimeError(f"collect failed:\n{p.stdout}{p.stderr}\n{cluster.logs()}")
    return job, os.path.join(out, "results.csv")


def local_sweep(args, tmp):
    out = os.path.join(tmp, "local-sweep")
    tool = os.path.join(args.source, "regress", "iommusim_regress.py")
    subprocess.run([sys.executable, tool, "sweep", os.path.join(args.source, SWEEP), "--sim", args.sim, "--out", out,
                    "-q", "-j", "2"], check=True, capture_output=True)
    return os.path.join(out, "results.csv")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--source", required=True)
    args = ap.parse_args()
    missing = [d for d in DAEMONS + ("sbatch", "squeue", "sinfo") if not shutil.which(d)]
    if missing or os.geteuid() != 0:
        why = f"{', '.join(missing)} not installed" if missing else "not root (slurmd must run as root)"
        print(f"SKIPPED: no Slurm cluster can be started here: {why}; scripts/install-deps.sh installs Slurm")
        return SKIP
    with tempfile.TemporaryDirectory(prefix="iommusim-slurm-") as tmp:
        os.chmod(tmp, 0o755)
        cluster = Cluster(tmp)
        try:
            cluster.start(cpus=os.cpu_count() or 1)
            job, slurm_csv = sweep_through_slurm(cluster, args, tmp)
        finally:
            cluster.stop()
        with open(slurm_csv, "rb") as a, open(local_sweep(args, tmp), "rb") as b:
            same = a.read() == b.read()
    if not same:
        print("FAIL: the CSV collected from the Slurm job differs from the local sweep's")
        return 1
    print(f"ok: sweep {SWEEP} ran as Slurm array job {job} on a one-node cluster; its CSV equals the local run's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
