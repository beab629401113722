"""The reproduction report (HTML + Markdown), the CLI around it, and the analysis staying torch-free."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from analysis.cli import main
from analysis.environment import collect
from mrcfa.experiments.registry import load_registry
from mrcfa.metric_keys import FPS
from analysis.report import provenance_rows
from analysis.synthetic import write_profile, write_results
from analysis.workspace import open_workspace
from mrcfa.provenance import current

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "experiments" / "registry.yaml"
REG = load_registry(REGISTRY)
PROFILE = "fx"
NOT_RUN = ["mrcfa_b1_p10", "cityscapes_mrcfa_b1"]


@pytest.fixture(scope="module")
def partial_report(tmp_path_factory):
    """Two runs not done, one run with only one of its two seeds; report built through the CLI."""
    root = tmp_path_factory.mktemp("report")
    runs = [r for r in REG.runs if r not in NOT_RUN]
    write_results(root / "results", PROFILE, REG, runs=runs, samples_for=REG.figures["figure3"].runs,
                  data_root=root / "data")
    for f in (root / "results" / PROFILE / "runs" / "mrcfa_b1_l2" / "seed1").iterdir():
        f.unlink()  # seed 1 of this run is still training
    write_profile(root / "profiles", PROFILE, (0, 1), root / "data")
    args = ["report", "--profile", PROFILE, "--results", str(root / "results"), "--registry", str(REGISTRY),
            "--profiles-dir", str(root / "profiles")]
    assert main(args) == 0
    out = root / "results" / PROFILE
    return root, (out / "report.html").read_text(), (out / "report.md").read_text(), args


def test_report_lists_missing_runs_by_name(partial_report):
    _, html, md, _ = partial_report
    for text in (html, md):
        section = text.split("Missing results", 1)[1].split("Tables", 1)[0]
        for run in NOT_RUN:
            assert run in section
        assert "not run yet" in section
        assert "mrcfa_b1_l2" in section and "seed 1" in section
        assert "table2" in section and "table6" in section  # which tables each missing run feeds


def test_report_has_every_table_versus_paper(partial_report):
    _, html, md, _ = partial_report
    for key, spec in REG.tables.items():
        assert f"{key}: {spec.title}" in html.replace("&#x27;", "'")
        assert f"**{key} versus the paper**" in md
    assert html.count("<table>") >= 2 * len(REG.tables) + 3  # ours + vs paper per table, missing, provenance, env
    # The fx profile's data are synthetic: effects against each row's reference, ours beside the paper's.
    assert "mIoU ours Δ" in html and "mIoU paper Δ" in md and "ours − paper" not in md
    assert "<sup>†</sup>" in html and "cited from the paper" in html


def test_report_opens_with_the_claims(partial_report):
    _, html, md, _ = partial_report
    for text in (html, md):
        top = text.split("Missing results", 1)[0]
        assert "The paper's claims" in top
        for cid in REG.claims:
            assert cid in top
        # mrcfa_b1_p10 is not run: the claim reading it says so, and its verdict is `not run`.
        assert "mrcfa_b1_p10 (not run yet)" in top
        # So is every FPS claim: no table's rows were timed together (`mrcfa bench-table`).
        not_run = sum(bool(set(c.runs) & set(NOT_RUN)) or c.metric == FPS for c in REG.claims.values())
        assert not_run >= 1 and re.search(rf"\d+ holds, \d+ contradicted, \d+ inconclusive, {not_run} not run\.", top)
    assert re.search(r"\| t2_p10_loses_clearly .*\| not run +\|", md)
    assert re.search(r"<td>t2_p10_loses_clearly</td>((?!</tr>).)*<td>not run</td>", html)
    assert "t2_p10_loses_clearly" in md.split("**table2 versus the paper**", 1)[1]


def test_report_is_self_contained_with_embedded_figures(partial_report):
    root, html, md, _ = partial_report
    assert "<link" not in html and "<script" not in html and "http://" not in html and "https://" not in html
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html)
    assert len(images) == 5
    assert all(base64.b64decode(i)[:8] == b"\x89PNG\r\n\x1a\n" for i in images)
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)
    assert len(links) == 5
    assert all((root / "results" / PROFILE / link).is_file() for link in links)


def test_report_no_rebuild_writes_only_the_report(partial_report):
    """The pipeline's report step: the tables, claims and figures belong to other steps, so with --no-rebuild
    no other file is rewritten, and the figures embedded are the ones already drawn."""
    root, html_before, _, args = partial_report
    out = root / "results" / PROFILE
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert main(args + ["--no-rebuild"]) == 0
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    assert set(after) == set(before)
    assert sorted(p.name for p in after if after[p] != before[p]) == ["report.html", "report.md"]
    html_now = (out / "report.html").read_text()
    images = re.findall(r"src='data:image/png;base64,([A-Za-z0-9+/=]+)'", html_now)
    drawn = [base64.b64encode((out / "figures" / f"{stem}.png").read_bytes()).decode("ascii")
             for stem in ("table1_trend", "table2_tradeoff", "table3_trend", "training_curves", "figure3")]
    assert images == drawn


def test_report_provenance_and_environment(partial_report):
    root, html, md, _ = partial_report
    import json

    metrics = json.loads((root / "results" / PROFILE / "runs" / "mrcfa_b1" / "seed0" / "metrics.json").read_text())
    assert metrics["config_hash"] in html and metrics["config_hash"] in md
    assert sys.version.split()[0] in html
    from importlib.metadata import version

    assert f"| pandas     | {version('pandas')}" in md or f"<td>pandas</td><td>{version('pandas')}</td>" in html
    assert "git commit" in md


def test_report_flags_inconsistent_config_hash(tmp_path):
    write_results(tmp_path / "results", PROFILE, REG, runs=["mrcfa_b1", "segformer_b1"], seeds=(0, 1))
    p = tmp_path / "results" / PROFILE / "runs" / "mrcfa_b1" / "seed1" / "metrics.json"
    p.write_text(p.read_text().replace('"config_hash": "', '"config_hash": "changed'))
    write_profile(tmp_path / "profiles", PROFILE, (0, 1), tmp_path / "data")
    ws = open_workspace(PROFILE, tmp_path / "results", REGISTRY, tmp_path / "profiles")
    rows = {r[0]: r for r in provenance_rows(ws)}
    # Made-up hashes and no code fingerprint (written without the profile): stale for both reasons.
    assert rows["mrcfa_b1"][-1] == "config hash differs between files; stale: another config, other code"
    assert rows["mrcfa_b1"][1] == "0, 1" and "changed" in rows["mrcfa_b1"][2] and rows["mrcfa_b1"][3] == "-"
    assert rows["segformer_b1"][-1] == "stale: another config, other code"


def test_report_provenance_names_the_code_of_each_run(tmp_path):
    write_profile(tmp_path / "profiles", PROFILE, (0, 1), tmp_path / "data")
    profile = REG.load_profile(PROFILE, tmp_path / "profiles")
    write_results(tmp_path / "results", profile, REG, runs=["mrcfa_b1", "segformer_b1"], seeds=(0, 1))
    p = tmp_path / "results" / PROFILE / "runs" / "mrcfa_b1" / "bench.json"
    p.write_text(re.sub(r'"code_fingerprint": "\w+"', '"code_fingerprint": "0123456789ab"', p.read_text()))
    ws = open_workspace(PROFILE, tmp_path / "results", REGISTRY, tmp_path / "profiles")
    rows = {r[0]: r for r in provenance_rows(ws)}
    assert rows["mrcfa_b1"][3] == ", ".join(sorted(["0123456789ab", current()]))
    assert rows["mrcfa_b1"][-1] == "stale: other code"
    assert rows["segformer_b1"][3] == current() and rows["segformer_b1"][-1] == ""


def test_report_html_footnotes_stale_rows(partial_report):
    """The fixture's results record made-up config hashes and no code fingerprint: every row is stale for both
    reasons, and says so as the tables do."""
    _, html_text, md, _ = partial_report
    labels = ", ".join(r.label for r in REG.tables["table2"].rows if r.run not in NOT_RUN)
    note = (f"‡ stale: results made with another config than the registry and profile give today (config hash "
            f"differs): {labels}; with other code than today's (code fingerprint differs, or none recorded): "
            f"{labels}; rerun them.")
    assert "<sup>‡</sup>" in html_text and html.escape(note) in html_text
    assert note in md


def test_report_strict_fails_when_runs_missing(partial_report, capsys):
    _, _, _, args = partial_report
    assert main(args + ["--strict"]) == 3
    assert "mrcfa_b1_p10" in capsys.readouterr().err


def test_git_commit_recorded_or_unknown(tmp_path):
    assert collect(tmp_path).git_commit.startswith("unknown")
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    env = collect(REPO)
    assert env.git_commit == (head.stdout.strip() if head.returncode == 0 else env.git_commit)
    if head.returncode != 0:
        assert env.git_commit.startswith("unknown")


def test_help_and_unknown_only(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert "tables" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exc:
        main(["tables", "--profile", "demo", "--registry", str(REGISTRY), "--results", "/nonexistent",
              "--only", "table9"])
    assert exc.value.code == 2
    assert "table9" in capsys.readouterr().err


CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
# Run by the browser in a copy of the page (the report itself has no script): what fits, what loaded.
MEASURE = """<script>
window.addEventListener('load', () => {
  const boxes = [...document.querySelectorAll('.wide')];
  document.documentElement.dataset.measured = JSON.stringify({
    images: document.images.length,
    broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.alt),
    pageWidth: document.documentElement.scrollWidth, windowWidth: window.innerWidth,
    scrollingBoxes: boxes.filter(b => b.scrollWidth > b.clientWidth).length});
});
</script>"""


@pytest.fixture(scope="module")
def wide_report(tmp_path_factory) -> Path:
    """Table 2 with sixteen more columns, far wider than a 1280-pixel window; the runs it and Fig. 3 need."""
    root = tmp_path_factory.mktemp("wide")
    raw = yaml.safe_load(REGISTRY.read_text())
    table = raw["tables"]["table2"]
    extra = [f"setting_{i}_with_a_long_name" for i in range(16)]
    table["cells"] += extra
    for row in table["rows"]:
        row["cells"] |= {c: "a-long-unbroken-value" for c in extra}
    (root / "registry.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    reg = load_registry(root / "registry.yaml")
    figure = reg.figures["figure3"].runs
    write_results(root / "results", PROFILE, reg, runs=reg.tables["table2"].runs + figure, samples_for=figure,
                  data_root=root / "data")
    write_profile(root / "profiles", PROFILE, (0, 1), root / "data")
    assert main(["report", "--profile", PROFILE, "--results", str(root / "results"), "--registry",
                 str(root / "registry.yaml"), "--profiles-dir", str(root / "profiles")]) == 0
    return root / "results" / PROFILE / "report.html"


def test_report_fits_the_window_in_a_real_browser(wide_report, tmp_path):
    """Headless Chromium at 1280×900: the page loads, every figure decodes, and the wide table scrolls inside
    its own box instead of widening the page."""
    if CHROMIUM is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("chromium is not installed: .ci/run installs it (apt-get install chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium): the report's layout is not checked")
    page = tmp_path / "report.html"
    page.write_text(wide_report.read_text().replace("</body>", MEASURE + "</body>"))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                           f"--user-data-dir={tmp_path / 'browser'}", "--window-size=1280,900",
                           "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=180)
    found = re.search(r'data-measured="([^"]*)"', proc.stdout)
    assert found, f"the page did not load (exit {proc.returncode}):\n{proc.stderr[-3000:]}"
    measured = json.loads(html.unescape(found.group(1)))
    assert measured["images"] >= 4 and measured["broken"] == [], measured
    assert measured["scrollingBoxes"] >= 1, measured  # the deliberately wide table is wider than its box…
    assert measured["pageWidth"] <= measured["windowWidth"], measured  # …and the page is not
