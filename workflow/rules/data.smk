# Data: the synthetic benchmark is generated (demo, smoke); real datasets are checked (paper).


rule synth:
    output:
        layout.SYNTH_SUMMARY,
    log:
        path(layout.log("synth_{dataset}")),
    params:
        cmd=command("synth"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule data_check:
    output:
        path(layout.DATA_CHECK),
    log:
        path(layout.log("data_check_{dataset}")),
    params:
        cmd=command("data_check"),
    shell:
        "{params.cmd} > {output} 2> {log}"


rule weights_check:
    """SegFormer's ImageNet MiT weights load completely (a partial load is refused, never silent).
    The file is not a declared input, so a dry run lists the whole pipeline before the weights are there;
    the check itself fails with a message saying where to put them."""
    output:
        path(layout.WEIGHTS_CHECK),
    log:
        path(layout.log("weights_check_{backbone}")),
    params:
        cmd=command("weights_check"),
    shell:
        "{params.cmd} > {output} 2> {log}"
