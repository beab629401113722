# Benchmark: FPS (cached and clip protocols), memory, parameters, FLOPs; one job per run (seed-free).


rule benchmark:
    output:
        "results/{profile}/runs/{run}/bench.json",
    log:
        "results/{profile}/logs/bench/{run}.log",
    threads: res("bench", "threads", 1)
    resources:
        gpu=res("bench", "gpu", 0),
        mem_mb=res("bench", "mem_mb", 4000),
        runtime=lambda wc, attempt: res("bench", "runtime", 15) * attempt,
    shell:
        "OMP_NUM_THREADS={threads} {GPU} {resources.gpu} -- "
        "{MRCFA} bench --profile {wildcards.profile} --run {wildcards.run} --threads {threads} --json > {log} 2>&1"
