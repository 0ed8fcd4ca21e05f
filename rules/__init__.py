"""Pure policy: plain data in, Verdict out.

Nothing in this package imports a database, web or template library (a test enforces it).
"""
from rules.verdict import OK, Verdict, refuse

__all__ = ["OK", "Verdict", "refuse"]
