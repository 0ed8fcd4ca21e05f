"""One shared transitions ``Machine`` per definition, driving every row of that workflow.

The machine holds no rows: for each firing the engine wraps the row's state in a ``Subject`` and
calls ``machine.events[trigger].trigger(subject)``. Guard names in the definitions resolve, through
``Subject.__getattr__``, to functions of ``workflow.guards`` that return verdicts; the subject keeps
those verdicts so a refusal can say exactly which rule refused and why.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from types import ModuleType
from typing import Any

from transitions import Machine

from rules.verdict import Verdict
from workflow.definitions import DEFINITIONS


@dataclass
class Subject:
    """What the shared machine drives for one firing: a state and the context guards read."""

    state: str
    ctx: Any
    guards: dict[str, Callable[[Any], Verdict]]
    verdicts: list[tuple[str, Verdict]] = field(default_factory=list)

    def __getattr__(self, name: str) -> Callable[..., bool]:
        guards = self.__dict__.get("guards") or {}
        if name not in guards:
            raise AttributeError(name)
        guard = guards[name]

        def check(*_args: Any, **_kwargs: Any) -> bool:
            verdict = guard(self.ctx)
            self.verdicts.append((name, verdict))
            return bool(verdict.ok)

        return check


@dataclass(frozen=True, eq=False)
class Workflow:
    name: str
    module: ModuleType
    machine: Machine
    transitions: list[dict[str, Any]]
    selectors: frozenset[str]

    @property
    def states(self) -> list[str]:
        return [s.value for s in self.module.State]

    @property
    def initial(self) -> str:
        return str(self.module.INITIAL.value)

    def candidates(self, trigger: str, state: str) -> list[dict[str, Any]]:
        return [t for t in self.transitions if t["trigger"] == trigger and state in _sources(t)]

    def triggers(self) -> list[str]:
        return list(dict.fromkeys(t["trigger"] for t in self.transitions))

    @cached_property
    def trigger_set(self) -> frozenset[str]:
        return frozenset(t["trigger"] for t in self.transitions)

    def roles_for(self, trigger: str, state: str) -> list[str]:
        roles: dict[str, None] = {}
        for t in self.candidates(trigger, state):
            for r in t["roles"]:
                roles.setdefault(r, None)
        return list(roles)

    def roles_any(self, trigger: str) -> list[str]:
        """The posts that may fire ``trigger`` from some state."""
        roles: dict[str, None] = {}
        for t in self.transitions:
            if t["trigger"] == trigger:
                for r in t["roles"]:
                    roles.setdefault(r, None)
        return list(roles)

    def article(self, trigger: str) -> str:
        return str(self.module.ARTICLES.get(trigger, ""))


def _sources(t: dict[str, Any]) -> list[str]:
    src = t["source"]
    return [str(s) for s in src] if isinstance(src, list | tuple) else [str(src)]


def _build(name: str, module: ModuleType) -> Workflow:
    specs = [dict(t) for t in module.TRANSITIONS]
    machine_transitions = []
    selectors: set[str] = set()
    for t in specs:
        selectors.update(t.get("when", []))
        machine_transitions.append({
            "trigger": t["trigger"],
            "source": _sources(t),
            "dest": t["dest"],
            # refusing guards first, then the branch selectors
            "conditions": list(t.get("conditions", [])) + list(t.get("when", [])),
        })
    machine = Machine(model=None, states=[s.value for s in module.State], initial=module.INITIAL.value,
                      transitions=machine_transitions, auto_transitions=False, send_event=False,
                      ignore_invalid_triggers=False)
    return Workflow(name=name, module=module, machine=machine, transitions=specs, selectors=frozenset(selectors))


WORKFLOWS: dict[str, Workflow] = {name: _build(name, mod) for name, mod in DEFINITIONS.items()}


def workflow_for(entity_type: str) -> Workflow:
    return WORKFLOWS[entity_type]
