"""Plots: the series and labels each figure shows, the Fig. 3 strip's pixels, and the files written."""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from analysis.plots import (
    build_plots,
    plot_table1_trend,
    plot_table2_tradeoff,
    plot_table3_trend,
    plot_training_curve,
    plot_training_curves,
)
from analysis.qualitative import IGNORE, palette, plot_figure3
from mrcfa.experiments.registry import load_registry
from analysis.synthetic import write_profile, write_results
from analysis.table_model import build_table
from analysis.workspace import open_workspace

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "experiments" / "registry.yaml"
REG = load_registry(REGISTRY)
PROFILE = "fx"
FIG3_RUNS = REG.figures["figure3"].runs


def make_tree(root: Path, runs: list[str] | None = None, seeds=(0, 1), **kw):
    write_profile(root / "profiles", PROFILE, seeds, root / "data")
    written = write_results(root / "results", REG.load_profile(PROFILE, root / "profiles"), REG, runs=runs,
                            seeds=seeds, samples_for=FIG3_RUNS, data_root=root / "data", **kw)
    return open_workspace(PROFILE, root / "results", REGISTRY, root / "profiles"), written


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    return make_tree(tmp_path_factory.mktemp("plots"))


def lines_by_label(fig) -> dict[str, list]:
    out: dict[str, list] = {}
    for ax in fig.axes:
        for line in ax.get_lines():
            out.setdefault(line.get_label(), []).append(line)
    return out


def test_table2_tradeoff_series(full):
    ws, written = full
    spec = REG.tables["table2"]
    fig = plot_table2_tradeoff(build_table(spec, ws.summary))
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["mIoU", "FPS", "Memory (MB)"]
    assert all(ax.get_xlabel() == "token selection ratio p (%)" for ax in panels)
    ylabels = " ".join(ax.get_ylabel() for ax in fig.axes)
    assert "mIoU (%)" in ylabels and "FPS" in ylabels and "Memory (MB)" in ylabels
    lines = lines_by_label(fig)
    assert len(lines["ours"]) == len(lines["paper"]) == 3
    assert all(line.get_linestyle() == "-" for line in lines["ours"])
    assert all(line.get_linestyle() == "--" for line in lines["paper"])
    p = [100, 90, 70, 50, 30, 10]
    ours_miou, paper_miou = lines["ours"][0], lines["paper"][0]
    assert list(ours_miou.get_xdata()) == p
    want = [statistics.mean(written.eval[(r.run, s)]["mIoU"] for s in (0, 1)) for r in spec.rows]
    np.testing.assert_allclose(ours_miou.get_ydata(), want)
    np.testing.assert_allclose(paper_miou.get_ydata(), [r.paper["mIoU"] for r in spec.rows])
    np.testing.assert_allclose(lines["ours"][1].get_ydata(), [written.bench[r.run]["fps"] for r in spec.rows])
    assert fig._suptitle is not None and "Table 2" in fig._suptitle.get_text()


def test_paper_gets_own_axis_only_when_scales_differ(full):
    ws, _ = full
    fig = plot_table2_tradeoff(build_table(REG.tables["table2"], ws.summary))
    # The fixture's memory is half the paper's (no overlap): a twin axis labelled for the paper.
    assert any(ax.get_ylabel() == "paper: Memory (MB)" for ax in fig.axes)
    # mIoU is on the paper's scale: one shared axis.
    assert any(ax.get_ylabel() == "mIoU (%)" for ax in fig.axes)
    assert len(fig.axes) == 4


def test_table1_and_table3_trends(full):
    ws, _ = full
    fig1 = plot_table1_trend(build_table(REG.tables["table1"], ws.summary))
    assert [ax.get_title() for ax in fig1.axes if ax.get_title()] == ["mIoU", "mVC8", "mVC16"]
    ax = fig1.axes[0]
    assert ax.get_xlabel() == "reference frames"
    assert [t.get_text() for t in ax.get_xticklabels()] == [r.label for r in REG.tables["table1"].rows]
    assert {"ours", "paper"} <= set(lines_by_label(fig1))
    fig3 = plot_table3_trend(build_table(REG.tables["table3"], ws.summary))
    assert [ax.get_title() for ax in fig3.axes if ax.get_title()] == ["mIoU", "mVC8", "mVC16", "FPS"]
    assert fig3.axes[0].get_xlabel() == "number of feature scales L"
    assert list(lines_by_label(fig3)["ours"][0].get_xdata()) == [1, 2, 3]


def test_trend_with_missing_runs(tmp_path):
    ws, _ = make_tree(tmp_path, runs=["mrcfa_b1_l1", "mrcfa_b1_l2"])  # L=3 (mrcfa_b1) not run yet
    fig = plot_table3_trend(build_table(REG.tables["table3"], ws.summary))
    ours = lines_by_label(fig)["ours"][0].get_ydata()
    assert not np.isnan(ours[0]) and not np.isnan(ours[1]) and np.isnan(ours[2])
    empty = plot_table2_tradeoff(build_table(REG.tables["table2"], ws.summary))
    texts = [t.get_text() for ax in empty.axes for t in ax.texts]
    assert "no results yet" in texts
    assert len(lines_by_label(empty)["paper"]) == 3  # the paper's curve is still shown


def test_training_curves(full):
    ws, _ = full
    hist = {s: h for (r, s), h in ws.results.histories.items() if r == "mrcfa_b1"}
    fig = plot_training_curve("mrcfa_b1", hist)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "iteration" and ax.get_ylabel() == "training loss" and ax.get_title() == "mrcfa_b1"
    lines = lines_by_label(fig)
    assert sorted(lines) == ["seed 0", "seed 1"]
    np.testing.assert_allclose(lines["seed 1"][0].get_ydata(), hist[1]["loss"])
    grid = plot_training_curves(ws.results.histories, list(REG.runs))
    visible = [a for a in grid.axes if a.get_visible()]
    assert [a.get_title() for a in visible] == list(REG.runs)
    assert all(len(a.get_lines()) == 2 for a in visible)
    assert grid.legends and [t.get_text() for t in grid.legends[0].get_texts()] == ["seed 0", "seed 1"]
    assert plot_training_curves({}, list(REG.runs)) is None


def test_palette_fixed_and_ignore_black():
    pal = palette()
    assert pal.shape == (256, 3) and pal.dtype == np.uint8
    assert tuple(pal[IGNORE]) == (0, 0, 0)
    assert all(pal[k].sum() > 0 for k in range(IGNORE))  # no class looks like ignore
    assert len({tuple(c) for c in pal[:20]}) == 20
    np.testing.assert_array_equal(pal, palette())


def test_figure3_strip(full):
    ws, written = full
    fig = plot_figure3(ws, REG.figures["figure3"])
    grid = np.array(fig.axes).reshape(5, -1)
    assert grid.shape == (5, 4)  # 5 rows, the fixture's 4 chosen frames
    assert [ax.get_ylabel() for ax in grid[:, 0]] == ["input", "SegFormer", "MRCFA T=3", "MRCFA T=4", "ground truth"]
    assert [ax.get_title() for ax in grid[0]] == [f"{v}/{f}" for v, f in written.samples]
    video, frame = written.samples[0]
    gt = grid[4, 0].get_images()[0].get_array()
    pred_dir = ws.samples_dir("segformer_b1", 0)
    pred = np.array(Image.open(pred_dir / video / f"{frame}.png"))
    np.testing.assert_array_equal(grid[1, 0].get_images()[0].get_array(), palette()[pred])
    root = ws.data_root("segformer_b1")
    raw = np.array(Image.open(root / "data" / video / "mask" / f"{frame}.png"))
    assert (raw == 0).any()
    assert (gt[raw == 0] == 0).all()  # 'others' shown black
    k = int(raw.max())
    assert tuple(gt[raw == k][0]) == tuple(palette()[k - 1])  # raw k is class k-1
    image = grid[0, 0].get_images()[0].get_array()
    assert image.shape[:2] == raw.shape


def test_figure3_missing_run_shows_placeholder(tmp_path):
    ws, _ = make_tree(tmp_path, runs=["segformer_b1", "mrcfa_b1"])
    fig = plot_figure3(ws, REG.figures["figure3"])
    grid = np.array(fig.axes).reshape(5, -1)
    assert not grid[2, 0].get_images()  # MRCFA T=3 not run
    assert [t.get_text() for t in grid[2, 0].texts] == ["missing"]
    assert grid[1, 0].get_images() and grid[3, 0].get_images()
    assert [m.run for m in ws.missing(["figure3"])] == ["mrcfa_b1_ref_m6m3"]


def test_build_plots_writes_png_and_pdf(full):
    ws, _ = full
    saved = build_plots(ws, jobs=2)
    assert [s.key for s in saved] == ["table1", "table2", "table3", "training", "figure3"]
    names = {p.name for s in saved for p in (s.png, s.pdf)}
    assert names == {f"{n}.{e}" for n in ("table1_trend", "table2_tradeoff", "table3_trend", "training_curves",
                                         "figure3") for e in ("png", "pdf")}
    for s in saved:
        assert s.png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and s.png.stat().st_size > 1000
        assert s.pdf.read_bytes()[:5] == b"%PDF-" and s.pdf.stat().st_size > 1000
        assert s.png.read_bytes() == s.png_bytes
    assert not list(ws.figures_dir.glob(".*tmp"))  # atomic writes leave no temporaries


def test_cli_plot_names_match_plots():
    from analysis.cli import PLOT_NAMES
    from analysis.plots import DISPLAY_ORDER, PLOTS

    assert list(PLOT_NAMES) == list(DISPLAY_ORDER) and set(PLOTS) == set(PLOT_NAMES)


def test_build_plots_only(tmp_path):
    ws, _ = make_tree(tmp_path, runs=REG.tables["table2"].runs)
    saved = build_plots(ws, ["table2"], jobs=1)
    assert [s.png.name for s in saved] == ["table2_tradeoff.png"]
    assert sorted(p.name for p in ws.figures_dir.iterdir()) == ["table2_tradeoff.pdf", "table2_tradeoff.png"]
