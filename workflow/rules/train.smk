# Training: one job per (run, seed). Resumable state lives under work/, outside the declared outputs,
# so a killed or timed-out job continues where it stopped when Snakemake (or SLURM) retries it.


rule train:
    input:
        data=lambda wc: dataset_marker(wc.profile, run_dataset(wc.run)),
        weights=lambda wc: weights_marker(wc.profile, wc.run),
    output:
        model=path(layout.MODEL),
        history=path(layout.HISTORY),
        summary=path(layout.TRAIN_JSON),
    log:
        path(layout.log("train/" + layout.JOB)),
    threads: res("train", "threads", 1)
    resources:
        gpu=res("train", "gpu", 0),
        mem_mb=res("train", "mem_mb", 4000),
        runtime=runtime("train", 60),
    shell:
        "OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} train --profile {wildcards.profile} --run {wildcards.run} --seed {wildcards.seed} "
        "--threads {threads} --json > {log} 2>&1"
