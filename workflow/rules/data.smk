# Data: the synthetic benchmark is generated (demo, smoke); real datasets are checked (paper).


rule synth:
    output:
        layout.SYNTH_SUMMARY,
    log:
        path(layout.log("synth_{dataset}")),
    threads: 1
    shell:
        "{MRCFA} synth --profile {wildcards.profile} --dataset {wildcards.dataset} --json > {log} 2>&1"


rule data_check:
    output:
        path(layout.DATA_CHECK),
    params:
        root=lambda wc: REGISTRY.profile(wc.profile)["datasets"][wc.dataset]["root"],
    log:
        path(layout.log("data_check_{dataset}")),
    threads: 1
    shell:
        "{MRCFA} data check {params.root:q} --dataset {wildcards.dataset} --fast --json > {output} 2> {log}"


rule weights_check:
    """SegFormer's ImageNet MiT weights load completely (a partial load is refused, never silent).
    The file is not a declared input, so a dry run lists the whole pipeline before the weights are there;
    the check itself fails with a message saying where to put them."""
    output:
        path(layout.WEIGHTS_CHECK),
    log:
        path(layout.log("weights_check_{backbone}")),
    params:
        path="weights/mit_{backbone}.pth",
    threads: 1
    shell:
        "{MRCFA} weights check --arch mit_{wildcards.backbone} {params.path:q} --json > {output} 2> {log}"
