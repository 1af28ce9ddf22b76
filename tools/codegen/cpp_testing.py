"""Emits test support: fill_random(message, version, rng) for every message.

A filled message holds random values in exactly the fields present in that
version, nulls only where the version allows them, and tagged fields left at
their defaults half of the time (so both the written and the omitted path run).
The random primitives come from the hand-written tests/protocol/random_values.h.
"""

from cpp_messages import Code, all_structs
from cpp_types import HEADER_NOTE, SCALAR_CPP, version_test


def fill_value(c, f, v, nt):
    """Fills lvalue v (the non-optional type of f)."""
    if f.is_array:
        c(f"{v}.resize(g.count());")
        c.open(f"for (size_t i = 0; i < {v}.size(); ++i)")
        fill_element(c, f, f"{v}[i]")
        c.close()
    elif f.type == "records" and nt != "false":
        null = "g.one_in(4)" if nt is None else f"({nt}) && g.one_in(4)"
        c(f"{v} = {null} ? records::null_records() : g.random_records();")
    else:
        fill_element(c, f, v)


def fill_element(c, f, v):
    if f.is_struct:
        c(f"fill_random({v}, version, g);")
    elif f.type in SCALAR_CPP:
        c(f"{v} = g.next<{SCALAR_CPP[f.type]}>();")
    else:
        c(f"{v} = g.random_{f.type}();")


def fill_struct(c, s, m):
    ctx = s.context
    for f in s.fields:
        test = version_test(f.versions, ctx)
        if test == "false":
            continue
        conds = [t for t in (test, "g.one_in(2)" if f.is_tagged else None) if t]
        if conds:
            c.open(f"if ({' && '.join(conds)})")
        nt = version_test(f.nullable, f.versions.intersect(ctx))
        x = f"m.{f.name}"
        if f.is_optional:
            if nt != "false":
                null = "g.one_in(4)" if nt is None else f"({nt}) && g.one_in(4)"
                c.open(f"if ({null})")
                c(f"{x}.reset();")
                c.close("} else {")
                c.depth += 1
            else:
                c.open("")
            c(f"auto& v = {x}.emplace();")
            fill_value(c, f, "v", nt)
            c.close()
        else:
            fill_value(c, f, x, nt)
        if conds:
            c.close()


def fill_source(stem, messages):
    c = Code()
    c(HEADER_NOTE.rstrip())
    # Only this file's messages: fill_random.h would pull in every header.
    c(f'#include "protocol/generated/{stem}.h"')
    c('#include "random_values.h"')
    c()
    c("namespace strata::protocol::testing {")
    c()
    c("namespace {")
    nested = [(m, s) for m in messages for s in all_structs(m.root) if s.parent is not None]
    for m, s in nested:
        c()
        c(f"void fill_random({s.qualified()}& m, int16_t version, test_rng& g);")
    for m, s in nested:
        c()
        c.open(f"void fill_random([[maybe_unused]] {s.qualified()}& m, "
               f"[[maybe_unused]] int16_t version, [[maybe_unused]] test_rng& g)")
        fill_struct(c, s, m)
        c.close()
    c()
    c("}  // namespace")
    for m in messages:
        c()
        c.open(f"void fill_random([[maybe_unused]] {m.name}& m, [[maybe_unused]] int16_t version, "
               f"[[maybe_unused]] test_rng& g)")
        fill_struct(c, m.root, m)
        c.close()
    c()
    c("}  // namespace strata::protocol::testing")
    return c.text()


def fill_header(messages):
    out = [HEADER_NOTE, "#pragma once",
           "// fill_random(message, version, rng): random values in the fields of that version.", "",
           '#include "protocol/generated/messages.h"',
           '#include "random_values.h"', "",
           "namespace strata::protocol::testing {", ""]
    out += [f"void fill_random({m.name}& m, int16_t version, test_rng& g);" for m in messages]
    out += ["", "}  // namespace strata::protocol::testing"]
    return "\n".join(out) + "\n"
