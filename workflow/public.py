"""What may be shown to the public, in one place: every notice, the notice board, disclosures, public API
answers and exports meant for the board put their text through :func:`public_text` with the names of
:func:`private_names` (SPEC section 4; issue 12, points 7 and 8).

``rules.privacy.mask_text`` does the masking (IDs, phone, landline and bank numbers in any spelling, the
listed names also in traditional characters or with separators) and drops bidi controls; this module knows
which names are private: an aid project's individual contractor and its payees (帮扶资助对象).
"""
from __future__ import annotations

from collections.abc import Collection, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from rules.privacy import mask_name, mask_text
from store.models import PaymentItem, Project


def private_names(session: Session, project_ids: Iterable[int | None] = (), fund_year_id: int | None = None) -> list[str]:
    """Names that must never appear in public: for each aid project given (or of the fund year), its
    individual contractor and every payee."""
    ids = {int(i) for i in project_ids if i is not None}
    cond = Project.id.in_(sorted(ids)) if fund_year_id is None else Project.fund_year_id == fund_year_id
    if fund_year_id is None and not ids:
        return []
    rows = session.execute(select(Project.id, Project.contractor_kind, Project.contractor_name)
                           .where(cond, Project.is_aid.is_(True))).all()
    names = [name for _i, kind, name in rows if kind == "individual"]
    aid = [i for i, _k, _n in rows]
    if aid:
        names += list(session.execute(select(PaymentItem.payee).where(PaymentItem.project_id.in_(aid))).scalars())
    return sorted({n for n in names if n})


def public_text(text: str, names: Collection[str] = ()) -> str:
    """The text as the public may read it (masked, no bidi controls)."""
    return mask_text(text, names)


def public_name(name: str) -> str:
    """A resident's own name on the board (e.g. an objection's author): first character only."""
    return mask_name(mask_text(name))
