"""``kfed label`` parses and checks like kubectl; ``--cascade`` takes kubectl's values."""

from __future__ import annotations

import pytest

from kfed_hub.cli.apply import cascade_policy
from kfed_hub.cli.labels import LabelError, LabelSpec, outcome, parse_labels, plan_patch


def test_label_arguments_set_and_remove() -> None:
    assert parse_labels(["tier=gold", "region=", "old-"]) == LabelSpec(
        set={"tier": "gold", "region": ""}, remove=("old",)
    )


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["a=b=c"], "invalid label spec: a=b=c"),
        (["a=-x"], 'invalid label value: "a=-x": a valid label must be an empty string'),
        (["a=b", "a-"], "can not both modify and remove a label in the same command"),
        (["plain"], "unknown label spec: plain"),
    ],
)
def test_label_arguments_kubectl_refuses(arguments: list[str], message: str) -> None:
    with pytest.raises(LabelError) as caught:
        parse_labels(arguments)
    assert str(caught.value).startswith(message)


def test_changing_a_value_needs_overwrite_with_kubectls_message() -> None:
    spec = LabelSpec(set={"tier": "silver", "zone": "a"})
    with pytest.raises(LabelError) as caught:
        plan_patch({"tier": "gold"}, spec, overwrite=False)
    assert str(caught.value) == "'tier' already has a value (gold), and --overwrite is false"
    patch, notes = plan_patch({"tier": "gold"}, spec, overwrite=True)
    assert (patch, notes) == ({"tier": "silver", "zone": "a"}, [])


def test_the_same_value_is_no_change_and_a_missing_removal_is_noted() -> None:
    patch, notes = plan_patch(
        {"tier": "gold"}, LabelSpec(set={"tier": "gold"}, remove=("nope",)), overwrite=False
    )
    assert (patch, notes) == ({}, ['label "nope" not found.'])
    assert outcome(patch) == "not labeled"
    patch, _ = plan_patch({"tier": "gold"}, LabelSpec(remove=("tier",)), overwrite=False)
    assert patch == {"tier": None} and outcome(patch) == "unlabeled"
    assert outcome({"a": "b", "c": None}) == "labeled"


def test_cascade_values_are_kubectls(capsys: pytest.CaptureFixture[str]) -> None:
    assert [cascade_policy(v) for v in ("background", "foreground", "orphan")] == [
        "Background",
        "Foreground",
        "Orphan",
    ]
    assert cascade_policy("false") == "Orphan"
    assert "--cascade=false is deprecated" in capsys.readouterr().err
    with pytest.raises(ValueError, match=r'invalid cascade value \(maybe\). Must be "background"'):
        cascade_policy("maybe")
