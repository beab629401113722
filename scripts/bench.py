"""`make bench`: the model's speed and memory ratios, measured in one run on this machine.

At 480×864, batch 1 (the paper's test size), against targets:
- one new frame of MRCFA-B1 (p = 0.5) in streaming (`cached`) mode over SegFormer-B1's single frame:
  at most 1.2× (paper, GPU: 58.7 / 40.1 = 1.46×);
- STM's effect, MRCFA-B1's frame at p = 1.0 over p = 0.5: at least 1.3× (paper: 1.22×), and less memory
  at p = 0.5 (paper: −15.4 %);
- the released protocol (the whole clip for every target, as its tools/benchmark.py) over our streamed
  frame: at least 2.5×;
and the time of one training step of the demo profile's MRCFA-B1 (no target: compare before/after a change).

Times come from one process that runs the workloads round-robin (warm caches, medians over the rounds),
so a busy spell of a shared machine slows them all alike. Memory is the peak of live tensor bytes while a
model is built, its cache filled and one more frame run (`mrcfa.engine.bench.peak_memory_mb`: the CUDA
allocator's peak, or on CPU the same quantity counted exactly), identical from run to run.
Results also go to results/bench/ratios.json.
"""

from __future__ import annotations

import argparse
import operator
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from mrcfa.atomic import write_json  # noqa: E402
from mrcfa.config import ModelConfig, build_section  # noqa: E402
from mrcfa.engine.bench import built, inference, interleaved, peak_memory_mb, train_step  # noqa: E402
from mrcfa.experiments.registry import load_registry  # noqa: E402

SEG, P50, P100, CLIP, TRAIN = "SegFormer-B1", "MRCFA-B1 p=0.5", "MRCFA-B1 p=1.0", "MRCFA-B1 p=0.5 clip", "train step"
OPS = {"<=": operator.le, ">=": operator.ge, "<": operator.lt}
TRAIN_STEPS = 10  # per round: a demo step is ~50 ms, too short to time alone on a shared machine
def check(name: str, value: float, op: str, bound: float, paper: str, percent: bool = False) -> dict:
    ok = OPS[op](value, bound)
    shown = f"{100 * value:+6.1f} %" if percent else f"{value:6.2f}×"
    target = f"{op} {100 * bound:g} %" if percent else f"{op} {bound:g}×"
    print(f"{name:<52} {shown}   target {target:<8} {'PASS' if ok else 'MISS'}   (paper, GPU: {paper})")
    return {"value": value, "target": target, "pass": ok}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="480x864", help="HxW")
    parser.add_argument("--iters", type=int, default=7, help="timed rounds (medians over them; 3 moved the ratios by ±0.1 here)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed rounds first")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--profile", default="demo", help="profile of the timed training step (MRCFA-B1)")
    parser.add_argument("--out", default="results/bench/ratios.json")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    print(f"{args.size}, batch 1, {device.type}, {torch.get_num_threads()} threads: {args.iters} timed rounds "
          f"after {args.warmup} warm-up round(s), medians")

    def model(**fields) -> ModelConfig:
        return build_section(ModelConfig, {"backbone": "b1", **fields}, "model.")

    workloads = {
        SEG: inference(model(arch="segformer"), "cached", size, device),
        P50: inference(model(keep_ratio=0.5), "cached", size, device),
        P100: inference(model(keep_ratio=1.0), "cached", size, device),
        CLIP: inference(model(keep_ratio=0.5), "clip", size, device),
    }
    step = train_step(load_registry().resolve(args.profile, "mrcfa_b1"), device)
    workloads[TRAIN] = lambda: [step() for _ in range(TRAIN_STEPS)]
    times = interleaved(workloads, args.iters, args.warmup, device)
    times[TRAIN] = [t / TRAIN_STEPS for t in times[TRAIN]]
    med = {name: statistics.median(ts) for name, ts in times.items()}
    memory = {name: peak_memory_mb(built(cfg, device), "cached", size, device)
              for name, cfg in {SEG: model(arch="segformer"), P50: model(keep_ratio=0.5),
                                P100: model(keep_ratio=1.0)}.items()}
    for name, t in med.items():
        mem = f"   peak memory {memory[name]:.0f} MB" if name in memory else ""
        print(f"{name:<22} {1e3 * t:9.1f} ms{mem}   (rounds: {', '.join(f'{1e3 * x:.0f}' for x in times[name])})")

    print()
    checks = {
        "cached_frame_mrcfa_p50_over_segformer": check(
            "streamed MRCFA-B1 frame (p=0.5) / SegFormer-B1 frame", med[P50] / med[SEG], "<=", 1.2, "1.46×"),
        "cached_frame_p100_over_p50": check("streamed frame p=1.0 / p=0.5", med[P100] / med[P50], ">=", 1.3, "1.22×"),
        "clip_protocol_over_cached_frame": check(
            "released clip protocol / streamed frame (p=0.5)", med[CLIP] / med[P50], ">=", 2.5, "n/a"),
        "memory_p50_vs_p100": check("peak memory p=0.5 vs p=1.0", memory[P50] / memory[P100] - 1, "<", 0.0,
                                    "−15.4 %", percent=True),
    }
    print(f"training step, {args.profile} MRCFA-B1: {1e3 * med[TRAIN]:.1f} ms")
    write_json(args.out, {"size": list(size), "device": device.type, "threads": torch.get_num_threads(),
                          "versions": {"torch": torch.__version__}, "seconds": times, "median_seconds": med,
                          "memory_mb": memory, "checks": checks, "train_profile": args.profile})
    return 0


if __name__ == "__main__":
    sys.exit(main())
