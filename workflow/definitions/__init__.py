"""The workflows as data: one module per workflow, each a state enum and a list of transition dicts.

A transition dict has ``trigger``, ``source`` (a state or list of states), ``dest`` (a state, or
None for an action that keeps the state), ``conditions`` (guard names, evaluated in order; each is
a rule that can refuse), ``when`` (branch selectors: they pick between transitions of one trigger
and never refuse on their own) and ``roles`` (the posts that may fire it; ``system`` for timers,
``public`` for anyone).
"""
from workflow.definitions import finding, fund_year, inspection, project

DEFINITIONS = {"project": project, "fund_year": fund_year, "inspection": inspection, "finding": finding}
