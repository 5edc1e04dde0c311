"""Kubernetes name, label and key syntax, with kube-apiserver's own messages.

Layer: ``kfed_hub.api``, pure (no I/O). Each check returns the problems of one value as
messages (empty when valid); :mod:`kfed_hub.api.admission` turns them into field causes.
"""

from __future__ import annotations

import re

from kfed_hub.api.kinds import NameRule

_LABEL_1123 = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_1123 = rf"{_LABEL_1123}(\.{_LABEL_1123})*"
_LABEL_1035 = "[a-z]([-a-z0-9]*[a-z0-9])?"
_QUALIFIED_NAME = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_LABEL_VALUE = f"({_QUALIFIED_NAME})?"
_CONFIG_KEY = "[-._a-zA-Z0-9]+"

_MESSAGES = {
    NameRule.LABEL: (
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
        "and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', "
        f"regex used for validation is '{_LABEL_1123}')"
    ),
    NameRule.SUBDOMAIN: (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        f"regex used for validation is '{_SUBDOMAIN_1123}')"
    ),
    NameRule.DNS1035: (
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
        "an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or "
        f"'abc-123', regex used for validation is '{_LABEL_1035}')"
    ),
}
_PATTERNS = {
    NameRule.LABEL: re.compile(_LABEL_1123),
    NameRule.SUBDOMAIN: re.compile(_SUBDOMAIN_1123),
    NameRule.DNS1035: re.compile(_LABEL_1035),
}
_MAX_LENGTH = {NameRule.LABEL: 63, NameRule.SUBDOMAIN: 253, NameRule.DNS1035: 63}

_QUALIFIED_NAME_MESSAGE = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end "
    "with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for "
    f"validation is '{_QUALIFIED_NAME}')"
)
_LABEL_VALUE_MESSAGE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    f"'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE}')"
)
_CONFIG_KEY_MESSAGE = (
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. "
    f"'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '{_CONFIG_KEY}')"
)


def too_long(length: int) -> str:
    return f"must be no more than {length} characters"


def name_problems(value: str, rule: NameRule) -> list[str]:
    """Problems of ``value`` as an object name following ``rule``."""
    problems = []
    if len(value) > _MAX_LENGTH[rule]:
        problems.append(too_long(_MAX_LENGTH[rule]))
    if not _PATTERNS[rule].fullmatch(value):
        problems.append(_MESSAGES[rule])
    return problems


def label_key_problems(key: str) -> list[str]:
    """Problems of a label or annotation key (``[prefix/]name``)."""
    prefix, slash, name = key.rpartition("/")
    problems = []
    if slash and not prefix:
        problems.append("prefix part must be non-empty")
    elif slash:
        problems += ["prefix part " + p for p in name_problems(prefix, NameRule.SUBDOMAIN)]
    if not name:
        problems.append("name part must be non-empty")
    elif len(name) > 63:
        problems.append("name part " + too_long(63))
    if name and not re.fullmatch(_QUALIFIED_NAME, name):
        problems.append(_QUALIFIED_NAME_MESSAGE)
    return problems


def label_value_problems(value: str) -> list[str]:
    """Problems of a label value."""
    problems = []
    if len(value) > 63:
        problems.append(too_long(63))
    if not re.fullmatch(_LABEL_VALUE, value):
        problems.append(_LABEL_VALUE_MESSAGE)
    return problems


def config_key_problems(key: str) -> list[str]:
    """Problems of a ConfigMap or Secret data key."""
    problems = []
    if len(key) > 253:
        problems.append(too_long(253))
    if not re.fullmatch(_CONFIG_KEY, key):
        problems.append(_CONFIG_KEY_MESSAGE)
    if key in (".", "..") or key.startswith(".."):
        problems.append("must not be '.' or '..' or start with '..'")
    return problems
