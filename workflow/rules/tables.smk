# Tables, figures and the reproduction report, built by `analysis` from the results files (no torch).
# Each file has one owner: the report only reads the tables and figures the rules before it wrote.


def table_runs_everywhere():
    """Every run a table or figure reads, once."""
    return list(dict.fromkeys(r for t in [*REGISTRY.tables, *REGISTRY.figures] for r in REGISTRY.table_runs(t)))


rule table:
    input:
        lambda wc: REGISTRY.table_inputs(wc.table, wc.profile) + (released_metrics(wc.profile) if wc.table == "table5" else []),
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
        lambda wc: REGISTRY.table_inputs(PLOT_TABLES[wc.plot], wc.profile),
    output:
        report("results/{profile}/figures/{plot}.png", caption="../report/table_plot.rst", category="Figures"),
        "results/{profile}/figures/{plot}.pdf",
    wildcard_constraints:
        plot="|".join(PLOT_TABLES),
    params:
        table=lambda wc: PLOT_TABLES[wc.plot],
    log:
        "results/{profile}/logs/figures/{plot}.log",
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only {params.table} --jobs 1 > {log} 2>&1"


rule training_curves:
    """Every trained run's loss curve, one panel per run (the report shows it)."""
    input:
        lambda wc: [f"{run_dir(wc.profile, r, s)}/history.csv" for r in table_runs_everywhere()
                    for s in REGISTRY.seeds(wc.profile)],
    output:
        report("results/{profile}/figures/training_curves.png", caption="../report/training.rst", category="Figures"),
        "results/{profile}/figures/training_curves.pdf",
    log:
        "results/{profile}/logs/figures/training_curves.log",
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only training --jobs 1 > {log} 2>&1"


rule claims:
    """Every claim of the registry decided on the profile's results: effect, 95 % interval, verdict."""
    input:
        lambda wc: REGISTRY.claims_inputs(wc.profile),
    output:
        report("results/{profile}/claims.md", caption="../report/claims.rst", category="Claims",
               labels={"table": "all", "file": "claims"}),
        "results/{profile}/claims.csv",
    log:
        "results/{profile}/logs/claims.log",
    threads: 1
    shell:
        "{ANALYSIS} claims --profile {wildcards.profile} > {log} 2>&1"


rule draw_figure3:
    """Predicted frames of the figure's runs (their first seed's samples) beside the input and the ground truth."""
    input:
        lambda wc: [f"{run_dir(wc.profile, r, REGISTRY.seeds(wc.profile)[0])}/samples"
                    for r in REGISTRY.table_runs("figure3")],
    output:
        report("results/{profile}/figures/figure3.png", caption="../report/figure3.rst", category="Figures"),
        "results/{profile}/figures/figure3.pdf",
    log:
        "results/{profile}/logs/figures/figure3.log",
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only figure3 --jobs 1 > {log} 2>&1"


rule report:
    """The self-contained reproduction report; it embeds the figures above and rewrites none of their files."""
    input:
        lambda wc: [f for t in TABLES for f in table_outputs(wc.profile, t) + table_plot_outputs(wc.profile, t)],
        lambda wc: figure_outputs(wc.profile),
        "results/{profile}/figures/training_curves.png",
        "results/{profile}/claims.csv",
    output:
        html="results/{profile}/report.html",
        md="results/{profile}/report.md",
    log:
        "results/{profile}/logs/report.log",
    threads: 1
    shell:
        "{ANALYSIS} report --profile {wildcards.profile} --no-rebuild > {log} 2>&1"
