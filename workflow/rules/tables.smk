# Tables, figures and the reproduction report, built by `analysis` from the results files (no torch).


rule table:
    input:
        lambda wc: table_inputs(wc.table) + (released_metrics(wc.profile) if wc.table == "table5" else []),
    output:
        report(f"results/{{profile}}/tables/{{table}}.md", caption="../report/table.rst", category="Tables",
               labels={"table": "{table}", "file": "ours"}),
        "results/{profile}/tables/{table}.tex",
        "results/{profile}/tables/{table}.csv",
        report(f"results/{{profile}}/tables/{{table}}_vs_paper.md", caption="../report/vs_paper.rst",
               category="Tables", labels={"table": "{table}", "file": "versus the paper"}),
        "results/{profile}/tables/{table}_vs_paper.csv",
        "results/{profile}/tables/{table}_vs_paper.tex",
        report(f"results/{{profile}}/tables/{{table}}_claims.md", caption="../report/claims.rst",
               category="Claims", labels={"table": "{table}", "file": "claims"}),
        "results/{profile}/tables/{table}_claims.csv",
    wildcard_constraints:
        table="table[1-6]",
    log:
        "results/{profile}/logs/tables/{table}.log",
    threads: 1
    shell:
        "{ANALYSIS} tables --profile {wildcards.profile} --only {wildcards.table} > {log} 2>&1"


rule table_plot:
    """Table 1's and Table 3's trends and Table 2's accuracy / speed / memory trade-off, ours beside the paper's."""
    input:
        lambda wc: table_inputs(wc.table),
    output:
        report("results/{profile}/figures/{table}_{plot}.png", caption="../report/table_plot.rst", category="Figures",
               labels={"table": "{table}", "file": "{plot}"}),
        "results/{profile}/figures/{table}_{plot}.pdf",
    wildcard_constraints:
        table="table[1-3]",
        plot="trend|tradeoff",
    log:
        "results/{profile}/logs/figures/{table}_{plot}.log",
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only {wildcards.table} --jobs 1 > {log} 2>&1"


rule claims:
    """Every claim of the registry decided on the profile's results: effect, 95 % interval, verdict."""
    input:
        REGISTRY.claims_inputs(PROFILE),
    output:
        report(f"results/{PROFILE}/claims.md", caption="../report/claims.rst", category="Claims",
               labels={"table": "all", "file": "claims"}),
        f"results/{PROFILE}/claims.csv",
    log:
        f"results/{PROFILE}/logs/claims.log",
    threads: 1
    shell:
        "{ANALYSIS} claims --profile {PROFILE} > {log} 2>&1"


rule figure3:
    input:
        [f"{run_dir(r, SEEDS[0])}/metrics.json" for r in REGISTRY.table_runs("figure3")],
    output:
        report(f"results/{PROFILE}/figures/figure3.png", caption="../report/figure3.rst", category="Figures"),
    log:
        f"results/{PROFILE}/logs/figures/figure3.log",
    shell:
        "{ANALYSIS} plots --profile {PROFILE} --only figure3 > {log} 2>&1"


rule report:
    input:
        [table_outputs(t) + table_plot_outputs(t) for t in TABLES],
        figure_outputs(),
        f"results/{PROFILE}/claims.csv",
    output:
        html=f"results/{PROFILE}/report.html",
        md=f"results/{PROFILE}/report.md",
    log:
        f"results/{PROFILE}/logs/report.log",
    shell:
        "{ANALYSIS} plots --profile {PROFILE} > {log} 2>&1 && {ANALYSIS} report --profile {PROFILE} >> {log} 2>&1"
