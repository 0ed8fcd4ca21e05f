"""The embedded CJK TrueType font every document is drawn with (Debian ``fonts-wqy-zenhei``).

ReportLab's built-in CID fonts (``STSong-Light``) are not embedded and show blank on machines
without the Adobe Asian font packs, and Noto CJK (CFF outlines) does not load; WenQuanYi Zen Hei
is TrueType and ReportLab embeds the subset a document uses. ``FUNDFLOW_CJK_FONT`` names another
TrueType file (``path`` or ``path#index`` for a collection).
"""
from __future__ import annotations

import os
import threading
from pathlib import Path

FONT = "FundflowCJK"
PACKAGE = "fonts-wqy-zenhei"
CANDIDATES = ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc")

_lock = threading.Lock()
_registered = False


class FontMissing(RuntimeError):
    """No usable CJK font: documents cannot be printed (the message names the Debian package)."""

    def __init__(self, tried: list[str], detail: str = "") -> None:
        self.tried = tried
        super().__init__(
            f"无法生成文件:缺少中文字体,请安装 Debian 软件包 {PACKAGE}(apt-get install {PACKAGE})"
            f"或以 FUNDFLOW_CJK_FONT 指定 TrueType 字体文件。"
            f" / Cannot render documents: no CJK font found; install the Debian package {PACKAGE}"
            f" or set FUNDFLOW_CJK_FONT to a TrueType font file. Tried: {', '.join(tried)}"
            + (f" ({detail})" if detail else ""))


def font_file() -> tuple[str, int]:
    """The font file and subfont index to use; FontMissing when none exists."""
    configured = os.environ.get("FUNDFLOW_CJK_FONT", "").strip()
    candidates = [configured] if configured else list(CANDIDATES)
    for candidate in candidates:
        path, _, index = candidate.partition("#")
        if Path(path).is_file():
            return path, int(index or 0)
    raise FontMissing(candidates)


def ensure_fonts() -> str:
    """Register the CJK font with ReportLab once per process; returns its name."""
    global _registered
    if _registered:
        return FONT
    with _lock:
        if not _registered:
            from reportlab.pdfbase import pdfmetrics
            from reportlab.pdfbase.ttfonts import TTFError, TTFont

            path, index = font_file()
            try:
                pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=index))
            except (TTFError, OSError) as exc:
                raise FontMissing([path], str(exc)) from exc
            _registered = True
    return FONT
