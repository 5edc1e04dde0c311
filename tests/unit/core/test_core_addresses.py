"""Global addresses as status items: IP or host name, with the port when there is one."""

from __future__ import annotations

import pytest

from kfed_core.addresses import load_balancer_ingress, split_host_port


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("203.0.113.7", ("203.0.113.7", None)),
        ("127.0.0.200:8080", ("127.0.0.200", 8080)),
        ("[fd00::1]:80", ("fd00::1", 80)),
        ("fd00::1", ("fd00::1", None)),
        ("a1.awsglobalaccelerator.com", ("a1.awsglobalaccelerator.com", None)),
        ("web.apps.example.org:8443", ("web.apps.example.org", 8443)),
    ],
)
def test_addresses_split_into_host_and_port(address: str, expected: tuple[str, int | None]) -> None:
    assert split_host_port(address) == expected


def test_status_items_use_ip_or_hostname_and_carry_the_port() -> None:
    assert load_balancer_ingress("203.0.113.7") == {"ip": "203.0.113.7"}
    assert load_balancer_ingress("127.0.0.200:8080") == {
        "ip": "127.0.0.200",
        "ports": [{"port": 8080, "protocol": "TCP"}],
    }
    assert load_balancer_ingress("x.example") == {"hostname": "x.example"}
