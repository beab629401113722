# Training: one job per (run, seed). Resumable state lives under work/, outside the declared outputs,
# so a killed or timed-out job continues where it stopped when Snakemake (or SLURM) retries it.
# `resources.train.procs: N` in a profile makes each job N processes under torchrun on one node (DDP).


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
    threads: train_total("threads", 1)
    params:
        threads=train_process_threads,
        launch=train_launcher,
    resources:
        gpu=train_total("gpu", 0),
        mem_mb=train_total("mem_mb", 4000),
        runtime=runtime("train", 60),
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- "
        "{params.launch} train --profile {wildcards.profile} --run {wildcards.run} --seed {wildcards.seed} "
        "--threads {params.threads} --json > {log} 2>&1"
