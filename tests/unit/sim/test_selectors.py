"""Label and field selectors of the simulated API server: parsing, matching, errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kfed_local.sim.errors import SelectorError
from kfed_local.sim.selectors import (
    EVERYTHING,
    NOTHING,
    LabelSelector,
    Requirement,
    from_label_selector_object,
    new_requirement,
    object_fields,
    parse_field_selector,
    parse_label_selector,
    selector_from_set,
    supported_field_labels,
)

# -- label selectors: parsing and matching ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("app=web", {"app": "web"}, True),
        ("app==web", {"app": "db"}, False),
        ("app!=web", {}, True),
        ("app!=web", {"app": "web"}, False),
        ("env in (prod, qa)", {"env": "qa"}, True),
        ("env in (prod, qa)", {}, False),
        ("tier notin (x)", {}, True),
        ("tier notin (x)", {"tier": "x"}, False),
        ("partition", {"partition": ""}, True),
        ("!partition", {"partition": "a"}, False),
        ("!partition", {}, True),
        ("a=1, b", {"a": "1"}, False),
        ("a=1,b", {"a": "1", "b": "2"}, True),
        ("replicas>2", {"replicas": "3"}, True),
        ("replicas<2", {"replicas": "x"}, False),
        ("", {"anything": "x"}, True),
    ],
)
def test_label_selector_matches_like_kube_apiserver(
    text: str, labels: dict[str, str], *, expected: bool
) -> None:
    assert parse_label_selector(text).matches(labels) is expected


def test_label_selector_string_is_canonical_sorted_and_compact() -> None:
    selector = parse_label_selector(" tier notin (x) , env in (qa, prod),!canary, app = web ")
    assert selector.to_string() == "app=web,!canary,env in (prod,qa),tier notin (x)"


def test_empty_value_sets_contain_the_empty_string() -> None:
    selector = parse_label_selector("x in (foo,,baz),z notin ()")
    assert selector.to_string() == "x in (,baz,foo),z notin ()"
    assert selector.matches({"x": ""})


def test_keywords_are_plain_identifiers_where_a_key_or_value_is_expected() -> None:
    assert parse_label_selector("in in (in)").matches({"in": "in"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a=(", "unable to parse requirement: found '(', expected: identifier"),
    ],
)
def test_label_selector_syntax_errors_use_the_real_wording(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_label_selector(text)
    assert str(caught.value) == message


def test_invalid_label_key_is_reported_with_a_nil_path_like_go() -> None:
    with pytest.raises(SelectorError) as caught:
        parse_label_selector("-app=web")
    assert str(caught.value).startswith(
        'unable to parse requirement: <nil>: Invalid value: "-app": name part must consist of '
    )


def test_invalid_label_value_is_reported_under_values() -> None:
    with pytest.raises(SelectorError) as caught:
        parse_label_selector("app=-web")
    assert str(caught.value).startswith(
        'unable to parse requirement: values[0][app]: Invalid value: "-web": a valid label must '
    )


# -- label selectors: object form ---------------------------------------------------------------


def test_selector_object_combines_match_labels_and_expressions() -> None:
    selector = from_label_selector_object(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["fe", "be"]},
                {"key": "canary", "operator": "DoesNotExist"},
            ],
        }
    )
    assert selector.to_string() == "app=web,!canary,tier in (be,fe)"
    assert selector.matches({"app": "web", "tier": "fe"})
    assert not selector.matches({"app": "web", "tier": "fe", "canary": "1"})


def test_absent_selector_object_matches_nothing_and_empty_matches_everything() -> None:
    assert from_label_selector_object(None) is NOTHING
    assert not NOTHING.matches({})
    assert from_label_selector_object({}) is EVERYTHING
    assert EVERYTHING.matches({"a": "b"})
    assert EVERYTHING.empty
    assert not NOTHING.empty


def test_selector_object_with_bad_operator_is_refused() -> None:
    with pytest.raises(SelectorError, match=r'^"Foo" is not a valid label selector operator$'):
        from_label_selector_object({"matchExpressions": [{"key": "a", "operator": "Foo"}]})


def test_selector_object_in_without_values_is_refused() -> None:
    with pytest.raises(SelectorError) as caught:
        from_label_selector_object({"matchExpressions": [{"key": "a", "operator": "In"}]})
    assert str(caught.value) == (
        "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty"
    )


def test_selector_from_set_pins_every_label() -> None:
    selector = selector_from_set({"b": "2", "a": "1"})
    assert selector.to_string() == "a=1,b=2"
    assert selector.requires_exact_match("a") == "1"
    assert selector_from_set({}).empty


_KEYS = st.from_regex(r"([a-z]{1,5}\.)?[a-z]{1,5}/[A-Za-z][A-Za-z0-9_.-]{0,8}[a-z]", fullmatch=True)
_VALUES = st.from_regex(r"([A-Za-z0-9]([A-Za-z0-9_.-]{0,6}[A-Za-z0-9])?)?", fullmatch=True)
_SET_OPERATORS = st.sampled_from(["in", "notin"])
_REQUIREMENTS = st.one_of(
    st.builds(new_requirement, _KEYS, st.sampled_from(["=", "==", "!="]), st.tuples(_VALUES)),
    st.builds(new_requirement, _KEYS, _SET_OPERATORS, st.lists(_VALUES, min_size=1)),
    st.builds(new_requirement, _KEYS, st.sampled_from(["exists", "!"])),
    st.builds(
        new_requirement,
        _KEYS,
        st.sampled_from(["gt", "lt"]),
        st.tuples(st.from_regex(r"[0-9]{1,4}", fullmatch=True)),
    ),
)


@given(
    st.lists(_REQUIREMENTS, max_size=4),
    st.dictionaries(
        _KEYS, st.one_of(_VALUES, st.from_regex(r"[0-9]{1,4}", fullmatch=True)), max_size=4
    ),
)
def test_label_selector_round_trips_through_its_string(
    requirements: list[Requirement], labels: dict[str, str]
) -> None:
    selector = LabelSelector(requirements=tuple(requirements))
    again = parse_label_selector(selector.to_string())
    assert again.matches(labels) == selector.matches(labels)
    assert parse_label_selector(again.to_string()) == again


# -- field selectors ----------------------------------------------------------------------------


def test_field_selector_matches_equal_and_not_equal_terms() -> None:
    selector = parse_field_selector("status.phase!=Running,spec.nodeName==n1")
    assert selector.matches({"status.phase": "Pending", "spec.nodeName": "n1"})
    assert not selector.matches({"status.phase": "Running", "spec.nodeName": "n1"})


def test_field_selector_values_unescape_commas_and_equals() -> None:
    selector = parse_field_selector(r"metadata.name=a\,b\=c\\d")
    assert selector.requires_exact_match("metadata.name") == "a,b=c\\d"
    assert selector.to_string() == r"metadata.name=a\,b\=c\\d"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("foo", "invalid selector: 'foo'; can't understand 'foo'"),
        ("a=b=c", "invalid field selector: unescaped character in value: 61"),
        (r"a=b\x", r"invalid field selector: invalid escape sequence: \x"),
    ],
)
def test_field_selector_errors_use_the_real_wording(text: str, message: str) -> None:
    with pytest.raises(SelectorError) as caught:
        parse_field_selector(text)
    assert str(caught.value) == message


def test_unsupported_pod_field_label_is_refused_with_the_conversion_message() -> None:
    with pytest.raises(SelectorError, match=r"^field label not supported: spec\.foo$"):
        parse_field_selector("spec.foo=1").check_supported("", "pods")


def test_unsupported_field_on_a_plain_builtin_uses_the_default_conversion_message() -> None:
    with pytest.raises(SelectorError) as caught:
        parse_field_selector("status.replicas=0").check_supported("apps", "replicasets")
    assert str(caught.value) == (
        '"status.replicas" is not a known field selector: only "metadata.name", '
        '"metadata.namespace"'
    )


def test_custom_resource_field_labels_include_selectable_fields() -> None:
    selector = parse_field_selector("spec.color=red")
    with pytest.raises(SelectorError, match=r"^field label not supported: spec\.color$"):
        selector.check_supported("example.com", "widgets")
    assert (
        selector.check_supported("example.com", "widgets", selectable_fields=[".spec.color"])
        == selector
    )


def test_pod_legacy_spec_host_is_converted_to_node_name() -> None:
    converted = parse_field_selector("spec.host=n1").check_supported("", "pods")
    assert converted.to_string() == "spec.nodeName=n1"


def test_supported_field_labels_per_resource() -> None:
    assert "status.podIP" in supported_field_labels("", "pods")
    assert supported_field_labels("", "nodes") == {"metadata.name", "spec.unschedulable"}
    assert "involvedObject.uid" in supported_field_labels("", "events")
    assert supported_field_labels("", "secrets") == {"metadata.name", "metadata.namespace", "type"}
    assert supported_field_labels("", "configmaps") == {"metadata.name", "metadata.namespace"}
    assert supported_field_labels("example.com", "gadgets", namespaced=False) == {"metadata.name"}


def test_pod_fields_have_go_zero_values_and_first_pod_ip() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.7"}]},
    }
    fields = object_fields("", "pods", pod)
    assert fields["metadata.namespace"] == "d"
    assert fields["spec.hostNetwork"] == "false"
    assert fields["status.podIP"] == "10.0.0.7"
    assert fields["spec.restartPolicy"] == ""
    assert parse_field_selector("spec.nodeName=n1,status.phase=Running").matches(fields)


def test_event_source_falls_back_to_the_reporting_component() -> None:
    event = {
        "metadata": {"name": "e", "namespace": "d"},
        "involvedObject": {"kind": "Pod", "name": "p"},
        "reportingComponent": "kubelet",
    }
    fields = object_fields("", "events", event)
    assert fields["source"] == "kubelet"
    assert fields["involvedObject.kind"] == "Pod"


def test_cluster_scoped_objects_have_no_namespace_field() -> None:
    fields = object_fields("", "nodes", {"metadata": {"name": "n1"}, "spec": {}})
    assert fields == {"metadata.name": "n1", "spec.unschedulable": "false"}
