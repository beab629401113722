"""Logits to labels a few classes at a time equals resizing every class and taking the argmax."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mrcfa.models.labels import logits_to_labels


def reference(logits: torch.Tensor, sizes: list[tuple[int, int]]) -> torch.Tensor:
    x = logits
    for size in sizes:
        x = F.interpolate(x, size, mode="bilinear", align_corners=False)
    return x.argmax(1)


@pytest.mark.parametrize("classes,grid,sizes", [
    (124, (15, 27), [(60, 108), (60, 107)]),  # VSPW: to the network input, then the frame
    (124, (15, 27), [(60, 108)]),
    (19, (16, 32), [(64, 128)]),
    (5, (4, 6), [(7, 9)]),
    (17, (8, 8), [(8, 8)]),  # no resize at all
])
def test_chunked_labels_equal_the_plain_argmax(classes, grid, sizes):
    gen = torch.Generator().manual_seed(classes)
    logits = torch.randn(2, classes, *grid, generator=gen)
    assert torch.equal(logits_to_labels(logits, sizes), reference(logits, sizes))
    ties = (logits * 2).round() / 2  # many exact ties across chunk borders: the first class must win
    assert torch.equal(logits_to_labels(ties, sizes, chunk=3), reference(ties, sizes))
