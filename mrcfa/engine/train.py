"""`mrcfa train`: the released recipe, resumable, optionally distributed.

Resumption: a checkpoint (model, optimiser, AMP scaler, RNG states, loss history, MLflow run id) is
written atomically every `checkpoint_every` iterations and when SIGTERM/SIGINT arrives; a rerun of the
same job continues from it. Together with the global sample order of `mrcfa.engine.datasets`, a run
killed at any point and rerun ends with the same weights as an uninterrupted one (deterministic mode, CPU).
"""

from __future__ import annotations

import contextlib
import csv
import io
import random
import signal
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from mrcfa import provenance
from mrcfa.config import RunConfig
from mrcfa.engine import distributed as dist
from mrcfa.engine.datasets import ChunkSampler, GlobalSamples, clip_dataset
from mrcfa.atomic import atomic_write, write_json, write_text
from mrcfa.engine.optim import build_optimizer, set_lr
from mrcfa.engine.paths import RunPaths
from mrcfa.engine.preflight import preflight
from mrcfa.engine.tracked import open_tracker
from mrcfa.models.checkpoints import model_from_file
from mrcfa.models.loss import clip_loss
from mrcfa.models.segmenter import Segmenter, build_model, count_parameters


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def configure_determinism(enabled: bool, device: torch.device) -> None:
    torch.backends.cudnn.benchmark = not enabled
    # Some CUDA kernels (bilinear backward) have no deterministic variant: warn there instead of failing.
    torch.use_deterministic_algorithms(enabled, warn_only=device.type == "cuda")
    # Deterministic mode also fills every uninitialised allocation (torch.empty and the like) with NaN or the
    # largest integer, a check for reads of unwritten memory. Off: the same weights bit for bit in a 40-step
    # check and the same per-seed effects in a whole Table 2, about 7 % less time per CPU training step.
    torch.utils.deterministic.fill_uninitialized_memory = False


class StopRequested(Exception):
    """A signal arrived; args: (the signal, the iterations done)."""


@dataclass
class _Signals:
    received: int | None = None
    previous: dict[int, Any] = field(default_factory=dict)

    def install(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.previous[sig] = signal.signal(sig, self._handle)

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum: int, frame: Any) -> None:
        self.received = signum


def _rng_state() -> dict[str, Any]:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def _history_csv(history: list[tuple[int, float, float]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["iter", "loss", "lr"])
    w.writerows((it, repr(loss), repr(lr)) for it, loss, lr in history)
    return buf.getvalue()


def unwrap(model: torch.nn.Module) -> Segmenter:
    return model.module if hasattr(model, "module") else model  # type: ignore[return-value]


@dataclass
class _Job:
    """One training job's state, shared by its phases."""

    cfg: RunConfig
    seed: int
    paths: RunPaths
    env: dist.DistEnv
    device: torch.device
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    use_amp: bool
    start: int = 0  # the first iteration this process runs (after a resume)
    history: list[tuple[int, float, float]] = field(default_factory=list)
    tracker: Any = None

    @property
    def rank0(self) -> bool:
        return self.env.rank == 0


def _per_rank_batch(cfg: RunConfig, env: dist.DistEnv) -> int:
    tc = cfg.train
    per_rank = tc.batch_size // (env.world * tc.accum_steps)
    if per_rank * env.world * tc.accum_steps != tc.batch_size:
        raise ValueError(f"train.batch_size {tc.batch_size} is not divisible by {env.world} processes × "
                         f"{tc.accum_steps} accumulation steps; set train.accum_steps accordingly")
    return per_rank


def _model(cfg: RunConfig, env: dist.DistEnv, device: torch.device) -> torch.nn.Module:
    if cfg.train.init_from:  # fine-tuning: the whole model comes from the file
        model: torch.nn.Module = model_from_file(cfg.model, cfg.train.init_from, "a model to fine-tune from")[0]
    else:
        model = build_model(cfg.model)
    model = model.to(device)
    if env.world > 1:
        # SyncBN as released on GPUs; torch's SyncBN has no CPU kernel, so gloo runs keep per-process BN
        # (which is then exactly what one process with gradient accumulation computes).
        if device.type == "cuda":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
    return model


def _setup(cfg: RunConfig, seed: int, paths: RunPaths, env: dist.DistEnv, device: torch.device) -> _Job:
    """Seeds, the model (DDP-wrapped when distributed), its optimiser and AMP scaler, in that order."""
    seed_everything(seed)
    configure_determinism(cfg.train.deterministic, device)
    model = _model(cfg, env, device)
    optimizer = build_optimizer(unwrap(model), cfg.train)  # parameter names without DDP's "module." prefix
    use_amp = cfg.train.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    return _Job(cfg, seed, paths, env, device, model, optimizer, scaler, use_amp)


def _resume(job: _Job) -> str | None:
    """Continue from the job's checkpoint, if any; the MLflow run id it names (None: none)."""
    cfg, path = job.cfg, job.paths.checkpoint
    if not path.is_file():
        return None
    ckpt = torch.load(path, map_location="cpu", weights_only=False)
    if ckpt["config_hash"] != cfg.hash():
        raise RuntimeError(f"{path} belongs to another config ({ckpt['config_hash']} vs "
                           f"{cfg.hash()}); delete it to start over")
    unwrap(job.model).load_state_dict(ckpt["model"])
    job.optimizer.load_state_dict(ckpt["optimizer"])
    job.scaler.load_state_dict(ckpt["scaler"])
    _set_rng_state(ckpt["rng"])
    job.start, job.history = ckpt["iter"], ckpt["history"]
    print(f"resuming {cfg.run} seed {job.seed} from iteration {job.start}/{cfg.train.iters}", file=sys.stderr)
    return ckpt.get("mlflow_run_id")


def _track(job: _Job, run_id: str | None, tags: dict[str, str] | None, facts: dict[str, Any]) -> None:
    job.tracker = open_tracker(job.cfg, job.seed, run_id, tags)
    job.tracker.set_tags({"mrcfa.device": str(job.device), provenance.tag("train"): provenance.current(),
                          **{f"mrcfa.{k}": v for k, v in facts.items()}})
    job.tracker.monitor_system()


def _batches(job: _Job, per_rank: int) -> Iterator[dict[str, Any]]:
    """This process's share of the global sample order, from the job's first iteration on."""
    cfg, env, tc = job.cfg, job.env, job.cfg.train
    loader_gen = torch.Generator().manual_seed(job.seed)  # keeps DataLoader seeding off the global RNG
    loader = DataLoader(
        GlobalSamples(clip_dataset(cfg, job.seed), job.seed), batch_size=per_rank,
        sampler=ChunkSampler(tc.batch_size, env.world, env.rank, tc.accum_steps, start_batch=job.start),
        num_workers=cfg.data.workers, generator=loader_gen, persistent_workers=cfg.data.workers > 0,
    )
    return iter(loader)


def _save_checkpoint(job: _Job, it: int) -> None:
    state = {"iter": it, "model": unwrap(job.model).state_dict(), "optimizer": job.optimizer.state_dict(),
             "scaler": job.scaler.state_dict(), "rng": _rng_state(), "history": job.history,
             "config_hash": job.cfg.hash(),
             "mlflow_run_id": job.tracker.run_id if job.tracker is not None else None}
    atomic_write(job.paths.checkpoint, lambda p: torch.save(state, p))


def _step(job: _Job, batches: Iterator[dict[str, Any]], it: int) -> tuple[float, float]:
    """One optimiser step over `accum_steps` micro-batches: (the loss averaged over all processes, the lr)."""
    tc, model, device = job.cfg.train, job.model, job.device
    lr = set_lr(job.optimizer, it, tc)
    total = 0.0
    for micro in range(tc.accum_steps):
        batch = next(batches)
        frames = batch["frames"].to(device, non_blocking=True)
        labels = batch["labels"].to(device, non_blocking=True)
        sync = micro == tc.accum_steps - 1 or job.env.world == 1
        ctx = model.no_sync() if not sync and hasattr(model, "no_sync") else contextlib.nullcontext()
        with ctx, torch.autocast(device.type, enabled=job.use_amp):
            out = model(frames)
            loss = clip_loss(out, labels, batch["labeled"])["loss"] / tc.accum_steps
        job.scaler.scale(loss).backward()
        total += loss.item()
    job.scaler.step(job.optimizer)
    job.scaler.update()
    job.optimizer.zero_grad(set_to_none=True)
    return dist.mean_across_ranks(total), lr


def _record(job: _Job, done: int, loss: float, lr: float) -> None:
    if done % job.cfg.train.log_every == 0 or done == job.cfg.train.iters:
        job.history.append((done, loss, lr))
        if job.tracker is not None:
            job.tracker.log_metrics({"train_loss": loss, "lr": lr}, step=done)


def _loop(job: _Job, batches: Iterator[dict[str, Any]], signals: _Signals, bar: tqdm) -> None:
    """The iterations left; a checkpoint every `checkpoint_every` and, then stopping, when a signal arrived."""
    tc = job.cfg.train
    for it in range(job.start, tc.iters):
        loss, lr = _step(job, batches, it)
        done = it + 1
        _record(job, done, loss, lr)
        bar.set_postfix(loss=f"{loss:.3f}", lr=f"{lr:.2e}", refresh=False)
        bar.update(1)
        if job.rank0 and (signals.received or done % tc.checkpoint_every == 0) and done < tc.iters:
            _save_checkpoint(job, done)
        if signals.received:
            raise StopRequested(signals.received, done)


def _run_loop(job: _Job, batches: Iterator[dict[str, Any]], progress: bool) -> None:
    """The loop with SIGTERM/SIGINT caught: a stopped job leaves its checkpoint and exits 128 + the signal."""
    signals = _Signals()
    signals.install()
    job.model.train()
    bar = tqdm(total=job.cfg.train.iters, initial=job.start, desc=f"{job.cfg.run} s{job.seed}",
               disable=not progress or job.env.rank, mininterval=2.0, dynamic_ncols=True)
    try:
        _loop(job, batches, signals, bar)
    except StopRequested as e:
        signum, done = e.args
        print(f"\nstopped by signal {signum} at iteration {done}; the checkpoint in {job.paths.work} resumes it",
              file=sys.stderr)
        if job.tracker is not None:
            job.tracker.close("KILLED")
        raise SystemExit(128 + int(signum)) from None
    finally:
        bar.close()
        signals.restore()


def _finish(job: _Job, seconds: float) -> dict[str, Any]:
    """The summary; process 0 writes the model, the loss history and train.json, and drops the checkpoint."""
    cfg, paths, history = job.cfg, job.paths, job.history
    model = unwrap(job.model)
    result = {"run": cfg.run, "seed": job.seed, "profile": cfg.profile, "config_hash": cfg.hash(),
              "overrides": cfg.overrides, "iters": cfg.train.iters,
              "final_loss": history[-1][1] if history else None,
              "seconds": round(seconds, 2), "threads": torch.get_num_threads(), **count_parameters(model),
              **provenance.stamp()}
    if job.rank0:
        atomic_write(paths.model, lambda p: torch.save(model.state_dict(), p))
        write_text(paths.history, _history_csv(history))
        write_json(paths.train_json, result)
        if job.tracker is not None:
            job.tracker.log_metrics({"train_seconds": result["seconds"]})
            job.tracker.log_artifact(paths.history)
            job.tracker.close()
        paths.checkpoint.unlink(missing_ok=True)
    dist.barrier()
    return result


def train(cfg: RunConfig, seed: int, paths: RunPaths, *, device: torch.device | None = None,
          track: bool = True, tags: dict[str, str] | None = None, progress: bool = True) -> dict[str, Any]:
    env = dist.init()
    device = device or env.device
    per_rank = _per_rank_batch(cfg, env)
    facts = preflight(cfg, device, paths.work) if env.rank == 0 else {}
    job = _setup(cfg, seed, paths, env, device)
    run_id = _resume(job)
    if track and job.rank0:
        _track(job, run_id, tags, facts)
    batches = _batches(job, per_rank)
    t0 = time.time()
    _run_loop(job, batches, progress)
    return _finish(job, time.time() - t0)
