"""No network at run time: the environment that tells the tools which would phone home (the Hugging Face Hub
through timm, DVC, MLflow) not to. Python code sets it from this one mapping; the Makefile and
scripts/gpu_check.sh export the same variables to the shell commands they run."""

from __future__ import annotations

import os

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "DVC_NO_ANALYTICS": "1", "MLFLOW_DISABLE_TELEMETRY": "true"}


def stay_offline() -> None:
    """Set `OFFLINE_ENV` in this process (and so in its subprocesses), leaving any value already set."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
