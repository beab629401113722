# The authors' trained checkpoints (registry: `released`), evaluated here on the profile's VSPW val with the
# runs they were trained as, and shown beside "paper" and "reproduced" in Table 5.
#
#   snakemake released --config profile=paper


# The files are VSPW models: they are evaluated on real-data profiles only.
RELEASED_APPLIES = PROFILE_SPEC["datasets"].get("vspw", {}).get("source") != "synth"


def released_present():
    """Runs whose released checkpoint is on disk."""
    return [run for run, path in REGISTRY.released.items() if RELEASED_APPLIES and os.path.isfile(path)]


def released_note():
    if not RELEASED_APPLIES:
        return f"released checkpoints are VSPW models: evaluate them with --config profile=paper, not {PROFILE}"
    missing = [f"{path} (MRCFA {run})" for run, path in REGISTRY.released.items() if not os.path.isfile(path)]
    if not missing:
        return "every released checkpoint is present"
    return ("not found, so left out: " + ", ".join(missing) + ". Download the authors' trained weights "
            "(README: 'Evaluating the released checkpoints') and save each file under that name.")


def released_metrics(profile):
    return [f"results/{profile}/released/{run}/metrics.json" for run in released_present()]


rule evaluate_released:
    input:
        lambda wc: REGISTRY.released[wc.run],
    output:
        metrics="results/{profile}/released/{run}/metrics.json",
    log:
        "results/{profile}/logs/released/{run}.log",
    threads: res("evaluate", "threads", 1)
    resources:
        gpu=res("evaluate", "gpu", 0),
        mem_mb=res("evaluate", "mem_mb", 4000),
        runtime=lambda wc, attempt: res("evaluate", "runtime", 30) * attempt,
    shell:
        "OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} evaluate --profile {wildcards.profile} --run {wildcards.run} --weights {input:q} "
        "--out results/{wildcards.profile}/released/{wildcards.run} --threads {threads} --json > {log} 2>&1"


rule released_table:
    """Table 5 with the released checkpoints' column group, whatever else has been trained yet."""
    input:
        released_metrics(PROFILE),
    output:
        [f"results/{PROFILE}/released/table5{part}.{ext}" for part in ("", "_vs_paper") for ext in ("tex", "md", "csv")],
        [f"results/{PROFILE}/released/table5_claims.{ext}" for ext in ("md", "csv")],
    message:
        released_note()
    log:
        f"results/{PROFILE}/logs/released/table5.log",
    shell:
        "{ANALYSIS} tables --profile {PROFILE} --only table5 --out results/{PROFILE}/released > {log} 2>&1"


rule released:
    input:
        rules.released_table.output,
