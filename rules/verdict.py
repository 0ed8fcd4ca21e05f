"""The answer every rule gives: ok, or refused with a stable code, a Chinese message and the article."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    code: str = "ok"
    message: str = ""
    article: str = ""
    #: a warning is an ok verdict that still has something to say (e.g. the cap at proposal).
    warning: bool = False

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, "code": self.code, "message": self.message, "article": self.article,
                "warning": self.warning}

    def __bool__(self) -> bool:
        return self.ok


OK = Verdict(ok=True)


def refuse(code: str, message: str, article: str) -> Verdict:
    return Verdict(ok=False, code=code, message=message, article=article)


def warn(code: str, message: str, article: str) -> Verdict:
    return Verdict(ok=True, code=code, message=message, article=article, warning=True)


def first_refusal(*verdicts: Verdict) -> Verdict:
    """The first refusal among verdicts, or OK."""
    for v in verdicts:
        if not v.ok:
            return v
    return OK
