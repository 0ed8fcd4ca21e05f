"""The error a use case raises when the rules refuse it: below every workflow module that raises it, so the
engine's registries and the modules they call can raise it without importing ``workflow.services`` (which
re-exports it for its callers)."""
from __future__ import annotations

from rules.verdict import Verdict


class ServiceError(Exception):
    """A refused use case: carries the verdict and an HTTP-like status."""

    def __init__(self, verdict: Verdict, status: int = 409) -> None:
        super().__init__(verdict.message)
        self.verdict = verdict
        self.status = status
