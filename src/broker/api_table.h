#pragma once
// The APIs this broker answers and the versions it advertises in
// ApiVersions. Each range is chosen where the semantics of every version in
// it are built; minimums stay at or below the versions librdkafka 2.0.2 and
// kafka-python probe for (shared/kafka-protocol/CLIENTS.md §2.1).
// docs/COMPATIBILITY.md is generated from this table (`strata api-versions`).
#include <cstdint>
#include <span>

namespace strata::broker {

struct request_context;
using handler_fn = void (*)(request_context&&);

struct api_entry {
  int16_t key;
  int16_t min_version;
  int16_t max_version;
  handler_fn fn;
};

std::span<const api_entry> supported_apis();
const api_entry* find_api(int16_t key);

}  // namespace strata::broker
