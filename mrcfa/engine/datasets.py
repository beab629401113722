"""Datasets for a resolved config, and the global sample order that makes training resumable.

Sample k of a run (k = 0, 1, 2, …) is a pure function of (seed, k): epoch e = k // n, and the clip is
video perm_e[k % n] with its augmentation drawn from (seed, e, video index). A resumed run therefore
continues with exactly the clips an uninterrupted run would have seen, whatever the worker count.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from torch.utils.data import Dataset, Sampler

from mrcfa.config import RunConfig
from mrcfa.data.cityscapes import CityscapesClipDataset
from mrcfa.data.transforms import ClipTestTransform, ClipTrainTransform
from mrcfa.data.vspw import VSPWClipDataset


def train_transform(cfg: RunConfig) -> ClipTrainTransform:
    d = cfg.data
    return ClipTrainTransform(crop=d.crop, scale_base=d.scale_base, scale_ratio=d.scale_ratio,
                              cat_max_ratio=d.cat_max_ratio)


def test_transform(cfg: RunConfig) -> ClipTestTransform:
    return ClipTestTransform(base=cfg.data.test_base)


def clip_dataset(cfg: RunConfig, seed: int, split: str = "train") -> Dataset:
    offsets = cfg.model.ref_offsets or ()
    if cfg.data.layout == "cityscapes":
        return CityscapesClipDataset(cfg.data.root, split, offsets, train_transform(cfg), seed=seed)
    return VSPWClipDataset(cfg.data.root, split, offsets, train_transform(cfg), seed=seed,
                           reverse_prob=cfg.data.reverse_prob)


class GlobalSamples(Dataset):
    """Index k -> the k-th training clip of the run (see module docstring)."""

    def __init__(self, clips: Any, seed: int) -> None:
        self.clips, self.seed, self.n = clips, seed, len(clips)
        self._perm: tuple[int, np.ndarray] | None = None

    def _order(self, epoch: int) -> np.ndarray:
        if self._perm is None or self._perm[0] != epoch:
            self._perm = (epoch, np.random.default_rng([self.seed, epoch, 7919]).permutation(self.n))
        return self._perm[1]

    def __len__(self) -> int:  # unbounded stream; DataLoader only needs a number
        return 2**62

    def __getitem__(self, k: int) -> dict[str, Any]:
        epoch, pos = divmod(int(k), self.n)
        self.clips.set_epoch(epoch)
        return self.clips[int(self._order(epoch)[pos])]


class ChunkSampler(Sampler[int]):
    """Yields the sample indices of this process, starting at global batch `start_batch`.

    A global batch of B clips is split into world × accum chunks; micro-step m of rank r takes chunk
    m·world + r, so one process with accumulation sees the same clips as `world` processes.
    """

    def __init__(self, batch: int, world: int, rank: int, accum: int, start_batch: int = 0) -> None:
        self.batch, self.world, self.rank, self.accum = batch, world, rank, accum
        self.chunk = batch // (world * accum)
        self.start_batch = start_batch

    def __iter__(self) -> Iterator[int]:
        b = self.start_batch
        while True:
            for m in range(self.accum):
                first = b * self.batch + (m * self.world + self.rank) * self.chunk
                yield from range(first, first + self.chunk)
            b += 1
