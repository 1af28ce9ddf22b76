#pragma once
// Brokers without racks, for placement and rebalance tests.
#include <cstdint>
#include <optional>
#include <vector>

#include "cluster/replica_placement.h"

namespace strata::cluster::test {

inline std::vector<broker_metadata> no_racks(std::vector<int32_t> ids) {
  std::vector<broker_metadata> out;
  for (int32_t id : ids) out.push_back({id, std::nullopt});
  return out;
}

}  // namespace strata::cluster::test
