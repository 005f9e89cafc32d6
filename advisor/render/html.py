"""Self-contained HTML advisory: one file, inline CSS, no scripts, readable when printed.

Jinja2 autoescaping is on for everything. Knowledge-entry text is Markdown written by us and
is converted with markdown-it-py with raw HTML disabled; scan text is never converted, only
escaped. A Content-Security-Policy forbids scripts and every external load. Large groups are
collapsed (``<details>``) and endpoint lists are capped, so a 100k-host report opens quickly.
"""

from __future__ import annotations

from functools import cache
from typing import TextIO

from markdown_it import MarkdownIt
from markupsafe import Markup

from advisor.advise.report import Report
from advisor.i18n import Catalog
from advisor.kb import KnowledgeBase
from advisor.render import view
from advisor.render.env import environment
from advisor.render.escape import neutralise

CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


@cache
def _md() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def markdown_html(text: str | None) -> Markup:
    """Trusted Markdown (knowledge text) to HTML; raw HTML in it is escaped, not passed on."""
    return Markup(_md().render(text or ""))


def markdown_inline(text: str | None) -> Markup:
    """Trusted inline Markdown (one line of knowledge text) to HTML, without a paragraph."""
    return Markup(_md().renderInline(text or ""))


def chart(counts: dict[str, int], colours: dict[str, str], order: list[str]) -> dict[str, object]:
    """Bar geometry for the inline SVG severity chart."""
    total = max(counts.values(), default=0) or 1
    bars = []
    for i, level in enumerate(order):
        n = counts.get(level, 0)
        bars.append(
            {
                "level": level,
                "n": n,
                "y": i * 22,
                "w": int(300 * n / total),
                "colour": colours[level],
            }
        )
    return {"bars": bars, "height": len(order) * 22}


def render_html(
    report: Report, out: TextIO, kb: KnowledgeBase, catalog: Catalog | None = None
) -> None:
    env = environment(autoescape=True)
    env.filters["md"] = markdown_html
    env.filters["md_inline"] = markdown_inline
    env.filters["clean"] = neutralise
    template = env.get_template("report.html.j2")
    context = view.build(report, kb, catalog or Catalog.load("en"))
    context["csp"] = CSP
    context["chart"] = chart(
        dict(report.severity_counts), view.SEVERITY_COLOURS, context["severity_order"]
    )
    by_entry = context["by_entry"]
    top = max((n for _, n in by_entry), default=1) or 1
    context["entry_chart"] = [
        {"label": label, "n": n, "y": i * 20, "w": int(300 * n / top)}
        for i, (label, n) in enumerate(by_entry)
    ]
    for chunk in template.generate(**context):
        out.write(chunk)
