"""Fig. 3-style strip: input frames, each method's predicted labels, and the ground truth.

Predictions are reduced labels 0..C-1 (255 = ignore); VSPW ground truth is raw (0 = others and
255 = ignore, both shown in the ignore colour; k is class k-1), reduced as the data loader reduces it.
A fixed palette keeps a class the same colour in every row.
"""

from __future__ import annotations

import colorsys
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from mrcfa.data.vspw_layout import IGNORE_INDEX as IGNORE, reduce_zero_label
from mrcfa.experiments.tables import FigureSpec

if TYPE_CHECKING:
    from analysis.workspace import Workspace

PLACEHOLDER = (0.85, 0.85, 0.85)


@lru_cache(maxsize=1)
def palette() -> np.ndarray:
    """256 x 3 uint8: tab20 for the first 20 classes (strong shades first, so neighbouring class ids
    differ in hue, not only in lightness), golden-ratio hues beyond, black for ignore."""
    pal = np.zeros((256, 3), np.uint8)
    tab = (np.array(colormaps["tab20"].colors) * 255).round().astype(np.uint8)
    pal[:20] = np.concatenate([tab[0::2], tab[1::2]])
    for k in range(20, IGNORE):
        h = (k * 0.618033988749895) % 1.0
        pal[k] = np.round(np.array(colorsys.hsv_to_rgb(h, 0.55 + 0.4 * (k % 3) / 2, 0.6 + 0.4 * (k % 2)))* 255)
    pal[IGNORE] = 0
    return pal


def colorize(labels: np.ndarray) -> np.ndarray:
    return palette()[labels.astype(np.uint8)]


def _load(path: Path | None, mode: str) -> np.ndarray | None:
    if path is None or not path.is_file():
        return None
    return np.array(Image.open(path).convert(mode) if mode == "RGB" else Image.open(path))


def _fit(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Nearest-neighbour resize, so labels stay labels when a prediction's size differs from the input."""
    if labels.shape[:2] == shape:
        return labels
    return np.array(Image.fromarray(labels).resize((shape[1], shape[0]), Image.NEAREST))


def choose_frames(sample_dirs: list[Path | None], max_frames: int = 4) -> list[tuple[str, str]]:
    """(video, frame) pairs every method predicted, else those any method predicted; sorted, at most max_frames."""
    sets = [{(p.parent.name, p.stem) for p in d.glob("*/*.png")} for d in sample_dirs if d is not None]
    if not sets:
        return []
    common = set.intersection(*sets) or set.union(*sets)
    return sorted(common)[:max_frames]


def plot_strip(
    rows: list[tuple[str, Path | None]],
    frames: list[tuple[str, str]],
    data_root: Path | None,
    title: str,
) -> Figure:
    """rows: (method label, its samples directory or None). Rows shown: input, methods, ground truth."""
    names = ["input"] + [label for label, _ in rows] + ["ground truth"]
    ncols = max(len(frames), 1)
    width, height = max(2.4 * ncols + 0.6, 6.5), 1.9 * len(names) + 0.9  # wide enough for the title
    fig = Figure(figsize=(width, height))
    axes = fig.subplots(len(names), ncols, squeeze=False)
    # Fixed margins rather than constrained layout: the panels are uniform and layout solving is slow.
    fig.subplots_adjust(left=0.4 / width, right=1 - 0.1 / width, bottom=0.1 / height, top=1 - 0.9 / height,
                        wspace=0.04, hspace=0.06)
    for j in range(ncols):
        video, frame = frames[j] if frames else ("", "")
        base = data_root / "data" / video if data_root is not None and frames else None
        image = _load(base / "origin" / f"{frame}.jpg", "RGB") if base else None
        raw_gt = _load(base / "mask" / f"{frame}.png", "L") if base else None
        shape = image.shape[:2] if image is not None else None
        panels: list[np.ndarray | None] = [image]
        for _, d in rows:
            pred = _load(d / video / f"{frame}.png", "L") if d is not None and frames else None
            panels.append(None if pred is None else colorize(_fit(pred, shape or pred.shape[:2])))
        panels.append(None if raw_gt is None else colorize(_fit(reduce_zero_label(raw_gt), shape or raw_gt.shape[:2])))
        for i, panel in enumerate(panels):
            ax = axes[i, j]
            if panel is None:
                ax.set_facecolor(PLACEHOLDER)
                ax.text(0.5, 0.5, "missing", transform=ax.transAxes, ha="center", va="center", color="dimgrey")
            else:
                ax.imshow(panel, interpolation="nearest", aspect="auto")
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(names[i])
            if i == 0 and frames:
                ax.set_title(f"{video}/{frame}", fontsize="small")
    fig.suptitle(f"{title}\n(fixed class palette; black = ignored / 'others')", fontsize="medium")
    return fig


def plot_figure3(ws: Workspace, spec: FigureSpec, max_frames: int = 4) -> Figure:
    """Reads each run's samples of its lowest seed that has any, and the dataset's frames."""
    rows: list[tuple[str, Path | None]] = []
    for label, run in spec.rows:
        seeds = ws.sample_seeds(run)
        rows.append((label, ws.samples_dir(run, seeds[0]) if seeds else None))
    frames = choose_frames([d for _, d in rows], max_frames)
    data_root = ws.data_root(spec.rows[0][1]) if spec.rows else None
    return plot_strip(rows, frames, data_root, spec.title)
