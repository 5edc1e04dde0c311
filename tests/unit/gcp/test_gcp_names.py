"""Deterministic GCE names and ownership marks of the gcp provider."""

import re

from kfed_gcp.names import (
    Mark,
    fit_name,
    label_value,
    labels_for,
    names_for,
    read_mark,
    write_mark,
)

VALID = re.compile(r"[a-z](?:[-a-z0-9]{0,61}[a-z0-9])?")


def test_a_valid_name_is_kept_as_it_is() -> None:
    names = names_for("kfed-shop-web")
    assert names.address == "ip-kfed-shop-web"
    assert names.backend_service == "bs-kfed-shop-web"
    assert names.forwarding_rule == "fr-kfed-shop-web"
    assert names.neg("us-east") == "neg-kfed-shop-web-us-east"


def test_names_are_the_same_every_time() -> None:
    assert names_for("kfed-a-b") == names_for("kfed-a-b")


def test_long_names_are_cut_to_63_with_a_hash_that_keeps_them_apart() -> None:
    long_a = "kfed-" + "x" * 80 + "-a"
    long_b = "kfed-" + "x" * 80 + "-b"
    a, b = names_for(long_a).url_map, names_for(long_b).url_map
    assert len(a) <= 63 and len(b) <= 63
    assert VALID.fullmatch(a) and VALID.fullmatch(b)
    assert a != b


def test_names_that_break_gce_rules_are_cleaned_and_hashed() -> None:
    name = fit_name("neg", "kfed-Shop_Web", "EU.1")
    assert VALID.fullmatch(name)
    assert name.startswith("neg-kfed-shop-web-eu-1-")
    assert name != fit_name("neg", "kfed-shop-web", "eu-1")  # no collision with a clean name


def test_a_name_starting_with_a_digit_gets_a_letter() -> None:
    assert VALID.fullmatch(fit_name("9lives"))


def test_the_mark_survives_a_round_trip_through_the_description() -> None:
    mark = Mark(owner="kfed", lb="kfed-shop-web", ingress="shop/web", cluster="eu")
    assert read_mark(write_mark(mark)) == mark


def test_descriptions_without_a_kfed_mark_are_not_ours() -> None:
    for description in (None, "", "made by hand", "{", "[1]", '{"kfed.io/owner": "kfed"}'):
        assert read_mark(description) is None


def test_labels_hold_only_what_gce_allows() -> None:
    assert label_value("kfed") == "kfed"
    value = label_value("Kfed/Shop.Web")
    assert re.fullmatch(r"[a-z0-9_-]{1,63}", value)
    labels = labels_for(Mark(owner="kfed", lb="kfed-" + "y" * 90))
    assert all(len(v) <= 63 for v in labels.values())
