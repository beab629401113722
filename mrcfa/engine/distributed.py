"""Process group set-up for `torchrun` (NCCL on GPU, gloo on CPU); a single process needs nothing."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as td


@dataclass(frozen=True)
class DistEnv:
    rank: int
    world: int
    device: torch.device


def init() -> DistEnv:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    cuda = torch.cuda.is_available()
    if cuda:
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        device = torch.device("cuda", local)
    else:
        device = torch.device("cpu")
    if world > 1 and not td.is_initialized():
        td.init_process_group("nccl" if cuda else "gloo")
    return DistEnv(rank=rank, world=world, device=device)


def barrier() -> None:
    if td.is_initialized():
        td.barrier()


def mean_across_ranks(value: float) -> float:
    """The mean of a scalar over all processes (the logged loss covers the whole global batch)."""
    if not td.is_initialized():
        return value
    # NCCL reduces only tensors on the GPU; gloo (CPU runs) only on the CPU.
    device = torch.device("cuda", torch.cuda.current_device()) if td.get_backend() == "nccl" else None
    t = torch.tensor([value], dtype=torch.float64, device=device)
    td.all_reduce(t)
    return t.item() / td.get_world_size()
