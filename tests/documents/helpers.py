"""Reading a PDF back the way a person would: its text (pdfplumber), its fonts (poppler's pdffonts),
its pages as pictures (poppler's pdftoppm, into the git-ignored tests/.rendered/)."""
from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from pathlib import Path

import pdfplumber
import pytest
from PIL import Image

RENDERED = Path(__file__).resolve().parents[1] / ".rendered"
CJK = "WenQuanYiZenHei"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install the Debian package poppler-utils (make sysdeps)")
    return path


def text(pdf: bytes) -> str:
    """Every page's text, joined; whitespace inside a line collapsed to single spaces."""
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return "\n".join(page.extract_text() or "" for page in doc.pages)


def flat(pdf: bytes) -> str:
    """The text without any whitespace (CJK wraps anywhere, so a phrase may be split across lines)."""
    return "".join(text(pdf).split())


def fonts_drawn(pdf: bytes) -> set[str]:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return {c["fontname"] for page in doc.pages for c in page.chars}


def page_count(pdf: bytes) -> int:
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        return len(doc.pages)


def pdffonts(pdf: bytes) -> list[dict[str, str]]:
    """pdffonts' table: name, type and whether the font is embedded."""
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        out = subprocess.run([need("pdffonts"), f.name], capture_output=True, text=True, check=True).stdout
    rows = []
    for line in out.splitlines()[2:]:
        parts = line.split()
        # name, type (may be two words: "Type 1"), encoding, emb, sub, uni, object, id
        rows.append({"name": parts[0], "emb": parts[-5], "type": " ".join(parts[1:-6])})
    return rows


def rasterise(pdf: bytes, name: str, dpi: int = 40) -> list[Image.Image]:
    """Every page as a greyscale picture, also saved as tests/.rendered/<name>-<page>.png."""
    RENDERED.mkdir(exist_ok=True)
    for old in RENDERED.glob(f"{name}-*.png"):
        old.unlink()
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        subprocess.run([need("pdftoppm"), "-r", str(dpi), "-gray", "-png", f.name, str(RENDERED / name)], check=True)
    pages = sorted(RENDERED.glob(f"{name}-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [Image.open(p).convert("L") for p in pages]


def ink(image: Image.Image, box: tuple[float, float, float, float]) -> float:
    """Share of dark pixels in a region given as fractions of the page (left, top, right, bottom)."""
    w, h = image.size
    region = image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))
    histogram = region.histogram()
    return sum(histogram[:128]) / max(sum(histogram), 1)
