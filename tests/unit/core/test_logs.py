"""Log formats: JSON lines carry the record and its extra fields; unknown formats are refused."""

from __future__ import annotations

import json
import logging

import pytest

from kfed_core import logs


def test_json_lines_carry_message_level_and_extra_fields() -> None:
    record = logging.LogRecord(
        "kfed_hub.stream", logging.INFO, "x.py", 1, "cluster %s up", ("east",), None
    )
    record.cluster = "east"
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["message"] == "cluster east up"
    assert entry["level"] == "INFO" and entry["logger"] == "kfed_hub.stream"
    assert entry["cluster"] == "east" and entry["time"].endswith("+00:00")


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="not one of text, json"):
        logs.configure(level=logging.INFO, fmt="xml")
