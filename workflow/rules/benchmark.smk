# Benchmark: FPS (cached and clip protocols), memory, parameters, FLOPs; one job per run (seed-free), and one
# per table whose claims compare FPS (its rows timed together, interleaved, in the profile's `table_bench:`
# number of fresh processes one after another; the FPS claims are decided from it).
# Timing needs an otherwise idle machine: the job claims every core Snakemake was given, so nothing runs
# beside it, while torch uses only the profile's bench threads (on a cluster: as many CPUs as those).


rule benchmark:
    output:
        path(layout.BENCH),
    log:
        path(layout.log("bench/{run}")),
    threads: bench_threads("benchmark")
    resources:
        gpu=resource("benchmark", "gpu"),
        mem_mb=resource("benchmark", "mem_mb"),
        runtime=runtime("benchmark"),
    params:
        cmd=command("benchmark", share_threads=False),
        threads=lambda wc: job("benchmark", wc).threads,
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- {params.cmd} > {log} 2>&1"


rule bench_table:
    output:
        path(layout.TABLE_BENCH),
    log:
        path(layout.log("bench_table/{table}")),
    wildcard_constraints:
        table="|".join(REGISTRY.bench_tables()) or "^$",
    threads: bench_threads("bench_table")
    resources:
        gpu=resource("bench_table", "gpu"),
        mem_mb=resource("bench_table", "mem_mb"),
        runtime=runtime("bench_table"),
    params:
        cmd=command("bench_table", share_threads=False),
        threads=lambda wc: job("bench_table", wc).threads,
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- {params.cmd} > {log} 2>&1"
