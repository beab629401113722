"""Peak tensor memory counted from the tensors: exact sizes, views counted once, and repeatable."""

from __future__ import annotations

from pathlib import Path

import torch

from mrcfa.engine.bench import built, peak_memory_mb
from mrcfa.engine.tensor_memory import PeakTensorMemory
from mrcfa.experiments.registry import load_registry

ROOT = Path(__file__).resolve().parents[1]


def test_counts_live_storages_exactly():
    with PeakTensorMemory() as m:
        a = torch.ones(1000)  # 4,000 bytes
        b = a * 2  # +4,000: both alive
        view = b[10:20]  # a view of b's storage: nothing new
        del a
        c = b + 1  # a is gone: 8,000 now, peak stays 8,000
        d = torch.zeros(3000, dtype=torch.float64)  # +24,000 while b and c live: 32,000
    assert m.peak_bytes == 4000 + 4000 + 24000  # a freed before c was made: the peak is b + c + d
    assert m.current_bytes == 4000 + 4000 + 24000
    del b, c, d, view


def test_peak_memory_of_a_stream_repeats_and_shrinks_with_the_token_ratio():
    size = (192, 256)  # large enough that the cross-frame maps, not the weights, set the peak
    registry = load_registry(ROOT / "experiments" / "registry.yaml")
    cfg_p100, cfg_p50 = (registry.resolve("demo", run).model for run in ("mrcfa_b1_p100", "mrcfa_b1"))
    cpu = torch.device("cpu")
    first = peak_memory_mb(built(cfg_p100, cpu), "cached", size, cpu)
    assert peak_memory_mb(built(cfg_p100, cpu), "cached", size, cpu) == first
    assert peak_memory_mb(built(cfg_p50, cpu), "cached", size, cpu) < first
