# Benchmark: FPS (cached and clip protocols), memory, parameters, FLOPs; one job per run (seed-free), and one
# per table whose claims compare FPS.
# Timing needs an otherwise idle machine: the job claims every core Snakemake was given, so nothing runs
# beside it, while torch uses only the profile's bench threads (on a cluster: as many CPUs as those).


rule benchmark:
    output:
        path(layout.BENCH),
    log:
        path(layout.log("bench/{run}")),
    threads: bench_threads
    params:
        threads=res("bench", "threads", 1),
    resources:
        gpu=res("bench", "gpu", 0),
        mem_mb=res("bench", "mem_mb", 4000),
        runtime=runtime("bench", 15),
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- "
        "{MRCFA} bench --profile {wildcards.profile} --run {wildcards.run} --threads {params.threads} --json > {log} 2>&1"


# A table whose claims compare FPS: its rows timed together, interleaved, in the profile's `table_bench:`
# number of fresh processes one after another; the FPS claims are decided from it. Alone on the machine too.
rule bench_table:
    output:
        path(layout.TABLE_BENCH),
    log:
        path(layout.log("bench_table/{table}")),
    wildcard_constraints:
        table="|".join(REGISTRY.bench_tables()) or "^$",
    threads: bench_threads
    params:
        threads=res("bench", "threads", 1),
    resources:
        gpu=res("bench", "gpu", 0),
        mem_mb=res("bench", "mem_mb", 4000),
        runtime=runtime("bench", 15),
    shell:
        "OMP_NUM_THREADS={params.threads} {GPU} {resources.gpu} -- "
        "{MRCFA} bench-table --profile {wildcards.profile} --table {wildcards.table} --threads {params.threads} "
        "> {log} 2>&1"
