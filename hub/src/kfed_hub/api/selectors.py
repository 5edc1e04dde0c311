"""Label selectors of list requests (``?labelSelector=app=nginx,tier!=db``).

Layer: ``kfed_hub.api``, pure. Equality-based requirements (``=``, ``==``, ``!=``), existence
(``key``, ``!key``) and the set forms ``key in (a,b)`` / ``key notin (a,b)`` as Kubernetes
parses them; an unparsable selector raises :class:`SelectorError` with the offending part.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


class SelectorError(ValueError):
    """A label selector that does not parse."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Requirement:
    """One requirement: ``op`` is one of ``=``, ``!=``, ``in``, ``notin``, ``exists``, ``!``."""

    key: str
    op: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and labels[self.key] in self.values
        return not present or labels[self.key] not in self.values  # != and notin


_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_EQUALITY = re.compile(rf"\s*({_KEY})\s*(==|!=|=)\s*({_VALUE})\s*")
_SET = re.compile(rf"\s*({_KEY})\s+(in|notin)\s+\(([^()]*)\)\s*")
_EXISTS = re.compile(rf"\s*(!?)\s*({_KEY})\s*")


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


def parse_selector(text: str) -> list[Requirement]:
    """The requirements of ``text`` (all must hold); an empty selector matches everything."""
    if not text.strip():
        return []
    requirements = []
    for part in _split(text):
        if match := _EQUALITY.fullmatch(part):
            op = "!=" if match.group(3) == "!=" else "="
            requirements.append(
                Requirement(key=match.group(1), op=op, values=frozenset([match.group(4)]))
            )
        elif match := _SET.fullmatch(part):
            values = frozenset(v.strip() for v in match.group(4).split(","))
            requirements.append(Requirement(key=match.group(1), op=match.group(3), values=values))
        elif match := _EXISTS.fullmatch(part):
            op = "!" if match.group(1) else "exists"
            requirements.append(Requirement(key=match.group(2), op=op))
        else:
            raise SelectorError(
                f"unable to parse requirement {part.strip()!r} of label selector {text!r}: use "
                "key=value, key!=value, key, !key, key in (a,b) or key notin (a,b)"
            )
    return requirements


def selects(requirements: Sequence[Requirement], labels: Mapping[str, str]) -> bool:
    """Whether ``labels`` meet every requirement."""
    return all(r.matches(labels) for r in requirements)
