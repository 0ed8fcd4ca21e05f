"""Content-addressed documents: every form, minute, invoice, proof, record and notice is stored once
under its sha256 and linked to the project or fund year it belongs to (Art. 17)."""
from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.models import Document, DocumentLink


def archive(session: Session, content: bytes, content_type: str, filename: str, now: dt.datetime,
            entity_type: str = "", entity_id: int = 0, role: str = "") -> str:
    """Store a document once by its sha256 and link it to an entity; returns the hash."""
    digest = hashlib.sha256(content).hexdigest()
    if session.get(Document, digest) is None:
        # Two transactions may archive the same content at once (e.g. identical minutes): the loser's
        # insert fails on the primary key inside a savepoint, and the document is there all the same.
        try:
            with session.begin_nested():
                session.add(Document(sha256=digest, content_type=content_type, filename=filename,
                                     size=len(content), content=content, created_at=now))
        except IntegrityError:
            pass
    if entity_type:
        session.add(DocumentLink(document_sha256=digest, entity_type=entity_type, entity_id=entity_id, role=role,
                                 created_at=now))
    return digest


def archive_text(session: Session, text: str, filename: str, now: dt.datetime, entity_type: str = "",
                 entity_id: int = 0, role: str = "") -> str:
    return archive(session, text.encode("utf-8"), "text/plain; charset=utf-8", filename, now, entity_type,
                   entity_id, role)
