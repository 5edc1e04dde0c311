"""The CLI config: written privately, read back, and clear errors when it is missing or broken."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from kfed_hub.cliconfig import ConfigError, default_config_path, load_config, save_config


def test_config_round_trips_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "config"
    save_config(path, server="https://127.0.0.1:7443", ca_pem=b"CA", cert_pem=b"C", key_pem=b"K")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    config = load_config(path)
    assert (config.server, config.ca_pem, config.cert_pem, config.key_pem) == (
        "https://127.0.0.1:7443",
        b"CA",
        b"C",
        b"K",
    )
    assert "K" not in repr(config).replace("CliConfig", "")
    assert "client-key-data:" in path.read_text()


def test_kfed_config_overrides_the_default_path() -> None:
    assert default_config_path({"KFED_CONFIG": "/tmp/x"}) == Path("/tmp/x")
    assert default_config_path({}) == Path("~/.kfed/config").expanduser()


def test_a_missing_config_says_how_to_get_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no kfed config at .*kfed hub serve.*KFED_CONFIG"):
        load_config(tmp_path / "absent")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("server: [unclosed", "not valid YAML (line 1"),
        ("- a list", "must be a YAML mapping"),
        ("server: http://plain:80", "no `server: https://host:port`"),
        ("server: https://h:1\ncertificate-authority-data: '!!'", "not base64"),
        ("server: https://h:1", "has no certificate-authority-data"),
    ],
)
def test_broken_configs_name_the_problem(tmp_path: Path, text: str, fragment: str) -> None:
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert fragment in str(caught.value) and str(path) in str(caught.value)
