"""Typed dataclasses <-> camelCase JSON objects, with strict shape checks.

On disk every field name is camelCase (DESIGN §4); in Python it is snake_case.
`from_json` raises `SchemaError` with a short reason for anything of the wrong
shape, so tolerant readers can mark a file damaged instead of crashing later
on a bad value. Unknown keys are ignored so older builds read newer files.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable
from typing import Any, ClassVar, Literal, Self, Union, get_args, get_origin

from app.jsonfile import SchemaError

Converter = Callable[[Any, str], Any]


def to_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _describe(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _int(value: Any, where: str) -> int:
    if isinstance(value, bool):
        raise SchemaError(f"{where} must be a whole number, not a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise SchemaError(f"{where} must be a whole number, got {_describe(value)}")


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SchemaError(f"{where} must be a number, got {_describe(value)}")
    try:
        result = float(value)
    except OverflowError:  # a 400-digit integer
        raise SchemaError(f"{where} must be a finite number") from None
    if not math.isfinite(result):
        raise SchemaError(f"{where} must be a finite number")
    return result


def _str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise SchemaError(f"{where} must be text, got {_describe(value)}")
    return value


def _bool(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise SchemaError(f"{where} must be true or false, got {_describe(value)}")
    return value


def _any(value: Any, where: str) -> Any:
    return value


def _converter_for(hint: Any) -> Converter:
    origin = get_origin(hint)
    if hint is int:
        return _int
    if hint is float:
        return _float
    if hint is str:
        return _str
    if hint is bool:
        return _bool
    if hint is Any:
        return _any
    if origin in (Union, types.UnionType):
        members = [arg for arg in get_args(hint) if arg is not type(None)]
        if len(members) != 1:
            raise TypeError(f"unsupported union {hint!r}")
        inner = _converter_for(members[0])

        def optional(value: Any, where: str) -> Any:
            return None if value is None else inner(value, where)

        return optional
    if origin is Literal:
        allowed = get_args(hint)

        def literal(value: Any, where: str) -> Any:
            if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
                raise SchemaError(f"{where} must be one of {', '.join(map(str, allowed))}")
            return value

        return literal
    if origin is list:
        (item_hint,) = get_args(hint)
        item = _converter_for(item_hint)

        def list_of(value: Any, where: str) -> list[Any]:
            if not isinstance(value, list):
                raise SchemaError(f"{where} must be a list, got {_describe(value)}")
            return [item(entry, f"{where}[{i}]") for i, entry in enumerate(value)]

        return list_of
    if origin is dict:
        def mapping(value: Any, where: str) -> dict[str, Any]:
            if not isinstance(value, dict):
                raise SchemaError(f"{where} must be an object, got {_describe(value)}")
            return dict(value)

        return mapping
    if isinstance(hint, type) and issubclass(hint, JsonRecord):
        record = hint

        def nested(value: Any, where: str) -> Any:
            return record.from_json(value, where)

        return nested
    raise TypeError(f"unsupported field type {hint!r}")


@dataclasses.dataclass(frozen=True)
class _FieldSpec:
    attr: str
    key: str
    convert: Converter
    required: bool


def _dump(value: Any) -> Any:
    if isinstance(value, JsonRecord):
        return value.to_json()
    if isinstance(value, list):
        return [_dump(item) for item in value]
    return value


class JsonRecord:
    """Mixin for dataclasses stored as camelCase JSON objects."""

    _specs: ClassVar[list[_FieldSpec] | None] = None

    @classmethod
    def _field_specs(cls) -> list[_FieldSpec]:
        specs = cls.__dict__.get("_specs")
        if specs is None:
            hints = typing.get_type_hints(cls)
            specs = []
            for field in dataclasses.fields(cls):  # type: ignore[arg-type]
                required = (
                    field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING
                )
                specs.append(
                    _FieldSpec(field.name, to_camel(field.name), _converter_for(hints[field.name]),
                               required)
                )
            cls._specs = specs
        return specs

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> Self:
        if not isinstance(data, dict):
            raise SchemaError(f"{where or 'top level'} must be an object, got {_describe(data)}")
        kwargs: dict[str, Any] = {}
        for spec in cls._field_specs():
            path = f"{where}.{spec.key}" if where else spec.key
            if spec.key in data:
                kwargs[spec.attr] = spec.convert(data[spec.key], path)
            elif spec.required:
                raise SchemaError(f"{path} is missing")
        return cls(**kwargs)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for spec in self._field_specs():
            value = getattr(self, spec.attr)
            if value is None:
                continue
            out[spec.key] = _dump(value)
        return out
