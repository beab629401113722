# Training: one job per (run, seed). Resumable state lives under work/, outside the declared outputs,
# so a killed or timed-out job continues where it stopped when Snakemake (or SLURM) retries it.
# `resources.train.procs: N` in a profile makes each job N processes under torchrun on one node (DDP).


rule train:
    input:
        inputs("train"),
    output:
        model=path(layout.MODEL),
        history=path(layout.HISTORY),
        summary=path(layout.TRAIN_JSON),
    log:
        path(layout.log("train/" + layout.JOB)),
    threads: threads_of("train")
    resources:
        gpu=resource("train", "gpu"),
        mem_mb=resource("train", "mem_mb"),
        runtime=runtime("train"),
    params:
        cmd=command("train"),
        threads=lambda wc, threads: max(1, threads // job("train", wc).resources.procs),
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- {params.cmd} > {log} 2>&1"
