"""Charts as server-rendered SVG: readable at a glance, no JavaScript, no CDN, testable.

Written by hand because the two pictures the portal needs (a bar chart of a period and
an energy-flow diagram) are a few dozen lines of SVG each, while a charting library would
add a vendored JavaScript bundle that the tests could not check. Every element is built
with format_html, so labels and titles are escaped.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT, AXIS = 720, 220, 36


def _join(parts: Iterable[SafeString]) -> SafeString:
    return format_html_join("", "{}", ((part,) for part in parts))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | Decimal | None  # None: a measurement gap, drawn as a hatched stub
    title: str = ""


def nice_ceiling(value: float) -> float:
    """The axis top: a round number (1, 2, 2.5 or 5 times a power of ten) above the top bar."""
    if value <= 0:
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _bar(index: int, bar: Bar, slot: float, top: float) -> SafeString:
    x, width = AXIS + index * slot + slot * 0.1, slot * 0.8
    if bar.value is None:
        return format_html(
            '<rect x="{}" y="{}" width="{}" height="6" class="gap"><title>{}</title></rect>',
            f"{x:.1f}", HEIGHT - 6, f"{width:.1f}", bar.title or bar.label,
        )  # fmt: skip
    height = max(float(bar.value) / top * (HEIGHT - 20), 0.0)
    return format_html(
        '<rect x="{}" y="{}" width="{}" height="{}" class="bar"><title>{}</title></rect>',
        f"{x:.1f}", f"{HEIGHT - height:.1f}", f"{width:.1f}", f"{height:.1f}", bar.title,
    )  # fmt: skip


def _tick(index: int, bar: Bar, slot: float) -> SafeString:
    x = AXIS + index * slot + slot / 2
    return format_html(
        '<text x="{}" y="{}" class="tick">{}</text>', f"{x:.1f}", HEIGHT + 16, bar.label
    )


def bar_chart(bars: Sequence[Bar], unit: str, *, label_every: int = 1) -> SafeString:
    top = nice_ceiling(max((float(b.value) for b in bars if b.value is not None), default=0))
    slot = (WIDTH - AXIS) / max(len(bars), 1)
    parts = [
        format_html('<text x="0" y="12" class="axis">{} {}</text>', f"{top:g}", unit),
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" class="baseline"/>', AXIS, HEIGHT, WIDTH, HEIGHT
        ),
    ]
    for index, bar in enumerate(bars):
        parts.append(_bar(index, bar, slot, top))
        if index % label_every == 0:
            parts.append(_tick(index, bar, slot))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}">{}</svg>',
        WIDTH, HEIGHT + 24, unit, _join(parts),
    )  # fmt: skip


@dataclass(frozen=True)
class Flow:
    source: str  # grid, pv, battery
    target: str  # house, battery, export
    kwh: float


NODES = {  # where each node sits in the diagram
    "grid": (70, 60),
    "pv": (70, 200),
    "house": (460, 60),
    "battery": (460, 200),
    "export": (650, 130),
}


def _arrow(flow: Flow, largest: float) -> SafeString:
    (x1, y1), (x2, y2) = NODES[flow.source], NODES[flow.target]
    width = 2 + 18 * flow.kwh / largest
    return format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" class="flow flow-{}" stroke-width="{}">'
        "<title>{} kWh</title></line>"
        '<text x="{}" y="{}" class="flow-label">{} kWh</text>',
        x1 + 50, y1, x2 - 50, y2, flow.source, f"{width:.1f}", f"{flow.kwh:.1f}",
        f"{(x1 + x2) / 2:.0f}", f"{(y1 + y2) / 2 - 6:.0f}", f"{flow.kwh:.1f}",
    )  # fmt: skip


def _node(node: str, label: str) -> SafeString:
    x, y = NODES[node]
    return format_html(
        '<rect x="{}" y="{}" width="100" height="40" rx="8" class="node node-{}"/>'
        '<text x="{}" y="{}" class="node-label">{}</text>',
        x - 50, y - 20, node, x, y + 5, label,
    )  # fmt: skip


def flow_diagram(flows: Sequence[Flow], labels: dict[str, str]) -> SafeString:
    """Arrows from sources to sinks, their width proportional to the energy."""
    largest = max((f.kwh for f in flows), default=0.0) or 1.0
    arrows = [_arrow(flow, largest) for flow in flows if flow.kwh > 0]
    nodes = [_node(node, labels.get(node, node)) for node in NODES]
    return format_html(
        '<svg class="flows" viewBox="0 0 {} 260" role="img">{}{}</svg>',
        WIDTH, _join(arrows), _join(nodes),
    )  # fmt: skip
