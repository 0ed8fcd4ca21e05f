"""rules/t2s_chars.txt is OpenCC's traditional → simplified character table (rules/ imports only the standard
library, so the table is shipped as data). This test rebuilds it from the opencc package and compares.

Run ``python tests/rules/test_privacy_table.py`` to rewrite the file after upgrading opencc.
"""
from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TABLE = Path(__file__).resolve().parents[2] / "rules" / "t2s_chars.txt"


def _load(name: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (files("opencc") / "dictionary" / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("\t")
            if len(key) == 1:
                out[key] = value.split(" ")[0]
    return out


def opencc_table() -> dict[str, str]:
    """Traditional and HK/TW variant characters → simplified (first candidate), folded to a fixed point."""
    ts = _load("TSCharacters.txt")
    table = dict(ts)
    for rev in ("HKVariantsRev.txt", "TWVariantsRev.txt"):
        for key, value in _load(rev).items():
            if len(value) == 1 and key not in table:
                table[key] = ts.get(value, value)
    for _ in range(5):
        table = {k: table.get(v, v) for k, v in table.items()}
    return {k: v for k, v in table.items() if k != v}


def shipped_table() -> dict[str, str]:
    lines = TABLE.read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t") for line in lines if line and not line.startswith("#"))  # type: ignore[misc]


def test_the_shipped_table_is_opencc_s() -> None:
    assert shipped_table() == opencc_table()


def test_folding_is_idempotent_and_covers_names() -> None:
    from rules.privacy import fold

    table = shipped_table()
    assert all(v not in table for v in table.values())
    assert fold("張麗華劉秀英陳桂蘭鍾衞") == "张丽华刘秀英陈桂兰钟卫"


if __name__ == "__main__":
    header = [line for line in TABLE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    body = [f"{k}\t{v}" for k, v in sorted(opencc_table().items())]
    TABLE.write_text("\n".join(header + body) + "\n", encoding="utf-8")
    print(f"{TABLE}: {len(body)} characters")
