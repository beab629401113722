# Tables, figures and the reproduction report, built by `analysis` from the results files (no torch).
# Each file has one owner: the report only reads the tables and figures the rules before it wrote.


TABLE = path(layout.TABLES + "/{table}")  # + the suffixes of layout.TABLE_SUFFIXES
FIGURE = path(layout.FIGURES + "/{plot}")
TRAINING_CURVES = layout.figure_files(layout.PLOT_FILES["training"])


rule table:
    input:
        inputs("table"),
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
        cmd=command("table"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule table_plot:
    """Table 1's and Table 3's trends and Table 2's accuracy / speed / memory trade-off, ours beside the paper's."""
    input:
        inputs("table_plot"),
    output:
        report(FIGURE + ".png", caption="../report/table_plot.rst", category="Figures"),
        FIGURE + ".pdf",
    wildcard_constraints:
        plot="|".join(PLOT_TABLES),
    log:
        path(layout.log("figures/{plot}")),
    params:
        cmd=command("table_plot"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule training_curves:
    """Every trained run's loss curve, one panel per run (the report shows it)."""
    input:
        inputs("training_curves"),
    output:
        report(TRAINING_CURVES[0], caption="../report/training.rst", category="Figures"),
        TRAINING_CURVES[1],
    log:
        path(layout.log("figures/training_curves")),
    params:
        cmd=command("training_curves"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule claims:
    """Every claim of the registry decided on the profile's results: effect, 95 % interval, verdict."""
    input:
        inputs("claims"),
    output:
        report(path(layout.CLAIMS + ".md"), caption="../report/claims.rst", category="Claims",
               labels={"table": "all", "file": "claims"}),
        path(layout.CLAIMS + ".csv"),
    log:
        path(layout.log("claims")),
    params:
        cmd=command("claims"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule figure:
    """Predicted frames of the figure's runs (their first seed's samples) beside the input and the ground truth."""
    input:
        inputs("figure"),
    output:
        report(path(layout.FIGURES + "/{figure}.png"), caption="../report/figure3.rst", category="Figures"),
        path(layout.FIGURES + "/{figure}.pdf"),
    wildcard_constraints:
        figure="|".join(REGISTRY.figures) or "^$",
    log:
        path(layout.log("figures/{figure}")),
    params:
        cmd=command("figure"),
    shell:
        "{params.cmd} > {log} 2>&1"


rule report:
    """The self-contained reproduction report; it embeds the figures above and rewrites none of their files."""
    input:
        inputs("report"),
    output:
        html=path(layout.REPORT + ".html"),
        md=path(layout.REPORT + ".md"),
    log:
        path(layout.log("report")),
    params:
        cmd=command("report"),
    shell:
        "{params.cmd} > {log} 2>&1"
