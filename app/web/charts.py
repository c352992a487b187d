"""Charts drawn on the server as SVG: no script, readable by screen readers.

Each chart is an `<svg role="img">` whose <title> and <desc> say what it shows in words (the
totals, the busiest hour), a legend in HTML, and the numbers as a table (the template puts it in a
<details>). Colours keep at least 3:1 against the white card (WCAG 1.4.11 for graphics) and
neighbouring segments are split by a white line, so they are told apart without colour too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from html import escape

from markupsafe import Markup

from app.accounts.summary import AccountSummary
from app.actions.reasons import OTHER, REPOSTED

REPOSTED_COLOUR = "#1d7a3a"
# One colour per kind of skip, whatever its rank this week, so a reason keeps its colour from one
# look to the next (app/actions/reasons.py KINDS); all at least 3:1 against white.
KIND_COLOURS = {"language": "#b3261e", "followers": "#8a4b00", "account age": "#6a3fb5", "banned word": "#0b57b7",
                "duplicate": "#a1306b", "other filter": "#00695c", "not in scope": "#c2410c", "blocked": "#1f2937",
                "opted out": "#7c2d12", "no consent": "#9d174d", "waited too long": "#0e7490",
                "post gone": "#57534e"}
SHOWN_KINDS = 5
OTHER_COLOUR = "#5f6670"
# geometry, in SVG units (the SVG scales to its box)
BAR, GAP, LEFT, TOP, PLOT_HEIGHT, BOTTOM = 4, 1, 34, 8, 150, 22


@dataclass(frozen=True)
class Series:
    """One stacked layer: its label, colour and a count per hour."""

    key: str
    label: str
    colour: str
    values: list[int]

    @property
    def total(self) -> int:
        return sum(self.values)


@dataclass
class Chart:
    """What a template needs: the SVG, the legend, and the table's rows (hours with anything in them)."""

    id: str
    title: str
    desc: str
    svg: Markup
    series: list[Series]
    rows: list[tuple[datetime, list[int], int]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.rows


def layers(counts: dict[str, list[int]], hours: int) -> list[Series]:
    """Reposts first, then the five commonest skip kinds, the rest folded into `other`."""
    skips = sorted(((k, v) for k, v in counts.items() if k != REPOSTED), key=lambda kv: (-sum(kv[1]), kv[0]))
    kept = [(k, v) for k, v in skips if k != OTHER][:SHOWN_KINDS]
    shown = {k for k, _ in kept}
    rest = [v for k, v in skips if k not in shown]
    out = [Series(REPOSTED, "reposted", REPOSTED_COLOUR, counts.get(REPOSTED, [0] * hours))]
    out += [Series(k, f"skipped: {k}", KIND_COLOURS.get(k, OTHER_COLOUR), v) for k, v in kept]
    if rest:
        out.append(Series(OTHER, "skipped: other", OTHER_COLOUR, [sum(col) for col in zip(*rest, strict=True)]))
    return out


def hourly_chart(chart_id: str, *, subject: str, hours: list[datetime], counts: dict[str, list[int]]) -> Chart:
    """Stacked bars per hour of `counts` (kind -> per-hour counts aligned with `hours`)."""
    series = layers(counts, len(hours))
    totals = [sum(col) for col in zip(*(s.values for s in series), strict=True)]
    title = f"{subject}: reposts and skips per hour, last {len(hours) // 24} days (UTC)"
    rows = [(h, [s.values[i] for s in series], totals[i]) for i, h in enumerate(hours) if totals[i]]
    chart = Chart(chart_id, title, _describe(series, hours, totals), Markup(""), series, rows)
    chart.svg = _svg(chart, hours, totals)
    return chart


def _describe(series: list[Series], hours: list[datetime], totals: list[int]) -> str:
    """The chart in one or two sentences: the totals per layer and the busiest hour."""
    if not any(totals):
        return "Nothing was reposted or skipped in these days."
    skipped = sum(s.total for s in series[1:])
    parts = ", ".join(f"{s.total} {s.key}" for s in series[1:] if s.total)
    busiest = max(range(len(totals)), key=lambda i: (totals[i], i))
    text = f"{series[0].total} reposted and {skipped} skipped" + (f" ({parts})" if parts else "") + ". "
    return text + f"Busiest hour: {hours[busiest]:%a %d %b %H:00} with {totals[busiest]}."


def _svg(chart: Chart, hours: list[datetime], totals: list[int]) -> Markup:
    """The drawing: y axis with its top value, day marks along x, one stacked bar per hour."""
    width = LEFT + len(hours) * (BAR + GAP) + 4
    height = TOP + PLOT_HEIGHT + BOTTOM
    top = max(max(totals, default=0), 1)
    parts = [f'<svg role="img" aria-labelledby="{chart.id}-title {chart.id}-desc" viewBox="0 0 {width} {height}" '
             f'xmlns="http://www.w3.org/2000/svg" focusable="false">',
             f'<title id="{chart.id}-title">{escape(chart.title)}</title>',
             f'<desc id="{chart.id}-desc">{escape(chart.desc)}</desc>']
    parts += _axes(hours, top, width)
    parts.append('<g stroke="#ffffff" stroke-width="0.4">')
    for i, _ in enumerate(hours):
        parts += _bar(LEFT + i * (BAR + GAP), [(s.values[i], s.colour) for s in chart.series], top)
    parts.append("</g></svg>")
    return Markup("".join(parts))


def _axes(hours: list[datetime], top: int, width: int) -> list[str]:
    base = TOP + PLOT_HEIGHT
    out = [f'<line x1="{LEFT}" y1="{base}" x2="{width - 2}" y2="{base}" stroke="#59606b" stroke-width="1"/>',
           f'<line x1="{LEFT}" y1="{TOP}" x2="{width - 2}" y2="{TOP}" stroke="#d5dae3" stroke-width="1"/>',
           f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="12" fill="#4f5661">{top}</text>',
           f'<text x="{LEFT - 4}" y="{base}" text-anchor="end" font-size="12" fill="#4f5661">0</text>']
    for i, hour in enumerate(hours):
        if hour.hour == 0:
            x = LEFT + i * (BAR + GAP)
            out.append(f'<line x1="{x}" y1="{TOP}" x2="{x}" y2="{base + 4}" stroke="#c9ced6" stroke-width="1"/>')
            out.append(f'<text x="{x + 2}" y="{base + 16}" font-size="12" fill="#4f5661">{hour:%a %d}</text>')
    return out


def _bar(x: int, layers: list[tuple[int, str]], top: int) -> list[str]:
    """One hour's stacked bar, bottom layer first (the white line between layers is on their group)."""
    out, y = [], float(TOP + PLOT_HEIGHT)
    for value, colour in layers:
        if not value:
            continue
        h = PLOT_HEIGHT * value / top
        y -= h
        out.append(f'<rect x="{x}" y="{y:.1f}" width="{BAR}" height="{h:.1f}" fill="{colour}"/>')
    return out


def account_chart(summary: AccountSummary) -> Chart:
    """An account's week of reposts and skips per hour (its overview card, its page)."""
    account = summary.account
    return hourly_chart(f"chart-{account.id}", subject=account.display_name or account.handle,
                        hours=summary.hours, counts=summary.series)
