"""Clip transforms: resize conventions, alignment of frames and labels, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from mrcfa.data.photometric import PhotoMetricDistortion, hsv_to_rgb, rgb_to_hsv
from mrcfa.data.resize import rescale_size, resize_bilinear, resize_nearest
from mrcfa.data.transforms import (
    MEAN_RGB,
    STD_RGB,
    ClipTestTransform,
    ClipTrainTransform,
    normalize,
)

# Corners of the RGB cube: a blend of two of them is never nearer a third one.
PALETTE = np.array(
    [[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 0], [0, 255, 255], [255, 0, 255]],
    dtype=np.uint8,
)


def unnormalize(frames: np.ndarray) -> np.ndarray:
    """T x 3 x H x W normalised -> T x H x W x 3 in 0..255."""
    return frames.transpose(0, 2, 3, 1) * STD_RGB + MEAN_RGB


def test_bilinear_matches_opencv_half_pixel_rule() -> None:
    # cv2.resize([[0, 100]], (4, 1)) = [[0, 25, 75, 100]] (border clamps, no antialias).
    row = np.array([[0, 100]], dtype=np.uint8)
    assert resize_bilinear(row, (1, 4)).tolist() == [[0, 25, 75, 100]]
    # Halving averages pixel pairs: source x = 2 * out + 0.5.
    assert resize_bilinear(np.array([[0, 100, 200, 40]], np.uint8), (1, 2)).tolist() == [[50, 120]]


def _sizes(rng: np.random.Generator, n: int) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Random (source, target) sizes: up and down, odd sides, one side only, extreme ratios."""
    out = []
    for _ in range(n):
        src = (int(rng.integers(1, 120)), int(rng.integers(1, 120)))
        out.append((src, (int(rng.integers(1, 260)), int(rng.integers(1, 260)))))
    return out + [((480, 853), (480, 864)), ((480, 853), (960, 1706)), ((480, 853), (240, 427)), ((7, 5), (7, 11))]


def test_resize_equals_opencv_exactly_on_random_images_and_sizes() -> None:
    """The released pipeline resizes with cv2.resize (mmcv.imresize): ours must give the same bytes."""
    import cv2

    rng = np.random.default_rng(7)
    for (h, w), (oh, ow) in _sizes(rng, 60):
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        lab = rng.integers(0, 256, size=(h, w), dtype=np.uint8)
        assert np.array_equal(resize_bilinear(img, (oh, ow)),
                              cv2.resize(img, (ow, oh), interpolation=cv2.INTER_LINEAR)), ((h, w), (oh, ow))
        assert np.array_equal(resize_nearest(lab, (oh, ow)),
                              cv2.resize(lab, (ow, oh), interpolation=cv2.INTER_NEAREST)), ((h, w), (oh, ow))


def test_test_transform_resizes_twice_with_opencv_as_aligned_resize() -> None:
    """AlignedResize: keep-ratio rescale to fit (853, 480), then a second resize up to multiples of 32."""
    import cv2

    img = np.random.default_rng(3).integers(0, 256, size=(480, 853, 3), dtype=np.uint8)
    once = cv2.resize(img, (853, 480), interpolation=cv2.INTER_LINEAR)  # same size: OpenCV copies
    aligned = cv2.resize(once, (864, 480), interpolation=cv2.INTER_LINEAR)
    assert np.array_equal(ClipTestTransform().image(img), normalize(aligned))
    small = img[:240, :400]  # rescaled to 480x800 first, then 480x800 is already aligned
    assert np.array_equal(ClipTestTransform().image(small),
                          normalize(cv2.resize(small, (800, 480), interpolation=cv2.INTER_LINEAR)))


def test_nearest_uses_floor_rule_and_keeps_values() -> None:
    lab = np.array([[3, 7]], dtype=np.uint8)
    assert resize_nearest(lab, (2, 4)).tolist() == [[3, 3, 7, 7], [3, 3, 7, 7]]
    assert resize_nearest(np.array([[1, 2, 3]], np.uint8), (1, 2)).tolist() == [[1, 2]]


def test_rescale_size_fits_long_and_short_edges() -> None:
    assert rescale_size((480, 853), (853, 480)) == (480, 853)
    assert rescale_size((1024, 2048), (1024, 512)) == (512, 1024)
    assert rescale_size((480, 640), (853, 480)) == (480, 640)  # short edge binds
    assert rescale_size((100, 400), (853, 480)) == (213, 853)  # long edge binds: 100*2.1325


def test_normalize_uses_rgb_mean_and_std() -> None:
    img = np.broadcast_to(np.array([123.675, 116.28, 103.53]).round().astype(np.uint8), (2, 3, 3))
    out = normalize(img)
    assert out.shape == (3, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[:, 0, 0], (np.array([124, 116, 104]) - MEAN_RGB) / STD_RGB, rtol=1e-6)


def test_test_transform_aligns_to_multiples_of_32_and_keeps_labels() -> None:
    t = ClipTestTransform(base=(853, 480), align=32)
    frame = np.zeros((480, 853, 3), np.uint8)
    label = np.ones((480, 853), np.uint8)
    imgs, labs = t([frame, frame], [label, label])
    assert imgs.shape == (2, 3, 480, 864)
    assert labs.shape == (2, 480, 853) and labs.dtype == np.int64
    assert t.output_size((1080, 1920)) == (480, 864)  # 1080x1920 -> 480x853 -> aligned


def test_hsv_round_trip_and_known_values() -> None:
    px = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]], np.uint8)
    assert rgb_to_hsv(px).tolist() == [[[0, 255, 255], [60, 255, 255], [120, 255, 255], [0, 0, 128]]]
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, size=(1, 500, 3)).astype(np.uint8)
    back = hsv_to_rgb(rgb_to_hsv(colours)).astype(int)
    assert np.abs(back - colours).max() <= 4  # 8-bit hue quantisation (2 degrees)


def test_photometric_is_reproducible_and_varies() -> None:
    img = np.random.default_rng(0).integers(0, 256, size=(8, 8, 3)).astype(np.uint8)
    d = PhotoMetricDistortion()
    a = d(img, np.random.default_rng(5))
    b = d(img, np.random.default_rng(5))
    assert np.array_equal(a, b)
    outs = {d(img, np.random.default_rng(s)).tobytes() for s in range(20)}
    assert len(outs) > 10


def _scene(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """A label map of random 5x5 blocks: no structure thinner than 5 pixels, so even
    the smallest scale (0.6) keeps every region at least 3 output pixels wide."""
    return np.kron(rng.integers(0, 6, size=(h // 5, w // 5)), np.ones((5, 5), int)).astype(np.uint8)


@pytest.mark.parametrize("seed", range(6))
def test_label_drawn_from_image_survives_train_transform(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = [_scene(rng, 40, 60) for _ in range(3)]  # each frame of the clip differs
    labels[0][:4, :4] = 255  # some ignore pixels too
    frames = [PALETTE[np.minimum(lab, 5)] for lab in labels]
    t = ClipTrainTransform(crop=(48, 64), scale_base=(60, 40), scale_ratio=(0.6, 2.0), photometric=False)
    imgs, labs = t(frames, labels, np.random.default_rng(100 + seed))
    assert imgs.shape == (3, 3, 48, 64) and labs.shape == (3, 48, 64)
    colours = unnormalize(imgs)
    for k in range(3):
        lab = labs[k]
        # Compare only where the whole 3x3 neighbourhood shares the label (interpolation
        # edges); the crop border is excluded because its outer neighbours were cut away.
        pad = np.pad(lab, 1, constant_values=-1)
        uniform = np.ones_like(lab, bool)
        for dy in range(3):
            for dx in range(3):
                uniform &= pad[dy : dy + 48, dx : dx + 64] == lab
        check = uniform & (lab != 255)
        assert check.sum() > 20  # even at scale 0.6 some block interiors remain
        dist = np.linalg.norm(colours[k][:, :, None, :] - PALETTE[None, None].astype(float), axis=-1)
        assert np.array_equal(dist.argmin(-1)[check], lab[check])


def test_one_geometry_per_clip_and_same_seed_same_output() -> None:
    rng = np.random.default_rng(0)
    label = _scene(rng, 40, 60)
    frame = PALETTE[label]
    t = ClipTrainTransform(crop=(32, 32), scale_base=(60, 40), photometric=False)
    for s in range(10):
        imgs, labs = t([frame, frame, frame], [label, label, label], np.random.default_rng(s))
        assert np.array_equal(imgs[0], imgs[2]) and np.array_equal(labs[0], labs[2])
    a = t([frame], [label], np.random.default_rng(3))
    b = t([frame], [label], np.random.default_rng(3))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    with_photo = ClipTrainTransform(crop=(32, 32), scale_base=(60, 40))
    imgs, labs = with_photo([frame] * 4, [label] * 4, np.random.default_rng(1))
    assert np.array_equal(labs[0], labs[3])
    assert len({imgs[k].tobytes() for k in range(4)}) > 1  # distortion drawn per frame


def test_small_image_is_padded_with_ignore_and_zero() -> None:
    label = np.ones((20, 30), np.uint8)
    frame = PALETTE[label]
    t = ClipTrainTransform(crop=(48, 64), scale_base=(30, 20), scale_ratio=(1.0, 1.0), flip_prob=0.0,
                           photometric=False)  # fmt: skip
    imgs, labs = t([frame], [label], np.random.default_rng(0))
    assert np.all(labs[0, :20, :30] == 1) and np.all(labs[0, 20:] == 255) and np.all(labs[0, :, 30:] == 255)
    assert np.all(imgs[0, :, 20:] == 0) and np.all(imgs[0, :, :, 30:] == 0)


def test_cat_max_ratio_prefers_mixed_crops() -> None:
    # 100x100 class 0 with a 40x40 class-1 block in the corner, 50x50 crops, no scaling.
    label = np.zeros((100, 100), np.uint8)
    label[:40, :40] = 1
    frame = PALETTE[label]

    def accepted(top: int, left: int) -> bool:
        ones = max(40 - top, 0) * max(40 - left, 0)
        return 0 < ones and max(ones, 2500 - ones) / 2500 < 0.75

    # Exact acceptance probability of one random box, then of mmseg's 10 checks + 1 unchecked.
    p = np.mean([accepted(a, b) for a in range(51) for b in range(51)])
    expected = 1 - (1 - p) ** 10 + (1 - p) ** 10 * p

    def rate(ratio: float) -> float:
        t = ClipTrainTransform(crop=(50, 50), scale_base=(100, 100), scale_ratio=(1.0, 1.0),
                               cat_max_ratio=ratio, flip_prob=0.0, photometric=False)  # fmt: skip
        hits = 0
        for s in range(300):
            _, labs = t([frame], [label], np.random.default_rng(s))
            hits += int(((labs[0] == 1).mean() > 0.25) and ((labs[0] == 0).mean() > 0.25))
        return hits / 300

    assert abs(rate(0.75) - expected) < 0.1, (rate(0.75), expected)
    assert abs(rate(1.0) - p) < 0.1


def test_mismatched_clip_is_rejected() -> None:
    t = ClipTrainTransform(crop=(8, 8))
    with pytest.raises(ValueError, match="frames but"):
        t([np.zeros((8, 8, 3), np.uint8)], [], np.random.default_rng(0))
    with pytest.raises(ValueError, match="share one size"):
        t([np.zeros((8, 8, 3), np.uint8)], [np.zeros((9, 8), np.uint8)], np.random.default_rng(0))


def _mmseg_photometric(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """mmseg's PhotoMetricDistortion written plainly (float32 arithmetic on whole images, OpenCV's HSV),
    drawing from `rng` in the same order: the reference for the table-lookup implementation."""
    import cv2

    def convert(x: np.ndarray, alpha: float = 1.0, beta: float = 0.0) -> np.ndarray:
        return np.clip(x.astype(np.float32) * alpha + beta, 0, 255).astype(np.uint8)

    def contrast(x: np.ndarray) -> np.ndarray:
        return convert(x, alpha=rng.uniform(0.5, 1.5)) if rng.integers(2) else x

    if rng.integers(2):
        img = convert(img, beta=rng.uniform(-32, 32))
    first = bool(rng.integers(2))
    if first:
        img = contrast(img)
    if rng.integers(2):
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hsv[..., 1] = convert(hsv[..., 1], alpha=rng.uniform(0.5, 1.5))
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if rng.integers(2):
        hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
        hsv[..., 0] = (hsv[..., 0].astype(int) + int(rng.integers(-18, 18))) % 180
        img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    if not first:
        img = contrast(img)
    return img


def test_photometric_equals_mmseg_arithmetic_exactly() -> None:
    img = np.random.default_rng(5).integers(0, 256, size=(37, 53, 3), dtype=np.uint8)
    distort = PhotoMetricDistortion()
    changed = 0
    for seed in range(60):
        got = distort(img, np.random.default_rng(seed))
        assert np.array_equal(got, _mmseg_photometric(img, np.random.default_rng(seed))), seed
        changed += not np.array_equal(got, img)
    assert changed > 40  # the draws do fire
