#!/usr/bin/env bash
# `make gpu-check`: what a CUDA machine does with the paper's settings, in under 10 minutes, as one JSON.
#
#  1. writes a small VSPW-layout set at VSPW_480p's frame size (480×853) and random ImageNet-layout MiT-B1
#     weights (SegFormer's key layout) to a temporary folder; points a profile derived from the paper's at them;
#  2. trains the paper profile's MRCFA-B1 for 50 iterations with its AMP setting (`torchrun` over the
#     visible GPUs when there are several), then times single training steps (peak memory);
#  3. runs `mrcfa bench` for SegFormer-B1 and MRCFA-B1 at p = 1.0 and 0.5, both protocols, 480×864;
#  4. writes device name, versions, FPS, peak memory and step times to $GPU_CHECK_JSON
#     (default results/gpu_check/gpu_check.json) and prints a summary.
#
# Without CUDA it prints one line and exits 0. `--dry-run` runs every step on the CPU at toy sizes
# (1 iteration, batch 1, 96×128 benchmarks): it checks the plumbing, not the speed.
# A failed step is recorded in the JSON and the others still run; the exit status is then 1.

set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DRY=0
[[ "${1:-}" == "--dry-run" ]] && DRY=1
if [[ $DRY == 0 ]] && ! "$PY" -c "import sys, torch; sys.exit(not torch.cuda.is_available())" 2>/dev/null; then
    echo "gpu-check: no CUDA device visible to torch here; nothing to measure (exit 0)"
    exit 0
fi

BUDGET_S=${BUDGET_S:-540}  # every step runs under `timeout` with what is left of this
JSON=${GPU_CHECK_JSON:-results/gpu_check/gpu_check.json}
TMP=$(mktemp -d -t mrcfa-gpu-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$TMP/parts"
export HF_HUB_OFFLINE=1 DVC_NO_ANALYTICS=1 MLFLOW_DISABLE_TELEMETRY=true PYTHONUNBUFFERED=1

if [[ $DRY == 1 ]]; then
    ITERS=1 BATCH=1 STEPS=1 WARM=0 SIZE=96x128 BENCH_ITERS=1 BENCH_WARMUP=0 GPUS=0
else
    ITERS=50 BATCH=8 STEPS=10 WARM=3 SIZE=480x864 BENCH_ITERS=50 BENCH_WARMUP=10
    GPUS=$("$PY" -c "import torch; print(torch.cuda.device_count())")
fi
# The paper's global batch of 8 clips must split evenly over the processes.
NPROC=1
for n in 8 4 2; do if (( GPUS >= n )); then NPROC=$n; break; fi; done

FAILED=()
step() {  # step NAME CMD...: run CMD with the time left, stdout to parts/NAME.out; record a failure
    local name=$1 left=$((BUDGET_S - SECONDS))
    shift
    echo "gpu-check: $name ($left s left)"
    if (( left <= 0 )) || ! timeout "$left" "$@" > "$TMP/parts/$name.out" 2> "$TMP/parts/$name.err"; then
        FAILED+=("$name")
        echo "gpu-check: $name FAILED; last lines of its stderr:" >&2
        tail -n 20 "$TMP/parts/$name.err" >&2
        return 1
    fi
}

DATA=$TMP/data/VSPW_480p
REG=$TMP/experiments/registry.yaml
RUN=(--registry "$REG" --profile gpu_check --run mrcfa_b1)

step synth "$PY" -m mrcfa synth --out "$DATA" --size 480x853 --train-videos 4 --val-videos 1 --frames 12 \
    --classes 124 --seed 0 --json
step weights "$PY" - "$TMP/weights/mit_b1.pth" <<'EOF'
import json, sys
from pathlib import Path
import torch

# SegFormer's ImageNet key layout, as recorded from the released mit_b1.pth.
spec = json.loads(Path("tests/fixtures/official-keys/mit_b1.json").read_text())["keys"]
gen = torch.Generator().manual_seed(0)
state = {k: (torch.ones(s) if "norm" in k and k.endswith("weight") else
             torch.zeros(s) if k.endswith("bias") else torch.randn(s, generator=gen) * 0.02)
         for k, s in spec.items()}
Path(sys.argv[1]).parent.mkdir(parents=True, exist_ok=True)
torch.save(state, sys.argv[1])
EOF
step weights_check "$PY" -m mrcfa weights check --arch mit_b1 --json "$TMP/weights/mit_b1.pth"
step profile "$PY" - "$TMP" "$ITERS" "$BATCH" <<'EOF'
import shutil, sys
from pathlib import Path
import yaml

tmp, iters, batch = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
shutil.copytree("experiments", tmp / "experiments", ignore=shutil.ignore_patterns("__pycache__"))
# The paper profile pointed at the data and weights written above, trained for a few iterations.
derived = {"extends": "paper", "datasets": {"vspw": {"root": str(tmp / "data/VSPW_480p")}},
           "model": {"pretrained": str(tmp / "weights/mit_{backbone}.pth")},
           "train": {"iters": iters, "warmup_iters": iters // 5, "batch_size": batch, "log_every": 10,
                     "checkpoint_every": 10_000}}
(tmp / "experiments/profiles/gpu_check.yaml").write_text(yaml.safe_dump(derived, sort_keys=False))
EOF
step config "$PY" -m mrcfa config "${RUN[@]}"

TRAIN=(train "${RUN[@]}" --results "$TMP/results" --work "$TMP/work" --no-track --json)
if (( NPROC > 1 )); then
    step train "$(dirname "$PY")/torchrun" --standalone --nproc_per_node "$NPROC" -m mrcfa -- "${TRAIN[@]}"
else
    step train "$PY" -m mrcfa "${TRAIN[@]}"
fi
cp "$TMP/results/gpu_check/runs/mrcfa_b1/seed0/train.json" "$TMP/parts/train.json" 2>/dev/null

step train_step "$PY" - "$REG" "$STEPS" "$WARM" <<'EOF'
import json, statistics, sys
import torch
from mrcfa.experiments.registry import load_registry
from mrcfa.engine.bench import interleaved, train_step

reg, steps, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cfg = load_registry(reg).resolve("gpu_check", "mrcfa_b1")
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
times = interleaved({"step": train_step(cfg, device)}, steps, warm, device)["step"]
peak = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
print(json.dumps({"batch": cfg.train.batch_size, "crop": list(cfg.data.crop),
                  "amp": cfg.train.amp and device.type == "cuda",
                  "seconds": times, "median_seconds": statistics.median(times), "peak_memory_mb": peak}))
EOF

BENCH=(-m mrcfa bench --backbone b1 --size "$SIZE" --iters "$BENCH_ITERS" --warmup "$BENCH_WARMUP"
       --protocol cached --protocol clip --json)
step bench_segformer "$PY" "${BENCH[@]}" --model segformer
step bench_mrcfa_p100 "$PY" "${BENCH[@]}" --keep-ratio 1.0
step bench_mrcfa_p50 "$PY" "${BENCH[@]}" --keep-ratio 0.5

mkdir -p "$(dirname "$JSON")"
"$PY" - "$TMP/parts" "$JSON" "$NPROC" "$SECONDS" "$DRY" "${FAILED[@]}" <<'EOF'
import json, platform, sys
from pathlib import Path
import torch

parts, out, nproc, seconds, dry, failed = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), \
    sys.argv[5] == "1", sys.argv[6:]


def part(name, suffix=".out"):
    try:
        return json.loads((parts / f"{name}{suffix}").read_text())
    except (OSError, ValueError):
        return None


def nccl():
    try:
        return str(torch.cuda.nccl.version())
    except Exception:  # a build without NCCL
        return None


cuda = torch.cuda.is_available()
train = part("train", ".json")
report = {
    "dry_run": dry,
    "devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
    "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version(),
                 "cudnn": torch.backends.cudnn.version() if cuda else None,
                 "nccl": nccl() if cuda else None},
    "train": train and {"processes": nproc, "iters": train["iters"], "seconds": train["seconds"],
                        "seconds_per_iter": train["seconds"] / train["iters"], "final_loss": train["final_loss"]},
    "train_step": part("train_step"),
    "bench": {name: part(f"bench_{name}") for name in ("segformer", "mrcfa_p100", "mrcfa_p50")},
    "failed_steps": failed,
    "wall_seconds": seconds,
}
Path(out).write_text(json.dumps(report, indent=2) + "\n")
print(f"gpu-check: wrote {out}")
for name, b in report["bench"].items():
    if b:
        print(f"  {name:<12} " + "  ".join(f"{p}: {b[f'fps_{p}']:.1f} FPS, {b[f'memory_mb_{p}']:.0f} MB"
                                          for p in ("cached", "clip")))
if train:
    print(f"  train: {report['train']['seconds_per_iter']:.3f} s/iter over {train['iters']} iterations, "
          f"{nproc} process(es)")
step = report["train_step"]
if step:
    mem = f", peak {step['peak_memory_mb']:.0f} MB" if step["peak_memory_mb"] else ""
    print(f"  train step (batch {step['batch']}, AMP {step['amp']}): {step['median_seconds']:.3f} s{mem}")
if failed:
    print(f"  FAILED: {', '.join(failed)}")
EOF
(( ${#FAILED[@]} == 0 ))
