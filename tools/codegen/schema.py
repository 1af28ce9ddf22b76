"""Reads Kafka's JSON message schemas into a small model the emitters walk.

The model resolves everything an emitter would otherwise recompute: C++ names
(with collisions fixed), the struct nesting, and each field's version ranges
clipped to the message's valid versions. The schema format is described in
Kafka's clients/src/main/resources/common/message/README.md; the rules that
matter here are summarised in ../shared/kafka-protocol/README.md.
"""

import json
import re
from pathlib import Path

PRIMITIVES = {
    "bool", "int8", "int16", "uint16", "int32", "uint32", "int64", "float64",
    "string", "bytes", "records", "uuid",
}

# Smallest encoding of one element of an array of this type, in any version.
# Used to reject array counts that the remaining bytes cannot hold.
PRIMITIVE_MIN_SIZE = {
    "bool": 1, "int8": 1, "int16": 2, "uint16": 2, "int32": 4, "uint32": 4,
    "int64": 8, "float64": 8, "uuid": 16, "string": 1, "bytes": 1, "records": 1,
}

CPP_KEYWORDS = set("""
alignas alignof and and_eq asm auto bitand bitor bool break case catch char
char8_t char16_t char32_t class compl concept const consteval constexpr
constinit const_cast continue co_await co_return co_yield decltype default
delete do double dynamic_cast else enum explicit export extern false float for
friend goto if inline int long mutable namespace new noexcept not not_eq
nullptr operator or or_eq private protected public register reinterpret_cast
requires return short signed sizeof static static_assert static_cast struct
switch template this thread_local throw true try typedef typeid typename union
unsigned using virtual void volatile wchar_t while xor xor_eq
""".split())

# Members every message struct declares; a field may not take these names.
MESSAGE_MEMBERS = {"api_key", "min_version", "max_version", "first_flexible_version",
                   "encode", "decode"}


def snake(name):
    """CamelCase -> snake_case.

    Splits before an upper-case letter that follows a lower-case letter or a
    digit, and before the last capital of an acronym run that is followed by a
    lower-case letter: ProducerIdBlockStart -> producer_id_block_start,
    ISRNodes -> isr_nodes, KRaftVersionFeature -> k_raft_version_feature,
    StopReplicaPartitionV0 -> stop_replica_partition_v0.
    """
    s = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    s = re.sub(r"(?<=[A-Z])(?=[A-Z][a-z])", "_", s)
    return s.lower()


def field_name(json_name):
    n = snake(json_name)
    return n + "_" if n in CPP_KEYWORDS else n


class Versions:
    """An inclusive version range; hi None means open-ended, lo None empty."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    @staticmethod
    def parse(text):
        text = (text or "").strip()
        if text in ("", "none"):
            return Versions(None, None)
        if text.endswith("+"):
            return Versions(int(text[:-1]), None)
        if "-" in text:
            lo, hi = text.split("-")
            return Versions(int(lo), int(hi))
        return Versions(int(text), int(text))

    def empty(self):
        return self.lo is None or (self.hi is not None and self.hi < self.lo)

    def intersect(self, other):
        if self.empty() or other.empty():
            return Versions(None, None)
        lo = max(self.lo, other.lo)
        his = [h for h in (self.hi, other.hi) if h is not None]
        r = Versions(lo, min(his) if his else None)
        return Versions(None, None) if r.empty() else r

    def contains(self, v):
        return not self.empty() and v >= self.lo and (self.hi is None or v <= self.hi)

    def covers(self, other):
        """True if every version of `other` is in self."""
        return other.empty() or other.intersect(self).same(other)

    def same(self, other):
        if self.empty() or other.empty():
            return self.empty() and other.empty()
        return (self.lo, self.hi) == (other.lo, other.hi)

    def __iter__(self):
        if self.empty():
            return iter(())
        return iter(range(self.lo, self.hi + 1))

    def __str__(self):
        if self.empty():
            return "none"
        if self.hi is None:
            return f"{self.lo}+"
        return f"{self.lo}" if self.lo == self.hi else f"{self.lo}-{self.hi}"


def load_json(path):
    """Kafka's schemas are JSON with // line comments."""
    text = Path(path).read_text()
    text = re.sub(r"^\s*//.*$", "", text, flags=re.M)
    return json.loads(text)


class Field:
    """One field of a struct. Version ranges are clipped to the message's."""

    def __init__(self, spec, valid, flexible):
        self.json_name = spec["name"]
        self.name = field_name(spec["name"])
        self.about = spec.get("about", "")
        t = spec["type"]
        self.is_array = t.startswith("[]")
        self.type = t[2:] if self.is_array else t  # element type for arrays
        self.is_struct = self.type not in PRIMITIVES
        self.struct = None  # the Struct, resolved later
        self.tagged = Versions.parse(spec.get("taggedVersions")).intersect(valid)
        self.tag = spec.get("tag")
        # Tagged fields in the internal schemas omit "versions"; they exist
        # exactly where they are tagged.
        versions = spec.get("versions")
        self.versions = (Versions.parse(versions).intersect(valid) if versions is not None
                         else self.tagged)
        self.nullable = Versions.parse(spec.get("nullableVersions")).intersect(self.versions)
        self.default = spec.get("default")
        # Per-field override of the compact encodings (RequestHeader.ClientId).
        fv = spec.get("flexibleVersions")
        self.flexible = flexible if fv is None else Versions.parse(fv).intersect(valid)
        if self.tag is not None and not self.tagged.same(self.versions):
            raise ValueError(f"{self.json_name}: tagged versions {self.tagged} differ from "
                             f"versions {self.versions}")
        if self.tag is not None and not flexible.covers(self.tagged):
            raise ValueError(f"{self.json_name}: tagged outside flexible versions")

    @property
    def is_optional(self):
        """Held in std::optional: nullable in some version, except records and
        array elements (records carry their own null flag)."""
        return not self.nullable.empty() and not (self.type == "records" and not self.is_array)

    @property
    def is_tagged(self):
        return self.tag is not None


class Struct:
    """A struct type: the message itself, a common struct or an inline one."""

    def __init__(self, json_name, parent):
        self.json_name = json_name
        self.name = snake(json_name)
        self.parent = parent  # enclosing Struct, None for the message
        self.fields = []
        self.nested = []  # Structs declared inside this one, in schema order
        self.context = None  # versions in which this struct can be encoded

    def root(self):
        s = self
        while s.parent is not None:
            s = s.parent
        return s

    def qualified(self):
        """Where the struct is defined. Nested structs live at namespace scope
        in <message>_types and are reachable by their nested names through
        member aliases (see cpp_messages.declare_struct for why)."""
        if self.parent is None:
            return self.name
        return f"{self.root().name}_types::{self.name}"

    def nested_path(self):
        """The name users write: produce_request::topic_produce_data."""
        parts = []
        s = self
        while s is not None:
            parts.append(s.name)
            s = s.parent
        return "::".join(reversed(parts))

    def min_size(self, flexible):
        """Smallest encoding over the versions of self.context."""
        best = None
        for v in self.context:
            n = 1 if flexible.contains(v) else 0
            for f in self.fields:
                if f.is_tagged or not f.versions.contains(v):
                    continue
                n += field_min_size(f, v, flexible)
            best = n if best is None else min(best, n)
        return best or 0


def field_min_size(f, v, flexible):
    if f.is_array:
        return 1 if flexible.contains(v) else 4
    if f.is_struct:
        return 1 if f.nullable.contains(v) else f.struct.min_size(flexible)
    if f.type in ("string",):
        return 1 if f.flexible.contains(v) else 2
    if f.type in ("bytes", "records"):
        return 1 if f.flexible.contains(v) else 4
    return PRIMITIVE_MIN_SIZE[f.type]


class Message:
    """One schema file: a request, a response, a header or a data record."""

    def __init__(self, spec, path):
        self.path = path
        self.json_name = spec["name"]
        self.kind = spec["type"]  # request | response | header | data
        self.api_key = spec.get("apiKey")
        self.valid = Versions.parse(spec["validVersions"])
        self.flexible = Versions.parse(spec.get("flexibleVersions")).intersect(self.valid)
        self.listeners = sorted(spec.get("listeners", []))
        self.latest_version_unstable = bool(spec.get("latestVersionUnstable", False))
        self.root = Struct(self.json_name, None)
        self.root.context = self.valid
        self.structs = {}  # json type name -> Struct
        self._common = {c["name"]: c for c in spec.get("commonStructs", [])}
        # Common structs are declared first, at message scope, in an order
        # where each comes after the common structs it uses.
        self._visiting = set()
        for name in sorted(self._common):
            self._declare_common(name)
        self.root.fields = self._fields(spec["fields"], self.root, self.valid)
        self._fix_names(self.root)
        flat = [n.name for n in self.structs.values()]
        if len(flat) != len(set(flat)):
            raise ValueError(f"{self.json_name}: two nested structs share a name")

    @property
    def name(self):
        return self.root.name

    @property
    def first_flexible(self):
        return -1 if self.flexible.empty() else self.flexible.lo

    def _declare_common(self, name):
        if name in self.structs:
            return self.structs[name]
        if name in self._visiting:
            raise ValueError(f"{self.json_name}: common struct {name} is recursive")
        self._visiting.add(name)
        spec = self._common[name]
        for f in spec["fields"]:  # declare what it uses first
            t = f["type"][2:] if f["type"].startswith("[]") else f["type"]
            if t in self._common and "fields" not in f:
                self._declare_common(t)
        s = Struct(name, self.root)
        s.context = self.valid
        self.structs[name] = s
        self.root.nested.append(s)
        s.fields = self._fields(spec["fields"], s, self.valid)
        return s

    def _fields(self, specs, owner, context):
        fields = []
        for spec in specs:
            f = Field(spec, self.valid, self.flexible)
            if f.is_struct:
                if "fields" in spec:
                    if f.type in self.structs:
                        raise ValueError(f"{self.json_name}: struct {f.type} defined twice")
                    s = Struct(f.type, owner)
                    s.context = f.versions.intersect(context)
                    self.structs[f.type] = s
                    owner.nested.append(s)
                    s.fields = self._fields(spec["fields"], s, s.context)
                elif f.type in self.structs:
                    s = self.structs[f.type]
                else:
                    raise ValueError(f"{self.json_name}: unknown struct type {f.type}")
                f.struct = s
            fields.append(f)
        return fields

    def _fix_names(self, s):
        """A nested type named like a field of the struct declaring it, or like
        one of its own fields, gets a _data suffix
        (fetch_request::replica_state_data), so both stay nameable."""
        taken = {f.name for f in s.fields}
        if s.parent is None:
            for f in s.fields:
                if f.name in MESSAGE_MEMBERS:
                    f.name += "_"
            taken = {f.name for f in s.fields} | MESSAGE_MEMBERS
        names = set()
        for n in s.nested:
            # A member named like its own struct would hide the type inside
            # it (DescribeTransactionsResponse TransactionState), so it gets
            # the suffix too.
            if n.name in taken or n.name in {f.name for f in n.fields}:
                n.name += "_data"
            if n.name in taken or n.name in names or n.name == s.name:
                raise ValueError(f"{self.json_name}: cannot name nested type {n.json_name}")
            names.add(n.name)
            self._fix_names(n)


def load_messages(schema_dir):
    """Every schema the generator handles, sorted by file name."""
    d = Path(schema_dir)
    paths = sorted(d.glob("*Request.json")) + sorted(d.glob("*Response.json"))
    paths += [d / "RequestHeader.json", d / "ResponseHeader.json",
              d / "ConsumerProtocolSubscription.json", d / "ConsumerProtocolAssignment.json"]
    paths += sorted((d / "internal").glob("*.json"))
    seen = set()
    messages = []
    for p in sorted(set(paths), key=lambda p: str(p.relative_to(d))):
        if p in seen:
            continue
        seen.add(p)
        messages.append(Message(load_json(p), p.relative_to(d)))
    return messages


def file_stem(message):
    """The generated file holding a message: requests and responses of one API
    share a file, as do the two headers and each key/value record pair."""
    n = message.json_name
    if message.kind in ("request", "response"):
        return snake(re.sub(r"(Request|Response)$", "", n))
    if message.kind == "header":
        return "headers"
    if n.startswith("ConsumerProtocol"):
        return "consumer_protocol"
    return snake(re.sub(r"(Key|Value)$", "", n)) + "_record"
