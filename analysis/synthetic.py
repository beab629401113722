"""Writes a plausible results tree (and matching dataset frames) without training anything.

Used by the tests to build fixtures, and handy for previewing tables, plots and the report.
Numbers follow the paper's values for each run, with per-seed noise, so trends look realistic. Given a loaded
profile, the files record the config hash each run resolves to under it and today's code fingerprint, as the
engine's would; given only a profile's name, a made-up hash per run and no fingerprint (such results read as
stale against any real profile, and as made by other code).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from mrcfa import layout, provenance
from mrcfa.config import DATASETS
from mrcfa.experiments.profiles import Profile
from mrcfa.experiments.registry import Registry

DEFAULT_PAPER = {"mIoU": 37.0, "WIoU": 59.0, "mVC8": 86.0, "mVC16": 81.0,
                 "fps": 40.0, "memory_mb": 900.0, "params_m": 15.0}


@dataclass
class Written:
    """What was written, for tests to check against: eval values per (run, seed), bench per run."""

    eval: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    bench: dict[str, dict[str, float]] = field(default_factory=dict)
    samples: list[tuple[str, str]] = field(default_factory=list)  # (video, frame)


def paper_values(registry: Registry, run: str) -> dict[str, float]:
    """The paper's numbers for a run, merged over every table row that reads it."""
    out = dict(DEFAULT_PAPER)
    for spec in registry.tables.values():
        for row in spec.rows:
            if row.run == run:
                out.update(row.paper)
    return out


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def write_dataset(root: Path, videos: list[str], frames: list[str], num_classes: int, size=(48, 64)) -> None:
    """VSPW-like layout: data/<video>/origin/<frame>.jpg and data/<video>/mask/<frame>.png (0 = others)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w]
    for vi, video in enumerate(videos):
        for fi, frame in enumerate(frames):
            raw = ((xx // (w // 4) + yy // (h // 3) + vi + fi) % (num_classes + 1)).astype(np.uint8)
            rgb = np.stack([(raw * 37) % 255, (xx * 4) % 255, (yy * 5) % 255], -1).astype(np.uint8)
            d = root / "data" / video
            (d / "origin").mkdir(parents=True, exist_ok=True)
            (d / "mask").mkdir(parents=True, exist_ok=True)
            Image.fromarray(rgb).save(d / "origin" / f"{frame}.jpg")
            Image.fromarray(raw).save(d / "mask" / f"{frame}.png")


def write_results(
    results_root: Path,
    profile: str | Profile,
    registry: Registry,
    runs: list[str] | None = None,
    seeds: tuple[int, ...] = (0, 1),
    *,
    bench: bool = True,
    samples_for: list[str] | None = None,
    data_root: Path | None = None,
    num_classes: int = 8,
    iters: int = 50,
    rng_seed: int = 0,
    offset: float = 0.0,
) -> Written:
    """offset: added to every evaluation metric (e.g. to make cited rows beat ours in a test)."""
    rng = np.random.default_rng(rng_seed)
    written = Written()
    name = profile.name if isinstance(profile, Profile) else profile
    videos, frames = ["vid_a", "vid_b"], ["00000010", "00000020"]
    written.samples = [(v, f) for v in videos for f in frames]
    if data_root is not None:
        write_dataset(data_root, videos, frames, num_classes)
    for run in runs if runs is not None else list(registry.runs):
        paper = paper_values(registry, run)
        config_hash = (registry.resolve(profile, run).hash() if isinstance(profile, Profile)
                       else hashlib.sha1(run.encode()).hexdigest()[:12])
        made = {"config_hash": config_hash, **({provenance.KEY: provenance.current()} if isinstance(profile, Profile)
                                                else {})}
        for seed in seeds:
            vals = {m: round(paper[m] + offset + float(rng.normal(0, 0.4)), 4)
                    for m in ("mIoU", "WIoU", "mVC8", "mVC16")}
            written.eval[(run, seed)] = vals
            seed_dir = Path(layout.path(layout.SEED, results=results_root, profile=name, run=run, seed=seed))
            _write_json(seed_dir / layout.METRICS_FILE, {
                "run": run, "seed": seed, "profile": name, "dataset": registry.dataset_of(run),
                **made, **vals,
                "per_class_iou": [round(float(v), 2) for v in rng.uniform(10, 80, num_classes)] + [None],
                "num_frames": 120,
            })
            it = np.arange(0, iters + 1, 5)
            loss = 2.5 * np.exp(-it / (iters / 3)) + 0.3 + rng.normal(0, 0.03, it.size)
            lr = 6e-5 * np.minimum(1.0, (it + 1) / 10) * (1 - it / (iters + 1))
            (seed_dir / layout.HISTORY_FILE).write_text(
                "iter,loss,lr\n" + "".join(f"{i},{l:.5f},{r:.3e}\n" for i, l, r in zip(it, loss, lr)))
            _write_json(seed_dir / layout.TRAIN_FILE, {"run": run, "seed": seed, "iters": iters,
                                                       "final_loss": float(loss[-1]), "seconds": 12.5, **made})
            if samples_for and run in samples_for:
                _write_samples(seed_dir / layout.SAMPLES_DIR, data_root, videos, frames, num_classes, rng)
        if bench:
            b = {"fps": paper["fps"] * 1.1, "memory_mb": paper["memory_mb"] * 0.5,
                 "params_m": paper["params_m"] * 0.98}
            written.bench[run] = b
            inference = b["params_m"] * 1e6
            _write_json(Path(layout.path(layout.BENCH, results=results_root, profile=name, run=run)), {
                **b, "protocol": "cached", "fps_cached": b["fps"], "fps_clip": b["fps"] / 3,
                "memory_mb_cached": b["memory_mb"], "parameters": {"total": int(inference * 1.1), "inference": inference},
                "flops": 1.2e10, "device": "cpu (synthetic)", "size": [64, 96], **made,
            })
    return written


def write_table_benches(results_root: Path, profile: str, registry: Registry, processes: int = 3,
                        rounds: int = 3, rng_seed: int = 0) -> None:
    """bench/<table>.json of every table whose claims compare FPS, as `mrcfa bench-table` writes it: each row's
    seconds per round at its paper FPS, with per-process and per-call noise."""
    rng = np.random.default_rng(rng_seed)
    for table in registry.bench_tables():
        runs = registry.tables[table].runs
        procs = []
        for _ in range(processes):
            slow = rng.lognormal(0.0, 0.05)
            seconds = {r: [slow / paper_values(registry, r)["fps"] * float(x)
                           for x in rng.lognormal(0.0, 0.02, rounds)] for r in runs}
            procs.append({"seconds": seconds, "order": [runs[i % len(runs):] + runs[:i % len(runs)]
                                                        for i in range(rounds)], "device": "cpu (synthetic)"})
        _write_json(Path(layout.path(layout.TABLE_BENCH, results=results_root, profile=profile, table=table)),
                    {"profile": profile, "table": table, "rows": [{"run": r} for r in runs], "rounds": rounds,
                     "processes": procs, "device": "cpu (synthetic)", "threads": 1,
                     provenance.KEY: provenance.current()})


def _write_samples(out: Path, data_root: Path | None, videos, frames, num_classes: int, rng) -> None:
    for video in videos:
        for frame in frames:
            if data_root is not None:
                raw = np.array(Image.open(data_root / "data" / video / "mask" / f"{frame}.png"))
                pred = np.where(raw == 0, 0, raw - 1).astype(np.uint8)
            else:
                pred = np.zeros((48, 64), np.uint8)
            noise = rng.random(pred.shape) < 0.1
            pred[noise] = rng.integers(0, num_classes, int(noise.sum()))
            (out / video).mkdir(parents=True, exist_ok=True)
            Image.fromarray(pred).save(out / video / f"{frame}.png")


def write_profile(path: Path, name: str, seeds: tuple[int, ...], data_root: Path, num_classes: int = 8,
                  source: str = "synth") -> Path:
    """A profile YAML with both datasets pointing at `data_root`; `source: disk` makes it read like the paper
    profile (real data, so the tables compare values with the paper's, not effects)."""
    ds = {"source": source, "root": str(data_root), "num_classes": num_classes}
    text = f"seeds: {list(seeds)}\ndatasets:\n" + "".join(
        f"  {d}: {json.dumps(ds)}\n" for d in DATASETS)
    path.mkdir(parents=True, exist_ok=True)
    out = path / f"{name}.yaml"
    out.write_text(text)
    return out
