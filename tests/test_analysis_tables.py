"""Tables from a results tree: structure, LaTeX hygiene, statistics, bold, cited rows, CLI, MLflow."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.cli import EXIT_MISSING, main
from conftest import tool_env
from analysis.results import load_results
from analysis.synthetic import write_profile, write_results, write_table_benches
from analysis.table_model import build_table, vs_paper_frame
from analysis.summary import summary_text
from analysis.tables import build_tables
from analysis.workspace import open_workspace
from mrcfa.experiments.registry import load_registry
from mrcfa.provenance import current, tag

REPO = Path(__file__).resolve().parents[1]
REGISTRY = REPO / "experiments" / "registry.yaml"
REG = load_registry(REGISTRY)
PROFILE = "fx"


def make_tree(root: Path, runs: list[str] | None = None, seeds=(0, 1), profile_seeds=None, source="synth", **kw):
    """Results, profile and dataset under `root`; returns (workspace, written values).
    source: the profile's data source; "disk" reads like the paper profile (values compared with the paper's)."""
    write_profile(root / "profiles", PROFILE, profile_seeds or seeds, root / "data", source=source)
    profile = REG.load_profile(PROFILE, root / "profiles")
    written = write_results(root / "results", profile, REG, runs=runs, seeds=seeds, **kw)
    ws = open_workspace(PROFILE, root / "results", REGISTRY, root / "profiles")
    return ws, written


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """Every run, three seeds, on a synthetic-data profile (comparisons with the paper are of effects)."""
    root = tmp_path_factory.mktemp("full")
    ws, written = make_tree(root, seeds=(0, 1, 2))
    build_tables(ws)
    return ws, written


@pytest.fixture(scope="module")
def full_disk(tmp_path_factory):
    """The same results on a profile whose data are on disk, as the paper profile's (values compared)."""
    root = tmp_path_factory.mktemp("full_disk")
    ws, written = make_tree(root, seeds=(0, 1, 2), source="disk")
    build_tables(ws)
    return ws, written


def body_rows(tex: str) -> list[str]:
    """Rows between \\midrule and \\bottomrule (tabular body), without rule lines."""
    inner = tex.split(r"\begin{tabular}")[1].split(r"\end{tabular}")[0]
    body = inner.split(r"\midrule", 1)[1].split(r"\bottomrule")[0]
    return [ln.strip() for ln in body.splitlines() if ln.strip().endswith(r"\\")]


def header_row(tex: str) -> str:
    inner = tex.split(r"\toprule")[1].split(r"\midrule")[0]
    return [ln for ln in inner.splitlines() if ln.strip().endswith(r"\\")][-1]


def cells(row: str) -> list[str]:
    # Split on column separators, not on escaped ampersands.
    return [c.strip() for c in re.split(r"(?<!\\)&", row.rstrip().removesuffix(r"\\"))]


def braces_balanced(tex: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", tex):  # escaped braces are text, not groups
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


def column_spec(tex: str) -> str:
    return re.search(r"\\begin\{tabular\}\{([lcr]+)\}", tex).group(1)


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


@pytest.mark.parametrize("source", ["synth", "disk"])
@pytest.mark.parametrize("key", list(REG.tables))
def test_table_structure(full, full_disk, key, source):
    ws, _ = full if source == "synth" else full_disk
    spec = REG.tables[key]
    ncols = len(spec.cells) + len(spec.metrics)
    for name in (key, f"{key}_vs_paper"):
        tex = (ws.tables_dir / f"{name}.tex").read_text()
        assert braces_balanced(tex)
        assert len(re.findall(r"\\begin\{", tex)) == len(re.findall(r"\\end\{", tex)) == 2
        for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
            assert rule in tex
        assert rf"\label{{tab:{name}}}" in tex and r"\caption{" in tex
        width = len(column_spec(tex))
        for row in body_rows(tex) + [header_row(tex)]:
            assert len(cells(row)) == width, row
    tex = (ws.tables_dir / f"{key}.tex").read_text()
    assert len(column_spec(tex)) == ncols
    assert len(body_rows(tex)) == len(spec.rows)
    our_rows = [r for r in spec.rows if not r.cited]
    assert len(body_rows((ws.tables_dir / f"{key}_vs_paper.tex").read_text())) == len(our_rows)
    # Values: Row, then ours / paper / Δ per metric. Effects: Row, reference row, then ours / paper per metric.
    width = 1 + 3 * len(spec.metrics) if source == "disk" else 2 + 2 * len(spec.metrics)
    assert len(column_spec((ws.tables_dir / f"{key}_vs_paper.tex").read_text())) == width

    md = (ws.tables_dir / f"{key}.md").read_text().splitlines()
    table_lines = [ln for ln in md if ln.startswith("|")]
    assert len(table_lines) == 2 + len(spec.rows)
    assert all(ln.count("|") == ncols + 1 for ln in table_lines)

    rows = read_csv(ws.tables_dir / f"{key}.csv")
    assert [r["label"] for r in rows] == [r.label for r in spec.rows]
    for m in spec.metrics:
        assert {f"{m}_mean", f"{m}_std", f"{m}_n_seeds", f"{m}_paper"} <= set(rows[0])
    assert set(spec.cells) <= set(rows[0])


def test_table2_columns_and_rows(full):
    ws, _ = full
    tex = (ws.tables_dir / "table2.tex").read_text()
    head = cells(header_row(tex))
    assert head == ["p", r"mIoU $\uparrow$", r"mVC$_8$ $\uparrow$", r"mVC$_{16}$ $\uparrow$",
                    r"Memory (MB) $\downarrow$", r"FPS $\uparrow$"]
    rows = body_rows(tex)
    assert len(rows) == 6
    assert [cells(r)[0] for r in rows] == [r"100\%", r"90\%", r"70\%", r"50\%", r"30\%", r"10\%"]
    # No unescaped percent sign anywhere (it would comment out the rest of the line).
    assert not re.search(r"(?<!\\)%", tex.split("\n", 1)[1])


def test_latex_escapes_special_characters(tmp_path):
    reg_text = """
runs:
  a_run: {model: {arch: mrcfa}}
tables:
  tablex:
    title: "Odd_names & 100% #1"
    cells: [Name_x]
    metrics: [mIoU]
    rows:
      - {label: "r_1", run: a_run, cells: {Name_x: "A_b & C #2 50%"}, paper: {mIoU: 1.0}}
"""
    (tmp_path / "registry.yaml").write_text(reg_text)
    reg = load_registry(tmp_path / "registry.yaml")
    write_results(tmp_path / "results", PROFILE, reg, seeds=(0,))
    write_profile(tmp_path / "profiles", PROFILE, (0,), tmp_path / "data")
    ws = open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles")
    build_tables(ws)
    tex = (ws.tables_dir / "tablex.tex").read_text()
    assert r"Odd\_names \& 100\% \#1" in tex
    assert r"A\_b \& C \#2 50\%" in tex
    assert r"Name\_x" in tex
    assert len(cells(body_rows(tex)[0])) == 2


def test_results_of_an_older_config_are_flagged_stale(tmp_path):
    """Results made, then the registry (one run) and the profile (every run) change: re-rendered tables mark the
    rows whose results record another config hash than the run resolves to today."""
    ws, _ = make_tree(tmp_path, runs=REG.tables["table2"].runs)
    build_tables(ws, ["table2"])
    tables = tmp_path / "results" / PROFILE / "tables"
    assert "‡" not in (tables / "table2.md").read_text() and "ddagger" not in (tables / "table2.tex").read_text()
    assert {r["stale"] for r in read_csv(tables / "table2.csv")} == {"False"}

    text = REGISTRY.read_text().replace("keep_ratio: 0.3}", "keep_ratio: 0.35}")
    (tmp_path / "registry.yaml").write_text(text)
    build_tables(open_workspace(PROFILE, tmp_path / "results", tmp_path / "registry.yaml", tmp_path / "profiles"),
                 ["table2"])
    md, tex = (tables / "table2.md").read_text(), (tables / "table2.tex").read_text()
    assert [line for line in md.splitlines() if "‡" in line][0].startswith("| 30%‡ ")
    assert "‡ stale: results made with another config" in md
    assert r"30\%$^\ddagger$ &" in tex and r"$^\ddagger$ Stale: results made" in tex
    assert {r["run"]: r["stale"] for r in read_csv(tables / "table2.csv")} == {
        r: str(r == "mrcfa_b1_p30") for r in REG.tables["table2"].runs}
    vs = read_csv(tables / "table2_vs_paper.csv")
    assert {r["run"] for r in vs if r["stale"] == "True"} == {"mrcfa_b1_p30"}
    assert "30%‡" in (tables / "table2_vs_paper.md").read_text()

    with open(tmp_path / "profiles" / f"{PROFILE}.yaml", "a") as f:
        f.write("train: {iters: 100000}\n")
    build_tables(open_workspace(PROFILE, tmp_path / "results", REGISTRY, tmp_path / "profiles"), ["table2"])
    assert {r["stale"] for r in read_csv(tables / "table2.csv")} == {"True"}


def test_results_made_by_other_code_are_flagged_stale_without_a_rerun(tmp_path, capsys):
    """Files made by today's code read current. A file from other code (another fingerprint, or none: older code)
    marks its row, saying why; seen from a copy of the code with one model file edited, every row is stale, with
    nothing rerun. `analysis stale` lists exactly the files to recompute."""
    runs = REG.tables["table2"].runs
    make_tree(tmp_path, runs=runs)
    results, tables = tmp_path / "results", tmp_path / "results" / PROFILE / "tables"
    args = ["--profile", PROFILE, "--results", str(results), "--registry", str(REGISTRY),
            "--profiles-dir", str(tmp_path / "profiles")]
    def stale(*only: str) -> list[str]:
        capsys.readouterr()
        assert main(["stale", *args, *only]) == 0
        return capsys.readouterr().out.split()

    assert main(["tables", *args, "--only", "table2"]) == 0 and stale() == []
    assert {r["stale"] for r in read_csv(tables / "table2.csv")} == {"False"}

    older = results / PROFILE / "runs" / "mrcfa_b1_p30" / "seed1" / "metrics.json"
    older.write_text(re.sub(r'"code_fingerprint": "\w+",?', "", older.read_text()))
    other = results / PROFILE / "runs" / "mrcfa_b1" / "bench.json"
    other.write_text(re.sub(r'"code_fingerprint": "\w+"', '"code_fingerprint": "0123456789ab"', other.read_text()))
    assert main(["tables", *args, "--only", "table2"]) == 0 and sorted(stale()) == sorted([str(older), str(other)])
    assert stale("--only", "table1") == [str(other)]  # of p=50% and p=30%, only p=50%'s run is in Table 1
    rows = {r["run"]: (r["stale"], r["stale_why"]) for r in read_csv(tables / "table2.csv")}
    assert rows == {r: ("True", "code") if r in ("mrcfa_b1_p30", "mrcfa_b1") else ("False", "") for r in runs}
    md = (tables / "table2.md").read_text()
    assert "‡ stale: results made with other code than today's (code fingerprint differs, or none recorded): " \
           "p=50%, p=30%; rerun them." in md
    assert "another config" not in md and "| 30%‡ " in md and "| 50%‡ " in md
    assert r"$^\ddagger$ Stale: results made with other code" in (tables / "table2.tex").read_text()
    vs = read_csv(tables / "table2_vs_paper.csv")
    assert {(r["run"], r["stale_why"]) for r in vs if r["stale"] == "True"} == {("mrcfa_b1_p30", "code"),
                                                                             ("mrcfa_b1", "code")}

    # The same results from an edited copy of the code: every row is stale, and every results file is listed.
    code = tmp_path / "code"
    for package in ("mrcfa", "analysis", "experiments"):
        shutil.copytree(REPO / package, code / package, ignore=shutil.ignore_patterns("__pycache__"))
    loss = code / "mrcfa" / "models" / "loss.py"
    loss.write_text(loss.read_text().replace("0.5 * seg + temporal", "0.4 * seg + temporal"))
    env = tool_env(PYTHONPATH=str(code))
    for command in (["tables", "--only", "table2"], ["stale"]):
        proc = subprocess.run([sys.executable, "-m", "analysis", *command, *args], cwd=code, env=env,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
    listed = proc.stdout.split()
    assert len(listed) == len(set(listed)) == len(runs) * (2 * 2 + 1)  # train.json, metrics.json x 2 seeds, bench
    assert all(Path(f).is_file() for f in listed)
    assert {(r["stale"], r["stale_why"]) for r in read_csv(tables / "table2.csv")} == {("True", "code")}
    assert "p=100%, p=90%, p=70%, p=50%, p=30%, p=10%; rerun them" in (tables / "table2.md").read_text()


def test_mean_and_std_over_seeds(full):
    ws, written = full
    rows = {r["run"]: r for r in read_csv(ws.tables_dir / "table2.csv")}
    tex = (ws.tables_dir / "table2.tex").read_text()
    for spec_row, tex_row in zip(REG.tables["table2"].rows, body_rows(tex)):
        vals = [written.eval[(spec_row.run, s)]["mIoU"] for s in (0, 1, 2)]
        mean, std = statistics.mean(vals), statistics.stdev(vals)
        got = rows[spec_row.run]
        assert float(got["mIoU_mean"]) == pytest.approx(mean, abs=1e-9)
        assert float(got["mIoU_std"]) == pytest.approx(std, abs=1e-9)
        assert got["mIoU_n_seeds"] == "3"
        mean_txt = f"{mean:.1f}"
        shown = cells(tex_row)[1].replace(rf"\textbf{{{mean_txt}}}", mean_txt)  # bold or not
        assert shown == f"{mean_txt}{{\\scriptsize$\\pm${std:.1f}}}"
        # Benchmark metrics are measured once per run: no ± and params in millions.
        assert float(got["fps_mean"]) == pytest.approx(written.bench[spec_row.run]["fps"])
        assert got["fps_std"] == "" and got["fps_n_seeds"] == "1"
        assert r"\pm" not in cells(tex_row)[5]


def test_single_seed_prints_no_std(tmp_path):
    ws, _ = make_tree(tmp_path, runs=REG.tables["table3"].runs, seeds=(0,))
    build_tables(ws, ["table3"])
    tex = (ws.tables_dir / "table3.tex").read_text()
    assert r"\pm" not in "".join(body_rows(tex))
    assert not list(ws.tables_dir.glob("table2*"))  # --only respected


def _bold_rows(tex: str, col: int) -> list[int]:
    return [i for i, r in enumerate(body_rows(tex)) if r"\textbf" in cells(r)[col]]


def test_bold_marks_best_of_our_rows(full):
    ws, _ = full
    table = build_table(REG.tables["table2"], ws.summary)
    tex = (ws.tables_dir / "table2.tex").read_text()
    for j, m in enumerate(table.metrics, start=1):
        shown = [round(r.ours[m].mean, 1 if m != "memory_mb" else 0) for r in table.rows]
        best = max(shown) if m != "memory_mb" else min(shown)
        assert _bold_rows(tex, j) == [i for i, v in enumerate(shown) if v == best], m


def test_bold_ignores_cited_rows(tmp_path):
    # Our runs 20 points below the paper: cited rows hold the best mIoU, yet bold stays on ours.
    ws, written = make_tree(tmp_path, runs=REG.tables["table5"].runs, offset=-20.0)
    build_tables(ws, ["table5"])
    tex = (ws.tables_dir / "table5.tex").read_text()
    spec = REG.tables["table5"]
    bold = _bold_rows(tex, len(spec.cells))  # mIoU column
    assert bold and all(not spec.rows[i].cited for i in bold)
    means = {r.run: statistics.mean(written.eval[(r.run, s)]["mIoU"] for s in (0, 1)) for r in spec.rows if r.run}
    assert {spec.rows[i].run for i in bold} == {max(means, key=means.get)}


@pytest.mark.parametrize("key", ["table5", "table6"])
def test_cited_rows_present_and_marked(full, key):
    ws, _ = full
    spec = REG.tables[key]
    tex = (ws.tables_dir / f"{key}.tex").read_text()
    rows = body_rows(tex)
    for spec_row, row in zip(spec.rows, rows):
        assert (r"$^\dagger$" in row) == spec_row.cited, row
        if spec_row.cited:
            got = cells(row)[len(spec.cells):]
            want = [f"{spec_row.paper[m]:.{0 if m == 'memory_mb' else 1}f}" if m in spec_row.paper else "--"
                    for m in spec.metrics]
            assert got == want
            assert r"\textbf" not in row
    assert "cited from the paper" in tex
    md = (ws.tables_dir / f"{key}.md").read_text()
    assert md.count("†") == sum(r.cited for r in spec.rows) + 1  # rows + footnote
    csv_rows = read_csv(ws.tables_dir / f"{key}.csv")
    assert [r["cited"] == "True" for r in csv_rows] == [r.cited for r in spec.rows]


def test_vs_paper_differences(full_disk):
    ws, written = full_disk
    rows = read_csv(ws.tables_dir / "table4_vs_paper.csv")
    spec = REG.tables["table4"]
    assert len(rows) == len(spec.rows) * len(spec.metrics)
    for r in rows:
        spec_row = next(x for x in spec.rows if x.label == r["label"])
        if r["metric"] == "params_m":
            ours = written.bench[spec_row.run]["params_m"]
        else:
            ours = statistics.mean(written.eval[(spec_row.run, s)][r["metric"]] for s in (0, 1, 2))
        paper = spec_row.paper[r["metric"]]
        assert float(r["ours"]) == pytest.approx(ours, abs=1e-9)
        assert float(r["paper"]) == paper
        assert float(r["diff"]) == pytest.approx(ours - paper, abs=1e-9)
    md = (ws.tables_dir / "table4_vs_paper.md").read_text()
    first = next(ln for ln in md.splitlines() if ln.startswith("| SegFormer"))
    diff = float(rows[0]["diff"])
    assert (f"+{diff:.1f}" if diff > 0 else f"{diff:.1f}").replace("-0.0", "0.0") in first


def test_partial_results_cli_warns_and_strict_fails(tmp_path, capsys):
    runs = [r for r in REG.runs if r not in ("mrcfa_b1_p10", "mrcfa_b1_p30")]
    make_tree(tmp_path, runs=runs)
    args = ["tables", "--profile", PROFILE, "--results", str(tmp_path / "results"), "--registry", str(REGISTRY),
            "--profiles-dir", str(tmp_path / "profiles"), "--only", "table2"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "mrcfa_b1_p10" in err and "mrcfa_b1_p30" in err and "warning" in err
    tex = (tmp_path / "results" / PROFILE / "tables" / "table2.tex").read_text()
    last = cells(body_rows(tex)[-1])
    assert last[0] == r"10\%" and last[1:] == ["--"] * 5
    assert not (tmp_path / "results" / PROFILE / "tables" / "table1.tex").exists()
    assert main(args + ["--strict"]) == EXIT_MISSING
    assert main(args[:-1] + ["table1", "--strict"]) == 0  # table1's runs are all there


def test_missing_seed_and_bench_are_reported(tmp_path):
    ws, _ = make_tree(tmp_path, runs=REG.tables["table3"].runs, seeds=(0,), profile_seeds=(0, 1), bench=False)
    missing = {m.run: m for m in ws.missing(["table3"])}
    assert set(missing) == set(REG.tables["table3"].runs)
    assert missing["mrcfa_b1_l1"].parts == ("seed 1", "bench") and not missing["mrcfa_b1_l1"].entirely


def test_loader_tidy_values(full):
    ws, written = full
    v = ws.results.values
    assert list(v.columns) == ["run", "seed", "metric", "value"]
    params = v[(v["run"] == "mrcfa_b1") & (v["metric"] == "params_m")]
    assert len(params) == 1 and params["seed"].isna().all()
    assert params["value"].iloc[0] == pytest.approx(written.bench["mrcfa_b1"]["params_m"])
    assert ws.results.eval_seeds("mrcfa_b1") == {0, 1, 2}


def test_from_mlflow_matches_file_loader(tmp_path, monkeypatch):
    mlflow = pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    runs = REG.tables["table2"].runs
    ws, written = make_tree(tmp_path, runs=runs)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(f"mrcfa-vspw-{PROFILE}")
    client.create_experiment("mrcfa-vspw-otherprofile")  # must be ignored
    from mlflow.entities import Metric

    for (run, seed), vals in written.eval.items():
        made = {tag(k): current() for k in ("train", "metrics", "bench")}  # as the jobs tag it
        r = client.create_run(exp, tags={"mrcfa.run": run, "mrcfa.seed": str(seed), "mrcfa.profile": PROFILE,
                                         **made})
        metrics = dict(vals)
        if seed == 0:  # the benchmark is logged once per run
            b = written.bench[run]
            metrics |= {"fps": b["fps"], "memory_mb": b["memory_mb"], "params_m": b["params_m"]}
        client.log_batch(r.info.run_id, metrics=[Metric(k, v, 0, 0) for k, v in metrics.items()])

    from analysis.mlflow_source import load_results_mlflow

    from_files = load_results(tmp_path / "results", PROFILE)
    from_store = load_results_mlflow(uri, PROFILE)
    a = from_files.values.reset_index(drop=True)
    b = from_store.values.reset_index(drop=True)
    assert a[["run", "seed", "metric"]].astype(str).equals(b[["run", "seed", "metric"]].astype(str))
    assert all(math.isclose(x, y, rel_tol=1e-9) for x, y in zip(a["value"], b["value"]))

    # And through the CLI: identical table files.
    base = ["tables", "--profile", PROFILE, "--registry", str(REGISTRY), "--profiles-dir", str(tmp_path / "profiles"),
            "--only", "table2"]
    assert main(base + ["--results", str(tmp_path / "results")]) == 0
    files_csv = (tmp_path / "results" / PROFILE / "tables" / "table2.csv").read_text()
    (tmp_path / "results" / PROFILE / "tables" / "table2.csv").unlink()
    assert main(base + ["--results", str(tmp_path / "results"), "--from-mlflow", uri]) == 0
    assert (tmp_path / "results" / PROFILE / "tables" / "table2.csv").read_text() == files_csv
    # A run logged by other code reads stale from the store too.
    other = client.search_runs([exp], "tags.`mrcfa.run` = 'mrcfa_b1_p30'")[0]
    client.set_tag(other.info.run_id, tag("metrics"), "0123456789ab")
    assert main(base + ["--results", str(tmp_path / "results"), "--from-mlflow", uri]) == 0
    stale = {r["run"]: r["stale_why"] for r in read_csv(tmp_path / "results" / PROFILE / "tables" / "table2.csv")}
    assert stale == {r: "code" if r == "mrcfa_b1_p30" else "" for r in runs}
    frame = vs_paper_frame(build_table(REG.tables["table2"], ws.summary))
    assert not frame["diff"].isna().any()
    effects = vs_paper_frame(build_table(REG.tables["table2"], ws.summary, effects=True))
    assert not effects["ours_effect"].isna().any()


def _md_cells(md: str) -> set[str]:
    return {c.strip() for ln in md.splitlines() if ln.startswith("|") for c in ln.strip("|").split("|")}


@pytest.mark.parametrize("key", ["table2", "table4", "table5"])
def test_vs_paper_on_synthetic_data_compares_effects_not_values(full, full_disk, key):
    """A synthetic profile's comparison shows effects against each row's reference row, never our values
    against the paper's VSPW values; a profile on real data shows values and Δ = ours − paper."""
    spec = REG.tables[key]
    paper_values = {f"{v:.{0 if m == 'memory_mb' else 1}f}" for r in spec.rows if not r.cited
                    for m, v in r.paper.items() if m in spec.metrics}
    ws, written = full
    md = (ws.tables_dir / f"{key}_vs_paper.md").read_text()
    assert "ours − paper" not in md and "reference row" in md
    assert not paper_values & _md_cells(md)  # no absolute paper number printed as a cell
    rows = read_csv(ws.tables_dir / f"{key}_vs_paper.csv")
    assert "diff" not in rows[0] and "paper" not in rows[0] and "ours" not in rows[0]
    labels = {r.label: r for r in spec.rows}
    for r in rows:
        row, m = labels[r["label"]], r["metric"]
        ref = labels[row.reference]
        assert r["reference"] == ref.label
        if m in ("fps", "memory_mb", "params_m"):  # relative change in percent, one measurement per run
            ours = (written.bench[row.run][m] / written.bench[ref.run][m] - 1) * 100
            paper = (row.paper[m] / ref.paper[m] - 1) * 100
        else:
            mean = lambda run: statistics.mean(written.eval[(run, s)][m] for s in (0, 1, 2))  # noqa: E731
            ours, paper = mean(row.run) - mean(ref.run), row.paper[m] - ref.paper[m]
        assert float(r["ours_effect"]) == pytest.approx(ours, abs=1e-9)
        assert float(r["paper_effect"]) == pytest.approx(paper, abs=1e-9)
    # The same results on a real-data profile: values beside the paper's, which the check above would catch.
    ws_disk, _ = full_disk
    md_disk = (ws_disk.tables_dir / f"{key}_vs_paper.md").read_text()
    assert "ours − paper" in md_disk and paper_values & _md_cells(md_disk)


def test_fps_column_comes_from_the_rows_timed_together_where_they_were(tmp_path):
    """Table 2's FPS column and its FPS claim read the same measurement: each row's geometric-mean FPS over the
    table bench's processes and rounds, so the column's p=50 % change is the claim's estimate; without the table
    bench the column falls back to each run's own benchmark."""
    runs = REG.tables["table2"].runs
    ws, written = make_tree(tmp_path, runs=runs, seeds=(0, 1, 2))
    build_tables(ws, ["table2"])
    per_run = {r["run"]: float(r["fps_mean"]) for r in csv.DictReader((ws.tables_dir / "table2.csv").open())}
    assert per_run == pytest.approx({run: written.bench[run]["fps"] for run in runs})

    write_table_benches(tmp_path / "results", PROFILE, REG, processes=4, rounds=5, rng_seed=3)
    ws = open_workspace(PROFILE, tmp_path / "results", REGISTRY, tmp_path / "profiles")
    build_tables(ws, ["table2"])
    bench = json.loads((tmp_path / "results" / PROFILE / "bench" / "table2.json").read_text())
    want = {run: math.exp(statistics.fmean(-math.log(t) for p in bench["processes"] for t in p["seconds"][run]))
            for run in runs}
    timed = {r["run"]: float(r["fps_mean"]) for r in csv.DictReader((ws.tables_dir / "table2.csv").open())}
    assert timed == pytest.approx(want, rel=1e-9) and timed != pytest.approx(per_run, rel=1e-3)
    effect = next(r for r in csv.DictReader((ws.tables_dir / "table2_vs_paper.csv").open())
                  if r["label"] == "p=50%" and r["metric"] == "fps")
    claim = next(r for r in csv.DictReader((ws.tables_dir / "table2_claims.csv").open())
                 if r["claim"] == "t2_p50_gains_fps")
    assert float(effect["ours_effect"]) == pytest.approx(float(claim["effect"]), abs=1e-9)
    assert "rows timed together, interleaved, in 4 processes x 5 rounds" in (ws.tables_dir / "table2.md").read_text()
    assert "4 processes x 5 rounds" in (ws.tables_dir / "table2.tex").read_text()
    summary = summary_text(ws, ["table2"])  # names the measurement its FPS figures come from
    assert f"FPS (rows timed together, 3 figures): {', '.join(f'{want[r]:.3g}' for r in runs)}" in summary
    assert "rows timed together (FPS column and claims): device cpu (synthetic), 1 thread(s), 4 processes x 5 rounds" \
        in summary

    # A table benchmark that lacks a row (the registry gained one since): the column says so and falls back.
    path = tmp_path / "results" / PROFILE / "bench" / "table2.json"
    for proc in bench["processes"]:
        del proc["seconds"][runs[-1]]
    path.write_text(json.dumps(bench))
    ws = open_workspace(PROFILE, tmp_path / "results", REGISTRY, tmp_path / "profiles")
    with pytest.warns(UserWarning, match=f"bench/table2.json has no timings of {runs[-1]}"):
        table = ws.table("table2")
    assert table.timed is None and {r.run: r.ours["fps"].mean for r in table.rows} == pytest.approx(per_run)
