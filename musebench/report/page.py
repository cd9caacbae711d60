"""index.md and index.html: the same blocks rendered twice.

The HTML is one self-contained static page: inline CSS, one small inline script, no external
resource, only relative links to files written next to it (so it opens from disk, from a CI artifact
or behind any static server, and scripts/check_html.py can load it in headless Chromium with no
network). It opens with a table of contents (every h2 and h3, each with an anchor); every table sorts
by a column when its header is clicked (numbers as numbers, by the value before its interval; a
second click reverses; without script the page reads the same, unsorted); long words and commands
wrap and wide tables scroll inside their own box, so nothing is cut off at 1280 px or on a 390 px
phone (scripts/check_html.py checks both widths).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pandas as pd

from musebench.report.curves import FigureFiles
from musebench.report.style import single_column_pdf
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
h1, h2, h3, p, figcaption, li { overflow-wrap: anywhere; }
nav.toc { font-size: 0.85rem; border: 1px solid #e4e4e4; padding: 0.3rem 1rem; margin: 1rem 0 1.5rem; }
nav.toc ul { margin: 0.2rem 0; padding-left: 1.2rem; } nav.toc > ul { padding-left: 0.4rem; list-style: none; }
th button.sort { font: inherit; font-weight: 600; border: 0; background: none; padding: 0; cursor: pointer;
                 text-align: left; color: inherit; }
th[aria-sort=ascending] button.sort::after { content: " \25B2"; }
th[aria-sort=descending] button.sort::after { content: " \25BC"; }
"""

# Sorting: each header cell becomes a button; rows sort by the cell's leading number (the value, not its
# interval), missing values ("–", nan) last, text by locale with numeric runs compared as numbers.
SORT_JS = r"""
(function () {
  function key(cell) {  // the leading number of "0.912 [0.90, 0.93]", else null; missing: "–", "nan", ""
    var text = cell ? cell.textContent.trim() : "";
    var m = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(text);
    return {num: m ? parseFloat(m[0]) : null, text: text, missing: !m && /^(–|-|nan|)$/i.test(text)};
  }
  function compare(a, b) {
    if (a.num !== null && b.num !== null) return a.num - b.num;
    if (a.num !== null || b.num !== null) return a.num !== null ? -1 : 1;
    return a.text.localeCompare(b.text, undefined, {numeric: true});
  }
  document.querySelectorAll("table").forEach(function (table) {
    var head = table.tHead, body = table.tBodies[0];
    if (!head || !body) return;
    Array.prototype.forEach.call(head.rows[0].cells, function (th, col) {
      var button = document.createElement("button");
      button.type = "button"; button.className = "sort"; button.title = "sort by this column";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      th.setAttribute("aria-sort", "none");
      button.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.rows[0].cells, function (c) { c.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (row, i) { return {row: row, key: key(row.cells[col]), i: i}; });
        keyed.sort(function (a, b) {  // missing values last either way; equal keys keep their order
          if (a.key.missing !== b.key.missing) return a.key.missing ? 1 : -1;
          return (up ? 1 : -1) * compare(a.key, b.key) || a.i - b.i;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      });
    });
  });
})();
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
    one = single_column_pdf(fig.pdf)
    md = (f"### {fig.title}\n\n![{fig.title}]({fig.png})\n\n{fig.caption} (PDF: [double column]({fig.pdf}), "
          f"[single column]({one}))\n")
    page = (f"<figure>\n<h3>{html.escape(fig.title)}</h3>\n"
            f"<img src=\"{html.escape(fig.png)}\" alt=\"{html.escape(fig.title)}\">\n"
            f"<figcaption>{html.escape(fig.caption)} PDF: <a href=\"{html.escape(fig.pdf)}\">double column</a> · "
            f"<a href=\"{html.escape(one)}\">single column</a></figcaption>\n</figure>\n")
    return Block(md, page)


def render(title: str, blocks: list[Block]) -> tuple[str, str]:
    """(index.md text, index.html text)."""
    md = f"# {title}\n\n" + "\n".join(b.md for b in blocks)
    body, toc = _anchored("\n".join(b.html for b in blocks))
    page = (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        "<link rel=\"icon\" href=\"data:,\">\n"  # no favicon request: the page loads nothing it does not ship
        f"<title>{html.escape(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n{toc}{body}\n<script>{SORT_JS}</script>\n</body>\n</html>\n"
    )
    return md, page


_HEADING = re.compile(r"<h([23])>(.*?)</h\1>", re.S)


def _anchored(body: str) -> tuple[str, str]:
    """(body with an id on every h2/h3, the table of contents linking to them: h3s nested in their h2)."""
    used: set[str] = set()
    entries: list[tuple[int, str, str]] = []  # (level, id, inner html)

    def anchor(match: re.Match) -> str:
        level, inner = int(match.group(1)), match.group(2)
        slug = re.sub(r"[^a-z0-9]+", "-", html.unescape(re.sub(r"<[^>]+>", "", inner)).lower()).strip("-") or "section"
        unique, k = slug, 2
        while unique in used:
            unique, k = f"{slug}-{k}", k + 1
        used.add(unique)
        entries.append((level, unique, inner))
        return f'<h{level} id="{unique}">{inner}</h{level}>'

    body = _HEADING.sub(anchor, body)
    if not entries:
        return body, ""
    items, open_sub = [], False
    for level, ident, inner in entries:
        link = f'<a href="#{ident}">{inner}</a>'
        if level == 2 or not items:  # an h3 before any h2 is listed at the top level
            items.append(("</ul></li>" if open_sub else "</li>" if items else "") + f"<li>{link}")
            open_sub = False
        else:
            items.append(("" if open_sub else "<ul>") + f"<li>{link}</li>")
            open_sub = True
    closing = "</ul></li>" if open_sub else "</li>"
    return body, f'<nav class="toc" aria-label="Contents"><strong>Contents</strong>\n<ul>{"".join(items)}{closing}</ul></nav>\n'
