"""Run a command on GPUs of its own: `with_gpu.py N -- cmd ...`.

Snakemake's `--resources gpu=N` only limits how many GPUs jobs use at once; it does not say which. This
claims N free devices through lock files (released when the command exits, even if it is killed) and
sets CUDA_VISIBLE_DEVICES. With N = 0, or where a scheduler already chose (SLURM sets
CUDA_VISIBLE_DEVICES), the command runs unchanged.
"""

import fcntl
import os
import subprocess
import sys
import time
from pathlib import Path


def visible_gpus() -> int:
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def claim(n: int, lock_dir: Path) -> tuple[list[int], list[int]]:
    lock_dir.mkdir(parents=True, exist_ok=True)
    total = visible_gpus()
    if total < n:
        sys.exit(f"with_gpu: {n} GPU(s) requested, {total} visible")
    while True:
        got, fds = [], []
        for i in range(total):
            fd = os.open(lock_dir / f"gpu{i}.lock", os.O_CREAT | os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            got.append(i)
            fds.append(fd)
            if len(got) == n:
                return got, fds
        for fd in fds:
            os.close(fd)
        time.sleep(2)


def main() -> int:
    n, sep, *cmd = sys.argv[1:]
    if sep != "--" or not cmd:
        sys.exit("usage: with_gpu.py N -- command ...")
    env = dict(os.environ)
    if int(n) > 0 and "CUDA_VISIBLE_DEVICES" not in env:
        gpus, _fds = claim(int(n), Path(env.get("MRCFA_GPU_LOCKS", "work/.gpu-locks")))
        env["CUDA_VISIBLE_DEVICES"] = ",".join(map(str, gpus))
    return subprocess.run(cmd, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
