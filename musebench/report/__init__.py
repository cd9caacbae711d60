"""Reports: tables (md, tex, csv), plots and grids (png + pdf) and index.md / index.html.

    from musebench.report import build_report
    index_html = build_report([Path("runs/quickstart")], Path("runs/quickstart/report"))

Reads only results.jsonl, run.json and the images run.json lists (docs/architecture.md).
"""

from musebench.report.build import build_report

__all__ = ["build_report"]
