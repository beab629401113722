"""Data-loading throughput: training clips per second through a DataLoader with workers.

Writes a small synthetic set at VSPW's 480p size (and uses the demo profile's size), then times the
training pipeline (read JPEG/PNG, random scale, crop, flip, photometric distortion, normalise) at the
paper's crop (480×480, T = 4) and at the demo crop. Results also go to results/bench/data.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from torch.utils.data import DataLoader  # noqa: E402

from mrcfa.data.synth import write_synthetic  # noqa: E402
from mrcfa.data.synth_settings import SynthSettings  # noqa: E402
from mrcfa.data.transforms import ClipTrainTransform  # noqa: E402
from mrcfa.data.vspw import VSPWClipDataset  # noqa: E402
from mrcfa.atomic import write_json  # noqa: E402


def clips_per_second(root: Path, crop: tuple[int, int], base: tuple[int, int], workers: int, batches: int,
                     batch: int) -> float:
    transform = ClipTrainTransform(crop=crop, scale_base=base)
    dataset = VSPWClipDataset(root, "train", (-9, -6, -3), transform, repeat=100)
    loader = DataLoader(dataset, batch_size=batch, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    it = iter(loader)
    next(it)  # start-up of the workers is not throughput
    t = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * batch / (time.perf_counter() - t)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--out", default="results/bench/data.json")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (h, w), crop, base in (("paper 480x480", (480, 853), (480, 480), (853, 480)),
                                         ("demo 64x64", (64, 96), (64, 64), (96, 64))):
            root = Path(tmp) / name.split()[0]
            write_synthetic(root, SynthSettings(train_videos=4, val_videos=1, frames=12, height=h, width=w, num_classes=8,
                                                 difficulty=0.5, seed=0))
            cps = clips_per_second(root, crop, base, args.workers, args.batches, batch=2)
            results[name] = cps
            print(f"{name:<14} T=4: {cps:7.1f} clips/s with {args.workers} workers", flush=True)
    write_json(args.out, {"workers": args.workers, "clips_per_second": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
