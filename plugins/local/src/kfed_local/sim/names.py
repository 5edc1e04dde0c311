"""Name and label syntax of Kubernetes objects, with kube-apiserver's exact error wording.

Layer: pure (bottom of ``kfed_local.sim``, beside ``schema``). Every validator takes a string and
returns the list of problems, each worded exactly as kube-apiserver 1.37 words it (the message
that follows ``Invalid value: "x":`` in a 422 answer); an empty list means the value is valid.
:func:`name_validator_for` picks the rule kube-apiserver applies to ``metadata.name`` of each
resource. Lengths are counted in UTF-8 bytes, as Go counts them.

This module knows nothing of objects, schemas or errors; it must not import from the rest of
the simulator (the layer contract makes ``names`` independent of ``schema`` and ``fieldpath``).
"""

from __future__ import annotations

import re
from typing import Protocol

DNS1123_LABEL_MAX_LENGTH = 63
DNS1123_SUBDOMAIN_MAX_LENGTH = 253
DNS1035_LABEL_MAX_LENGTH = 63
QUALIFIED_NAME_MAX_LENGTH = 63
LABEL_VALUE_MAX_LENGTH = 63
PORT_NAME_MAX_LENGTH = 15

_DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_FMT = _DNS1123_LABEL_FMT + r"(\." + _DNS1123_LABEL_FMT + ")*"
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character"
)
_DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an "
    "alphabetic character, and end with an alphanumeric character"
)
_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_LABEL_VALUE_FMT = "(" + _QUALIFIED_NAME_FMT + ")?"
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character"
)
_CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
_PERCENT_FMT = "[0-9]+%"
_PERCENT_MSG = "a valid percent string must be a numeric string followed by an ending '%'"

# Compiled once; ``fullmatch`` stands for Go's anchored ``^...$``.
_DNS1123_LABEL = re.compile(_DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(_DNS1035_LABEL_FMT)
_QUALIFIED_NAME = re.compile(_QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(_LABEL_VALUE_FMT)
_CONFIG_MAP_KEY = re.compile(_CONFIG_MAP_KEY_FMT)
_PERCENT = re.compile(_PERCENT_FMT)
_PORT_NAME_CHARSET = re.compile("[-a-z0-9]+")
_HAS_LETTER = re.compile("[a-z]")


def max_len_error(length: int) -> str:
    """``must be no more than 63 characters``."""
    return f"must be no more than {length} characters"


def empty_error() -> str:
    """``must be non-empty``."""
    return "must be non-empty"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """A regex failure explained the way apimachinery does, examples included.

    The doubled space between examples is kube-apiserver's own (``'MyName',  or 'my.name'``).
    """
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    shown = " or ".join(f"'{example}', " for example in examples)
    return f"{message} (e.g. {shown}regex used for validation is '{fmt}')"


def _length(value: str) -> int:
    return len(value.encode("utf-8"))


def is_dns1123_label(value: str) -> list[str]:
    """Problems of ``value`` as an RFC 1123 label (namespace names, container names)."""
    errors: list[str] = []
    if _length(value) > DNS1123_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_LABEL_MAX_LENGTH))
    if not _DNS1123_LABEL.fullmatch(value):
        if _DNS1123_SUBDOMAIN.fullmatch(value):
            # A valid subdomain that is not a label can only be failing on its dots.
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(_DNS1123_LABEL_MSG, _DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def is_dns1123_subdomain(value: str) -> list[str]:
    """Problems of ``value`` as an RFC 1123 subdomain (most object names)."""
    errors: list[str] = []
    if _length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _DNS1123_SUBDOMAIN.fullmatch(value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, _DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def is_dns1035_label(value: str) -> list[str]:
    """Problems of ``value`` as an RFC 1035 label (Service names)."""
    errors: list[str] = []
    if _length(value) > DNS1035_LABEL_MAX_LENGTH:
        errors.append(max_len_error(DNS1035_LABEL_MAX_LENGTH))
    if not _DNS1035_LABEL.fullmatch(value):
        errors.append(regex_error(_DNS1035_LABEL_MSG, _DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errors


def is_qualified_name(value: str) -> list[str]:
    """Problems of ``value`` as a qualified name: ``[prefix/]name`` (label and annotation keys)."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part " + empty_error())
        else:
            errors.extend("prefix part " + msg for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part " + empty_error())
    elif _length(name) > QUALIFIED_NAME_MAX_LENGTH:
        errors.append("name part " + max_len_error(QUALIFIED_NAME_MAX_LENGTH))
    if not _QUALIFIED_NAME.fullmatch(name):
        errors.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, _QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def is_valid_label_value(value: str) -> list[str]:
    """Problems of ``value`` as a label value (may be empty)."""
    errors: list[str] = []
    if _length(value) > LABEL_VALUE_MAX_LENGTH:
        errors.append(max_len_error(LABEL_VALUE_MAX_LENGTH))
    if not _LABEL_VALUE.fullmatch(value):
        errors.append(
            regex_error(_LABEL_VALUE_MSG, _LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errors


def is_path_segment_name(value: str) -> list[str]:
    """Problems of ``value`` as one URL path segment (RBAC object names)."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return is_path_segment_prefix(value)


def is_path_segment_prefix(value: str) -> list[str]:
    """Problems of ``value`` as the start of a path segment (``generateName`` of such objects)."""
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def is_config_map_key(value: str) -> list[str]:
    """Problems of ``value`` as a key of ConfigMap or Secret data."""
    errors: list[str] = []
    if _length(value) > DNS1123_SUBDOMAIN_MAX_LENGTH:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH))
    if not _CONFIG_MAP_KEY.fullmatch(value):
        errors.append(
            regex_error(
                _CONFIG_MAP_KEY_MSG, _CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"
            )
        )
    if not errors:
        # Keys become file names when mounted, so the parent-directory forms are refused.
        if value == ".":
            errors.append("must not be '.'")
        elif value == "..":
            errors.append("must not be '..'")
        elif value.startswith(".."):
            errors.append("must not start with '..'")
    return errors


def is_valid_port_name(value: str) -> list[str]:
    """Problems of ``value`` as a named port (IANA_SVC_NAME: ``http``, ``metrics-2``)."""
    errors: list[str] = []
    if _length(value) > PORT_NAME_MAX_LENGTH:
        errors.append(max_len_error(PORT_NAME_MAX_LENGTH))
    if not _PORT_NAME_CHARSET.fullmatch(value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _HAS_LETTER.search(value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value and (value[0] == "-" or value[-1] == "-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def is_valid_port_num(port: int) -> list[str]:
    """Problems of ``port`` as a TCP/UDP port number."""
    if 1 <= port <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def is_valid_percent(value: str) -> list[str]:
    """Problems of ``value`` as a percentage (``25%``), as in ``maxSurge``."""
    if _PERCENT.fullmatch(value):
        return []
    return [regex_error(_PERCENT_MSG, _PERCENT_FMT, "1%", "93%")]


class NameValidator(Protocol):
    """Checks ``metadata.name`` (or, with ``prefix``, ``metadata.generateName``)."""

    def __call__(self, name: str, prefix: bool = False) -> list[str]: ...


def _mask_trailing_dash(name: str) -> str:
    # kube-apiserver checks a generateName prefix by replacing its trailing dash; it drops two
    # characters, not one, and that quirk is kept so that the same prefixes are accepted.
    if len(name) > 1 and name.endswith("-"):
        return name[:-2] + "a"
    return name


def name_is_dns1123_subdomain(name: str, prefix: bool = False) -> list[str]:
    """The name rule of most resources."""
    return is_dns1123_subdomain(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1123_label(name: str, prefix: bool = False) -> list[str]:
    """The name rule of Namespaces."""
    return is_dns1123_label(_mask_trailing_dash(name) if prefix else name)


def name_is_dns1035_label(name: str, prefix: bool = False) -> list[str]:
    """The name rule of Services."""
    return is_dns1035_label(_mask_trailing_dash(name) if prefix else name)


def name_is_path_segment(name: str, prefix: bool = False) -> list[str]:
    """The name rule of RBAC objects."""
    return is_path_segment_prefix(name) if prefix else is_path_segment_name(name)


_RBAC = "rbac.authorization.k8s.io"
_NAME_RULES: dict[tuple[str, str], NameValidator] = {
    ("", "namespaces"): name_is_dns1123_label,
    ("", "services"): name_is_dns1035_label,
    (_RBAC, "roles"): name_is_path_segment,
    (_RBAC, "clusterroles"): name_is_path_segment,
    (_RBAC, "rolebindings"): name_is_path_segment,
    (_RBAC, "clusterrolebindings"): name_is_path_segment,
}


def name_validator_for(group: str, plural: str) -> NameValidator:
    """The ``metadata.name`` rule kube-apiserver applies to ``plural`` in ``group``.

    Namespaces use a DNS-1123 label, Services a DNS-1035 label, RBAC objects a path segment;
    everything else (Pods, ConfigMaps, Secrets, Events, Deployments, custom resources...) a
    DNS-1123 subdomain. CustomResourceDefinitions add their own ``plural.group`` rule on top
    (see ``kfed_local.sim.validation``).
    """
    return _NAME_RULES.get((group, plural), name_is_dns1123_subdomain)
