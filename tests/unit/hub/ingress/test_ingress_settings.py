"""The hub's settings file: plugin allow-list and ingress providers, with errors that say where."""

from __future__ import annotations

from pathlib import Path

import pytest

from kfed_hub.cli import serve
from kfed_hub.ingress.settings import BUILTIN_PLUGINS, SettingsError, parse_settings


def test_defaults_allow_kfeds_own_plugins_and_the_local_provider() -> None:
    plugins, ingress = parse_settings(None)
    assert plugins.allow == BUILTIN_PLUGINS
    assert ingress.default_provider == "local"
    assert ingress.config_for("gcp").plugin == "gcp"


def test_a_full_file_is_read() -> None:
    data = {
        "plugins": {"allow": ["local", "acme"]},
        "ingress": {
            "defaultProvider": "gcp-prod",
            "resyncSeconds": 10,
            "sweepSeconds": 60,
            "providers": {
                "gcp-prod": {"plugin": "gcp", "options": {"project": "p"}},
                "local": {"options": {"trust_client_region_header": True}},
            },
        },
    }
    plugins, ingress = parse_settings(data)
    assert plugins.allow == ("local", "acme")
    assert ingress.default_provider == "gcp-prod"
    assert (ingress.resync_interval, ingress.sweep_interval) == (10.0, 60.0)
    assert ingress.config_for("gcp-prod").plugin == "gcp"
    assert ingress.config_for("gcp-prod").options == {"project": "p"}
    assert ingress.config_for("local").options == {"trust_client_region_header": True}


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ([], "hub.yaml must be a mapping"),
        ({"plugin": {}}, "unknown field.*plugin"),
        ({"plugins": {"allow": "local"}}, r"plugins.allow must be a list"),
        ({"ingress": {"resyncSeconds": 0}}, r"ingress.resyncSeconds must be a positive"),
        ({"ingress": {"sweepSeconds": True}}, r"ingress.sweepSeconds"),
        ({"ingress": {"providers": {"x": {"plugin": ""}}}}, r"providers.x.plugin"),
        ({"ingress": {"providers": {"x": {"options": []}}}}, r"providers.x.options must be"),
        ({"ingress": {"providers": {"x": {"opts": {}}}}}, r"providers.x: unknown field"),
    ],
)
def test_bad_settings_say_what_and_where(data: object, where: str) -> None:
    with pytest.raises(SettingsError, match=where):
        parse_settings(data, source="hub.yaml")


def test_the_serve_command_reads_the_file_and_says_what_is_wrong(tmp_path: Path) -> None:
    good = tmp_path / "hub.yaml"
    good.write_text("ingress:\n  defaultProvider: gcp\n")
    assert serve._load_settings(str(good))[1].default_provider == "gcp"
    bad = tmp_path / "bad.yaml"
    bad.write_text("ingress: [unclosed\n")
    with pytest.raises(ValueError, match=r"bad.yaml is not valid YAML"):
        serve._load_settings(str(bad))
    with pytest.raises(ValueError, match=r"cannot read the settings file .*missing.yaml"):
        serve._load_settings(str(tmp_path / "missing.yaml"))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("ingress:\n  sweepSeconds: -1\n")
    with pytest.raises(ValueError, match=r"wrong.yaml.ingress.sweepSeconds"):
        serve._load_settings(str(wrong))
