"""advisor: turn nmap NSE results into advisories a person can act on.

The pipeline, one subpackage per stage: :mod:`advisor.scan` (read) -> :mod:`advisor.findings`
(extract) -> :mod:`advisor.kb` (match knowledge) -> :mod:`advisor.evidence` (server-side
evidence) -> :mod:`advisor.advise` (combine) -> :mod:`advisor.render` (Markdown, HTML, JSON).
:mod:`advisor.api` ties them together; :mod:`advisor.cli` is the command line.
"""

__version__ = "0.1.0"
