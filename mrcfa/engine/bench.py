"""`mrcfa bench`: speed, memory, parameters and FLOPs of a model, batch 1.

Two named protocols:
- `cached` (the paper's): reference frames' features are already in memory; the cost of one new frame
  (its backbone, decoder and reference share, plus the cross-frame part) — `StreamingPredictor.step`;
- `clip` (the released `tools/benchmark.py`): a whole clip forward, every frame through the backbone.
Both include resizing the logits to the input and the argmax, and synchronise the device around each
call. Peak memory: the CUDA allocator's peak; on CPU the same quantity counted exactly from the live
tensors (`tensor_memory`), so that it repeats from run to run. Each timed call's seconds are kept, so that
an FPS comparison between two runs can carry an interval.

`interleaved` times several such workloads (and `train_step`, one optimiser step) round-robin in one
process, for ratios that a busy spell of a shared machine does not skew; `rotating` does so with the order
rotating from round to round (`mrcfa bench-table`).
"""

from __future__ import annotations

import dataclasses
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from mrcfa.config import ModelConfig, RunConfig
from mrcfa.metric_keys import FLOPS, FPS, MEMORY, PARAMS, PROTOCOL_METRICS, PROTOCOLS, SECONDS, per_protocol
from mrcfa.engine.optim import build_optimizer
from mrcfa.engine.preflight import sha256
from mrcfa.engine.tensor_memory import PeakTensorMemory
from mrcfa.models.checkpoints import model_from_file
from mrcfa.models.labels import logits_to_labels
from mrcfa.models.loss import clip_loss
from mrcfa.models.segmenter import Segmenter, build_model, count_parameters
from mrcfa.models.streaming import StreamingPredictor


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _postprocess(logits: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    return logits_to_labels(logits, [size])


def _runner(model: Segmenter, protocol: str, size: tuple[int, int], device: torch.device, seed: int = 0):
    """A callable doing one timed unit of work (one new frame, or one clip)."""
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    offsets = model.cfg.ref_offsets or ()
    if protocol == "clip":
        clip = torch.randn(1, model.cfg.num_frames, 3, h, w, generator=gen).to(device)
        return lambda: _postprocess(model(clip).logits, size)
    predictor = StreamingPredictor(model)
    frame = torch.randn(1, 3, h, w, generator=gen).to(device)
    horizon = predictor.horizon
    for _ in range(horizon):  # fill the cache so every timed frame has all its references
        predictor.step(frame, refs=[])

    def step() -> torch.Tensor:
        i = predictor.index
        return _postprocess(predictor.step(frame, refs=[i + o for o in offsets] if offsets else None), size)

    return step


def bench_model(cfg: ModelConfig, weights: str | Path | None = None) -> Segmenter:
    """Random weights as the released benchmark uses (never the ImageNet file), or a checkpoint's."""
    if weights is not None:
        return model_from_file(cfg, weights)[0]
    return build_model(dataclasses.replace(cfg, pretrained=None))


def train_step(cfg: RunConfig, device: torch.device, seed: int = 0) -> Callable[[], None]:
    """One optimiser step of `cfg`'s training (one process's micro-batch at the training crop, AMP as
    `mrcfa train` uses it) on a fixed random batch: the model's share of an iteration, without data loading."""
    torch.manual_seed(seed)
    model = bench_model(cfg.model).to(device).train()
    optimizer = build_optimizer(model, cfg.train)
    use_amp = cfg.train.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    b, t, (h, w) = cfg.train.batch_size // cfg.train.accum_steps, cfg.model.num_frames, cfg.data.crop
    frames = torch.randn(b, t, 3, h, w, device=device)
    labels = torch.randint(0, cfg.model.num_classes, (b, t, h, w), device=device)
    labeled = torch.ones(b, t, dtype=torch.bool, device=device)

    def step() -> None:
        with torch.autocast(device.type, enabled=use_amp):
            loss = clip_loss(model(frames), labels, labeled)["loss"]
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        optimizer.zero_grad(set_to_none=True)

    return step


def prepared(model: Segmenter, protocol: str, size: tuple[int, int],
             device: torch.device) -> Callable[[], torch.Tensor]:
    """One timed unit of `protocol` (a new frame, or a clip) of a built model, its streaming cache filled."""
    with torch.inference_mode():
        run = _runner(model, protocol, size, device)
    return torch.inference_mode()(run)


def built(model_cfg: ModelConfig, device: torch.device, weights: str | Path | None = None) -> Segmenter:
    """The benchmarked model, in eval mode on `device` (random weights seeded alike every time)."""
    torch.manual_seed(0)
    return bench_model(model_cfg, weights).to(device).eval()


def inference(model_cfg: ModelConfig, protocol: str, size: tuple[int, int], device: torch.device,
              weights: str | Path | None = None) -> Callable[[], torch.Tensor]:
    """`prepared` for a model built from its config."""
    return prepared(built(model_cfg, device, weights), protocol, size, device)


def timed(run: Callable[[], Any], device: torch.device) -> float:
    """Seconds of one call, the device synchronised before and after."""
    _sync(device)
    t = time.perf_counter()
    run()
    _sync(device)
    return time.perf_counter() - t


def interleaved(workloads: dict[str, Callable[[], Any]], rounds: int, warmup: int,
                device: torch.device) -> dict[str, list[float]]:
    """Seconds per call of each workload, one call of each per round: a slow spell of a shared machine
    then slows every workload alike instead of the one that happened to run during it."""
    times: dict[str, list[float]] = {name: [] for name in workloads}
    for r in range(warmup + rounds):
        for name, run in workloads.items():
            seconds = timed(run, device)
            if r >= warmup:
                times[name].append(seconds)
    return times


def rotating(workloads: dict[str, Callable[[], Any]], rounds: int, warmup: int,
             device: torch.device) -> list[dict[str, float]]:
    """Per timed round, each workload's seconds in the order they ran: every workload once per round, round r
    starting at workload r mod k, so that no workload always runs first (after a slower one, say)."""
    names = list(workloads)
    for _ in range(warmup):
        for name in names:
            workloads[name]()
    out = []
    for r in range(rounds):
        start = r % len(names)
        out.append({name: timed(workloads[name], device) for name in names[start:] + names[:start]})
    return out


def device_name(device: torch.device) -> str:
    return torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu"


def weight_bytes(model: torch.nn.Module) -> int:
    """Bytes of the model's parameters and buffers, each storage once."""
    storages = {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
                for t in (*model.parameters(), *model.buffers())}
    return sum(storages.values())


def peak_memory_mb(model: Segmenter, protocol: str, size: tuple[int, int], device: torch.device) -> float:
    """The most tensor memory held at once by the model's weights and what filling its streaming cache and
    running one more unit of `protocol` allocates: the CUDA allocator's peak, or on CPU the weights plus the
    exact count of `PeakTensorMemory`."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)  # the peak starts at what is allocated now: the weights
        prepared(model, protocol, size, device)()
        _sync(device)
        return torch.cuda.max_memory_allocated(device) / 2**20
    with PeakTensorMemory() as counter:
        prepared(model, protocol, size, device)()
    return (weight_bytes(model) + counter.peak_bytes) / 2**20


def measure(model: Segmenter, protocol: str, size: tuple[int, int], iters: int, warmup: int,
            device: torch.device) -> dict[str, Any]:
    """FPS over `iters` timed calls (and each call's seconds, for an interval), peak memory and FLOPs."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    memory_mb = peak_memory_mb(model, protocol, size, device)
    run = prepared(model, protocol, size, device)  # a fresh cache: the memory pass's is gone
    with FlopCounterMode(display=False) as counter:
        run()
    seconds = interleaved({protocol: run}, iters, warmup, device)[protocol]
    return {FPS: iters / sum(seconds), SECONDS: seconds, MEMORY: memory_mb, FLOPS: counter.get_total_flops()}


def benchmark(cfg: ModelConfig, *, size: tuple[int, int], iters: int, warmup: int,
              device: torch.device | None = None, threads: int | None = None,
              protocols: tuple[str, ...] = PROTOCOLS, weights: str | Path | None = None) -> dict[str, Any]:
    device = device or torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if threads:
        torch.set_num_threads(threads)
    model = built(cfg, device, weights)  # built once; a wrong checkpoint is refused before any timing
    result: dict[str, Any] = {"size": list(size), "iters": iters, "warmup": warmup, "batch": 1}
    if weights is not None:
        result["weights"] = {"path": str(weights), "sha256": sha256(weights)}
    for protocol in protocols:
        m = measure(model, protocol, size, iters, warmup, device)
        result |= {per_protocol(key, protocol): m[key] for key in (*PROTOCOL_METRICS, SECONDS)}
    # The tables' keys carry the first protocol's measurements (metric_keys).
    result["protocol"] = protocols[0]
    result |= {key: result[per_protocol(key, protocols[0])] for key in PROTOCOL_METRICS}
    result["memory_method"] = "cuda allocator" if device.type == "cuda" else "tensors"
    result["parameters"] = count_parameters(model)  # exact counts, as `mrcfa params` prints them
    result[PARAMS] = result["parameters"]["inference"] / 1e6
    result["device"] = device_name(device)
    result["threads"] = torch.get_num_threads() if threads is None else threads
    result["versions"] = {"torch": torch.__version__, "python": sys.version.split()[0]}
    return result
