"""The one form renderer: a payload model becomes fields with Chinese labels (``workflow.labels``),
drawn by one macro (``templates/pages/_form.html``); the posted form becomes the payload the JSON
route would receive, validated by the same model, its errors in Chinese next to their fields.

Nothing here knows an event by name: a new payload model gets its form from its types —
``str`` (a text box, a text area when long), ``int``, amounts in yuan, dates, booleans (a check box),
``Literal`` (choices), nested models (a group), lists of models (rows, as many as needed), lists of
short texts (one per line), lists of ids and single ids that name something of the record (check
boxes or a choice list filled by :data:`PROVIDERS` under the field's name), ``dict[Literal, bool]``
(a yes/no per key).
"""
from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from api.errors import validation_items
from workflow.labels import CHOICES, choice_label, field_label

#: how many blank rows a list of rows offers beyond those already filled, and per "more rows" click
BLANK_ROWS = 2
MORE_ROWS = 3
MORE_KEY = "_more_rows"
"""A submit button named so asks for more rows of the list its value names (no JavaScript needed)."""

Kind = Literal["text", "textarea", "int", "yuan", "date", "bool", "choice", "group", "rows", "lines", "ids", "ref",
               "pick", "flags", "token", "password", "yesno"]


@dataclass(frozen=True)
class FieldDef:
    """What a payload field asks for; fixed for the process (a function of the model)."""

    name: str
    label: str
    help: str
    kind: Kind
    required: bool
    optional: bool = False
    """``X | None``: left empty it is simply not sent."""
    choices: tuple[tuple[str, str], ...] = ()
    """(value, Chinese label) of a ``Literal``; keys of ``flags``."""
    children: tuple[FieldDef, ...] = ()
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    item_int: bool = False
    """lines / ids: the items are integers."""
    default: Any = None


@dataclass
class Bound:
    """A field with what the page shows in it now: value(s), error, choices, rows."""

    d: FieldDef
    path: str
    value: str = ""
    values: list[str] = field(default_factory=list)
    error: str = ""
    choices: list[tuple[str, str]] = field(default_factory=list)
    children: list[Bound] = field(default_factory=list)
    rows: list[list[Bound]] = field(default_factory=list)
    errors_below: bool = False
    scope: str = ""
    """Tells apart the fields of several forms on one page (the event's trigger): ids stay unique, so that
    every ``<label for>`` names its own control."""

    @property
    def id(self) -> str:
        return "f-" + (self.scope + "-" if self.scope else "") + self.path.replace(".", "-")


# ----------------------------------------------------------------------------------- describing


def _unwrap(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any], bool]:
    """(bare type, constraints, optional) of an annotation: Annotated and ``| None`` taken off."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            args = get_args(annotation)
            annotation = args[0]
            for extra in args[1:]:
                metadata = [*metadata, *(extra.metadata if isinstance(extra, FieldInfo) else [extra])]
            continue
        if origin in (typing.Union, types.UnionType):
            rest = [a for a in get_args(annotation) if a is not type(None)]
            if len(rest) == 1:
                optional = True
                annotation = rest[0]
                continue
        return annotation, metadata, optional


def _constraint(metadata: list[Any], name: str) -> Any:
    for m in metadata:
        value = getattr(m, name, None)
        if value is None and name == "max_length" and type(m).__name__ == "Length":
            value = getattr(m, "max", None)  # workflow.fields.Length(max, min)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def _choices(name: str, values: Sequence[Any]) -> tuple[tuple[str, str], ...]:
    return tuple((str(v), choice_label(name, str(v)) or str(v)) for v in values)


def _is_model(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, BaseModel)


def describe_field(name: str, info: FieldInfo, required: bool, model: str = "") -> FieldDef:
    annotation, metadata, optional = _unwrap(info.annotation, list(info.metadata))
    known = field_label(name, model)
    # the label table is the one place; a model's own title and description serve names it does not know
    label = known.label if known else (info.title or name)
    help_text = known.help if known else (info.description or "")
    widget = known.widget if known else ""
    default = None if info.is_required() else info.get_default(call_default_factory=True)
    base = FieldDef(name=name, label=label, help=help_text, kind="text", required=required and not optional,
                    optional=optional, max_length=_constraint(metadata, "max_length"),
                    minimum=_constraint(metadata, "ge"), maximum=_constraint(metadata, "le"), default=default)
    origin = get_origin(annotation)
    if annotation is bool:
        if optional:  # ``bool | None``: left alone it is not sent (an edit keeps the value)
            return replace(base, kind="yesno", required=False, choices=(("true", "是"), ("false", "否")))
        return replace(base, kind="bool", required=False)
    if annotation is int:
        return replace(base, kind="ref" if name in PROVIDERS else "int")
    if annotation is dt.date:
        return replace(base, kind="date")
    if annotation is str:
        if name in PROVIDERS:  # a code chosen from the record's list (a procurement-catalogue item …)
            return replace(base, kind="pick")
        if widget == "choice":
            return replace(base, kind="choice", choices=tuple(CHOICES.get(name, {}).items()))
        if widget in ("yuan", "token", "textarea", "password", "text"):
            return replace(base, kind=typing.cast(Kind, widget))
        return replace(base, kind="textarea" if (base.max_length or 0) > 200 else "text")
    if origin is Literal:
        return replace(base, kind="choice", choices=_choices(name, get_args(annotation)))
    if _is_model(annotation):
        return replace(base, kind="group", children=describe(annotation))
    if origin is list:
        (item,) = get_args(annotation) or (str,)
        item, _item_meta, _ = _unwrap(item, [])
        if _is_model(item):
            return replace(base, kind="rows", children=describe(item))
        if item is int:
            return replace(base, kind="ids" if name in PROVIDERS else "lines", item_int=True)
        return replace(base, kind="lines")
    if origin is dict:
        key, _value = get_args(annotation)
        key, _m, _o = _unwrap(key, [])
        if get_origin(key) is Literal:
            return replace(base, kind="flags", choices=_choices(name, get_args(key)))
    raise TypeError(f"no form widget for {name}: {info.annotation!r}")


@lru_cache(maxsize=256)
def describe(model: type[BaseModel]) -> tuple[FieldDef, ...]:
    """The fields of a payload model, in declaration order."""
    import api.pages.choices  # noqa: F401 - registers the providers, which decide what a field is

    return tuple(describe_field(name, info, info.is_required(), model.__name__)
                 for name, info in model.model_fields.items())


# ----------------------------------------------------------------------------------- choices of the record


@dataclass
class FormContext:
    """What choice providers may read: the record the form acts on, the viewer, a read session."""

    session: Any
    viewer: Any
    record: dict[str, Any]
    """The project or fund year detail (``api.queries``), or ``{}`` for a new record."""
    extra: dict[str, Any] = field(default_factory=dict)
    trigger: str = ""
    """The event whose form is drawn, if any (one field may offer different records to different events)."""


Provider = Callable[[FormContext], list[tuple[str, str]]]
PROVIDERS: dict[str, Provider] = {}
"""Field name → the choices of the record for that field (``objection_id`` → its open objections …).
Registered by :func:`provider` (``api.pages.choices``); a field name with a provider is a choice list
(a single id) or check boxes (a list of ids)."""


def provider(name: str) -> Callable[[Provider], Provider]:
    def deco(fn: Provider) -> Provider:
        PROVIDERS[name] = fn
        return fn
    return deco


# ----------------------------------------------------------------------------------- binding


Values = Mapping[str, Any]
"""The values shown: a flat mapping path → str or list[str] (a posted form), see :func:`flatten`."""


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested initial values (a payload-like dict) as the flat path → text mapping of a posted form."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, path + "."))
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for i, row in enumerate(value):
                out.update(flatten(row, f"{path}.{i}."))
        elif isinstance(value, list):
            out[path] = [str(v) for v in value]
        elif isinstance(value, bool):
            out[path] = "on" if value else "off"
        elif value is None:
            continue
        else:
            out[path] = str(value)
    return out


def _text(values: Values, path: str) -> str:
    v = values.get(path)
    if isinstance(v, list):
        return str(v[-1]) if v else ""
    return "" if v is None else str(v)


def _list(values: Values, path: str) -> list[str]:
    v = values.get(path)
    if v is None:
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


def _row_count(values: Values, path: str) -> int:
    prefix = path + "."
    seen = [int(k[len(prefix):].split(".", 1)[0]) for k in values
            if k.startswith(prefix) and k[len(prefix):].split(".", 1)[0].isdigit()]
    return max(seen) + 1 if seen else 0


def _default_text(d: FieldDef) -> str:
    if d.default is None or d.kind in ("rows", "group", "flags", "ids", "lines"):
        return ""
    if isinstance(d.default, bool):
        return "on" if d.default else "off"
    return str(d.default)


def bind(defs: Sequence[FieldDef], values: Values | None, errors: Mapping[str, str], ctx: FormContext | None,
         prefix: str = "", more: Mapping[str, int] | None = None, fresh: bool = True, scope: str = "") -> list[Bound]:
    """Fields ready to draw: ``values`` posted (or initial, flattened), ``errors`` by path; ``scope`` prefixes
    the element ids (one page, several forms)."""
    values = values or {}
    out = []
    for d in defs:
        path = prefix + d.name
        b = Bound(d=d, path=path, error=errors.get(path, ""), scope=scope)
        b.errors_below = any(k.startswith(path + ".") for k in errors)
        if d.kind in ("ref", "ids", "pick") and ctx is not None:
            b.choices = PROVIDERS[d.name](ctx)
        elif d.kind in ("choice", "flags"):
            b.choices = list(d.choices)
        if d.kind == "group":
            b.children = bind(d.children, values, errors, ctx, path + ".", more, fresh, scope)
        elif d.kind == "rows":
            filled = _row_count(values, path)
            count = filled + (more or {}).get(path, 0) + (BLANK_ROWS if fresh or not filled else 0)
            b.rows = [bind(d.children, values, errors, ctx, f"{path}.{i}.", more, fresh, scope)
                      for i in range(max(count, 1))]
        elif d.kind in ("ids",):
            b.values = _list(values, path)
        elif d.kind == "lines":
            b.value = "\n".join(_list(values, path)) if isinstance(values.get(path), list) else _text(values, path)
        elif d.kind == "flags":
            shown = {"on": "yes", "off": "no"}
            b.values = [shown.get(v, v) for v in (_text(values, f"{path}.{key}") for key, _label in d.choices)]
        elif d.kind == "token":
            b.value = _text(values, path) or uuid.uuid4().hex
        elif d.kind == "password":
            b.value = ""  # never sent back to the browser
        elif d.kind == "yesno":
            b.choices = list(d.choices)
            raw = _text(values, path)
            b.value = {"on": "true", "off": "false"}.get(raw, raw)
        else:
            b.value = _text(values, path) if (path in values or not fresh) else _default_text(d)
            if d.kind == "pick" and b.value and b.value not in {v for v, _label in b.choices}:
                b.choices = [*b.choices, (b.value, f"{b.value}(不在可选范围内,请重新选择)")]
        out.append(b)
    return out


# ----------------------------------------------------------------------------------- parsing


def _int_or_text(text: str) -> int | str:
    t = text.strip()
    if t.lstrip("-").isdigit() and len(t) <= 18:
        return int(t)
    return t


def _empty(value: Any) -> bool:
    if value is None or value == "" or value == [] or value == {}:
        return True
    if isinstance(value, dict):
        return all(_empty(v) for v in value.values())
    return False


def parse(defs: Sequence[FieldDef], form: Values, prefix: str = "") -> dict[str, Any]:
    """The payload a posted form stands for (what the JSON route's body would hold); blank rows and
    untouched optional fields are left out, so that the model's defaults and required-field checks apply."""
    out: dict[str, Any] = {}
    for d in defs:
        path = prefix + d.name
        value: Any
        if d.kind == "bool":
            value = _text(form, path).lower() in ("on", "true", "1", "yes")
            out[d.name] = value
            continue
        if d.kind == "yesno":
            answer = _text(form, path)
            if answer in ("true", "false"):
                out[d.name] = answer == "true"
            continue
        if d.kind == "group":
            value = parse(d.children, form, path + ".")
            if value or not d.optional:
                out[d.name] = value
            continue
        if d.kind == "rows":
            rows = []
            for i in range(_row_count(form, path)):
                row = parse(d.children, form, f"{path}.{i}.")
                raw = {k: v for k, v in row.items() if not isinstance(v, bool) or v}
                if not _empty(raw):
                    rows.append(row)
            if rows or d.required:
                out[d.name] = rows
            continue
        if d.kind == "flags":
            flags = {}
            for key, _label in d.choices:
                answer = _text(form, f"{path}.{key}")
                if answer in ("yes", "no"):
                    flags[key] = answer == "yes"
            if flags or d.required:
                out[d.name] = flags
            continue
        if d.kind == "ids":
            items: list[Any] = [_int_or_text(v) for v in _list(form, path) if v.strip()]
            if items or d.required:
                out[d.name] = items
            continue
        if d.kind == "lines":
            lines = [line.strip() for line in "\n".join(_list(form, path)).splitlines() if line.strip()]
            if lines or d.required:
                out[d.name] = [_int_or_text(x) for x in lines] if d.item_int else lines
            continue
        text = _text(form, path)
        if text.strip() == "":
            if d.required and d.kind in ("text", "textarea", "yuan", "password"):
                out[d.name] = text  # the model says whether empty text is allowed
            continue
        out[d.name] = _int_or_text(text) if d.kind in ("int", "ref") else text
    return out


def errors_of(exc: ValidationError, prefix: str = "") -> dict[str, str]:
    """Chinese messages (``api.errors``) by form path, e.g. ``attendees.0.name``."""
    out: dict[str, str] = {}
    for item in validation_items([dict(e) for e in exc.errors()]):
        loc = item["loc"]
        known = field_label(loc.rsplit(".", 1)[-1])
        msg = item["msg"]
        if known is not None and known.widget == "yuan" and msg == "格式不正确":
            msg = YUAN_FORMAT
        out.setdefault(prefix + loc if loc else "", msg)
    return out


YUAN_FORMAT = "金额格式不正确(应为非负数,以元为单位,最多两位小数,不加逗号,如 12000.00)"


def validate(model: type[BaseModel], payload: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """(the payload as the JSON route would pass it on, {}) or (None, errors by path)."""
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        return None, errors_of(exc)
    return parsed.model_dump(mode="json", exclude_unset=True), {}


def more_rows(form: Values) -> dict[str, int]:
    """{rows path: extra rows} when the user pressed a "more rows" button (else {})."""
    which = _text(form, MORE_KEY)
    return {which: MORE_ROWS} if which else {}
