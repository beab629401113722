"""The `mrcfa` command line. Heavy imports (torch, mlflow) happen inside the commands, so `--help` is fast."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from mrcfa.config import DATASETS
from mrcfa.errors import UserError
from mrcfa.experiments.files import EXPERIMENTS
from mrcfa.metric_keys import PROTOCOLS
from mrcfa.models.variants import ARCHS, BACKBONES, REF_OFFSETS
from mrcfa.offline import stay_offline

stay_offline()

SCORES = ("mIoU", "WIoU", "mVC8", "mVC16")  # the scores a command prints of an evaluation


def _print(data: Any, as_json: bool, text: str | None = None) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if as_json or text is None else text)


def _size(value: str) -> tuple[int, int]:
    try:
        h, w = (int(x) for x in value.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected HxW, e.g. 480x864, got {value!r}") from None
    return h, w


def _input_size(value: str) -> tuple[int, int]:
    h, w = _size(value)
    if h < 32 or w < 32 or h % 32 or w % 32:
        raise argparse.ArgumentTypeError(f"{value}: sides must be positive multiples of 32 (the deepest feature "
                                         "grid is 1/32), e.g. 480x864 for VSPW's 480x853 frames")
    return h, w


def _offsets(value: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in value.split(",") if x.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, e.g. -9,-6,-3, got {value!r}") from None


def _resolve(args: argparse.Namespace):
    """The registry and the run's config, with the command line's overrides, data root and starting model."""
    import dataclasses

    from mrcfa.experiments.registry import load_registry
    from mrcfa.overrides import parse_overrides

    registry = load_registry(args.registry)
    overrides = parse_overrides(getattr(args, "overrides", None) or [])
    cfg = registry.resolve(args.profile, args.run, overrides).with_data_root(getattr(args, "data_root", None))
    if getattr(args, "init_from", None):
        cfg = dataclasses.replace(cfg, train=dataclasses.replace(cfg.train, init_from=args.init_from))
    return registry, cfg


def _named_model(args: argparse.Namespace, **extra: Any):
    """The config of the model named by --model/--backbone/--num-classes (and `extra` fields that are set)."""
    from mrcfa.config import ModelConfig, build_section

    fields = {"arch": args.model, "backbone": args.backbone, "num_classes": args.num_classes}
    return build_section(ModelConfig, fields | {k: v for k, v in extra.items() if v is not None}, "model.")


def _no_overrides(args: argparse.Namespace, what: str) -> None:
    if args.overrides:
        raise UserError(f"--set {args.overrides[0]}: {what} has no run config to change; give --profile and --run")


def _threads(args: argparse.Namespace) -> None:
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)


# --- commands --------------------------------------------------------------------------------------


def cmd_params(args: argparse.Namespace) -> int:
    if args.profile or args.run:
        # A registry run at its profile's scale (widths, depths, classes), e.g. the demo's MiT-B5.
        if not (args.profile and args.run) or args.model or args.backbone:
            raise UserError("give --profile and --run together, or --model and --backbone")
        cfg = _resolve(args)[1].model
        name = f"{args.run} ({args.profile})"
    else:
        if not (args.model and args.backbone):
            raise UserError("give --model and --backbone, or --profile and --run")
        cfg = _named_model(args, num_scales=args.num_scales or None)
        name = f"{args.model}-{args.backbone}"
    from mrcfa.models.segmenter import build_model, count_parameters

    counts = count_parameters(build_model(cfg))
    _print(counts, args.json, f"{name}: total {counts['total'] / 1e6:.3f} M, inference "
                              f"{counts['inference'] / 1e6:.3f} M ({counts['inference']:,}); depths {cfg.depths}")
    return 0


def cmd_weights_check(args: argparse.Namespace) -> int:
    from mrcfa.models.checkpoints import check_weights

    if bool(args.profile) != bool(args.run) or (args.arch and args.profile):
        raise UserError("compare with --arch ARCH, or with --profile P --run R (a run's model), or give "
                        "neither to compare the file with the architecture it says it is")
    if not Path(args.file).is_file():
        where = ("SegFormer's ImageNet mit_bX.pth files come from the NVlabs/SegFormer release"
                 if (args.arch or "").startswith("mit_") else "see docs/data.md")
        raise UserError(f"{args.file}: no such file; {where}; put it there (nothing is downloaded at run time)")
    model_cfg = _resolve(args)[1].model if args.run else None
    ckpt, report, target = check_weights(args.file, arch=args.arch, model_cfg=model_cfg)
    data = {"layout": ckpt.layout, "arch": ckpt.arch, "num_classes": ckpt.num_classes, "compared_with": target,
            **report.to_dict()}
    verdict = ("OK: loads completely" if report.ok
               else f"NOT LOADABLE: {report.summary()} (--json lists every key)")
    _print(data, args.json, f"{args.file}: {ckpt.describe()}\ncompared with {target}: {verdict}")
    return 0 if report.ok else 1


def cmd_synth(args: argparse.Namespace) -> int:
    from mrcfa.data.synth_job import synthesise

    changes = {key: getattr(args, key) for key in ("train_videos", "val_videos", "frames", "difficulty", "seed")
               if getattr(args, key) is not None}
    if args.classes is not None:
        changes["num_classes"] = args.classes
    if args.size is not None:
        changes["height"], changes["width"] = args.size
    out, summary = synthesise(args.out, changes, profile=args.profile, dataset=args.dataset,
                              registry=args.registry, progress=not args.json)
    _print(summary, args.json, f"wrote the synthetic benchmark to {out}: {json.dumps(summary)}")
    return 0


def cmd_data_check(args: argparse.Namespace) -> int:
    from mrcfa.data.check import check_dataset

    problems = check_dataset(args.root, args.dataset, args.offsets, tuple(args.splits), fast=args.fast,
                             num_classes=args.num_classes)
    if args.json:
        print(json.dumps([{"kind": p.kind, "path": p.path, "message": p.message} for p in problems], indent=2))
    else:
        for p in problems:
            print(p)
    if len(problems) == 1:
        print(f"error: {problems[0]}", file=sys.stderr)
    elif problems:
        print(f"error: {args.root}: {len(problems)} problems, listed {'in the JSON' if args.json else 'above'}",
              file=sys.stderr)
    elif not args.json:
        print(f"no problems found in {args.root}", file=sys.stderr)
    return 1 if problems else 0


def cmd_train(args: argparse.Namespace) -> int:
    _threads(args)
    from mrcfa.engine.paths import RunPaths
    from mrcfa.engine.tracked import row_tags
    from mrcfa.engine.train import train

    registry, cfg = _resolve(args)
    paths = RunPaths.of(cfg.profile, cfg.run, args.seed, args.results, args.work)
    result = train(cfg, args.seed, paths, track=not args.no_track, tags=row_tags(registry, cfg.run),
                   progress=not args.json)
    _print(result, args.json, f"trained {cfg.run} seed {args.seed}: final loss {result['final_loss']}, "
                              f"{result['seconds']} s")
    return 0


def _scores(result: dict[str, Any]) -> str:
    """mIoU, WIoU, mVC8 and mVC16 on one line (no mVC on Cityscapes)."""
    return "  ".join(f"{k} {'n/a' if result[k] is None else f'{result[k]:.2f}'}" for k in SCORES)


def cmd_evaluate(args: argparse.Namespace) -> int:
    _threads(args)
    if args.pred_dir and not args.run:
        from mrcfa.metrics import score_prediction_dir

        _no_overrides(args, "scoring saved predictions")
        if not args.data_root:
            raise UserError("scoring saved predictions needs --data-root (the VSPW-layout ground truth)")
        result = score_prediction_dir(args.data_root, args.pred_dir, split=args.split,
                                      num_classes=args.num_classes, progress=not args.json)
        _print(result if args.json else None, args.json, _scores(result))
        return 0
    if not (args.run and args.profile):
        raise UserError("give --profile and --run (evaluate a trained run or a checkpoint) or --data-root and "
                        "--pred-dir (score saved predictions)")
    from mrcfa.engine.evaluate_run import evaluate_run

    registry, cfg = _resolve(args)
    result, paths = evaluate_run(registry, cfg, args.run, args.seed, weights=args.weights, out=args.out,
                                 split=args.split, save_preds=args.save_preds, sets=args.overrides or (),
                                 results=args.results, work=args.work, track=not args.no_track,
                                 progress=not args.json)
    text = _scores(result)
    cues = {state: e["accuracy"] for state, e in result.get("cue_accuracy", {}).items()}
    if cues:  # synthetic data: how often the model is right where one frame shows the class and where not
        text += "\npixel accuracy on objects whose class cue is " + ", ".join(
            f"{state} {'n/a' if acc is None else f'{acc:.1f}'}" for state, acc in cues.items())
    _print({k: result[k] for k in SCORES} if args.json else None, args.json, f"{text}\nwritten to {paths.metrics}")
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from mrcfa.engine.bench_run import AD_HOC, bench_run, time_model, with_changes

    changes = (args.size, args.iters, args.warmup, args.protocol)
    if args.run:
        registry, cfg = _resolve(args)
        bc = with_changes(cfg.bench, *changes)
        result = bench_run(registry, cfg, bc, threads=args.threads, weights=args.weights, results=args.results,
                           track=not args.no_track)
    else:
        _no_overrides(args, "benchmarking --model/--backbone")
        bc = with_changes(AD_HOC, *changes)
        result = time_model(_named_model(args, keep_ratio=args.keep_ratio), bc, args.threads, args.weights)
    from mrcfa.metric_keys import FPS, MEMORY, PARAMS, per_protocol

    text = "  ".join(f"{p}: {result[per_protocol(FPS, p)]:.2f} FPS, {result[per_protocol(MEMORY, p)]:.0f} MB"
                     for p in bc.protocols)
    _print(result, args.json, f"{text}  params {result[PARAMS]:.2f} M")
    return 0


def cmd_bench_table(args: argparse.Namespace) -> int:
    from mrcfa.engine.bench_table import bench_table, one_process, row_configs
    from mrcfa.experiments.registry import load_registry

    registry = load_registry(args.registry)
    profile = registry.load_profile(args.profile)
    if args.one_process:
        result = one_process(row_configs(registry, profile, args.table), profile.table_bench, args.threads)
        _print(result, True)
        return 0
    result = bench_table(registry, profile, args.table, args.threads, args.results)
    from mrcfa.layout import TABLE_BENCH, path

    out = path(TABLE_BENCH, results=args.results, profile=args.profile, table=args.table)
    _print(result, args.json, f"timed {len(result['rows'])} rows of {args.table} in {len(result['processes'])} "
                              f"processes x {result['rounds']} rounds: {out}")
    return 0


def cmd_track_sync(args: argparse.Namespace) -> int:
    from mrcfa.tracking import sync_results

    n = sync_results(args.results, args.profile)
    print(f"synced {n} run(s) of profile {args.profile} into MLflow")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    _, cfg = _resolve(args)
    data = {"hash": cfg.hash(), **cfg.to_dict()}
    _print(data, True)
    return 0


# --- parser ------------------------------------------------------------------------------------------


def _profiles() -> str:
    """The profiles of experiments/profiles/, for the help: e.g. `demo, paper, paper_short, smoke`."""
    return ", ".join(sorted(p.stem for p in (EXPERIMENTS / "profiles").glob("*.yaml")))


def _run_args(p: argparse.ArgumentParser, required: bool = True) -> None:
    p.add_argument("--profile", default="demo" if not required else None, required=required,
                   help=f"scale: {_profiles()} (experiments/profiles/)")
    # `--run-name` is for torchrun, whose own parser takes `--run` for an abbreviation of its `--run-path`.
    p.add_argument("--run", "--run-name", dest="run", required=required,
                   help="run name from experiments/registry.yaml")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--registry", default=None, help="registry file (default: experiments/registry.yaml)")
    p.add_argument("--results", default="results", help="root of the declared outputs")
    p.add_argument("--work", default="work", help="root of resumable state (checkpoints)")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--no-track", action="store_true", help="do not log to MLflow")
    p.add_argument("--data-root", help="dataset folder, instead of the profile's (e.g. a cluster's shared disk)")
    p.add_argument("--set", dest="overrides", action="append", metavar="SECTION.FIELD=VALUE",
                   help="change one config field (repeatable; YAML values, e.g. model.keep_ratio=0.3 or "
                        "model.ref_offsets=[-6,-3]); a changed config is a run of its own, <run>+<config hash>")


class _Parser(argparse.ArgumentParser):
    """Command-line mistakes end in one line, `error: …`, like every other mistake."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message} (`{self.prog} --help` lists the options)\n")


def _add_params(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("params", help="count model parameters (total and inference path)",
                       description="Count a model's parameters: --model/--backbone at the paper's size, or "
                                   "--profile/--run for a registry run at that profile's scale.")
    p.add_argument("--model", choices=ARCHS)
    p.add_argument("--backbone", choices=BACKBONES)
    p.add_argument("--num-classes", type=int, default=124)
    p.add_argument("--num-scales", type=int, default=None, help="L (mrcfa only)")
    p.add_argument("--profile", help="with --run: count this run at this profile's scale (e.g. demo)")
    p.add_argument("--run", help="run name from experiments/registry.yaml")
    p.add_argument("--registry", default=None, help="registry file (default: experiments/registry.yaml)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_params)


def _add_weights(sub: argparse._SubParsersAction) -> None:
    weights = sub.add_parser("weights", help="inspect checkpoints").add_subparsers(dest="action", required=True)
    p = weights.add_parser(
        "check", help="what is this checkpoint, and does it load completely into a model?",
        description="Reads the file's layout (this project's model.pt, a released mmseg MRCFA/SegFormer "
                    "checkpoint, SegFormer's ImageNet mit_bX.pth) and architecture from its keys, and compares "
                    "it tensor by tensor with --arch, with a run's model (--profile/--run), or with the "
                    "architecture it says it is. Exit 0 only when it loads completely.")
    p.add_argument("--arch", help=", ".join(f"{family}_{BACKBONES[0]} … {BACKBONES[-1]}"
                                            for family in ("mit", "segformer", "mrcfa")))
    p.add_argument("--profile", help="compare with this run's model at this profile's scale (with --run)")
    p.add_argument("--run", help="run name from experiments/registry.yaml (with --profile)")
    p.add_argument("--registry", default=None)
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print every missing/unexpected key as JSON")
    p.set_defaults(func=cmd_weights_check)


def _add_synth(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="write the synthetic video benchmark in VSPW layout")
    p.add_argument("--out", help="output folder (default with --profile: the profile's dataset root)")
    p.add_argument("--profile", help="take the generator's parameters from this profile")
    p.add_argument("--dataset", choices=DATASETS, default="vspw", help="dataset entry of the profile (default vspw)")
    p.add_argument("--registry", default=None)
    p.add_argument("--seed", type=int)
    p.add_argument("--train-videos", type=int)
    p.add_argument("--val-videos", type=int)
    p.add_argument("--frames", type=int, help="frames per video")
    p.add_argument("--size", type=_size, help="HxW of the frames")
    p.add_argument("--classes", type=int, help="number of classes K (background included)")
    p.add_argument("--difficulty", type=float, help="share of frames whose class cue is hidden (0–1)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_synth)


def _add_data(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="dataset tools").add_subparsers(dest="action", required=True)
    p = data.add_parser("check", help="find every problem in a dataset tree; exit 1 on any")
    p.add_argument("root")
    p.add_argument("--dataset", choices=DATASETS, default="vspw")
    p.add_argument("--offsets", type=_offsets, default=REF_OFFSETS,
                   help=f"reference offsets, e.g. {','.join(map(str, REF_OFFSETS))}")
    p.add_argument("--splits", nargs="+", default=["train", "val"])
    p.add_argument("--num-classes", type=int, default=None)
    p.add_argument("--fast", action="store_true", help="listings and image headers only (seconds)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_data_check)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train one run at one seed (resumes by itself)")
    _run_args(p)
    p.add_argument("--init-from", help="fine-tune from this whole model (own model.pt or a released checkpoint) "
                                       "instead of ImageNet weights; part of the config hash")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_train)


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="evaluate a trained run, or score a folder of saved predictions")
    _run_args(p, required=False)
    p.add_argument("--weights", help="any supported checkpoint: the run's own model.pt (default), a released "
                                     "MRCFA/SegFormer mmseg file, or another run's model.pt")
    p.add_argument("--out", help="folder for metrics.json and samples/ (default: the run's seed folder; for "
                                 "--weights: results/<profile>/checkpoints/<file stem>/<run>)")
    p.add_argument("--save-preds", help="also write PNG predictions here: <video>/<frame stem>.png, labels 0..K-1")
    p.add_argument("--pred-dir", help="scoring mode (with --data-root): predictions <video>/<frame>.png")
    p.add_argument("--split", default="val")
    p.add_argument("--num-classes", type=int, default=124)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_evaluate)


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help=f"FPS ({' and '.join(PROTOCOLS)} protocols), memory, params, FLOPs")
    _run_args(p, required=False)
    p.add_argument("--model", choices=ARCHS, default="mrcfa")
    p.add_argument("--backbone", choices=BACKBONES, default="b1")
    p.add_argument("--weights", help="time this checkpoint's model (default: random weights, as the released "
                                     "benchmark); with --run the results are printed, not filed")
    p.add_argument("--num-classes", type=int, default=124)
    p.add_argument("--keep-ratio", type=float, default=None)
    p.add_argument("--size", type=_input_size, default=None, help="HxW (default: the profile's, or 480x864)")
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--protocol", action="append", choices=PROTOCOLS)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)


def _add_bench_table(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-table", help="time a table's rows together, interleaved, in several processes",
                       description="Time every row of a table that is run here (one timed call of the profile's "
                                   "first protocol per row and round, the order rotating) in the fresh processes, "
                                   "rounds and warm-up rounds of the profile's `table_bench:`, and write "
                                   "results/<profile>/bench/<table>.json: what the FPS claims are decided from.")
    p.add_argument("--profile", required=True, help=f"scale: {_profiles()} (experiments/profiles/)")
    p.add_argument("--table", required=True, help="table of experiments/registry.yaml, e.g. table2")
    p.add_argument("--registry", default=None, help="registry file (default: experiments/registry.yaml)")
    p.add_argument("--results", default="results", help="root of the declared outputs")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--one-process", action="store_true",
                   help="time the rows once, in this process only, print the JSON and file nothing (what "
                        "each of the job's processes runs)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench_table)


def _add_track(sub: argparse._SubParsersAction) -> None:
    track = sub.add_parser("track", help="MLflow tools").add_subparsers(dest="action", required=True)
    p = track.add_parser("sync", help="re-log results files into MLflow (after an outage)")
    p.add_argument("--profile", default="demo")
    p.add_argument("--results", default="results")
    p.set_defaults(func=cmd_track_sync)


def _add_config(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("config", help="print the resolved config of a run (and its hash)")
    _run_args(p)
    p.set_defaults(func=cmd_config)


COMMANDS = (_add_params, _add_weights, _add_synth, _add_data, _add_train, _add_evaluate, _add_bench,
            _add_bench_table, _add_track, _add_config)  # in the order `--help` lists them


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mrcfa", description="Reproduce and ablate MRCFA (video semantic segmentation, ECCV 2022).",
        epilog="Tables are built by the pipeline: `snakemake table2 --cores 4` or `dvc repro`.")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback of an error (also: environment variable MRCFA_DEBUG=1)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


# Files that are not where the user said, or not what they should be; other system errors keep their traceback.
FILE_ERRORS = (FileNotFoundError, FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def _message(e: Exception) -> str:
    """The one line that tells a mistake."""
    from mrcfa.config import ConfigError

    if isinstance(e, OSError) and e.filename:  # the system's own: "[Errno 13] Permission denied: 'x'"
        return f"{e.filename}: {e.strerror}"
    return f"config: {e}" if isinstance(e, ConfigError) else str(e)


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as e:  # --help, or a mistake argparse found (already printed)
        return int(e.code or 0)
    try:
        return int(args.func(args) or 0)
    except (UserError, *FILE_ERRORS) as e:  # a wrong name, value or file: one line, no traceback
        if args.debug or os.environ.get("MRCFA_DEBUG", "") not in ("", "0"):
            raise
        for line in getattr(e, "details", ()):  # e.g. every problem preflight found; the verdict comes last
            print(line, file=sys.stderr)
        print(f"error: {_message(e)}", file=sys.stderr)
        report = getattr(e, "report", None)  # a checkpoint that does not fit: every key under --json
        if report is not None and getattr(args, "json", False):
            print(json.dumps(report.to_dict(), indent=2))
        return 2


if __name__ == "__main__":
    sys.exit(main())
