# Every table of the MRCFA paper as declared jobs.
#
#   snakemake table2 --cores 4                       one table on the demo profile (CPU, minutes)
#   snakemake all --config profile=paper -n          every job of the paper-scale reproduction
#   snakemake table2 --cores 4 --config 'seeds=[0,1,2,3,4]'   more seeds: only theirs are trained and evaluated
#   snakemake all --profile workflow/profiles/slurm --config profile=paper
#   snakemake released --config profile=paper       the authors' trained checkpoints, evaluated here
#   snakemake results/smoke/tables/table2.md        any file by name: built with the profile in its path
#
# The runs, the tables and the profiles are declared in experiments/, and every job is planned from them by
# mrcfa/experiments/jobs.py (which dvc.yaml is generated from too); this file only wires the plan to rules.

from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "workflow/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/tables.smk"
include: "workflow/rules/released.smk"


rule all:
    default_target: True
    input:
        TARGETS["all"],


for _target in [*REGISTRY.tables, *REGISTRY.figures]:  # table1 ... table6 (each with its plot), figure3

    rule:
        name:
            _target
        input:
            TARGETS[_target],
