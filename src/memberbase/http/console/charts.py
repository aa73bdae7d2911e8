"""Charts drawn on the server as SVG: no script, no font or file fetched by the browser."""

from __future__ import annotations

import datetime as dt
from html import escape

# Colour-blind-safe (Okabe-Ito), in the order sources are listed.
_PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")


def stacked_bars(days: list[dt.date], series: dict[str, list[int]], title: str) -> str:
    """A bar per day, stacked by series, with axis marks, a legend and a text alternative."""
    width, height, left, bottom, top = 720, 240, 36, 28, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    totals = [sum(values[i] for values in series.values()) for i in range(len(days))]
    peak = max([*totals, 1])
    step = plot_w / max(len(days), 1)
    full_height = height + 24 * ((len(series) + 3) // 4)  # room for the legend, four a row
    parts = [
        f'<svg role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 {width} {full_height}"'
        ' xmlns="http://www.w3.org/2000/svg" style="width:100%;height:auto;font:12px sans-serif">',
        f'<title id="chart-title">{escape(title)}</title>',
        f'<desc id="chart-desc">{escape(_summary(days, series, totals))}</desc>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 8}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 10}" text-anchor="end">{peak}</text>',
        f'<text x="{left - 4}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, day in enumerate(days):
        y = float(top + plot_h)
        for n, values in enumerate(series.values()):
            h = plot_h * values[i] / peak
            if h > 0:
                y -= h
                colour = _PALETTE[n % len(_PALETTE)]
                parts.append(
                    f'<rect x="{left + i * step + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}"'
                    f' height="{h:.1f}" fill="{colour}"/>'
                )
        if i % 7 == 0 or i == len(days) - 1:
            x = left + i * step + step / 2
            parts.append(f'<text x="{x:.1f}" y="{height - 10}" text-anchor="middle">{day:%d %b}</text>')
    for n, name in enumerate(series):
        x, y = left + (n % 4) * 170, height + 8 + 24 * (n // 4)
        colour = _PALETTE[n % len(_PALETTE)]
        parts.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{colour}"/>')
        parts.append(f'<text x="{x + 16}" y="{y + 11}">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _summary(days: list[dt.date], series: dict[str, list[int]], totals: list[int]) -> str:
    if not days:
        return "No days."
    per_source = ", ".join(f"{name} {sum(values)}" for name, values in series.items()) or "none"
    return f"{sum(totals)} from {days[0]:%d %b} to {days[-1]:%d %b}: {per_source}."
