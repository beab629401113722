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
            "(docs/data.md, 'Released checkpoints') and save each file under that name.")


def released_metrics(profile):
    return [path(layout.RELEASED_RUN + "/" + layout.METRICS_FILE, profile=profile, run=run)
            for run in released_present(profile)]


def released_table_outputs(profile):
    return [path(f"{layout.RELEASED}/table5{suffix}", profile=profile) for suffix in layout.TABLE_SUFFIXES]


rule evaluate_released:
    input:
        lambda wc: REGISTRY.released[wc.run],
    output:
        metrics=path(layout.RELEASED_RUN + "/" + layout.METRICS_FILE),
        samples=directory(path(layout.RELEASED_RUN + "/" + layout.SAMPLES_DIR)),
    log:
        path(layout.log("released/{run}")),
    threads: res("evaluate", "threads", 1)
    resources:
        gpu=res("evaluate", "gpu", 0),
        mem_mb=res("evaluate", "mem_mb", 4000),
        runtime=runtime("evaluate", 30),
    params:
        out=path(layout.RELEASED_RUN),
    shell:
        "mkdir -p {output.samples:q} && OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} evaluate --profile {wildcards.profile} --run {wildcards.run} --weights {input:q} "
        "--out {params.out:q} --threads {threads} --json > {log} 2>&1"


rule released_table:
    """Table 5 with the released checkpoints' column group, whatever else has been trained yet."""
    input:
        lambda wc: released_metrics(wc.profile),
    output:
        released_table_outputs("{profile}"),
    params:
        note=lambda wc: released_note(wc.profile),
        out=path(layout.RELEASED),
    message:
        "{params.note}"
    log:
        path(layout.log("released/table5")),
    shell:
        "{ANALYSIS} tables --profile {wildcards.profile} --only table5 --out {params.out:q} > {log} 2>&1"


rule released:
    input:
        released_table_outputs(PROFILE),
