"""A JSONPath subset (client-go's, as CRD printer columns use it) and Go's printing of its values.

Layer: pure (below :mod:`kfed_local.sim.tables`, which evaluates ``additionalPrinterColumns``
with it). :func:`parse_json_path` reads ``.a.b``, ``['k.e.y']``, indexes, slices, wildcards and
``[?(@.type=="Ready")]`` filters; :func:`find_json_path` evaluates them on plain JSON values and
fails (:class:`JsonPathError`) where client-go's evaluator fails. :func:`go_print` prints a found
value as client-go does: scalars as Go's ``fmt``, objects and arrays as compact
``encoding/json`` (sorted keys, HTML characters escaped, Go's float layout).

It knows nothing of Tables, kinds or printers, does no I/O, keeps no state besides the parse
cache and never mutates the values it reads.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["JsonPathError", "Step", "find_json_path", "go_print", "parse_json_path"]


class JsonPathError(ValueError):
    """A JSONPath this subset cannot parse, or that fails on the data (like a Go error)."""


@dataclass(frozen=True, slots=True)
class _Field:
    name: str


@dataclass(frozen=True, slots=True)
class _Wildcard:
    pass


@dataclass(frozen=True, slots=True)
class _Index:
    start: int | None
    stop: int | None = None
    step: int | None = None
    single: bool = True


@dataclass(frozen=True, slots=True)
class _Literal:
    value: str | int | float | bool


@dataclass(frozen=True, slots=True)
class _Filter:
    left: tuple[Step, ...]
    operator: str
    right: tuple[Step, ...] | _Literal | None


Step = _Field | _Wildcard | _Index | _Filter
_OPERATORS = frozenset({"==", "!=", "<", ">", "<=", ">="})
_NAME_END = frozenset(" .,[]$@{}()")


@functools.lru_cache(maxsize=1024)
def parse_json_path(text: str) -> tuple[Step, ...]:
    """Parse ``.a.b``, ``['k.e.y']``, ``[0]``, ``[-1]``, ``[1:3]``, ``[*]``, ``.*`` and filters
    ``[?(@.type=="Ready")]`` (operators ``== != < > <= >=``, or ``[?(@.x)]`` for presence).

    Braces and a leading ``$`` are optional; ``\\.`` escapes a dot inside a field name.
    """
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1].strip()
    return _parse_steps(body.removeprefix("$"))


def _parse_steps(body: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    index = 0
    while index < len(body):
        char = body[index]
        if body.startswith("..", index):
            raise JsonPathError("recursive descent (..) is not supported")
        if char == ".":
            name, index = _read_name(body, index + 1)
            if name == "*":
                steps.append(_Wildcard())
            elif name:
                steps.append(_Field(name))
        elif char == "[":
            close = _closing_bracket(body, index)
            steps.append(_parse_bracket(body[index + 1 : close].strip()))
            index = close + 1
        else:
            raise JsonPathError(f"unexpected {char!r} in JSONPath {body!r}")
    return tuple(steps)


def _read_name(body: str, index: int) -> tuple[str, int]:
    name: list[str] = []
    while index < len(body) and body[index] not in _NAME_END:
        if body[index] == "\\" and index + 1 < len(body):
            index += 1
        name.append(body[index])
        index += 1
    return "".join(name), index


def _closing_bracket(body: str, start: int) -> int:
    depth, quote, index = 0, "", start
    while index < len(body):
        char = body[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth == 0:
                return index
        index += 1
    raise JsonPathError(f"unclosed [ in JSONPath {body!r}")


def _parse_int(text: str) -> int:
    if not re.fullmatch(r"-?\d+", text.strip()):
        raise JsonPathError(f"invalid array index {text!r}")
    return int(text)


def _parse_bracket(content: str) -> Step:
    if content == "*":
        return _Wildcard()
    if content.startswith("?(") and content.endswith(")"):
        return _parse_filter(content[2:-1].strip())
    if len(content) >= 2 and content[0] == content[-1] and content[0] in "'\"":
        return _Field(content[1:-1])
    if ":" in content:
        parts = content.split(":")
        if len(parts) > 3:
            raise JsonPathError(f"invalid slice [{content}]")
        bounds = [_parse_int(part) if part.strip() else None for part in parts]
        bounds += [None] * (3 - len(bounds))
        return _Index(start=bounds[0], stop=bounds[1], step=bounds[2], single=False)
    return _Index(start=_parse_int(content))


def _parse_filter(expression: str) -> _Filter:
    match = re.fullmatch(r"([^!<>=]+)([!<>=]+)(.+)", expression, re.DOTALL)
    if match is None:
        return _Filter(left=_relative(expression), operator="exists", right=None)
    left, operator, right = (part.strip() for part in match.groups())
    if operator not in _OPERATORS:
        raise JsonPathError(f"unrecognized filter operator {operator!r}")
    return _Filter(left=_relative(left), operator=operator, right=_operand(right))


def _relative(text: str) -> tuple[Step, ...]:
    if not text.startswith("@"):
        raise JsonPathError(f"a filter compares paths starting with @, not {text!r}")
    return _parse_steps(text[1:])


def _operand(text: str) -> tuple[Step, ...] | _Literal:
    if text.startswith("@"):
        return _relative(text)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return _Literal(text[1:-1])
    if text in ("true", "false"):
        return _Literal(text == "true")
    if re.fullmatch(r"-?\d+", text):
        return _Literal(int(text))
    if re.fullmatch(r"-?\d+\.\d*|-?\d*\.\d+", text):
        return _Literal(float(text))
    raise JsonPathError(f"unrecognized filter operand {text!r}")


def find_json_path(steps: tuple[Step, ...], data: object) -> list[Any]:
    """Every value ``steps`` reach in ``data``; missing keys and indexes reach nothing."""
    values: list[Any] = [data]
    for step in steps:
        values = [found for value in values for found in _apply(step, value)]
    return values


def _apply(step: Step, value: object) -> list[Any]:
    if isinstance(step, _Field):
        return [value[step.name]] if isinstance(value, Mapping) and step.name in value else []
    if isinstance(step, _Wildcard):
        if isinstance(value, Mapping):
            return list(value.values())
        return list(value) if isinstance(value, list) else []
    if value is None:
        return []
    if not isinstance(value, list):
        raise JsonPathError(f"{type(value).__name__} is not an array and cannot be indexed")
    if isinstance(step, _Index):
        if step.single:
            start = step.start or 0
            position = start + len(value) if start < 0 else start
            return [value[position]] if 0 <= position < len(value) else []
        try:
            return value[step.start : step.stop : step.step]
        except ValueError as exc:  # a zero step
            raise JsonPathError(str(exc)) from None
    return [item for item in value if _passes(step, item)]


def _passes(step: _Filter, item: object) -> bool:
    lefts = find_json_path(step.left, item)
    if step.operator == "exists":
        return bool(lefts)
    if not lefts:
        return False
    if isinstance(step.right, _Literal):
        rights: list[Any] = [step.right.value]
    else:
        rights = find_json_path(step.right or (), item)
    if len(lefts) != 1 or len(rights) != 1:
        raise JsonPathError("can only compare one element at a time")
    return _compare(step.operator, lefts[0], rights[0])


def _comparable_kind(value: object) -> str:
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("string", str)):
        if isinstance(value, types):
            return kind
    raise JsonPathError(f"cannot compare {type(value).__name__} values")


def _compare(operator: str, left: Any, right: Any) -> bool:
    kind = _comparable_kind(left)
    if kind != _comparable_kind(right):
        raise JsonPathError("incompatible types for comparison")  # Go's template refuses too
    if operator == "==":
        return bool(left == right)
    if operator == "!=":
        return bool(left != right)
    if kind == "bool":
        raise JsonPathError("booleans cannot be ordered")
    return bool(
        {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[operator]
    )


# -- Go's rendering of JSON values -------------------------------------------------------------


def go_print(value: object) -> str:
    """A JSON value as client-go's jsonpath prints it: scalars as Go's ``fmt.Fprint``, objects and
    arrays as compact ``encoding/json``, a JSON null as ``<no value>``."""
    if value is None:
        return "<no value>"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value, for_json=False)
    return _go_json(value)


def _go_json(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value, for_json=True)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
            text = text.replace(char, escape)  # Go escapes HTML-significant characters
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    if isinstance(value, Mapping):
        items = sorted((str(key), item) for key, item in value.items())
        return "{" + ",".join(f"{_go_json(key)}:{_go_json(item)}" for key, item in items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_go_json(item) for item in value) + "]"
    return _go_json(str(value))


def _go_float(number: float, *, for_json: bool) -> str:
    """Shortest round-trip digits laid out as Go's ``%v`` (``for_json``: as ``encoding/json``)."""
    if number != number or number in (float("inf"), float("-inf")):
        return {"nan": "NaN", "inf": "+Inf", "-inf": "-Inf"}[repr(number)]
    sign = "-" if str(number).startswith("-") else ""
    _, digit_tuple, exponent = Decimal(repr(abs(number))).as_tuple()
    all_digits = "".join(map(str, digit_tuple))
    point = len(all_digits) + int(exponent)  # where the decimal point goes, from the left
    digits = all_digits.rstrip("0")
    if not digits:
        return sign + "0"
    magnitude = point - 1
    if for_json:
        scientific = abs(number) < 1e-6 or abs(number) >= 1e21
    else:
        scientific = magnitude < -4 or magnitude >= 6
    if scientific:
        mantissa = digits[0] + (f".{digits[1:]}" if len(digits) > 1 else "")
        width = 1 if for_json and magnitude < 0 else 2  # json trims e-07 to e-7
        return f"{sign}{mantissa}e{'-' if magnitude < 0 else '+'}{abs(magnitude):0{width}d}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return sign + digits + "0" * (point - len(digits))
    return f"{sign}{digits[:point]}.{digits[point:]}"
