"""Protobuf layouts of apiextensions.k8s.io/v1 (CustomResourceDefinition), kept by hand.

Layer: pure data (bottom of ``kfed_local.sim``), read by :mod:`kfed_local.sim.k8sproto`, whose
docstring explains the notation. kubectl does not compile these types in, so the generator that
writes ``k8sproto_core`` and ``k8sproto_layouts`` cannot see them: the field numbers and kinds
here follow apiextensions-apiserver's ``generated.proto`` (proto2 wire types: ``double``
maximum, ``bool`` flags), and pointer and ``omitempty`` marks follow its Go types. Fields newer
than the ones read there (``selectableFields``, the later ``x-kubernetes-validations`` fields) were
checked against the published descriptors. ``observedGeneration`` of the status and conditions
(set by the server, never sent by clients) is left out: an unknown field is skipped.
No code, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

_X = "apiextensions."

CRD_KINDS: Mapping[tuple[str, str], str] = {
    ("apiextensions.k8s.io/v1", "CustomResourceDefinition"): f"{_X}CustomResourceDefinition",
}
"""The message of each (apiVersion, kind) of this group."""

CRD_LAYOUTS: Mapping[str, str] = {
    f"{_X}CustomResourceDefinition": (
        f"1 metadata @meta.ObjectMeta; 2 spec @{_X}CustomResourceDefinitionSpec; "
        f"3 status @{_X}CustomResourceDefinitionStatus"
    ),
    f"{_X}CustomResourceDefinitionSpec": (
        f"1 group s!; 3 names @{_X}CustomResourceDefinitionNames; 4 scope s!; "
        f"7 versions []@{_X}CustomResourceDefinitionVersion; "
        f"9 conversion @{_X}CustomResourceConversion; 10 preserveUnknownFields b"
    ),
    f"{_X}CustomResourceDefinitionNames": (
        "1 plural s!; 2 singular s; 3 shortNames []s; 4 kind s!; 5 listKind s; 6 categories []s"
    ),
    f"{_X}CustomResourceDefinitionVersion": (
        "1 name s!; 2 served b!; 3 storage b!; 7 deprecated b; 8 deprecationWarning s?; "
        f"4 schema @{_X}CustomResourceValidation; 5 subresources @{_X}CustomResourceSubresources; "
        f"6 additionalPrinterColumns []@{_X}CustomResourceColumnDefinition; "
        f"9 selectableFields []@{_X}SelectableField"
    ),
    f"{_X}SelectableField": "1 jsonPath s!",
    f"{_X}CustomResourceColumnDefinition": (
        "1 name s!; 2 type s!; 3 format s; 4 description s; 5 priority i32; 6 jsonPath s!"
    ),
    f"{_X}CustomResourceConversion": f"1 strategy s!; 2 webhook @{_X}WebhookConversion",
    f"{_X}WebhookConversion": (
        f"2 clientConfig @{_X}WebhookClientConfig; 3 conversionReviewVersions []s"
    ),
    f"{_X}WebhookClientConfig": f"3 url s?; 1 service @{_X}ServiceReference; 2 caBundle y",
    f"{_X}ServiceReference": "1 namespace s!; 2 name s!; 3 path s?; 4 port i32?",
    f"{_X}CustomResourceValidation": f"1 openAPIV3Schema @{_X}JSONSchemaProps",
    f"{_X}CustomResourceSubresources": (
        f"1 status @{_X}CustomResourceSubresourceStatus; "
        f"2 scale @{_X}CustomResourceSubresourceScale"
    ),
    f"{_X}CustomResourceSubresourceStatus": "",
    f"{_X}CustomResourceSubresourceScale": (
        "1 specReplicasPath s!; 2 statusReplicasPath s!; 3 labelSelectorPath s?"
    ),
    f"{_X}CustomResourceDefinitionStatus": (
        f"1 conditions []@{_X}CustomResourceDefinitionCondition; "
        f"2 acceptedNames @{_X}CustomResourceDefinitionNames; 3 storedVersions []s"
    ),
    f"{_X}CustomResourceDefinitionCondition": (
        "1 type s!; 2 status s!; 3 lastTransitionTime @meta.Time; 4 reason s; 5 message s"
    ),
    f"{_X}JSONSchemaProps": (
        "1 id s; 2 $schema s; 3 $ref s?; 4 description s; 5 type s; 6 format s; 7 title s; "
        f"8 default @{_X}JSON; 9 maximum f64?; 10 exclusiveMaximum b; 11 minimum f64?; "
        "12 exclusiveMinimum b; 13 maxLength i64?; 14 minLength i64?; 15 pattern s; "
        "16 maxItems i64?; 17 minItems i64?; 18 uniqueItems b; 19 multipleOf f64?; "
        f"20 enum []@{_X}JSON; 21 maxProperties i64?; 22 minProperties i64?; 23 required []s; "
        f"24 items @{_X}JSONSchemaPropsOrArray; 25 allOf []@{_X}JSONSchemaProps; "
        f"26 oneOf []@{_X}JSONSchemaProps; 27 anyOf []@{_X}JSONSchemaProps; "
        f"28 not @{_X}JSONSchemaProps; 29 properties {{}}@{_X}JSONSchemaProps; "
        f"30 additionalProperties @{_X}JSONSchemaPropsOrBool; "
        f"31 patternProperties {{}}@{_X}JSONSchemaProps; "
        f"32 dependencies {{}}@{_X}JSONSchemaPropsOrStringArray; "
        f"33 additionalItems @{_X}JSONSchemaPropsOrBool; "
        f"34 definitions {{}}@{_X}JSONSchemaProps; 35 externalDocs @{_X}ExternalDocumentation; "
        f"36 example @{_X}JSON; 37 nullable b; 38 x-kubernetes-preserve-unknown-fields b?; "
        "39 x-kubernetes-embedded-resource b; 40 x-kubernetes-int-or-string b; "
        "41 x-kubernetes-list-map-keys []s; 42 x-kubernetes-list-type s?; "
        f"43 x-kubernetes-map-type s?; 44 x-kubernetes-validations []@{_X}ValidationRule"
    ),
    f"{_X}ValidationRule": (
        "1 rule s!; 2 message s; 3 messageExpression s; 4 reason s?; 5 fieldPath s; "
        "6 optionalOldSelf b?"
    ),
    f"{_X}ExternalDocumentation": "1 description s; 2 url s",
    # Wrappers whose JSON form is not an object (the decoder's finishers give it).
    f"{_X}JSON": "1 raw j",
    f"{_X}JSONSchemaPropsOrArray": (
        f"1 schema @{_X}JSONSchemaProps; 2 jSONSchemas []@{_X}JSONSchemaProps"
    ),
    f"{_X}JSONSchemaPropsOrBool": f"1 allows b!; 2 schema @{_X}JSONSchemaProps",
    f"{_X}JSONSchemaPropsOrStringArray": f"1 schema @{_X}JSONSchemaProps; 2 property []s",
}
"""Layouts of the apiextensions.k8s.io/v1 messages, by message name."""
