# Tables, figures and the reproduction report, built by `analysis` from the results files (no torch).
# Each file has one owner: the report only reads the tables and figures the rules before it wrote.


TABLE = path(layout.TABLES + "/{table}")  # + the suffixes of layout.TABLE_SUFFIXES
FIGURE = path(layout.FIGURES + "/{plot}")
TRAINING_CURVES = layout.figure_files(layout.PLOT_FILES["training"])


def table_runs_everywhere():
    """Every run a table or figure reads, once."""
    return list(dict.fromkeys(r for t in [*REGISTRY.tables, *REGISTRY.figures] for r in REGISTRY.table_runs(t)))


rule table:
    input:
        lambda wc: REGISTRY.table_inputs(wc.table, wc.profile, seeds_of(wc.profile))
        + (released_metrics(wc.profile) if wc.table == "table5" else []),
    output:
        report(TABLE + ".md", caption="../report/table.rst", category="Tables",
               labels={"table": "{table}", "file": "ours"}),
        TABLE + ".tex",
        TABLE + ".csv",
        report(TABLE + "_vs_paper.md", caption="../report/vs_paper.rst",
               category="Tables", labels={"table": "{table}", "file": "versus the paper"}),
        TABLE + "_vs_paper.csv",
        TABLE + "_vs_paper.tex",
        report(TABLE + "_claims.md", caption="../report/claims.rst",
               category="Claims", labels={"table": "{table}", "file": "claims"}),
        TABLE + "_claims.csv",
    wildcard_constraints:
        table="table[1-6]",
    log:
        path(layout.log("tables/{table}")),
    params:
        seeds=seeds_arg,
    threads: 1
    shell:
        "{ANALYSIS} tables --profile {wildcards.profile} --only {wildcards.table} --seeds {params.seeds} > {log} 2>&1"


rule table_plot:
    """Table 1's and Table 3's trends and Table 2's accuracy / speed / memory trade-off, ours beside the paper's."""
    input:
        lambda wc: REGISTRY.table_inputs(PLOT_TABLES[wc.plot], wc.profile, seeds_of(wc.profile)),
    output:
        report(FIGURE + ".png", caption="../report/table_plot.rst", category="Figures"),
        FIGURE + ".pdf",
    wildcard_constraints:
        plot="|".join(PLOT_TABLES),
    params:
        table=lambda wc: PLOT_TABLES[wc.plot],
        seeds=seeds_arg,
    log:
        path(layout.log("figures/{plot}")),
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only {params.table} --seeds {params.seeds} --jobs 1 "
        "> {log} 2>&1"


rule training_curves:
    """Every trained run's loss curve, one panel per run (the report shows it)."""
    input:
        lambda wc: [path(layout.HISTORY, profile=wc.profile, run=r, seed=s) for r in table_runs_everywhere()
                    for s in seeds_of(wc.profile)],
    output:
        report(TRAINING_CURVES[0], caption="../report/training.rst", category="Figures"),
        TRAINING_CURVES[1],
    log:
        path(layout.log("figures/training_curves")),
    params:
        seeds=seeds_arg,
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only training --seeds {params.seeds} --jobs 1 > {log} 2>&1"


rule claims:
    """Every claim of the registry decided on the profile's results: effect, 95 % interval, verdict."""
    input:
        lambda wc: REGISTRY.claims_inputs(wc.profile, seeds_of(wc.profile)),
    output:
        report(path(layout.CLAIMS + ".md"), caption="../report/claims.rst", category="Claims",
               labels={"table": "all", "file": "claims"}),
        path(layout.CLAIMS + ".csv"),
    log:
        path(layout.log("claims")),
    params:
        seeds=seeds_arg,
    threads: 1
    shell:
        "{ANALYSIS} claims --profile {wildcards.profile} --seeds {params.seeds} --track > {log} 2>&1"


rule draw_figure3:
    """Predicted frames of the figure's runs (their first seed's samples) beside the input and the ground truth."""
    input:
        lambda wc: [path(layout.SAMPLES, profile=wc.profile, run=r, seed=seeds_of(wc.profile)[0])
                    for r in REGISTRY.table_runs("figure3")],
    output:
        report(figure_outputs("{profile}")[0], caption="../report/figure3.rst", category="Figures"),
        figure_outputs("{profile}")[1],
    log:
        path(layout.log("figures/figure3")),
    params:
        seeds=seeds_arg,
    threads: 1
    shell:
        "{ANALYSIS} plots --profile {wildcards.profile} --only figure3 --seeds {params.seeds} --jobs 1 > {log} 2>&1"


rule report:
    """The self-contained reproduction report; it embeds the figures above and rewrites none of their files."""
    input:
        lambda wc: [f for t in TABLES for f in table_outputs(wc.profile, t) + table_plot_outputs(wc.profile, t)],
        lambda wc: figure_outputs(wc.profile),
        TRAINING_CURVES[0],
        path(layout.CLAIMS + ".csv"),
    output:
        html=path(layout.REPORT + ".html"),
        md=path(layout.REPORT + ".md"),
    log:
        path(layout.log("report")),
    params:
        seeds=seeds_arg,
    threads: 1
    shell:
        "{ANALYSIS} report --profile {wildcards.profile} --seeds {params.seeds} --no-rebuild > {log} 2>&1"
