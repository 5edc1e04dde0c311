"""Fixtures of the OpenStack provider's integration tests: a fresh fake cloud per test.

openstacksdk 4.x warns (PendingDeprecationWarning, silent by default) from inside its own
request path on every call; the suite turns warnings into errors, so these tests ignore that
category when it comes from the ``openstack`` package, and only then.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from kfed_openstack.fake import PASSWORD_ENV, FakeOpenStack

_SDK_WARNINGS = pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration/openstack" in str(item.path).replace("\\", "/"):
            item.add_marker(_SDK_WARNINGS)


@pytest.fixture
async def cloud(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeOpenStack]:
    async with FakeOpenStack() as fake:
        monkeypatch.setenv(PASSWORD_ENV, fake.password)
        yield fake
