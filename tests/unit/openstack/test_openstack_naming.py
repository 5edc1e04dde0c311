"""Pure naming, ownership marks and weight mapping of the OpenStack provider."""

from __future__ import annotations

import pytest

from kfed_core.providers import Backend
from kfed_openstack import naming


def _backend(address: str, weight: int = 1, healthy: bool = True) -> Backend:
    return Backend(
        cluster=address, region="RegionOne", zone="nova", address=address, weight=weight,
        healthy=healthy,
    )  # fmt: skip


def test_a_valid_label_is_kept_as_it_is() -> None:
    assert naming.dns_label("kfed-shop-web") == "kfed-shop-web"


def test_changed_or_long_names_get_a_hash_so_they_never_collide() -> None:
    assert naming.dns_label("Web_1") != naming.dns_label("web-1")
    long = naming.dns_label("kfed-" + "x" * 100)
    assert len(long) <= 63 and long == naming.dns_label("kfed-" + "x" * 100)
    assert long != naming.dns_label("kfed-" + "x" * 101)
    for label in (naming.dns_label("--Web_1--"), long, naming.dns_label("___")):
        assert label[0].isalnum() and label[-1].isalnum() and label == label.lower()


def test_an_empty_name_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        naming.dns_label("")


def test_record_names_and_host_names_sit_in_the_zone() -> None:
    assert naming.record_name("web", "apps.example.org.") == "web.apps.example.org."
    assert naming.host_name("web", "apps.example.org.") == "web.apps.example.org"


def test_descriptions_round_trip_and_foreign_ones_are_not_read() -> None:
    marker = naming.record_description("hub-a", "kfed-shop-web")
    assert naming.parse_description(marker) == ("hub-a", "kfed-shop-web")
    assert naming.parse_description("made by hand") is None
    assert len(naming.record_description("o", "n" * 500)) <= naming.MAX_DESCRIPTION


def test_tags_mark_owner_load_balancer_and_ingress() -> None:
    tags = naming.ownership_tags("hub-a", "kfed-shop-web", "shop/web")
    assert naming.tag_value(tags, naming.OWNER_TAG) == "hub-a"
    assert naming.tag_value(tags, naming.LB_TAG) == "kfed-shop-web"
    assert naming.tag_value(tags, naming.INGRESS_TAG) == "shop/web"
    assert set(naming.identity_tags("hub-a", "kfed-shop-web")) <= set(tags)
    assert naming.tag_value(tags, "absent=") is None


@pytest.mark.parametrize(
    ("address", "expected"),
    [("192.0.2.1:80", ("192.0.2.1", 80)), ("[2001:db8::1]:8443", ("2001:db8::1", 8443))],
)
def test_backend_addresses_split_into_ip_and_port(address: str, expected: tuple[str, int]) -> None:
    assert naming.split_address(address) == expected


@pytest.mark.parametrize("address", ["192.0.2.1", "192.0.2.1:0", "lb.example.org:80", ":80"])
def test_backend_addresses_without_an_ip_and_port_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match="backend address"):
        naming.split_address(address)


def test_drained_backends_get_weight_zero_and_small_weights_stay() -> None:
    weights = naming.member_weights(
        [_backend("a:1", 5), _backend("b:1", 0), _backend("c:1", 7, healthy=False)]
    )
    assert weights == {"a:1": 5, "b:1": 0, "c:1": 0}


def test_large_capacities_scale_into_octavias_range_without_draining_anyone() -> None:
    weights = naming.member_weights([_backend("a:1", 100_000), _backend("b:1", 1)])
    assert weights == {"a:1": 256, "b:1": 1}
