# Every table of the MRCFA paper as declared jobs.
#
#   snakemake table2 --cores 4                       one table on the demo profile (CPU, minutes)
#   snakemake all --config profile=paper -n          every job of the paper-scale reproduction
#   snakemake table2 --cores 4 --config 'seeds=[0,1,2,3,4]'   more seeds: only theirs are trained and evaluated
#   snakemake all --profile workflow/profiles/slurm --config profile=paper
#   snakemake released --config profile=paper       the authors' trained checkpoints, evaluated here
#   snakemake results/smoke/tables/table2.md        any file by name: built with the profile in its path
#
# The runs, the tables and the profiles are declared in experiments/; this file only wires them.

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
        [table_outputs(PROFILE, t) + table_plot_outputs(PROFILE, t) for t in TABLES],
        figure_outputs(PROFILE),
        path(layout.CLAIMS + ".csv", profile=PROFILE),
        path(layout.REPORT + ".html", profile=PROFILE),


rule figure3:
    input:
        figure_outputs(PROFILE),


for _table in TABLES:

    rule:
        name:
            _table
        input:
            table_outputs(PROFILE, _table),
            table_plot_outputs(PROFILE, _table),
