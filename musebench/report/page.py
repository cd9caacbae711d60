"""index.md and index.html: the same blocks rendered twice.

The HTML is one self-contained static page: inline CSS, no script, no external resource, only
relative links to files written next to it (so it opens from disk, from a CI artifact or behind any
static server, and scripts/check_html.py can load it in headless Chromium with no network).
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import pandas as pd

from musebench.report.curves import FigureFiles
from musebench.report.tables import Table, to_html, to_markdown

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
       max-width: 72rem; padding: 0 1rem; color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.0rem; margin-bottom: 0.3rem; }
table { border-collapse: collapse; font-size: 0.82rem; margin: 0.5rem 0 0.3rem; display: block; overflow-x: auto; }
th, td { padding: 0.2rem 0.6rem; border-bottom: 1px solid #e4e4e4; text-align: left; white-space: nowrap; }
thead th { border-bottom: 2px solid #444; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.best { background: #eaf3fb; }
.ci { color: #666; font-size: 0.9em; }
figure { margin: 1rem 0 1.6rem; } figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, .caption { font-size: 0.85rem; color: #444; }
.files { font-size: 0.8rem; color: #555; }
"""


@dataclass(frozen=True)
class Block:
    md: str
    html: str


def heading(text: str, level: int = 2) -> Block:
    return Block(f"{'#' * level} {text}\n", f"<h{level}>{html.escape(text)}</h{level}>\n")


def paragraph(text: str) -> Block:
    return Block(f"{text}\n", f"<p>{html.escape(text)}</p>\n")


def table_block(table: Table, files: dict[str, str]) -> Block:
    links_md = " · ".join(f"[{ext}]({name})" for ext, name in files.items())
    links_html = " · ".join(f'<a href="{html.escape(name)}">{ext}</a>' for ext, name in files.items())
    md = f"### {table.title}\n\n{table.caption}\n\n{to_markdown(table)}\nFiles: {links_md}\n"
    page = (f"<h3>{html.escape(table.title)}</h3>\n<p class=\"caption\">{html.escape(table.caption)}</p>\n"
            f"{to_html(table)}<p class=\"files\">Files: {links_html}</p>\n")
    return Block(md, page)


def frame_block(title: str, caption: str, frame: pd.DataFrame, files: dict[str, str]) -> Block:
    """A small table given as a DataFrame (e.g. the matched-quality speed-ups)."""
    shown = frame.map(lambda v: f"{v:.3g}" if isinstance(v, float) else v)
    header = "| " + " | ".join(shown.columns) + " |\n|" + "---|" * len(shown.columns) + "\n"
    body = "".join("| " + " | ".join(str(v).replace("|", r"\|") for v in row) + " |\n" for row in shown.itertuples(index=False))
    links_md = " · ".join(f"[{ext}]({name})" for ext, name in files.items())
    links_html = " · ".join(f'<a href="{html.escape(name)}">{ext}</a>' for ext, name in files.items())
    md = f"### {title}\n\n{caption}\n\n{header}{body}\nFiles: {links_md}\n"
    page = (f"<h3>{html.escape(title)}</h3>\n<p class=\"caption\">{html.escape(caption)}</p>\n"
            f"{shown.to_html(index=False, border=0)}\n<p class=\"files\">Files: {links_html}</p>\n")
    return Block(md, page)


def figure_block(fig: FigureFiles) -> Block:
    md = f"### {fig.title}\n\n![{fig.title}]({fig.png})\n\n{fig.caption} ([PDF]({fig.pdf}))\n"
    page = (f"<figure>\n<h3>{html.escape(fig.title)}</h3>\n"
            f"<img src=\"{html.escape(fig.png)}\" alt=\"{html.escape(fig.title)}\">\n"
            f"<figcaption>{html.escape(fig.caption)} <a href=\"{html.escape(fig.pdf)}\">PDF</a></figcaption>\n</figure>\n")
    return Block(md, page)


def render(title: str, blocks: list[Block]) -> tuple[str, str]:
    """(index.md text, index.html text)."""
    md = f"# {title}\n\n" + "\n".join(b.md for b in blocks)
    body = "\n".join(b.html for b in blocks)
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"  # no favicon request: the page loads nothing it does not ship
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )
    return md, page
