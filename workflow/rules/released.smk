# The authors' trained checkpoints (registry: `released`), evaluated here on the profile's VSPW val with the
# runs they were trained as, and shown beside "paper" and "reproduced" in Table 5.
#
#   snakemake released --config profile=paper


def released_applies(profile):
    """The files are VSPW models: they are evaluated on real-data profiles only."""
    return REGISTRY.profile(profile)["datasets"].get("vspw", {}).get("source") != "synth"


def released_present(profile):
    """Runs whose released checkpoint is on disk."""
    return [run for run, path in REGISTRY.released.items() if released_applies(profile) and os.path.isfile(path)]


def released_note(profile):
    if not released_applies(profile):
        return f"released checkpoints are VSPW models: evaluate them with --config profile=paper, not {profile}"
    missing = [f"{path} (MRCFA {run})" for run, path in REGISTRY.released.items() if not os.path.isfile(path)]
    if not missing:
        return "every released checkpoint is present"
    return ("not found, so left out: " + ", ".join(missing) + ". Download the authors' trained weights "
            "(README: 'Evaluating the released checkpoints') and save each file under that name.")


def released_metrics(profile):
    return [f"results/{profile}/released/{run}/metrics.json" for run in released_present(profile)]


def released_table_outputs(profile):
    base = f"results/{profile}/released/table5"
    return ([f"{base}{part}.{ext}" for part in ("", "_vs_paper") for ext in ("tex", "md", "csv")]
            + [f"{base}_claims.{ext}" for ext in ("md", "csv")])


rule evaluate_released:
    input:
        lambda wc: REGISTRY.released[wc.run],
    output:
        metrics="results/{profile}/released/{run}/metrics.json",
        samples=directory("results/{profile}/released/{run}/samples"),
    log:
        "results/{profile}/logs/released/{run}.log",
    threads: res("evaluate", "threads", 1)
    resources:
        gpu=res("evaluate", "gpu", 0),
        mem_mb=res("evaluate", "mem_mb", 4000),
        runtime=runtime("evaluate", 30),
    shell:
        "mkdir -p {output.samples:q} && OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} evaluate --profile {wildcards.profile} --run {wildcards.run} --weights {input:q} "
        "--out results/{wildcards.profile}/released/{wildcards.run} --threads {threads} --json > {log} 2>&1"


rule released_table:
    """Table 5 with the released checkpoints' column group, whatever else has been trained yet."""
    input:
        lambda wc: released_metrics(wc.profile),
    output:
        released_table_outputs("{profile}"),
    params:
        note=lambda wc: released_note(wc.profile),
    message:
        "{params.note}"
    log:
        "results/{profile}/logs/released/table5.log",
    shell:
        "{ANALYSIS} tables --profile {wildcards.profile} --only table5 --out results/{wildcards.profile}/released "
        "> {log} 2>&1"


rule released:
    input:
        released_table_outputs(PROFILE),
