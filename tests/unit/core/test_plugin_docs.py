"""The plugin author's guide (plugins/README.md) covers every hook, and its example works.

Hooks are read from kfed_core.hookspecs (functions carrying pluggy's ``kfed_spec`` mark), so a
new hook fails this test until the guide has a section for it. The guide's example plugins are
executed from the README's code blocks and run through the conformance kit and a plugin host.
"""

from __future__ import annotations

import inspect
import logging
import re
import sys
import types
from pathlib import Path

import pytest

from kfed_core import hookspecs
from kfed_core.conformance import CHECKS
from kfed_core.hookspecs import ProviderSettings
from kfed_core.plugins import ENTRY_POINT_GROUP, PluginHost
from kfed_core.providers import IngressProvider, LoadBalancerStatus, ProviderError

GUIDE = Path(__file__).resolve().parents[3] / "plugins" / "README.md"
TEXT = GUIDE.read_text(encoding="utf-8")
HOOKS = sorted(name for name, f in vars(hookspecs).items() if hasattr(f, "kfed_spec"))
SECTIONS = set(re.findall(r"^#{2,4} `(kfed_\w+)`$", TEXT, flags=re.MULTILINE))
EXAMPLES = dict(
    re.findall(r"^```python\n# (\S+)\n(.*?)^```$", TEXT, flags=re.MULTILINE | re.DOTALL)
)


def test_every_hook_has_a_section_in_the_plugin_guide() -> None:
    assert HOOKS, "no hookspecs found: is the kfed_spec mark still how pluggy marks them?"
    missing = sorted(set(HOOKS) - SECTIONS)
    assert not missing, f"plugins/README.md needs a '### `hook`' section for {missing}"


def test_the_guide_names_no_hook_that_does_not_exist() -> None:
    mentioned = set(re.findall(r"\bkfed_[a-z]+_[a-z_]+\b", TEXT))
    assert mentioned - set(HOOKS) == set(), "the guide names hooks kfed does not define"


def test_every_provider_method_is_in_the_contract() -> None:
    methods = [n for n, v in vars(IngressProvider).items() if inspect.isfunction(v) and n[0] != "_"]
    assert sorted(methods) == ["close", "delete", "ensure", "owned"]
    for method in methods:
        assert f"**`{method}(" in TEXT, f"the provider contract must describe {method}()"


def test_every_conformance_check_is_described() -> None:
    for check in CHECKS:
        assert re.search(rf"^\| `{check}` \|", TEXT, flags=re.MULTILINE), check


def test_the_guide_names_the_entry_point_group_the_host_reads() -> None:
    assert f'[project.entry-points."{ENTRY_POINT_GROUP}"]' in TEXT


def load_examples(monkeypatch: pytest.MonkeyPatch) -> dict[str, types.ModuleType]:
    """Import the guide's example files as modules (torn down with the test)."""
    package = types.ModuleType("kfed_acme")
    package.__path__ = []
    monkeypatch.setitem(sys.modules, "kfed_acme", package)
    modules: dict[str, types.ModuleType] = {}
    for path, name in [
        ("plugins/acme/src/kfed_acme/plugin.py", "kfed_acme.plugin"),
        ("plugins/acme/tests/fake_acme.py", "fake_acme"),
        ("plugins/acme/tests/test_conformance.py", "acme_test_conformance"),
        ("plugins/pager/src/kfed_pager/plugin.py", "kfed_pager_plugin"),
    ]:
        assert path in EXAMPLES, f"the guide's example {path} is gone"
        module = types.ModuleType(name)
        monkeypatch.setitem(sys.modules, name, module)
        exec(compile(EXAMPLES[path], f"plugins/README.md:{path}", "exec"), module.__dict__)
        modules[path.rsplit("/", 1)[-1] if "acme" in path else "pager"] = module
    package.plugin = modules["plugin.py"]  # type: ignore[attr-defined]
    return modules


@pytest.mark.parametrize("check", CHECKS)
async def test_the_example_provider_passes_the_conformance_kit(
    check: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    example_test = load_examples(monkeypatch)["test_conformance.py"]
    await example_test.test_acme_provider_conforms(check)


def test_the_example_plugins_load_into_a_host(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    modules = load_examples(monkeypatch)
    host = PluginHost(allow=[], entry_points=lambda group: [])
    host.register(modules["plugin.py"], name="acme")
    host.register(modules["pager"], name="pager")
    assert host.providers()["acme"].description == "Acme global balancer"
    with pytest.raises(ProviderError, match="set the endpoint option") as caught:
        host.make_provider("acme", ProviderSettings(name="acme"))
    assert not caught.value.retryable
    with caplog.at_level(logging.WARNING, logger="kfed_pager"):
        degraded = LoadBalancerStatus(address="198.51.100.1", message="no backend has capacity")
        assert host.notify_ingress_changed("shop/web", degraded) == []
        assert host.notify_cluster_status_changed("asia", "Offline", "silent") == []
    assert (
        "ingress shop/web is degraded" in caplog.text and "cluster asia is Offline" in caplog.text
    )
