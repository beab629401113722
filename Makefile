# Two commands on a fresh machine:  `make table2`  and  `make test`.
# The virtual environment is created on first use from the pinned requirements and constraints.

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CORES ?= 4
PROFILE ?= demo

export HF_HUB_OFFLINE := 1
export DVC_NO_ANALYTICS := 1
export MLFLOW_DISABLE_TELEMETRY := true

.PHONY: venv table2 all test bench gpu-check dvc clean-results help

help:
	@echo "make table2   reproduce Table 2 on the $(PROFILE) profile (snakemake table2 --cores $(CORES))"
	@echo "make all      every table, figure and the report (snakemake all)"
	@echo "make test     run the test suite"
	@echo "make bench    model speed/memory ratios on this machine (480x864, batch 1)"
	@echo "make gpu-check  on a CUDA machine: 50 paper-profile iterations + GPU benchmarks, one JSON (<10 min)"
	@echo "make dvc      write dvc.yaml and params.yaml from the plan of jobs (PROFILE=$(PROFILE))"

$(STAMP): requirements.txt constraints.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt -c constraints.txt
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

venv: $(STAMP)

table2: $(STAMP)
	$(VENV)/bin/snakemake table2 --profile workflow/profiles/local --cores $(CORES) --config profile=$(PROFILE)
	@echo
	@cat results/$(PROFILE)/tables/table2_claims.md
	@echo "Plot: results/$(PROFILE)/figures/table2_tradeoff.png"

all: $(STAMP)
	$(VENV)/bin/snakemake all --profile workflow/profiles/local --cores $(CORES) --config profile=$(PROFILE)

test: $(STAMP)
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) scripts/bench.py
	$(PY) scripts/bench_affinity.py
	$(PY) scripts/bench_data.py

gpu-check: $(STAMP)
	PY=$(PY) scripts/gpu_check.sh

dvc: $(STAMP)
	$(PY) workflow/scripts/generate_dvc.py --profile $(PROFILE)

clean-results:
	rm -rf results/$(PROFILE) work/$(PROFILE)
