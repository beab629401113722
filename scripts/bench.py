"""`make bench`: the model's speed and memory ratios, measured in one run on this machine.

Prints, at 480×864, batch 1 (the paper's test size):
- STM's effect: MRCFA-B1 with p = 0.5 against p = 1.0 (paper, GPU: 1.22× FPS, −15 % memory);
- the cost of one new frame of MRCFA-B1 in streaming (`cached`) mode over SegFormer-B1's single frame
  (paper, GPU: 58.7 / 40.1 = 1.46×).
Each configuration runs in a fresh `mrcfa bench` process (peak RSS on CPU). Results also go to
results/bench/ratios.json.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mrcfa.atomic import write_json  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="480x864", help="HxW")
    parser.add_argument("--iters", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", default="results/bench/ratios.json")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))

    def run(name: str, fields: list[str], protocols: tuple[str, ...]) -> dict:
        cmd = [sys.executable, "-m", "mrcfa", "bench", "--backbone", "b1", "--size", args.size, "--iters",
               str(args.iters), "--warmup", str(args.warmup), "--json", *fields]
        cmd += [x for p in protocols for x in ("--protocol", p)]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        line = "  ".join(f"{p}: {r[f'fps_{p}']:.3f} FPS, {r[f'memory_mb_{p}']:.0f} MB" for p in protocols)
        print(f"{name:<24} {line}", flush=True)
        return r

    print(f"{args.size}, batch 1, {args.iters} timed iterations after {args.warmup} warm-up")
    seg = run("SegFormer-B1", ["--model", "segformer"], ("cached",))
    p50 = run("MRCFA-B1 p=0.5", ["--keep-ratio", "0.5"], ("cached", "clip"))
    p100 = run("MRCFA-B1 p=1.0", ["--keep-ratio", "1.0"], ("cached",))
    ratios = {
        "stm_fps_ratio_p50_over_p100": p50["fps_cached"] / p100["fps_cached"],
        "stm_memory_change_p50_vs_p100": p50["memory_mb_cached"] / p100["memory_mb_cached"] - 1,
        "cached_frame_cost_mrcfa_over_segformer": seg["fps_cached"] / p50["fps_cached"],
        "clip_frame_cost_mrcfa_over_segformer": seg["fps_cached"] / p50["fps_clip"],
    }
    print()
    print(f"STM, p=0.5 over p=1.0:          {ratios['stm_fps_ratio_p50_over_p100']:.2f}× FPS, "
          f"{100 * ratios['stm_memory_change_p50_vs_p100']:+.1f} % memory   (paper: 1.22×, −15.4 %)")
    print(f"MRCFA-B1 new frame / SegFormer: {ratios['cached_frame_cost_mrcfa_over_segformer']:.2f}× cost (cached), "
          f"{ratios['clip_frame_cost_mrcfa_over_segformer']:.2f}× (whole clip)   (paper: 1.46×, cached)")
    write_json(args.out, {"size": list(size), "ratios": ratios,
                          "runs": {"segformer_b1": seg, "mrcfa_b1_p50": p50, "mrcfa_b1_p100": p100}})
    return 0


if __name__ == "__main__":
    sys.exit(main())
