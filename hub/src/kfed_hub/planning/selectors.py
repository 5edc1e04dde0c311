"""Label selectors over cluster labels: kubectl's string syntax and Federation v1's JSON form.

Layer: ``kfed_hub.planning``, pure. Used by placement (``kfed.io/cluster-selector``) and by
overrides (a rule's ``clusterSelector``). It must not import the simulator's selector code (a
plugin). Errors say at which column the syntax goes wrong and what was expected there.

Syntax, as Kubernetes parses it: requirements separated by commas, all of which must hold:
``key=value`` (or ``==``), ``key!=value``, ``key in (a,b)``, ``key notin (a,b)``, ``key``
(exists), ``!key`` (does not exist), ``key>3`` and ``key<3`` (integer comparisons). As in
Kubernetes, ``!=`` and ``notin`` also match clusters without the label.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Operator = Literal["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"]
OPERATORS: tuple[Operator, ...] = ("In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt")

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_KEY = re.compile(rf"([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?{_NAME}")
_VALUE = re.compile(rf"({_NAME})?")
_INTEGER = re.compile(r"-?[0-9]+")
_SPECIAL = "!=,()<>"
_FORMS = "key=value, key!=value, key in (a,b), key notin (a,b), key, !key, key>n or key<n"


def _valid_key(key: str) -> bool:
    # A qualified name: an optional DNS-subdomain prefix (<= 253) and a name (<= 63).
    prefix, _, name = key.rpartition("/")
    return len(prefix) <= 253 and len(name) <= 63 and _KEY.fullmatch(key) is not None


class SelectorError(ValueError):
    """A label selector that does not parse; the message says where and what was expected."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One condition on a cluster's labels."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet this requirement (Kubernetes semantics)."""
        present = self.key in labels
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        # Gt and Lt: a label that is not an integer matches neither.
        if not present or not _INTEGER.fullmatch(labels[self.key]):
            return False
        have, bound = int(labels[self.key]), int(self.values[0])
        return have > bound if self.operator == "Gt" else have < bound

    def __str__(self) -> str:
        listed = ",".join(self.values)
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        if self.operator in ("Gt", "Lt"):
            return f"{self.key}{'>' if self.operator == 'Gt' else '<'}{listed}"
        if len(self.values) == 1:
            return f"{self.key}{'=' if self.operator == 'In' else '!='}{listed}"
        return f"{self.key} {self.operator.lower()} ({listed})"


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSelector:
    """Requirements that must all hold; no requirement selects every cluster."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` meet every requirement."""
        return all(requirement.matches(labels) for requirement in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(requirement) for requirement in self.requirements)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "end" or the operator/punctuation itself
    text: str
    column: int  # 1-based, for people


def _tokens(text: str) -> list[_Token]:
    tokens, index = [], 0
    while index < len(text):
        if text[index].isspace():
            index += 1
        elif text.startswith(("!=", "=="), index):
            tokens.append(_Token(text[index : index + 2], text[index : index + 2], index + 1))
            index += 2
        elif text[index] in _SPECIAL:
            tokens.append(_Token(text[index], text[index], index + 1))
            index += 1
        else:
            end = index
            while end < len(text) and not text[end].isspace() and text[end] not in _SPECIAL:
                end += 1
            tokens.append(_Token("word", text[index:end], index + 1))
            index = end
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index = min(self.index + 1, len(self.tokens) - 1)
        return token

    def fail(self, problem: str, token: _Token) -> SelectorError:
        found = "the end" if token.kind == "end" else repr(token.text)
        return SelectorError(
            f"{problem}, found {found} at column {token.column} of selector {self.text!r} "
            f"(requirements are {_FORMS}, separated by commas)"
        )

    def selector(self) -> LabelSelector:
        requirements = []
        if self.peek().kind != "end":
            requirements.append(self.requirement())
            while (token := self.take()).kind != "end":
                if token.kind != ",":
                    raise self.fail("expected ',' or the end after a requirement", token)
                requirements.append(self.requirement())
        return LabelSelector(requirements=tuple(requirements))

    def key(self) -> str:
        token = self.take()
        if token.kind != "word":
            raise self.fail("expected a label key", token)
        if not _valid_key(token.text):
            raise self.fail(
                "expected a label key ([prefix/]name: letters, digits, '-', '_', '.', starting "
                "and ending with a letter or digit)",
                token,
            )
        return token.text

    def value(self, *, integer: bool = False) -> str:
        token = self.peek()
        if token.kind != "word":
            if integer:
                raise self.fail("expected an integer", token)
            return ""  # "key=" means the empty value, as in Kubernetes
        self.take()
        if integer:
            if not _INTEGER.fullmatch(token.text):
                raise self.fail("expected an integer", token)
            return token.text
        if len(token.text) > 63 or not _VALUE.fullmatch(token.text):
            raise self.fail(
                "expected a label value (at most 63 letters, digits, '-', '_', '.', starting "
                "and ending with a letter or digit)",
                token,
            )
        return token.text

    def requirement(self) -> Requirement:
        if self.peek().kind == "!":
            self.take()
            return Requirement(key=self.key(), operator="DoesNotExist")
        key = self.key()
        token = self.peek()
        if token.kind in (",", "end"):
            return Requirement(key=key, operator="Exists")
        self.take()
        if token.kind in ("=", "==", "!="):
            operator: Operator = "NotIn" if token.kind == "!=" else "In"
            return Requirement(key=key, operator=operator, values=(self.value(),))
        if token.kind in (">", "<"):
            operator = "Gt" if token.kind == ">" else "Lt"
            return Requirement(key=key, operator=operator, values=(self.value(integer=True),))
        if token.kind == "word" and token.text in ("in", "notin"):
            operator = "In" if token.text == "in" else "NotIn"
            return Requirement(key=key, operator=operator, values=self.value_list(token.text))
        raise self.fail(f"expected an operator (=, ==, !=, in, notin, >, <) after {key!r}", token)

    def value_list(self, operator: str) -> tuple[str, ...]:
        if (token := self.take()).kind != "(":
            raise self.fail(f"expected '(' after {operator!r}", token)
        if self.peek().kind == ")":
            raise self.fail(
                f"expected at least one value in the parentheses of {operator!r}", self.peek()
            )
        values = []
        while True:
            values.append(self.value())
            token = self.take()
            if token.kind == ")":
                return tuple(sorted(set(values)))
            if token.kind != ",":
                raise self.fail("expected ',' or ')' in a list of values", token)


def parse_selector(text: str) -> LabelSelector:
    """The selector written as ``text`` in kubectl syntax; "" selects everything.

    Raises :class:`SelectorError` saying at which column the syntax goes wrong.
    """
    return _Parser(text).selector()


def legacy_selector(data: Any) -> LabelSelector:
    """Federation v1's selector: a list of ``{"key", "operator", "values"}`` objects.

    Operators are ``In``, ``NotIn``, ``Exists``, ``DoesNotExist``, ``Gt`` and ``Lt`` (any case,
    as Federation v1 accepted). Raises :class:`SelectorError` naming the entry at fault.
    """
    if not isinstance(data, list):
        raise SelectorError(f"expected a JSON list of requirements, got {type(data).__name__}")
    by_name = {operator.lower(): operator for operator in OPERATORS}
    requirements = []
    for number, entry in enumerate(data):
        where = f"requirement {number}"
        if not isinstance(entry, Mapping):
            raise SelectorError(f"{where}: expected an object with key, operator and values")
        key, name, values = entry.get("key"), entry.get("operator"), entry.get("values") or []
        if not isinstance(key, str) or not _valid_key(key):
            raise SelectorError(f"{where}: 'key' must be a label key, got {key!r}")
        operator = by_name.get(name.lower()) if isinstance(name, str) else None
        if operator is None:
            raise SelectorError(
                f"{where}: 'operator' must be one of {', '.join(OPERATORS)}, got {name!r}"
            )
        if not isinstance(values, list) or not all(
            isinstance(v, str) and len(v) <= 63 and (_VALUE.fullmatch(v) or _INTEGER.fullmatch(v))
            for v in values
        ):
            raise SelectorError(f"{where}: 'values' must be a list of label values")
        if operator in ("Exists", "DoesNotExist") and values:
            raise SelectorError(f"{where}: operator {operator} takes no values, got {values}")
        if operator in ("In", "NotIn") and not values:
            raise SelectorError(f"{where}: operator {operator} needs at least one value")
        if operator in ("Gt", "Lt") and (len(values) != 1 or not _INTEGER.fullmatch(values[0])):
            raise SelectorError(
                f"{where}: operator {operator} needs exactly one integer value, got {values}"
            )
        if operator in ("In", "NotIn"):
            values = sorted(set(values))
        requirements.append(Requirement(key=key, operator=operator, values=tuple(values)))
    return LabelSelector(requirements=tuple(requirements))
