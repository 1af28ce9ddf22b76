"""Emits the API table, the error codes, the type visitors and messages.h."""

import csv
import re

from cpp_types import HEADER_NOTE
from schema import snake

LISTENER_BITS = {"broker": 1, "controller": 2, "zkBroker": 4}


def api_name(message):
    return re.sub(r"Request$", "", message.json_name)


def apis(messages):
    """(request, response) pairs sorted by api key."""
    requests = {m.api_key: m for m in messages if m.kind == "request"}
    responses = {m.api_key: m for m in messages if m.kind == "response"}
    if set(requests) != set(responses):
        raise ValueError("every request needs a response")
    return [(requests[k], responses[k]) for k in sorted(requests)]


def api_keys_header(messages):
    pairs = apis(messages)
    out = [HEADER_NOTE, "#pragma once", "",
           "#include <cstdint>", "#include <span>", "#include <string_view>", "",
           "namespace strata::protocol {", "",
           "// Every API key of the protocol, with Kafka's numbers.",
           "enum class api_key : int16_t {"]
    out += [f"  {snake(api_name(req))} = {req.api_key}," for req, _ in pairs]
    out += ["};", "",
            "// Bits of api_info::listeners: who serves the API (Kafka's \"listeners\").",
            "inline constexpr uint8_t listener_broker = 1;",
            "inline constexpr uint8_t listener_controller = 2;",
            "inline constexpr uint8_t listener_zk_broker = 4;", "",
            "// What the schemas say about one API. Requests and responses share their",
            "// version ranges and flexible versions.",
            "struct api_info {",
            "  api_key key;",
            "  std::string_view name;  // Kafka's name, e.g. \"ListOffsets\"",
            "  int16_t min_version;",
            "  int16_t max_version;",
            "  int16_t first_flexible_version;  // -1: never flexible",
            "  bool latest_version_unstable;",
            "  uint8_t listeners;  // listener_* bits",
            "};", "",
            "// Every API, sorted by key.",
            "std::span<const api_info> all_apis();",
            "",
            "// The API with this key, or nullptr.",
            "const api_info* find_api(int16_t key);",
            "",
            "// The request header version for a request: 2 if the request version is",
            "// flexible, else 1; 0 for ControlledShutdown v0. Versions above the newest",
            "// known one count as flexible when the API has flexible versions, as Kafka's",
            "// ApiKeys.requestHeaderVersion does (an ApiVersions request newer than ours",
            "// must still parse). -1 for an unknown key.",
            "int16_t request_header_version(int16_t api_key, int16_t api_version);",
            "",
            "// The response header version: 1 if flexible, else 0; always 0 for",
            "// ApiVersions (KIP-511: clients parse it before they know our versions).",
            "// -1 for an unknown key.",
            "int16_t response_header_version(int16_t api_key, int16_t api_version);",
            "", "}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def api_keys_source(messages):
    pairs = apis(messages)
    rows = []
    for req, resp in pairs:
        bits = " | ".join(f"listener_{snake(l)}" for l in req.listeners) or "0"
        rows.append(f"    {{api_key::{snake(api_name(req))}, \"{api_name(req)}\", "
                    f"{req.valid.lo}, {req.valid.hi}, {req.first_flexible}, "
                    f"{'true' if req.latest_version_unstable else 'false'}, {bits}}},")
    keys = [req.api_key for req, _ in pairs]
    dense = keys == list(range(len(keys)))
    out = [HEADER_NOTE.rstrip(), '#include "protocol/generated/api_keys.h"', "",
           "#include <iterator>", "",
           "namespace strata::protocol {", "", "namespace {", "",
           "constexpr api_info kApis[] = {"] + rows + ["};", "", "}  // namespace", "",
           "std::span<const api_info> all_apis() { return kApis; }", "",
           "const api_info* find_api(int16_t key) {"]
    if dense:
        out += ["  // Keys are dense from 0, so the key is the index.",
                "  if (key < 0 || static_cast<size_t>(key) >= std::size(kApis)) return nullptr;",
                "  return &kApis[key];"]
    else:
        out += ["  for (const auto& a : kApis)",
                "    if (static_cast<int16_t>(a.key) == key) return &a;",
                "  return nullptr;"]
    out += ["}", "",
            "int16_t request_header_version(int16_t api_key, int16_t api_version) {",
            "  const api_info* a = find_api(api_key);",
            "  if (!a) return -1;",
            f"  if (api_key == {keys_of(pairs, 'ControlledShutdown')} && api_version == 0) return 0;",
            "  const bool flexible = a->first_flexible_version >= 0 && api_version >= a->first_flexible_version;",
            "  return flexible ? 2 : 1;",
            "}", "",
            "int16_t response_header_version(int16_t api_key, int16_t api_version) {",
            "  const api_info* a = find_api(api_key);",
            "  if (!a) return -1;",
            f"  if (api_key == {keys_of(pairs, 'ApiVersions')}) return 0;",
            "  const bool flexible = a->first_flexible_version >= 0 && api_version >= a->first_flexible_version;",
            "  return flexible ? 1 : 0;",
            "}", "", "}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def keys_of(pairs, name):
    for req, _ in pairs:
        if api_name(req) == name:
            return req.api_key
    raise ValueError(name)


def read_error_codes(path):
    rows = []
    with open(path) as f:
        lines = [line for line in f if not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter="\t"):
        rows.append((int(row["code"]), row["name"].strip()))
    rows.sort()
    return rows


def error_code_header(rows):
    out = [HEADER_NOTE, "#pragma once", "", "#include <cstdint>", "#include <string_view>", "",
           "namespace strata::protocol {", "",
           "// Kafka's error codes with Kafka's values (Errors.java), names in lower case.",
           "enum class error_code : int16_t {"]
    out += [f"  {name.lower()} = {code}," for code, name in rows]
    out += ["};", "",
            "// Kafka's name for the code (\"UNKNOWN_TOPIC_OR_PARTITION\"), as Kafka logs it;",
            "// \"UNKNOWN\" for a value Kafka does not define.",
            "std::string_view error_name(error_code code);", "",
            "}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def error_code_source(rows):
    out = [HEADER_NOTE.rstrip(), '#include "protocol/generated/error_code.h"', "",
           "namespace strata::protocol {", "",
           "std::string_view error_name(error_code code) {",
           "  switch (code) {"]
    out += [f"    case error_code::{name.lower()}: return \"{name}\";" for _, name in rows]
    out += ["  }", "  return \"UNKNOWN\";", "}", "", "}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def visit_header(messages):
    pairs = apis(messages)
    out = [HEADER_NOTE, "#pragma once",
           "// Compile-time walks over the message types, for dispatch tables, fuzzers and",
           "// tests. Including this pulls in every message header.", "",
           "#include <cstdint>", "#include <type_traits>", "",
           '#include "protocol/generated/messages.h"', "",
           "namespace strata::protocol {", ""]
    for kind in ("request", "response"):
        out += [f"// Calls f(std::type_identity<T>{{}}) with the {kind} type of api_key; false if",
                "// the key is unknown.",
                "template <typename F>",
                f"bool visit_{kind}_type(int16_t api_key, F&& f) {{",
                "  switch (api_key) {"]
        for req, resp in pairs:
            m = req if kind == "request" else resp
            out.append(f"    case {m.api_key}: f(std::type_identity<{m.name}>{{}}); return true;")
        out += ["    default: return false;", "  }", "}", ""]
    out += ["// Calls f(std::type_identity<T>{}) for every generated message type: requests,",
            "// responses, headers and data records, in file order.",
            "template <typename F>", "void for_each_message_type(F&& f) {"]
    out += [f"  f(std::type_identity<{m.name}>{{}});" for m in messages]
    out += ["}", "", "}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def dispatch_header():
    return "\n".join([
        HEADER_NOTE, "#pragma once", "",
        "#include <cstdint>", "",
        '#include "protocol/wire.h"', "",
        "namespace strata::protocol {", "",
        "// Decodes the body of a request (response) of any API into a throwaway",
        "// object. False if the key or version is unknown or the bytes are malformed;",
        "// trailing bytes are not an error here. For fuzzers and diagnostics; the",
        "// broker decodes into the concrete type.",
        "bool decode_any_request(int16_t api_key, int16_t version, reader& r);",
        "bool decode_any_response(int16_t api_key, int16_t version, reader& r);", "",
        "}  // namespace strata::protocol"]) + "\n"


def dispatch_source():
    out = [HEADER_NOTE.rstrip(), '#include "protocol/generated/dispatch.h"', "",
           '#include "protocol/generated/visit.h"', "",
           "namespace strata::protocol {", "", "namespace {", "",
           "template <typename T>",
           "bool decode_as(int16_t version, reader& r) {",
           "  if (version < T::min_version || version > T::max_version) return false;",
           "  T message;",
           "  message.decode(r, version);",
           "  return r.ok();",
           "}", "", "}  // namespace", ""]
    for kind in ("request", "response"):
        out += [f"bool decode_any_{kind}(int16_t api_key, int16_t version, reader& r) {{",
                "  bool ok = false;",
                f"  visit_{kind}_type(api_key, [&]<typename T>(std::type_identity<T>) {{",
                "    ok = decode_as<T>(version, r);",
                "  });",
                "  return ok;",
                "}", ""]
    out += ["}  // namespace strata::protocol"]
    return "\n".join(out) + "\n"


def umbrella_header(stems):
    out = [HEADER_NOTE, "#pragma once", "// Every generated message type, the API table and the error codes.", ""]
    out += [f'#include "protocol/generated/{s}.h"' for s in sorted(stems + ["api_keys", "error_code"])]
    return "\n".join(out) + "\n"
