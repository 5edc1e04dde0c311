"""Label and field selectors of the simulated API server, parsed and matched like kube-apiserver.

Layer: pure (beside ``validation``, above ``names``). It turns the ``?labelSelector=`` query
string (and the ``{matchLabels, matchExpressions}`` object form of workload specs) into
immutable selector values that match plain label mappings; field selectors live in
:mod:`kfed_local.sim.field_selectors` and are re-exported here, so callers import both kinds
from this module. Every parse failure raises
:class:`~kfed_local.sim.errors.SelectorError` worded as kube-apiserver 1.37 words it; the API
layer answers it as ``400 BadRequest``. It reads no objects other than those it is handed, keeps
no state and must not import ``validation`` (the layer contract keeps the two independent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from kfed_local.sim.errors import FieldError, SelectorError
from kfed_local.sim.field_selectors import (
    FieldRequirement,
    FieldSelector,
    escape_field_value,
    object_fields,
    parse_field_selector,
    supported_field_labels,
)
from kfed_local.sim.names import is_qualified_name, is_valid_label_value

__all__ = [
    "EVERYTHING",
    "NOTHING",
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "Operator",
    "Requirement",
    "escape_field_value",
    "from_label_selector_object",
    "new_requirement",
    "object_fields",
    "parse_field_selector",
    "parse_label_selector",
    "selector_from_set",
    "supported_field_labels",
]

Operator = Literal["in", "notin", "=", "==", "!=", "exists", "!", "gt", "lt"]
"""Requirement operators, spelt as Go's ``selection.Operator`` values (``!`` is DoesNotExist)."""

_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
_SELECTOR_OPERATORS: Mapping[str, Operator] = {
    "In": "in",
    "NotIn": "notin",
    "Exists": "exists",
    "DoesNotExist": "!",
}


def _go_quote(text: str) -> str:
    # Go's %q; JSON quoting agrees with it for every printable character.
    return json.dumps(text, ensure_ascii=False)


def _aggregate(errors: list[FieldError]) -> str:
    messages = list(dict.fromkeys(e.message() for e in errors))
    return messages[0] if len(messages) == 1 else "[" + ", ".join(messages) + "]"


_INT64 = re.compile("[+-]?[0-9]+")


def _is_int(text: str) -> bool:
    # Go's strconv.ParseInt(text, 10, 64): ASCII digits only, no spaces or underscores.
    return bool(_INT64.fullmatch(text)) and -(2**63) <= int(text) < 2**63


# -- label selectors -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One condition of a label selector: ``key operator values``."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True if ``labels`` satisfy this requirement."""
        present = self.key in labels
        if self.operator in ("in", "=", "=="):
            return present and labels[self.key] in self.values
        if self.operator in ("notin", "!="):
            return not present or labels[self.key] not in self.values
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        # gt / lt: both sides must be integers, or the requirement does not match.
        if not present or len(self.values) != 1:
            return False
        if not (_is_int(labels[self.key]) and _is_int(self.values[0])):
            return False
        have, want = int(labels[self.key]), int(self.values[0])
        return have > want if self.operator == "gt" else have < want

    def to_string(self) -> str:
        """The canonical text (``env in (prod,qa)``, ``!partition``), values sorted."""
        if self.operator == "!":
            return "!" + self.key
        if self.operator == "exists":
            return self.key
        # Duplicates never change a match; Go prints them, but "(,,)" would not parse back.
        joined = ",".join(sorted(set(self.values)))
        if self.operator in ("in", "notin"):
            return f"{self.key} {self.operator} ({joined})"
        symbol = {"gt": ">", "lt": "<"}.get(self.operator, self.operator)
        return f"{self.key}{symbol}{joined}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelector:
    """The AND of requirements, kept sorted by key as kube-apiserver keeps them.

    ``nothing`` marks the selector of an absent (nil) ``spec.selector`` object, which matches no
    labels at all; an empty selector matches every label set. A Service's plain-map selector is
    different again: an empty or absent one means "this Service selects no pods" and its
    callers handle that before asking for a selector (see :func:`selector_from_set`).
    """

    requirements: tuple[Requirement, ...] = ()
    nothing: bool = False

    @property
    def empty(self) -> bool:
        """True if the selector does not restrict anything (matches every label set)."""
        return not self.requirements and not self.nothing

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True if ``labels`` satisfy every requirement."""
        if self.nothing:
            return False
        return all(r.matches(labels) for r in self.requirements)

    def to_string(self) -> str:
        """The canonical string form (``status.selector`` of a scale, kubectl's display)."""
        return ",".join(r.to_string() for r in self.requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """The single value ``key`` must have for a match, if the selector pins it."""
        for requirement in self.requirements:
            if requirement.key == key:
                exact = requirement.operator in ("=", "==", "in")
                if exact and len(requirement.values) == 1:
                    return requirement.values[0]
                return None
        return None


EVERYTHING = LabelSelector()
"""Matches every label set."""
NOTHING = LabelSelector(nothing=True)
"""Matches no label set (the nil selector)."""


def _sorted_selector(requirements: Iterable[Requirement]) -> LabelSelector:
    return LabelSelector(requirements=tuple(sorted(requirements, key=lambda r: r.key)))


def new_requirement(key: str, operator: Operator, values: Iterable[str] = ()) -> Requirement:
    """A validated requirement; raises :class:`SelectorError` as ``labels.NewRequirement`` does."""
    vals = list(values)
    errors: list[FieldError] = []
    key_errors = is_qualified_name(key)
    if key_errors:
        errors.append(
            FieldError(
                type="FieldValueInvalid", field="key", value=key, detail="; ".join(key_errors)
            )
        )
    shown: Any = vals if vals else None  # Go prints a nil slice as null
    problem = ""
    if operator in ("in", "notin") and not vals:
        problem = "for 'in', 'notin' operators, values set can't be empty"
    elif operator in ("=", "==", "!=") and len(vals) != 1:
        problem = "exact-match compatibility requires one single value"
    elif operator in ("exists", "!") and vals:
        problem = "values set must be empty for exists and does not exist"
    elif operator in ("gt", "lt") and len(vals) != 1:
        problem = "for 'Gt', 'Lt' operators, exactly one value is required"
    if problem:
        errors.append(
            FieldError(type="FieldValueInvalid", field="values", value=shown, detail=problem)
        )
    if operator in ("gt", "lt"):
        errors.extend(
            FieldError(
                type="FieldValueInvalid",
                field=f"values[{i}]",
                value=value,
                detail="for 'Gt', 'Lt' operators, the value must be an integer",
            )
            for i, value in enumerate(vals)
            if not _is_int(value)
        )
    for i, value in enumerate(vals):
        msgs = is_valid_label_value(value)
        if msgs:
            errors.append(
                FieldError(
                    type="FieldValueInvalid",
                    field=f"values[{i}][{key}]",
                    value=value,
                    detail="; ".join(msgs),
                )
            )
    if errors:
        raise SelectorError(_aggregate(errors))
    return Requirement(key=key, operator=operator, values=tuple(vals))


_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS = ("!=", "==", "!", "=", "(", ")", ",", ">", "<")
_IDENT = "identifier"
_END = "end"


def _lex(text: str) -> list[tuple[str, str]]:
    """Tokens as (kind, literal); kinds are the symbols, ``in``, ``notin``, identifier, end."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= len(text):
            tokens.append((_END, ""))
            return tokens
        if text[pos] in _SPECIAL:
            symbol = next(s for s in _SYMBOLS if text.startswith(s, pos))
            tokens.append((symbol, symbol))
            pos += len(symbol)
            continue
        start = pos
        while pos < len(text) and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        tokens.append((word if word in ("in", "notin") else _IDENT, word))


class _Parser:
    """Recursive descent over the tokens, with kube-apiserver's messages at each failure."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def peek(self, values: bool = True) -> tuple[str, str]:
        kind, literal = self.tokens[self.pos]
        # Where a key or value is expected, the keywords are plain identifiers ("in in (in)").
        if values and kind in ("in", "notin"):
            kind = _IDENT
        return kind, literal

    def take(self, values: bool = True) -> tuple[str, str]:
        token = self.peek(values)
        self.pos += 1
        return token

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            kind, literal = self.peek()
            if kind == _END:
                return requirements
            if kind not in (_IDENT, "!"):
                raise SelectorError(
                    f"found '{literal}', expected: !, identifier, or 'end of string'"
                )
            try:
                requirements.append(self.requirement())
            except SelectorError as exc:
                raise SelectorError(f"unable to parse requirement: {exc}") from None
            kind, literal = self.take()
            if kind == _END:
                return requirements
            if kind != ",":
                raise SelectorError(f"found '{literal}', expected: ',' or 'end of string'")
            kind, literal = self.peek()
            if kind not in (_IDENT, "!"):
                raise SelectorError(f"found '{literal}', expected: identifier after ','")

    def requirement(self) -> Requirement:
        operator: Operator | None = None
        kind, literal = self.take()
        if kind == "!":
            operator = "!"
            kind, literal = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        key_errors = is_qualified_name(literal)
        if key_errors:
            # The parser checks the key before it has a field path: Go prints a nil path.
            error = FieldError(
                type="FieldValueInvalid", field="<nil>", value=literal, detail="; ".join(key_errors)
            )
            raise SelectorError(error.message())
        key = literal
        if operator is None and self.peek()[0] in (_END, ","):
            operator = "exists"
        if operator is not None:
            return new_requirement(key, operator)
        kind, literal = self.take(values=False)
        binary: dict[str, Operator] = {
            "in": "in",
            "notin": "notin",
            "=": "=",
            "==": "==",
            "!=": "!=",
            ">": "gt",
            "<": "lt",
        }
        if kind not in binary:
            raise SelectorError(f"found '{literal}', expected: {_BINARY_OPERATORS}")
        operator = binary[kind]
        values = self.set_values() if operator in ("in", "notin") else self.exact_value()
        return new_requirement(key, operator, sorted(values))

    def set_values(self) -> set[str]:
        kind, literal = self.take()
        if kind != "(":
            raise SelectorError(f"found '{literal}' expected: '('")
        kind, literal = self.peek()
        if kind == ")":
            self.take()
            return {""}
        if kind not in (_IDENT, ","):
            raise SelectorError(f"found '{literal}', expected: ',', ')' or identifier")
        values = self.identifiers()
        if self.take()[0] != ")":
            raise SelectorError(f"found '{literal}', expected: ')'")
        return values

    def identifiers(self) -> set[str]:
        # "(a,,b)", "(,a)" and "(a,)" all contain the empty value, as in kube-apiserver.
        values: set[str] = set()
        while True:
            kind, literal = self.take()
            if kind == _IDENT:
                values.add(literal)
                next_kind, next_literal = self.peek()
                if next_kind == ",":
                    continue
                if next_kind == ")":
                    return values
                raise SelectorError(f"found '{next_literal}', expected: ',' or ')'")
            if kind != ",":
                raise SelectorError(f"found '{literal}', expected: ',', or identifier")
            if not values:
                values.add("")
            next_kind = self.peek()[0]
            if next_kind == ")":
                values.add("")
                return values
            if next_kind == ",":
                self.take()
                values.add("")

    def exact_value(self) -> set[str]:
        if self.peek()[0] in (_END, ","):
            return {""}
        kind, literal = self.take()
        if kind != _IDENT:
            raise SelectorError(f"found '{literal}', expected: identifier")
        return {literal}


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the string form (``app=web,tier in (fe,be),!canary``); empty text matches all."""
    return _sorted_selector(_Parser(text).parse())


def from_label_selector_object(selector: Mapping[str, Any] | None) -> LabelSelector:
    """The selector of a ``{matchLabels, matchExpressions}`` object (Deployment, ReplicaSet...).

    ``None`` (the field is absent) gives :data:`NOTHING`; an object with neither part gives
    :data:`EVERYTHING`. Invalid keys, values or operators raise :class:`SelectorError`.
    """
    if selector is None:
        return NOTHING
    match_labels = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not match_labels and not expressions:
        return EVERYTHING
    requirements = [
        new_requirement(_text(key), "=", [_text(value)])
        for key, value in sorted(match_labels.items())
    ]
    for expression in expressions:
        raw_operator = expression.get("operator")
        operator = _SELECTOR_OPERATORS.get(raw_operator) if isinstance(raw_operator, str) else None
        if operator is None:
            shown = raw_operator if isinstance(raw_operator, str) else ""
            raise SelectorError(f"{_go_quote(shown)} is not a valid label selector operator")
        values = [_text(v) for v in expression.get("values") or ()]
        requirements.append(new_requirement(_text(expression.get("key", "")), operator, values))
    return _sorted_selector(requirements)


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise SelectorError(f"invalid label selector: {json.dumps(value)} is not a string")
    return value


def selector_from_set(labels: Mapping[str, str]) -> LabelSelector:
    """The selector matching exactly ``labels`` (no validation; empty matches everything)."""
    return _sorted_selector(
        Requirement(key=key, operator="=", values=(value,)) for key, value in labels.items()
    )
