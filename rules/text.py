"""What text may contain: no control characters (NUL, ESC, DEL, the C1 range) and no lone surrogates;
single-line text not even a tab or a line break. Used by every request body (``workflow.fields``) and by
the policy data a city publishes."""
from __future__ import annotations

import re

#: JSON Schema patterns (ECMA and Python regex alike) of what single-line and multi-line text may contain.
LINE_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_LINE_BAD = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_MULTILINE_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_NAMES = {"\x00": "NUL", "\t": "制表符", "\n": "换行", "\r": "回车", "\x1b": "ESC", "\x7f": "DEL"}


def control_character(text: str, multiline: bool = False) -> str | None:
    """A Chinese description of the first character ``text`` may not contain, or None when it is clean."""
    found = (_MULTILINE_BAD if multiline else _LINE_BAD).search(text)
    if found is None:
        return None
    char = found.group()
    if "\ud800" <= char <= "\udfff":
        return f"第 {found.start() + 1} 个字符不是有效的 Unicode 字符(U+{ord(char):04X})"
    name = _NAMES.get(char)
    return f"第 {found.start() + 1} 个字符是控制字符 U+{ord(char):04X}{f'({name})' if name else ''}"


def refuse_controls(text: str, multiline: bool = False) -> str:
    """``text`` unchanged; a ValueError with a Chinese message when it holds a character it may not."""
    problem = control_character(text, multiline)
    if problem is not None:
        rule = "多行文本只允许换行和制表符" if multiline else "此项为单行文本,不能换行或含制表符"
        raise ValueError(f"不能含有控制字符: {problem}({rule})")
    return text
