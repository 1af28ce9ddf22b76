"""Emits the message structs: one .h/.cc pair per API (request + response)."""

import textwrap

from schema import PRIMITIVE_MIN_SIZE
from cpp_types import (HEADER_NOTE, READ_FN, WRITE_FN, Names, bool_expr,
                       differs_from_default, member_initializer, version_test)


class Code:
    """Lines with indentation."""

    def __init__(self):
        self.lines = []
        self.depth = 0

    def __call__(self, text=""):
        self.lines.append(("  " * self.depth + text) if text else "")

    def open(self, text):
        self(text + " {" if text else "{")
        self.depth += 1

    def close(self, text="}"):
        self.depth -= 1
        self(text)

    def text(self):
        return "\n".join(self.lines) + "\n"


# ---- header ----

def field_comment(f, ctx):
    notes = []
    if not f.versions.same(ctx):
        notes.append(f"versions {f.versions}")
    if not f.nullable.empty():
        notes.append(f"nullable {f.nullable}")
    if f.is_tagged:
        notes.append(f"tag {f.tag}")
    text = (f"[{', '.join(notes)}] " if notes else "") + f.about.strip()
    return textwrap.wrap(text, 90) if text else []


def declare_struct(c, s, message, names):
    """Declares one struct. Nested structs are defined before it at namespace
    scope (in <message>_types) and named inside it by member aliases, so
    produce_request::topic_produce_data still works. Defining them inside
    the enclosing struct would be simpler, but clang then refuses
    std::optional<nested> members: a nested class's default member
    initialisers are not usable until the enclosing class is complete."""
    c.open(f"struct {s.name}")
    if s.parent is None:
        if message.api_key is not None:
            c(f"static constexpr int16_t api_key = {message.api_key};")
        c(f"static constexpr int16_t min_version = {message.valid.lo};")
        c(f"static constexpr int16_t max_version = {message.valid.hi};")
        c(f"static constexpr int16_t first_flexible_version = {message.first_flexible};")
        c()
    for n in s.nested:
        c(f"using {n.name} = {names.qual(n.qualified())};")
    if s.nested:
        c()
    for f in s.fields:
        for line in field_comment(f, s.context):
            c("// " + line)
        c(f"{names.member_type(f)} {f.name}{member_initializer(f)};")
    if s.fields:
        c()
    w, r = names.qual("writer"), names.qual("reader")
    c(f"void encode({w}& w, int16_t version) const;")
    c("// Expects a default-constructed object; on malformed input leaves r.ok() false.")
    c(f"void decode({r}& r, int16_t version);")
    c(f"friend bool operator==(const {s.name}&, const {s.name}&) = default;")
    c.close("};")


def message_header(stem, messages):
    c = Code()
    c(HEADER_NOTE.rstrip())
    c("#pragma once")
    c()
    c("#include <cstdint>")
    c("#include <optional>")
    c("#include <string>")
    c("#include <vector>")
    c()
    c('#include "protocol/wire.h"')
    c()
    c("namespace strata::protocol {")
    for m in messages:
        c()
        what = f"api key {m.api_key}, " if m.api_key is not None else ""
        flex = f"flexible {m.flexible}" if not m.flexible.empty() else "never flexible"
        names = Names(m)
        nested = [s for s in all_structs(m.root) if s.parent is not None]
        if nested:
            c(f"// The structs nested in {m.name}; use them by their nested names.")
            c(f"namespace {m.name}_types {{")
            for s in nested:
                c()
                c(f"// {s.nested_path()}")
                declare_struct(c, s, m, names)
            c()
            c(f"}}  // namespace {m.name}_types")
            c()
        c(f"// {m.json_name} ({m.path}): {what}versions {m.valid}, {flex}.")
        declare_struct(c, m.root, m, names)
    c()
    c("}  // namespace strata::protocol")
    return c.text()


# ---- encode ----

class Emitter:
    """Writes the encode/decode bodies of one struct."""

    def __init__(self, message, names):
        self.m = message
        self.names = names

    def compact(self, f, ctx):
        """The C++ expression saying whether f uses compact encodings."""
        if f.flexible.same(self.m.flexible):
            return "flexible"
        return bool_expr(version_test(f.flexible, ctx))

    def null_test(self, f, ctx):
        """None: f is nullable wherever present in ctx; "false": never."""
        return version_test(f.nullable, f.versions.intersect(ctx))

    def enc_element(self, c, f, x, w, comp):
        if f.is_struct:
            c(f"{x}.encode({w}, version);")
        elif f.type in WRITE_FN:
            c(f"{w}.{WRITE_FN[f.type]}({x});")
        else:
            c(f"{w}.write_{'string' if f.type == 'string' else f.type}({x}, {comp});")

    def enc_present(self, c, f, x, w, comp, nt):
        """Encodes the non-null value x (of the non-optional type)."""
        if f.is_array:
            c.open("")
            c(f"{w}.write_array_length(static_cast<int32_t>({x}.size()), {comp});")
            c.open(f"for (const auto& e : {x})")
            self.enc_element(c, f, "e", w, comp)
            c.close()
            c.close()
            return
        if f.is_struct and nt != "false":
            c(f"{w}.write_int8(1);" if nt is None else f"if ({nt}) {w}.write_int8(1);")
        self.enc_element(c, f, x, w, comp)

    def enc_null(self, c, f, w, comp):
        if f.is_array:
            c(f"{w}.write_array_length(-1, {comp});")
        elif f.is_struct:
            c(f"{w}.write_int8(-1);")
        elif f.type == "string":
            c(f"{w}.write_nullable_string(std::nullopt, {comp});")
        else:
            c(f"{w}.write_nullable_bytes(std::nullopt, {comp});")

    def enc_empty(self, c, f, w, comp):
        """A non-nullable version got a null: write the empty value instead."""
        if f.is_array:
            c(f"{w}.write_array_length(0, {comp});")
        elif f.is_struct:
            c(f"{self.names.element_type(f)}{{}}.encode({w}, version);")
        elif f.type == "string":
            c(f"{w}.write_string({{}}, {comp});")
        else:
            c(f"{w}.write_bytes({{}}, {comp});")

    def enc_field(self, c, f, ctx, w):
        x = f"this->{f.name}"
        comp = self.compact(f, ctx)
        nt = self.null_test(f, ctx)
        if not f.is_optional:
            self.enc_present(c, f, x, w, comp, "false")
            return
        c.open(f"if ({x})")
        self.enc_present(c, f, f"(*{x})", w, comp, nt)
        if nt is None:
            c.close("} else {")
            c.depth += 1
            self.enc_null(c, f, w, comp)
        elif nt == "false":
            c.close("} else {")
            c.depth += 1
            self.enc_empty(c, f, w, comp)
        else:
            c.close(f"}} else if ({nt}) {{")
            c.depth += 1
            self.enc_null(c, f, w, comp)
            c.close("} else {")
            c.depth += 1
            self.enc_empty(c, f, w, comp)
        c.close()

    def encode(self, c, s):
        ctx = s.context
        c(f"[[maybe_unused]] const bool flexible = {bool_expr(version_test(self.m.flexible, ctx))};")
        for f in s.fields:
            if f.is_tagged:
                continue
            test = version_test(f.versions, ctx)
            if test == "false":
                continue
            if test:
                c.open(f"if ({test})")
            self.enc_field(c, f, ctx, "w")
            if test:
                c.close()
        tagged = sorted((f for f in s.fields if f.is_tagged and
                         version_test(f.versions, ctx) != "false"), key=lambda f: f.tag)
        if self.m.flexible.intersect(ctx).empty():
            return
        c.open("if (flexible)")
        if not tagged:
            c("w.write_uvarint(0);")
        else:
            for f in tagged:
                test = version_test(f.versions, ctx)
                cond = differs_from_default(f, f"this->{f.name}", self.names)
                c(f"const bool has_{f.tag} = {test + ' && ' if test else ''}{cond};")
            c("w.write_uvarint(" + " + ".join(f"uint32_t{{has_{f.tag}}}" for f in tagged) + ");")
            for f in tagged:
                c.open(f"if (has_{f.tag})")
                c(f"{self.names.qual('writer')} t;")
                self.enc_field(c, f, ctx, "t")
                c(f"w.write_uvarint({f.tag});")
                c("w.write_uvarint(static_cast<uint32_t>(t.size()));")
                c("w.write_raw(t.buffer().data(), t.size());")
                c.close()
        c.close()

    # ---- decode ----

    def dec_element(self, f, r, comp, target):
        """A statement decoding one element into `target` (push/assign)."""
        if f.type in READ_FN:
            return target(f"{r}.{READ_FN[f.type]}()")
        if f.type in ("string", "bytes", "records"):
            return target(f"{r}.read_{f.type}({comp})")
        raise AssertionError(f.type)

    def dec_field(self, c, f, ctx, r):
        x = f"this->{f.name}"
        comp = self.compact(f, ctx)
        nt = self.null_test(f, ctx) if f.is_optional or f.type == "records" else "false"
        if f.is_array:
            self.dec_array(c, f, x, r, comp, nt)
        elif f.is_struct:
            if not f.is_optional:
                c(f"{x}.decode({r}, version);")
            elif nt is None:
                c(f"if ({r}.read_int8() < 0) {x}.reset(); else {x}.emplace().decode({r}, version);")
            elif nt == "false":
                c(f"{x}.emplace().decode({r}, version);")
            else:
                c(f"if (({nt}) && {r}.read_int8() < 0) {x}.reset();")
                c(f"else {x}.emplace().decode({r}, version);")
        elif f.type == "records":
            c(f"{x} = {r}.read_records({comp});")
            if nt is not None:
                c(f"if ({x}.is_null && !({bool_expr(nt)})) {r}.fail();")
        elif f.type in ("string", "bytes") and f.is_optional:
            nullable = f"{x} = {r}.read_nullable_{f.type}({comp});"
            plain = f"{x} = {r}.read_{f.type}({comp});"
            if nt is None:
                c(nullable)
            elif nt == "false":
                c(plain)
            else:
                c(f"if ({nt}) {nullable} else {plain}")
        else:
            c(self.dec_element(f, r, comp, lambda e: f"{x} = {e};"))

    def dec_array(self, c, f, x, r, comp, nt):
        c.open("")
        c(f"const int32_t n = {r}.read_array_length({comp});")
        if nt is None:
            c.open("if (n < 0)")
            c(f"{x}.reset();")
        elif nt == "false":
            c.open("if (n < 0)")
            c(f"{r}.fail();")
        else:
            c.open("if (n < 0)")
            c(f"if ({nt}) {x}.reset(); else {r}.fail();")
        min_size = self.element_min_size(f)
        if min_size > 1:
            # Every element takes at least min_size bytes: a larger count is a
            # lie, and rejecting it here bounds reserve() by the input size.
            c.close(f"}} else if (static_cast<size_t>(n) > {r}.remaining() / {min_size}) {{")
            c.depth += 1
            c(f"{r}.fail();")
        c.close("} else {")
        c.depth += 1
        c(f"auto& v = {x + '.emplace()' if f.is_optional else x};")
        c("v.clear();")
        c("v.reserve(static_cast<size_t>(n));")
        c.open(f"for (int32_t i = 0; i < n && {r}.ok(); ++i)")
        if f.is_struct:
            c(f"v.emplace_back().decode({r}, version);")
        else:
            c(self.dec_element(f, r, comp, lambda e: f"v.push_back({e});"))
        c.close()
        c.close()
        c.close()

    def element_min_size(self, f):
        if f.is_struct:
            return max(1, f.struct.min_size(self.m.flexible))
        return PRIMITIVE_MIN_SIZE[f.type]

    def decode(self, c, s):
        ctx = s.context
        c(f"[[maybe_unused]] const bool flexible = {bool_expr(version_test(self.m.flexible, ctx))};")
        for f in s.fields:
            if f.is_tagged:
                continue
            test = version_test(f.versions, ctx)
            if test == "false":
                continue
            if test:
                c.open(f"if ({test})")
            self.dec_field(c, f, ctx, "r")
            if test:
                c.close()
        if self.m.flexible.intersect(ctx).empty():
            return
        tagged = sorted((f for f in s.fields if f.is_tagged and
                         version_test(f.versions, ctx) != "false"), key=lambda f: f.tag)
        if not tagged:
            c("if (flexible) r.skip_tagged_fields();")
            return
        c.open("if (flexible)")
        c("const uint32_t count = r.read_uvarint();")
        c("if (count > r.remaining() / 2) r.fail();  // each takes >= 2 bytes")
        c.open("for (uint32_t i = 0; i < count && r.ok(); ++i)")
        c("const uint32_t tag = r.read_uvarint();")
        c(f"const {self.names.qual('bytes_view')} raw = r.read_raw(r.read_uvarint());")
        c("if (!r.ok()) break;")
        c(f"{self.names.qual('reader')} sub(raw);")
        c.open("switch (tag)")
        for f in tagged:
            test = version_test(f.versions, ctx)
            c.open(f"case {f.tag}:")
            if test:
                c(f"if (!({test})) break;")
            self.dec_field(c, f, ctx, "sub")
            # A known field must fill its declared size exactly.
            c("if (!sub.ok() || sub.remaining() != 0) r.fail();")
            c("break;")
            c.close()
        c("default:  // unknown tags are skipped")
        c("  break;")
        c.close()
        c.close()
        c.close()


def all_structs(s):
    for n in s.nested:
        yield from all_structs(n)
    yield s


def message_source(stem, messages):
    c = Code()
    c(HEADER_NOTE.rstrip())
    c(f'#include "protocol/generated/{stem}.h"')
    c()
    c("namespace strata::protocol {")
    for m in messages:
        names = Names(m)
        e = Emitter(m, names)
        for s in all_structs(m.root):
            q = s.qualified()
            c()
            c.open(f"void {q}::encode([[maybe_unused]] writer& w, [[maybe_unused]] int16_t version) const")
            e.encode(c, s)
            c.close()
            c()
            c.open(f"void {q}::decode([[maybe_unused]] reader& r, [[maybe_unused]] int16_t version)")
            e.decode(c, s)
            c.close()
    c()
    c("}  // namespace strata::protocol")
    return c.text()
