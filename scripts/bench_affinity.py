"""The affinity decoder's layouts at the streaming size: why SAR/MAA convolve the maps as groups.

MRCFA-B1 at 480×864 with p = 0.5 refines 606 maps (3 references × 202 kept tokens) on the 15×27, 30×54 and
60×108 grids. Times, at 2 threads unless told otherwise (medians of rounds that run the compared layouts in turn):
- each conv of the blocks alone, with the maps as the batch of one-channel images (the released layout),
  as the groups of one grouped convolution (ours), or as the batch in channels-last memory;
- the whole decoder (B1's two-conv blocks, B0's single-conv ones), forward in inference mode and
  forward + backward, released layout against ours (the same modules; only the layout differs).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections.abc import Callable
from copy import deepcopy
from pathlib import Path
from types import MethodType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

from mrcfa.engine.bench import interleaved  # noqa: E402
from mrcfa.models.affinity_decoder import AffinityDecoder, MapBlock, conv_per_map  # noqa: E402

GRIDS = {4: (15, 27), 3: (30, 54), 2: (60, 108)}


def ms(workloads: dict[str, Callable[[], object]], rounds: int) -> list[float]:
    """Median ms of each workload, timed round-robin (a slow spell of the machine hits them all)."""
    times = interleaved(workloads, rounds, 1, torch.device("cpu"))
    return [1e3 * statistics.median(times[name]) for name in workloads]


def as_batch(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return F.conv2d(x, w, b, padding=w.shape[-1] // 2)


def as_groups(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return conv_per_map(x, w, b, w.shape[-1] // 2)


def channels_last(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return as_batch(x.contiguous(memory_format=torch.channels_last), w, b)


def released_layout(dec: AffinityDecoder) -> AffinityDecoder:
    """A copy whose blocks run as plain nn.Sequential: the maps are a batch of images."""
    copy = deepcopy(dec)
    for block in copy.modules():
        if isinstance(block, MapBlock):
            block.forward = MethodType(nn.Sequential.forward, block)
    return copy


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--maps", type=int, default=606)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, layouts = args.maps, {"batch": as_batch, "groups": as_groups, "channels-last": channels_last}
    print(f"{n} maps, {args.threads} threads, medians of {args.rounds} rounds; ms")
    print(f"{'conv':<22}" + "".join(f"{name:>15}" for name in layouts))
    with torch.inference_mode():
        for (h, w), (cin, cout, k) in [(g, c) for g in (GRIDS[2], GRIDS[3]) for c in
                                       ((1, 1, 5), (1, 1, 3), (1, 2, 3), (2, 2, 3), (2, 1, 3))]:
            x, wt, b = torch.randn(n, cin, h, w), torch.randn(cout, cin, k, k), torch.randn(cout)
            times = ms({name: lambda f=f: f(x, wt, b) for name, f in layouts.items()}, args.rounds)
            print(f"{h}×{w} {cin}→{cout} {k}×{k}".ljust(22) + "".join(f"{t:15.1f}" for t in times))

    print(f"\n{'decoder':<42}{'released':>10}{'ours':>10}{'speed-up':>10}")
    for name, double in (("B1 (two-conv blocks)", True), ("B0 (single-conv blocks)", False)):
        dec = AffinityDecoder([4, 3, 2], double=double, sar=True, maa=True)
        maps = [torch.randn(n, 1, *GRIDS[s]) for s in (4, 3, 2)]
        for mode in ("forward", "forward+backward"):
            def run(forward: Callable[..., torch.Tensor]) -> Callable[[], object]:
                if mode == "forward":
                    return torch.inference_mode()(lambda: forward(maps, GRIDS[2]))
                inputs = [m.clone().requires_grad_(True) for m in maps]
                return lambda: forward(inputs, GRIDS[2]).square().mean().backward()

            old, new = ms({"released": run(released_layout(dec)), "ours": run(dec)}, args.rounds)
            print(f"{name + ', ' + mode:<42}{old:10.1f}{new:10.1f}{old / new:9.1f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main())
