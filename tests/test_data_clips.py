"""Clip positions: the released test-time table, its generalisation, training sampling."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mrcfa.data import clips

# Released MRCFA test policy for offsets (-9, -6, -3): target -> references.
RELEASED = {
    0: None, 1: None, 2: None,
    3: [0, 1, 2], 4: [0, 2, 3], 5: [0, 2, 4], 6: [0, 2, 4],
    7: [0, 3, 5], 8: [0, 3, 6], 9: [0, 3, 6], 10: [1, 4, 7], 25: [16, 19, 22],
}  # fmt: skip


@pytest.mark.parametrize("i", sorted(RELEASED))
def test_released_first_frames_table(i: int) -> None:
    assert clips.test_reference_positions(i, (-9, -6, -3)) == RELEASED[i]


# Worked by hand: gaps (3, 3) share i - 2 extra frames, ties to the first gap.
TWO_REFS = {0: None, 1: None, 2: [0, 1], 3: [0, 2], 4: [0, 2], 5: [0, 3], 6: [0, 3], 7: [1, 4]}
# Gaps (8, 1): only the first gap can grow, so the last reference stays at i - 1.
FAR_NEAR = {1: None, 2: [0, 1], 3: [0, 2], 5: [0, 4], 8: [0, 7], 9: [0, 8], 12: [3, 11]}


@pytest.mark.parametrize(("offsets", "table"), [((-6, -3), TWO_REFS), ((-9, -1), FAR_NEAR)])
def test_generalised_tables(offsets: tuple[int, ...], table: dict[int, list[int] | None]) -> None:
    for i, expected in table.items():
        assert clips.test_reference_positions(i, offsets) == expected, i


@pytest.mark.parametrize("offsets", [(-9, -6, -3), (-5, -4, -1), (-12, -2), (-7,), (-20, -10, -5, -1)])
def test_squeezed_clips_are_valid(offsets: tuple[int, ...]) -> None:
    for i in range(30):
        refs = clips.test_reference_positions(i, offsets)
        if refs is None:
            assert i < len(offsets)
            continue
        assert len(refs) == len(offsets)
        clip = refs + [i]
        assert all(a < b for a, b in zip(clip, clip[1:]))  # ordered, target strictly last
        assert refs[0] >= 0
        if i + offsets[0] < 0:
            assert refs[0] == 0  # squeezed clips start at the first frame


@pytest.mark.parametrize("bad", [(-3, -6), (-3, 0), (3,), (-3, -3)])
def test_bad_offsets_are_rejected(bad: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="offsets"):
        clips.test_reference_positions(5, bad)


def test_no_offsets_means_single_frames() -> None:
    """The SegFormer baseline: clips of the target alone, uniform over the whole video."""
    rng = np.random.default_rng(0)
    targets = {clips.train_clip_positions(5, (), rng)[0] for _ in range(200)}
    assert targets == {0, 1, 2, 3, 4}
    assert clips.test_reference_positions(7, ()) is None


def test_train_positions_follow_offsets_in_both_directions() -> None:
    rng = np.random.default_rng(0)
    n, offsets = 20, (-9, -6, -3)
    directions = {"forward": 0, "reversed": 0}
    targets_forward = set()
    for _ in range(400):
        pos = clips.train_clip_positions(n, offsets, rng)
        t = pos[-1]
        assert all(0 <= p < n for p in pos)
        if pos[0] < t:
            assert pos == [t - 9, t - 6, t - 3, t]
            directions["forward"] += 1
            targets_forward.add(t)
        else:
            assert pos == [t + 9, t + 6, t + 3, t]  # reversed list: references lie later
            directions["reversed"] += 1
    assert 140 < directions["forward"] < 260, directions  # p = 0.5, n = 400: 8 sigma band
    assert targets_forward == set(range(9, 20))  # target uniform over positions D..N-1


def test_train_positions_respect_reverse_prob_and_generator_kinds() -> None:
    for rng in (random.Random(1), np.random.default_rng(1)):
        never = [clips.train_clip_positions(12, (-3,), rng, reverse_prob=0.0) for _ in range(50)]
        assert all(p[0] == p[1] - 3 for p in never)
        always = [clips.train_clip_positions(12, (-3,), rng, reverse_prob=1.0) for _ in range(50)]
        assert all(p[0] == p[1] + 3 for p in always)


def test_train_positions_same_seed_same_clip() -> None:
    a = [clips.train_clip_positions(30, (-9, -6, -3), np.random.default_rng(7)) for _ in range(3)]
    assert a[0] == a[1] == a[2]


def test_minimal_video_gives_only_clip_and_short_video_fails() -> None:
    rng = np.random.default_rng(0)
    seen = {tuple(clips.train_clip_positions(10, (-9, -6, -3), rng)) for _ in range(50)}
    assert seen == {(0, 3, 6, 9), (9, 6, 3, 0)}
    with pytest.raises(ValueError, match="9 frames .* at least 10"):
        clips.train_clip_positions(9, (-9, -6, -3), rng)
