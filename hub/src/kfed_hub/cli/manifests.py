"""Reading manifests for ``kfed apply|create|delete -f``: files, directories and stdin.

Layer: the CLI shell (file reads only; nothing is sent). Every file is parsed before anything is
sent, so a malformed file stops the whole command with nothing half-applied. YAML files may hold
several documents; JSON files one object; ``kind: List`` objects are expanded into their items.
A directory contributes its ``*.yaml``, ``*.yml`` and ``*.json`` files in name order.

Error messages name the file and the line and column, never the text there (it may be a Secret).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

SUFFIXES = (".yaml", ".yml", ".json")
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ManifestError(Exception):
    """A file that cannot be used; ``str()`` is the whole message (``error: ...`` is added)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Document:
    """One Kubernetes object read from ``source`` (a path as given, or ``STDIN``)."""

    source: str
    manifest: dict[str, Any]


def _files(paths: Sequence[str]) -> list[tuple[str, Path | None]]:
    found: list[tuple[str, Path | None]] = []
    for given in paths:
        if given == "-":
            found.append(("STDIN", None))
            continue
        path = Path(given)
        if path.is_dir():
            members = sorted(p for p in path.iterdir() if p.is_file() and p.suffix in SUFFIXES)
            found += [(str(p), p) for p in members]
        elif path.exists():
            found.append((given, path))
        else:
            raise ManifestError(f'the path "{given}" does not exist')
    return found


def _yaml_error(source: str, exc: yaml.YAMLError) -> ManifestError:
    problem = getattr(exc, "problem", None) or "invalid YAML"
    context = getattr(exc, "context", None)
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
    text = f"{context}: {problem}" if context else problem
    return ManifestError(f"error parsing {source}: {text}{where}")


def parse_text(source: str, text: str, *, as_json: bool) -> list[Any]:
    """The documents of one file's text (None for empty YAML documents)."""
    if as_json:
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise ManifestError(
                f"error parsing {source}: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise _yaml_error(source, exc) from None


def _objects(source: str, documents: Iterable[Any]) -> list[Document]:
    objects: list[Document] = []
    for index, document in enumerate(documents, start=1):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ManifestError(
                f"error parsing {source}: document {index} is not a Kubernetes object (a mapping "
                "with apiVersion, kind and metadata)"
            )
        if str(document.get("kind", "")).endswith("List") and isinstance(
            document.get("items"), list
        ):
            objects += _objects(source, document["items"])
            continue
        missing = [field for field in ("apiVersion", "kind") if not document.get(field)]
        if missing:
            problems = ", ".join(f"{field} not set" for field in missing)
            raise ManifestError(
                f'error validating "{source}": error validating data: [{problems}]; every '
                "object needs an apiVersion and a kind"
            )
        objects.append(Document(source=source, manifest=document))
    return objects


def load_documents(paths: Sequence[str], *, verb: str = "apply") -> list[Document]:
    """Every object in ``paths`` (files, directories, ``-`` for stdin), in order."""
    documents: list[Document] = []
    for source, path in _files(paths):
        try:
            text = sys.stdin.read() if path is None else path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ManifestError(f"error reading {source}: {exc}") from None
        as_json = path is not None and path.suffix == ".json"
        documents += _objects(source, parse_text(source, text, as_json=as_json))
    if not documents:
        raise ManifestError(f"no objects passed to {verb}: the files hold no Kubernetes objects")
    return documents
