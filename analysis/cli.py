"""Command line: `python -m analysis {tables,plots,report,claims,summary,stale} --profile P [...]`.

Partial results still produce every output (absent cells print `--`) and exit 0 with a warning
naming the missing runs; `--strict` turns missing runs into exit status 3.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from mrcfa.layout import PLOT_FILES

EXIT_MISSING = 3

PLOT_NAMES = tuple(PLOT_FILES)

EPILOG = """examples:
  python -m analysis tables --profile demo --only table2
  python -m analysis plots --profile demo --only table2 --only training
  python -m analysis report --profile demo
  python -m analysis claims --profile demo             # every claim; --only table2 prints one table's
  python -m analysis claims --profile demo --plan      # what more seeds would decide, their compute, the command
  python -m analysis summary --profile demo --only table2   # the README's figures, with machine and threads
  snakemake table2 --forcerun $(python -m analysis stale --profile demo --only table2)   # redo stale results
  python -m analysis tables --profile paper --from-mlflow sqlite:///mlflow.db --strict

outputs: results/<profile>/tables/tableN{,_vs_paper}.{tex,md,csv}, tableN_claims.{csv,md},
         results/<profile>/claims.{csv,md}, results/<profile>/figures/*.{png,pdf},
         results/<profile>/report.{html,md}"""


def _split(values: list[str] | None) -> list[str] | None:
    """--only accepts repeats and comma lists; order kept, duplicates dropped."""
    if not values:
        return None
    return list(dict.fromkeys(v.strip() for item in values for v in item.split(",") if v.strip()))


def _seeds(text: str | None) -> list[int] | None:
    """--seeds 0,1,2: distinct non-negative integers, in increasing order."""
    if text is None:
        return None
    items = [t.strip() for t in text.split(",")]
    if not items or not all(t.isdigit() for t in items):
        raise ValueError(f"--seeds: expected comma-separated seeds such as 0,1,2, got {text!r}")
    seeds = [int(t) for t in items]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds: {text!r} repeats a seed")
    return sorted(seeds)


def _error(msg: str) -> int:
    print(f"error: {msg}", file=sys.stderr)
    return 2


def _common() -> argparse.ArgumentParser:
    """The options every command takes."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--profile", required=True, help="profile name (experiments/profiles/<name>.yaml), e.g. demo")
    common.add_argument("--results", default="results", help="results root holding <profile>/runs (default: results)")
    common.add_argument("--registry", default="experiments/registry.yaml",
                        help="experiment registry (default: experiments/registry.yaml)")
    common.add_argument("--profiles-dir", default=None,
                        help="directory of profile YAML files (default: <registry dir>/profiles)")
    common.add_argument("--from-mlflow", metavar="URI", default=None,
                        help="read metrics from this MLflow tracking URI instead of the results files "
                             "(training curves, samples and tables' rows timed together still come from the "
                             "results tree)")
    common.add_argument("--jobs", type=int, default=None, metavar="N",
                        help="processes drawing figures (default: CPU count, at most 4; 1 draws in-process)")
    common.add_argument("--seeds", metavar="S,S,...", default=None,
                        help="read only these seeds' results and expect exactly them, e.g. 0,1,2,3,4 (what the "
                             "pipeline passes: its `seeds` config); default: every seed there is, the profile's "
                             "expected")
    common.add_argument("--strict", action="store_true",
                        help=f"exit with status {EXIT_MISSING} if any run the outputs need is missing")
    return common


def _add_writers(sub: Any, common: argparse.ArgumentParser) -> None:
    """tables, plots and report: the commands that write files."""
    t = sub.add_parser("tables", parents=[common], help="write LaTeX/Markdown/CSV tables and versus-the-paper twins",
                       description="Write tableN.{tex,md,csv} and tableN_vs_paper.{tex,md,csv}.")
    t.add_argument("--out", help="folder for the table files (default: results/<profile>/tables)")
    t.add_argument("--only", action="append", metavar="TABLE",
                   help="only these tables (repeat or comma-separate), e.g. table2")
    p = sub.add_parser("plots", parents=[common], help="write figures as PNG and PDF",
                       description="Write figures: table1 (trend vs reference frames), table2 (trade-off vs p), "
                                   "table3 (trend vs L), training (loss curves), figure3 (qualitative strip).")
    p.add_argument("--only", action="append", metavar="PLOT", help=f"only these plots: {', '.join(PLOT_NAMES)}")
    r = sub.add_parser("report", parents=[common], help="write report.html and report.md (and all tables and figures)",
                       description="Write a self-contained HTML report and its Markdown twin, with every table and "
                                   "figure; the tables, claims and figures are written too unless --no-rebuild.")
    r.add_argument("--no-rebuild", action="store_true",
                   help="write only report.{html,md}, embedding the figures already under figures/ (what the "
                        "pipeline does: its table, claims and plot steps own those files)")


def _add_readers(sub: Any, common: argparse.ArgumentParser) -> None:
    """claims, summary and stale: the commands that decide or print (claims also writes its files)."""
    c = sub.add_parser("claims", parents=[common], help="decide the paper's claims: claims.{csv,md}, printed",
                       description="Decide every claim of the registry on the profile's results (effect, 95 %% "
                                   "interval over seeds, verdict); write results/<profile>/claims.{csv,md} and "
                                   "print the claims. With --only, print those tables' claims and write nothing.")
    c.add_argument("--only", action="append", metavar="TABLE", help="only print these tables' claims")
    c.add_argument("--track", action="store_true",
                   help="also log claims.{csv,md} and each verdict to an MLflow run `claims` in the profile's "
                        "experiments (as the pipeline's claims rule does)")
    c.add_argument("--plan", action="store_true",
                   help="write nothing; print, for every undecided claim, the per-seed spread, the seeds that "
                        "would decide it, their compute (from the recorded job times) and the command to run")
    c.add_argument("--json", action="store_true", help="with --plan: print the plan as JSON")
    m = sub.add_parser("summary", parents=[common], help="print each table's figures and the machine that made them",
                       description="Print each table's metrics (mean ± std over seeds, in row order), the "
                                   "benchmark device and threads, training time and this machine. Writes nothing.")
    m.add_argument("--only", action="append", metavar="TABLE", help="only these tables, e.g. table2")
    s = sub.add_parser("stale", parents=[common], help="print the results files made with another config or code",
                       description="Print, one per line, the results files (train.json, metrics.json, bench.json) "
                                   "made with another config than the registry and profile give today or by other "
                                   "code than today's, e.g. for `snakemake table2 --forcerun $(python -m analysis "
                                   "stale --profile demo --only table2)`. Writes nothing.")
    s.add_argument("--only", action="append", metavar="TABLE", help="only the runs of these tables, e.g. table2")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m analysis",
        description="Regenerate the MRCFA paper's tables, plots and a reproduction report from results.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True,
                                metavar="{tables,plots,report,claims,summary,stale}")
    common = _common()
    _add_writers(sub, common)
    _add_readers(sub, common)
    return parser


def _warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


def _conflict(args: argparse.Namespace) -> str | None:
    """What is wrong with the claims command's flags together, if anything."""
    plan = args.command == "claims" and args.plan
    if args.command == "claims" and args.json and not plan:
        return "--json goes with --plan"
    if plan and args.track:
        return "--plan writes nothing: drop --track"
    return None


def _keys(parser: argparse.ArgumentParser, ws: Any, command: str, only: list[str] | None) -> list[str]:
    """The tables or plots the command covers: --only's, else all it knows."""
    if command in ("tables", "claims", "summary", "stale"):
        valid = list(ws.registry.tables)
        keys = only or valid
    elif command == "plots":
        valid = list(PLOT_NAMES)
        keys = only or valid
    else:
        valid = keys = list(ws.registry.tables) + list(ws.registry.figures)
    unknown = [k for k in keys if k not in valid]
    if unknown:
        parser.error(f"unknown name(s) for --only: {', '.join(unknown)}; choose from {', '.join(valid)}")
    return keys


def _print_stale(ws: Any, results: str, keys: list[str]) -> None:
    runs = {r for k in keys for r in ws.registry.table_runs(k)}
    paths = dict.fromkeys(s.path(results, ws.profile.name) for s in ws.stale_files if s.run in runs)
    print("".join(f"{p}\n" for p in paths), end="")


def _stop_for_missing(ws: Any, args: argparse.Namespace, keys: list[str]) -> bool:
    """Warn about the runs the outputs need that are missing; True when --strict makes that an error."""
    # Plots named after a table read that table's runs; 'training' reads every run's history.
    needed = [k for k in keys if k in ws.registry.tables or k in ws.registry.figures]
    if args.command == "claims":
        needed = [k for k in needed if ws.registry.claims_of(k)]
    missing = ws.missing(needed)
    if not missing:
        return False
    _warn(f"{len(missing)} run(s) missing or incomplete for {', '.join(needed)}:")
    for m in missing:
        print(f"  - {m.describe()}", file=sys.stderr)
    if args.strict:
        print(f"error: --strict and {len(missing)} run(s) missing", file=sys.stderr)
    return args.strict


def _claims(ws: Any, args: argparse.Namespace, keys: list[str], only: list[str] | None) -> list[Any] | None:
    """Print the plan (None: nothing written) or decide the claims, writing their files unless --only."""
    if args.plan:
        from analysis.plan import make_plan, plan_json, plan_text

        made = make_plan(ws, keys)
        print(plan_json(made) if args.json else plan_text(made))
        return None
    from analysis.claims import build_claims, evaluate_claims, markdown_claims

    written = [] if only else build_claims(ws)
    results = evaluate_claims(ws, keys)
    print(markdown_claims(results, ws.profile.name,
                          "The paper's claims" if not only else f"Claims of {', '.join(keys)}"))
    if args.track and written:
        from mrcfa.tracking.profile_run import log_claims

        datasets = sorted({ws.registry.dataset_of(r) for c in ws.registry.claims.values() for r in c.runs})
        log_claims(ws.profile.name, datasets, written, {r.spec.id: r.verdict for r in results})
    return written


def _run(ws: Any, args: argparse.Namespace, keys: list[str], only: list[str] | None) -> list[Any] | None:
    """Run the command; the files it wrote, or None when it only prints."""
    if args.command == "tables":
        from analysis.tables import build_tables

        return build_tables(ws, keys, args.out)
    if args.command == "plots":
        from analysis.plots import build_plots

        return [p for f in build_plots(ws, keys, args.jobs) for p in (f.png, f.pdf)]
    if args.command == "summary":
        from analysis.summary import summary_text

        print(summary_text(ws, keys))
        return None
    if args.command == "claims":
        return _claims(ws, args, keys, only)
    from analysis.report import build_report

    paths = build_report(ws, args.jobs, rebuild=not args.no_rebuild)
    return [paths.html, paths.markdown]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    only = _split(getattr(args, "only", None))
    try:
        seeds = _seeds(args.seeds)
    except ValueError as exc:
        return _error(str(exc))
    conflict = _conflict(args)
    if conflict:
        return _error(conflict)

    # Imported here so that `--help` and argument errors answer instantly.
    from analysis.workspace import open_workspace

    start = time.perf_counter()
    try:
        ws = open_workspace(args.profile, args.results, args.registry, args.profiles_dir, args.from_mlflow, seeds)
    except (FileNotFoundError, ValueError) as exc:  # ValueError: the registry names something unknown
        parser.error(str(exc))
    keys = _keys(parser, ws, args.command, only)
    if args.command == "stale":
        _print_stale(ws, args.results, keys)
        return 0
    if _stop_for_missing(ws, args, keys):
        return EXIT_MISSING
    written = _run(ws, args, keys, only)
    if written is not None:
        print(f"wrote {len(written)} file(s) under {ws.out_dir} in {time.perf_counter() - start:.1f} s")
    return 0
