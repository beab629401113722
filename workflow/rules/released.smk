# The authors' trained checkpoints (registry: `released`), evaluated here on the profile's VSPW val with the
# runs they were trained as, and shown beside "paper" and "reproduced" in Table 5.
#
#   snakemake released --config profile=paper


def released_note(profile):
    p = plan(profile)
    if not p.released_applies():
        return f"released checkpoints are VSPW models: evaluate them with --config profile=paper, not {profile}"
    missing = [f"{ckpt} (MRCFA {run})" for run, ckpt in REGISTRY.released.items() if run not in p.released_present()]
    if not missing:
        return "every released checkpoint is present"
    return ("not found, so left out: " + ", ".join(missing) + ". Download the authors' trained weights "
            "(docs/data.md, 'Released checkpoints') and save each file under that name.")


rule evaluate_released:
    input:
        inputs("evaluate_released"),
    output:
        metrics=path(layout.RELEASED_RUN + "/" + layout.METRICS_FILE),
        samples=directory(path(layout.RELEASED_RUN + "/" + layout.SAMPLES_DIR)),
    log:
        path(layout.log("released/{run}")),
    threads: threads_of("evaluate_released")
    resources:
        gpu=resource("evaluate_released", "gpu"),
        mem_mb=resource("evaluate_released", "mem_mb"),
        runtime=runtime("evaluate_released"),
    params:
        cmd=command("evaluate_released"),
    shell:
        "mkdir -p {output.samples:q} && OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- {params.cmd} > {log} 2>&1"


rule released_table:
    """Table 5 with the released checkpoints' column group, whatever else has been trained yet."""
    input:
        inputs("released_table"),
    output:
        [path(f"{layout.RELEASED}/table5{suffix}") for suffix in layout.TABLE_SUFFIXES],
    params:
        note=lambda wc: released_note(wc.profile),
        cmd=command("released_table"),
    message:
        "{params.note}"
    log:
        path(layout.log("released/table5")),
    shell:
        "{params.cmd} > {log} 2>&1"


rule released:
    input:
        TARGETS["released"],
