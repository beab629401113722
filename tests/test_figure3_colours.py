"""Fig. 3's colours: ignored pixels of the ground truth are drawn in the ignore colour, never in a class's."""

from __future__ import annotations

import numpy as np
from PIL import Image

from analysis.qualitative import IGNORE, palette, plot_strip


def test_ignored_and_others_pixels_are_drawn_black_in_the_ground_truth(tmp_path):
    # Raw VSPW mask: 0 = "others", 255 = ignore, k = class k-1.
    raw = np.array([[0, 1, 2, 255], [255, 3, 0, 1]], np.uint8).repeat(8, 0).repeat(8, 1)
    frame = tmp_path / "data" / "vid" / "mask"
    frame.mkdir(parents=True)
    Image.fromarray(raw).save(frame / "f0.png")
    (tmp_path / "data" / "vid" / "origin").mkdir()
    Image.fromarray(np.full(raw.shape + (3,), 128, np.uint8)).save(tmp_path / "data" / "vid" / "origin" / "f0.jpg")
    fig = plot_strip([], [("vid", "f0")], tmp_path, "strip")
    gt = fig.axes[-1].get_images()[0].get_array()
    black = palette()[IGNORE]
    assert tuple(black) == (0, 0, 0)
    assert (gt[raw == 255] == black).all() and (gt[raw == 0] == black).all()
    assert not (palette()[:IGNORE] == black).all(axis=1).any()  # no class is drawn in the ignore colour
    for k in (1, 2, 3):
        assert (gt[raw == k] == palette()[k - 1]).all()
