"""Which frame positions form a clip, for training and for test time.

Positions are indices into a video's sorted frame list, never frame numbers:
VSPW_480p has gaps in its numbering and the released code counts in list
positions too.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np

Rng = random.Random | np.random.Generator


def validate_offsets(offsets: Sequence[int]) -> tuple[int, ...]:
    """Offsets must be negative and strictly increasing, e.g. (-9, -6, -3); none means single frames
    (the SegFormer baseline trains on the target alone)."""
    offs = tuple(int(o) for o in offsets)
    if any(o >= 0 for o in offs):
        raise ValueError(f"offsets {offs} must all be negative (references precede the target)")
    if any(b <= a for a, b in zip(offs, offs[1:])):
        raise ValueError(f"offsets {offs} must be strictly increasing, e.g. (-9, -6, -3)")
    return offs


def max_offset(offsets: Sequence[int]) -> int:
    """D: how many frames must precede the target, so a video needs D + 1 frames."""
    return max((abs(int(o)) for o in offsets), default=0)


def _uniform_int(rng: Rng, low: int, high: int) -> int:
    """Integer uniform on [low, high] for either kind of generator."""
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(low, high + 1))
    return rng.randint(low, high)


def train_clip_positions(
    num_frames: int,
    offsets: Sequence[int],
    rng: Rng,
    reverse_prob: float = 0.5,
) -> list[int]:
    """Positions (into the ORIGINAL frame list) of one training clip, target last.

    As released: with probability ``reverse_prob`` the list is reversed (so the
    references then lie *after* the target in time), the target is uniform over
    positions D..N-1 of that list and references are ``t + o`` in offset order.
    """
    offs = validate_offsets(offsets)
    d = max_offset(offs)
    if num_frames < d + 1:
        raise ValueError(
            f"a video with {num_frames} frames cannot give a clip for offsets {offs}; "
            f"it needs at least {d + 1} frames"
        )
    reverse = rng.random() < reverse_prob
    t = _uniform_int(rng, d, num_frames - 1)
    positions = [t + o for o in offs] + [t]
    if reverse:
        positions = [num_frames - 1 - p for p in positions]
    return positions


def test_reference_positions(i: int, offsets: Sequence[int]) -> list[int] | None:
    """Reference positions for target position ``i`` at test time, or None.

    None means "predict the frame on its own" (too few earlier frames). Near
    the start of a video the clip is squeezed into positions 0..i: each gap
    between consecutive clip positions gets one frame, and the rest of the
    span is shared in proportion to (gap - 1) by largest remainder, ties to
    the earlier gap. For (-9, -6, -3) this is exactly the released table.
    """
    offs = validate_offsets(offsets)
    if i < 0:
        raise ValueError(f"target position {i} is negative")
    if not offs:
        return None
    if i + offs[0] >= 0:
        return [i + o for o in offs]
    k = len(offs)
    if i < k:
        return None
    # Gaps from ref j to ref j+1, the last one from the last ref to the target.
    clip = list(offs) + [0]
    gaps = [b - a for a, b in zip(clip, clip[1:])]
    weights = [g - 1 for g in gaps]
    total = sum(weights)  # > 0 here, because k <= i < -offs[0] = sum(gaps)
    rest = i - k
    shares = [rest * w // total for w in weights]
    remainders = [rest * w % total for w in weights]
    leftover = rest - sum(shares)
    # Largest remainder first; on ties the earlier gap wins.
    for j in sorted(range(k), key=lambda j: (-remainders[j], j))[:leftover]:
        shares[j] += 1
    positions = [0]
    for j in range(k - 1):
        positions.append(positions[-1] + 1 + shares[j])
    assert positions[-1] + 1 + shares[-1] == i
    return positions


# The name starts with "test_"; keep pytest from collecting it where it is imported.
test_reference_positions.__test__ = False  # type: ignore[attr-defined]
