"""The Jinja2 environment shared by the Markdown and HTML renderers."""

from __future__ import annotations

import jinja2

from advisor.advise.context import display_name


def environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("advisor", "render/templates"),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["display"] = display_name
    env.filters["tick"] = lambda s: f"`{s}`"
    env.filters["cond"] = describe_condition
    env.filters["anchor"] = anchor
    return env


def anchor(text: str) -> str:
    """GitHub's heading anchor for ``text`` (lower case, punctuation dropped, spaces to -)."""
    out = "".join(c for c in text.lower() if c.isalnum() or c in " -_")
    return out.replace(" ", "-")


def describe_condition(cond: object) -> str:
    """A knowledge-base condition in words, for documentation."""
    parts = []
    for name in ("ports", "services", "software", "not_software", "states"):
        value = getattr(cond, name, ())
        if value:
            label = {"not_software": "software is not"}.get(name, name)
            parts.append(f"{label} {', '.join(str(v) for v in value)}")
    mode = getattr(cond, "tls_mode", None)
    if mode:
        parts.append(f"TLS mode {mode}")
    checks = getattr(cond, "check_results", ())
    if checks:
        parts.append("check results match " + ", ".join(f"`{p.pattern}`" for p in checks))
    honeypot = getattr(cond, "honeypot", None)
    if honeypot is not None:
        parts.append("the host looks like a honeypot" if honeypot else "the host is no honeypot")
    return "; ".join(parts) or "always"
