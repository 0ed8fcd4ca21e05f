"""Server-side SVG charts (no script): the small-group share of a fund year against its 20% line."""
from __future__ import annotations

from fractions import Fraction

from markupsafe import Markup, escape

from rules.money import format_yuan


def _pct(part: int, whole: int) -> str:
    if whole <= 0:
        return "0%"
    share = Fraction(part * 100, whole)
    return f"{float(share):.1f}%"


def small_group_chart(total_fen: int, cap_fen: int, used_fen: int, pending_fen: int = 0,
                      cap_ratio: str = "1/5") -> Markup:
    """A bar of the year's total: the small-group amount committed (and, lighter, what a project under
    decision would add) against the cap line (Art. 7(2))."""
    width, left, right, bar_y, bar_h = 420, 4, 4, 34, 26
    inner = width - left - right
    whole = max(total_fen, 1)

    def x(fen: int) -> float:
        return left + inner * min(max(fen, 0), whole) / whole

    over = used_fen + pending_fen > cap_fen
    used_w = x(used_fen) - left
    pending_w = x(used_fen + pending_fen) - x(used_fen)
    cap_x = x(cap_fen)
    num, den = (int(v) for v in cap_ratio.split("/")) if "/" in cap_ratio else (1, 5)
    cap_label = f"上限 {num * 100 // den}%:{format_yuan(cap_fen)} 元"
    used_label = f"已占用 {format_yuan(used_fen)} 元({_pct(used_fen, total_fen)})"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} 118" role="img" '
        f'aria-label="{escape(used_label)},{escape(cap_label)}">',
        f'<rect x="{left}" y="{bar_y}" width="{inner}" height="{bar_h}" rx="3" fill="#e5e8ec"/>',
        f'<rect x="{left}" y="{bar_y}" width="{used_w:.1f}" height="{bar_h}" rx="3" '
        f'fill="{"#b3261e" if used_fen > cap_fen else "#1d4f91"}"/>',
    ]
    if pending_fen > 0:
        parts.append(f'<rect x="{x(used_fen):.1f}" y="{bar_y}" width="{pending_w:.1f}" height="{bar_h}" '
                     f'fill="{"#e8a09a" if over else "#9db6dd"}"/>')
    parts += [
        f'<line x1="{cap_x:.1f}" y1="{bar_y - 10}" x2="{cap_x:.1f}" y2="{bar_y + bar_h + 10}" stroke="#b3261e" '
        'stroke-width="2" stroke-dasharray="4 3"/>',
        f'<text x="{min(cap_x + 4, width - 4):.1f}" y="{bar_y - 12}" font-size="15" fill="#8c1d18" '
        f'text-anchor="{"end" if cap_x > width * 0.6 else "start"}">{escape(cap_label)}</text>',
        f'<text x="{left}" y="{bar_y + bar_h + 24}" font-size="15" fill="#1f2328">{escape(used_label)}</text>',
    ]
    if pending_fen > 0:
        parts.append(f'<text x="{width - right}" y="{bar_y + bar_h + 24}" font-size="15" text-anchor="end" '
                     f'fill="{"#b3261e" if over else "#5b6470"}">本项目 {format_yuan(pending_fen)} 元'
                     f'{"(将超出上限)" if over else ""}</text>')
    parts.append(f'<text x="{left}" y="{bar_y + bar_h + 46}" font-size="14" fill="#5b6470">'
                 f'年度总额 {format_yuan(total_fen)} 元(拨付 + 上年结余)</text></svg>')
    return Markup("".join(parts))
