# Evaluation: streaming inference over every val frame, the official metrics (mIoU, WIoU, mVC8, mVC16),
# and a few predicted frames under samples/ (Fig. 3 reads them).


rule evaluate:
    input:
        inputs("evaluate"),
    output:
        metrics=path(layout.METRICS),
        samples=directory(path(layout.SAMPLES)),
    log:
        path(layout.log("evaluate/" + layout.JOB)),
    threads: threads_of("evaluate")
    resources:
        gpu=resource("evaluate", "gpu"),
        mem_mb=resource("evaluate", "mem_mb"),
        runtime=runtime("evaluate"),
    params:
        cmd=command("evaluate"),
    # The Cityscapes layout saves no samples: its folder then stays empty.
    shell:
        "mkdir -p {output.samples:q} && OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- {params.cmd} > {log} 2>&1"
