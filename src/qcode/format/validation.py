"""pydantic validation errors → ``Problem`` records at the line of the offending key.

Messages are keyed on pydantic's stable error ``type`` (never on its English text), and
unknown keys get a did-you-mean from the keys the model allows at that place.
"""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from qcode.format.names import did_you_mean
from qcode.format.yamlio import Loc, YamlDocument
from qcode.problems import Problems


class StrictModel(BaseModel):
    """The base of every model of a file people write: unknown keys are errors, values are
    not coerced (``"yes"`` is not a boolean), and a loaded model does not change."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def allowed_keys(model: type[BaseModel], loc: Loc) -> list[str]:
    """The field names of the model that sits at ``loc`` inside ``model``."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            current = field.annotation
            continue
        origin = typing.get_origin(current)
        args = typing.get_args(current)
        if origin in (list, tuple) and isinstance(part, int) and args:
            current = args[0]
        elif origin is dict and isinstance(part, str) and len(args) == 2:
            current = args[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _unwrap(args[0])
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    return annotation


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_TYPE_WORDS = {
    "string_type": "text",
    "int_type": "a whole number",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "float_type": "a number",
}


def validate(model: type[BaseModel], doc: YamlDocument, rel: str, problems: Problems,
             prefix: str) -> Any | None:
    """Validate ``doc.data`` against ``model``; record every error, return None on failure."""
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        report_validation_error(exc, model, doc, rel, problems, prefix)
        return None


def report_validation_error(exc: ValidationError, model: type[BaseModel], doc: YamlDocument,
                            rel: str, problems: Problems, prefix: str) -> None:
    seen: set[tuple[Loc, str]] = set()
    for err in exc.errors(include_url=False):
        kind = err["type"]
        raw = tuple(err["loc"])
        # An unknown key is the user's own text, "[" and all: only the path to it may hold
        # pydantic's union member names.
        loc = (_clean_loc(raw[:-1]) + raw[-1:] if kind == "extra_forbidden" and raw
               else _clean_loc(raw))
        if (loc, kind) in seen:
            continue
        seen.add((loc, kind))
        line = doc.line_for(loc)
        where = format_loc(loc[:-1]) if loc[:-1] else "the top level"
        if kind == "invalid_key" or err["loc"][-1:] == ("[key]",):
            problems.error(f"{prefix}-schema", rel, line,
                           f"key {_describe(err.get('input'))} in {where} must be text",
                           "write the key as text (in quotes if need be, e.g. \"5\":); an "
                           "empty key or ~ is null")
        elif kind == "extra_forbidden":
            key = loc[-1]
            allowed = allowed_keys(model, loc[:-1])
            guess = did_you_mean(str(key), allowed)
            hint = (f"did you mean {guess[0]!r}?" if guess
                    else f"allowed keys: {', '.join(allowed)}" if allowed else None)
            problems.error(f"{prefix}-unknown-key", rel, line,
                           f"unknown key {key!r} in {where}", hint)
        elif kind == "missing":
            problems.error(f"{prefix}-schema", rel, line,
                           f"missing required key {loc[-1]!r} in {where}",
                           f"add `{loc[-1]}:`")
        elif kind in _TYPE_WORDS:
            problems.error(f"{prefix}-schema", rel, line,
                           f"{format_loc(loc)} must be {_TYPE_WORDS[kind]}, "
                           f"not {_describe(err.get('input'))}")
        else:
            problems.error(f"{prefix}-schema", rel, line,
                           f"{format_loc(loc)}: {err['msg']} (got {_describe(err.get('input'))})")


def _clean_loc(loc: tuple) -> Loc:
    # pydantic inserts union member names ("str", "function-after[...]") into loc.
    return tuple(p for p in loc if isinstance(p, int)
                 or ("[" not in str(p) and str(p) not in ("str", "int", "float", "bool")))
