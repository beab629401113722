# Evaluation: streaming inference over every val frame, the official metrics (mIoU, WIoU, mVC8, mVC16).


rule evaluate:
    input:
        model="results/{profile}/runs/{run}/seed{seed}/model.pt",
    output:
        metrics="results/{profile}/runs/{run}/seed{seed}/metrics.json",
    log:
        "results/{profile}/logs/evaluate/{run}-seed{seed}.log",
    threads: res("evaluate", "threads", 1)
    resources:
        gpu=res("evaluate", "gpu", 0),
        mem_mb=res("evaluate", "mem_mb", 4000),
        runtime=lambda wc, attempt: res("evaluate", "runtime", 30) * attempt,
    shell:
        "OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} evaluate --profile {wildcards.profile} --run {wildcards.run} --seed {wildcards.seed} "
        "--threads {threads} --json > {log} 2>&1"
