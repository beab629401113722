# Evaluation: streaming inference over every val frame, the official metrics (mIoU, WIoU, mVC8, mVC16),
# and a few predicted frames under samples/ (Fig. 3 reads them).


rule evaluate:
    input:
        model=path(layout.MODEL),
    output:
        metrics=path(layout.METRICS),
        samples=directory(path(layout.SAMPLES)),
    log:
        path(layout.log("evaluate/" + layout.JOB)),
    threads: res("evaluate", "threads", 1)
    resources:
        gpu=res("evaluate", "gpu", 0),
        mem_mb=res("evaluate", "mem_mb", 4000),
        runtime=runtime("evaluate", 30),
    # The Cityscapes layout saves no samples: its folder then stays empty.
    shell:
        "mkdir -p {output.samples:q} && OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} evaluate --profile {wildcards.profile} --run {wildcards.run} --seed {wildcards.seed} "
        "--threads {threads} --json > {log} 2>&1"
