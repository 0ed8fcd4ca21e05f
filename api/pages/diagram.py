"""The state diagram of a workflow with one state highlighted, drawn from the definitions by transitions'
own diagram support (``GraphMachine``, Graphviz engine) as SVG, and cached per (workflow, state):
drawing takes tens of milliseconds, and there are only ~20 states."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from transitions import State
from transitions.extensions import GraphMachine

from workflow.machines import workflow_for

FONT = "WenQuanYi Zen Hei"


class _LabelledState(State):
    """A state with a Chinese label for its box (transitions' markup reads ``label``)."""

    def __init__(self, *args: Any, label: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.label = label


class _Diagram(GraphMachine):
    state_cls = _LabelledState
    style_attributes = {
        "node": {
            "default": {"style": "rounded,filled", "shape": "rectangle", "fillcolor": "white", "color": "#5b6470",
                        "peripheries": "1", "fontcolor": "#1f2328"},
            "inactive": {"fillcolor": "white", "color": "#5b6470", "peripheries": "1"},
            "active": {"color": "#b3261e", "fillcolor": "#fde2df", "peripheries": "2", "fontcolor": "#8c1d18"},
            "previous": {"color": "#1d4f91", "fillcolor": "#e8eef8", "peripheries": "1"},
            "parallel": {"shape": "rectangle", "color": "black", "fillcolor": "white", "style": "dashed, rounded, filled",
                         "peripheries": "1"},
        },
        "edge": {"default": {"color": "#8a939e", "fontcolor": "#5b6470"}, "previous": {"color": "#1d4f91"}},
        "graph": {
            "default": {"color": "black", "fillcolor": "white", "style": "solid"},
            "previous": {"color": "blue", "fillcolor": "azure", "style": "filled"},
            "active": {"color": "red", "fillcolor": "darksalmon", "style": "filled"},
            "parallel": {"color": "black", "fillcolor": "white", "style": "dotted"},
        },
    }


class _Model:
    pass


@lru_cache(maxsize=64)
def state_diagram(entity_type: str, state: str) -> str:
    """Inline SVG (no XML prologue) of the workflow with ``state`` highlighted."""
    wf = workflow_for(entity_type)
    mod = wf.module
    states = [{"name": s, "label": mod.LABELS.get(s, s)} for s in wf.states]
    transitions = [{"trigger": t["trigger"], "source": t["source"], "dest": t["dest"],
                    "label": mod.EVENT_LABELS.get(t["trigger"], t["trigger"])}
                   for t in wf.transitions if t["dest"] is not None]
    model = _Model()
    _Diagram(model=model, states=states, transitions=transitions, initial=state if state in wf.states else wf.initial,
             auto_transitions=False, graph_engine="graphviz", show_conditions=False, title="")
    graph = model.get_graph()  # type: ignore[attr-defined]
    graph.graph_attr.update(fontname=FONT, rankdir="LR", nodesep="0.25", ranksep="0.35", bgcolor="transparent")
    graph.node_attr.update(fontname=FONT, fontsize="13")
    graph.edge_attr.update(fontname=FONT, fontsize="10")
    svg = graph.pipe(format="svg").decode("utf-8")
    svg = svg[svg.index("<svg"):]
    # the title Graphviz gives the graph ("%3") would show as a tooltip
    svg = re.sub(r"<title>%3</title>", "", svg)
    label = mod.LABELS.get(state, state)
    return svg.replace("<svg ", f'<svg role="img" aria-label="流程图,当前状态:{label}" ', 1)
