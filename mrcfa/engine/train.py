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


class StopRequested(Exception):
    pass


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


def train(cfg: RunConfig, seed: int, paths: RunPaths, *, device: torch.device | None = None,
          track: bool = True, tags: dict[str, str] | None = None, progress: bool = True) -> dict[str, Any]:
    env = dist.init()
    device = device or env.device
    tc = cfg.train
    per_rank = tc.batch_size // (env.world * tc.accum_steps)
    if per_rank * env.world * tc.accum_steps != tc.batch_size:
        raise ValueError(f"train.batch_size {tc.batch_size} is not divisible by {env.world} processes × "
                         f"{tc.accum_steps} accumulation steps; set train.accum_steps accordingly")
    facts = preflight(cfg, device, paths.work) if env.rank == 0 else {}

    seed_everything(seed)
    configure_determinism(tc.deterministic, device)
    if tc.init_from:  # fine-tuning: the whole model comes from the file
        model: torch.nn.Module = model_from_file(cfg.model, tc.init_from, "a model to fine-tune from")[0]
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
    optimizer = build_optimizer(unwrap(model), tc)  # parameter names without DDP's "module." prefix
    use_amp = tc.amp and device.type == "cuda"
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    start, history, run_id = 0, [], None
    if paths.checkpoint.is_file():
        ckpt = torch.load(paths.checkpoint, map_location="cpu", weights_only=False)
        if ckpt["config_hash"] != cfg.hash():
            raise RuntimeError(f"{paths.checkpoint} belongs to another config ({ckpt['config_hash']} vs "
                               f"{cfg.hash()}); delete it to start over")
        unwrap(model).load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scaler.load_state_dict(ckpt["scaler"])
        _set_rng_state(ckpt["rng"])
        start, history, run_id = ckpt["iter"], ckpt["history"], ckpt.get("mlflow_run_id")
        print(f"resuming {cfg.run} seed {seed} from iteration {start}/{tc.iters}", file=sys.stderr)
    tracker = open_tracker(cfg, seed, run_id, tags) if track and env.rank == 0 else None
    if tracker is not None:
        tracker.set_tags({"mrcfa.device": str(device), provenance.tag("train"): provenance.current(),
                          **{f"mrcfa.{k}": v for k, v in facts.items()}})
        tracker.monitor_system()

    loader_gen = torch.Generator().manual_seed(seed)  # keeps DataLoader seeding off the global RNG
    loader = DataLoader(
        GlobalSamples(clip_dataset(cfg, seed), seed), batch_size=per_rank,
        sampler=ChunkSampler(tc.batch_size, env.world, env.rank, tc.accum_steps, start_batch=start),
        num_workers=cfg.data.workers, generator=loader_gen, persistent_workers=cfg.data.workers > 0,
    )
    batches = iter(loader)

    def save_checkpoint(it: int) -> None:
        state = {"iter": it, "model": unwrap(model).state_dict(), "optimizer": optimizer.state_dict(),
                 "scaler": scaler.state_dict(), "rng": _rng_state(), "history": history,
                 "config_hash": cfg.hash(), "mlflow_run_id": tracker.run_id if tracker is not None else None}
        atomic_write(paths.checkpoint, lambda p: torch.save(state, p))

    signals = _Signals()
    signals.install()
    model.train()
    bar = tqdm(total=tc.iters, initial=start, desc=f"{cfg.run} s{seed}", disable=not progress or env.rank,
               mininterval=2.0, dynamic_ncols=True)
    t0 = time.time()
    done = start
    try:
        for it in range(start, tc.iters):
            lr = set_lr(optimizer, it, tc)
            total = 0.0
            for micro in range(tc.accum_steps):
                batch = next(batches)
                frames = batch["frames"].to(device, non_blocking=True)
                labels = batch["labels"].to(device, non_blocking=True)
                sync = micro == tc.accum_steps - 1 or env.world == 1
                ctx = model.no_sync() if not sync and hasattr(model, "no_sync") else contextlib.nullcontext()
                with ctx, torch.autocast(device.type, enabled=use_amp):
                    out = model(frames)
                    loss = clip_loss(out, labels, batch["labeled"])["loss"] / tc.accum_steps
                scaler.scale(loss).backward()
                total += loss.item()
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            total = dist.mean_across_ranks(total)
            if (it + 1) % tc.log_every == 0 or it + 1 == tc.iters:
                history.append((it + 1, total, lr))
                if tracker is not None:
                    tracker.log_metrics({"train_loss": total, "lr": lr}, step=it + 1)
            bar.set_postfix(loss=f"{total:.3f}", lr=f"{lr:.2e}", refresh=False)
            bar.update(1)
            done = it + 1
            if env.rank == 0 and (signals.received or done % tc.checkpoint_every == 0) and done < tc.iters:
                save_checkpoint(done)
            if signals.received:
                raise StopRequested(signals.received)
    except StopRequested as e:
        print(f"\nstopped by signal {e.args[0]} at iteration {done}; the checkpoint in {paths.work} resumes it",
              file=sys.stderr)
        if tracker is not None:
            tracker.close("KILLED")
        raise SystemExit(128 + int(e.args[0])) from None
    finally:
        bar.close()
        signals.restore()

    result = {"run": cfg.run, "seed": seed, "profile": cfg.profile, "config_hash": cfg.hash(),
              "overrides": cfg.overrides, "iters": tc.iters, "final_loss": history[-1][1] if history else None,
              "seconds": round(time.time() - t0, 2), **count_parameters(unwrap(model)), **provenance.stamp()}
    if env.rank == 0:
        atomic_write(paths.model, lambda p: torch.save(unwrap(model).state_dict(), p))
        write_text(paths.history, _history_csv(history))
        write_json(paths.train_json, result)
        if tracker is not None:
            tracker.log_metrics({"train_seconds": result["seconds"]})
            tracker.log_artifact(paths.history)
            tracker.close()
        paths.checkpoint.unlink(missing_ok=True)
    dist.barrier()
    return result

