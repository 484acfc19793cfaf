"""The report as a simple one-page PDF (reportlab): the headline figures, the devices,
the comparisons, the savings and the habits, formatted like the page in the reader's
language."""

from __future__ import annotations

import io
from typing import Any
from xml.sax.saxutils import escape

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

TABLE_STYLE = TableStyle(
    [
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.lightgrey),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]
)


def _table(rows: list[list[str]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT")
    table.setStyle(TABLE_STYLE)
    return table


def _p(text: str, style: Any) -> Paragraph:
    return Paragraph(escape(text), style)


def report_pdf(context: dict[str, Any]) -> bytes:
    """`context` is `emails.report_context(report)` built in the reader's language."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
        bottomMargin=15 * mm, title=context["title"], author="HEB Platform",
    )  # fmt: skip
    c = context
    story: list[Any] = [
        _p(c["household"].name, styles["Title"]),
        _p(c["title"], styles["Heading2"]),
        _table(
            [
                [_("Home consumption"), c["house"] + ("*" if c["incomplete"] else "")],
                [_("Cost"), c["cost"]],
                [_("Bought from the grid"), c["import"]],
            ]
            + (
                [
                    [_("Solar production"), c["pv"]],
                    [_("Solar used at home"), c["self_consumed"]],
                    [_("Sent to the grid"), c["export"]],
                    [_("Self-sufficiency"), c["self_sufficiency"]],
                ]
                if c["has_pv"]
                else []
            ),
            [80 * mm, 50 * mm],
        ),
        Spacer(1, 4 * mm),
        _p(_("Per device"), styles["Heading3"]),
        _table(
            [[_("Device"), _("Energy"), _("Cost")]]
            + [[d["name"], d["energy"], d["cost"]] for d in c["devices"][:25]],
            [80 * mm, 40 * mm, 40 * mm],
        ),
        Spacer(1, 4 * mm),
        _p(_("Compared with"), styles["Heading3"]),
        _table(
            [
                [x["label"], x["energy"], x["cost"]]
                if x["available"]
                else [x["label"], x["text"], ""]
                for x in c["comparisons"]
            ],
            [80 * mm, 40 * mm, 40 * mm],
        ),
        Spacer(1, 4 * mm),
    ]
    if c.get("show_peak", True):
        peak = c["peak"]
        text = f"{peak['kw']} kW · {peak['when']}" if peak else "—"
        story.append(_p(f"{_('Peak quarter hour')}: {text}", styles["Normal"]))
    if c.get("show_overloads", True):
        story.append(_p(f"{_('Overloads')}: {len(c['overloads'])}", styles["Normal"]))
    story.append(_p(f"{_('Savings from scheduling')}: {c['savings']['total']}", styles["Normal"]))
    if c.get("social"):
        story.append(_p(f"{_('Compared with similar households')}: {c['social']['text']}",
                        styles["Normal"]))  # fmt: skip
    story.append(_p(f"{_('Saving habits')}: {c['habits']}", styles["Normal"]))
    if c["incomplete"]:
        story.append(_p("* " + _("some intervals have no data"), styles["Italic"]))
    doc.build(story)
    return out.getvalue()
