"""The kfed command: subcommands come from entry points; a broken plugin is reported, not fatal."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from kfed_hub.cli import main as cli


class _EntryPoint:
    def __init__(self, name: str, loader: Any) -> None:
        self.name, self.value, self._loader = name, f"{name}:register", loader

    def load(self) -> Any:
        return self._loader()


def _register_hello(subparsers: Any) -> None:
    hello = subparsers.add_parser("hello")
    hello.set_defaults(handler=lambda args: 7)


def _broken() -> Any:
    raise ImportError("No module named 'missing_sdk'")


def test_commands_come_from_entry_points_and_broken_plugins_are_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    points = [_EntryPoint("hello", lambda: _register_hello), _EntryPoint("broken", _broken)]
    monkeypatch.setattr(cli, "entry_points", lambda group: points)
    assert cli.main(["hello"]) == 7
    err = capsys.readouterr().err
    assert "commands of 'broken' (broken:register) could not be loaded" in err
    assert "missing_sdk" in err


def test_no_command_prints_help_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "entry_points", lambda group: [])
    assert cli.main([]) == 2


def test_the_installed_kfed_has_the_sim_command() -> None:
    parser, problems = cli.build_parser()
    assert problems == []
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert "sim" in sub.choices
