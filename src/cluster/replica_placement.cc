#include "cluster/replica_placement.h"

#include <algorithm>
#include <set>
#include <string>
#include <utility>

namespace strata::cluster {
namespace {

class placement_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "strata.placement"; }
  std::string message(int c) const override {
    switch (static_cast<placement_errc>(c)) {
      case placement_errc::ok: return "ok";
      case placement_errc::invalid_partitions: return "invalid number of partitions";
      case placement_errc::invalid_replication_factor: return "invalid replication factor";
      case placement_errc::incomplete_rack_information: return "not all brokers have rack information";
      case placement_errc::missing_partition_zero: return "existing assignment has no partition 0";
    }
    return "unknown placement error";
  }
};

placement_result fail(placement_errc e, std::string message) {
  return placement_result{{}, make_error_code(e), std::move(message)};
}

std::vector<broker_metadata> sorted_by_id(std::span<const broker_metadata> brokers) {
  std::vector<broker_metadata> out(brokers.begin(), brokers.end());
  std::sort(out.begin(), out.end(),
            [](const broker_metadata& a, const broker_metadata& b) { return a.id < b.id; });
  return out;
}

// Kafka's AdminUtils.replicaIndex: the broker index of a follower, never the first
// replica's own index (the step is 1 .. n-1). Needs n >= 2.
int64_t replica_index(int64_t first_replica_index, int64_t second_replica_shift,
                      int64_t replica_index, int64_t n) {
  int64_t shift = 1 + (second_replica_shift + replica_index) % (n - 1);
  return (first_replica_index + shift) % n;
}

replica_assignment assign_rack_unaware(int32_t partitions, int32_t replication_factor,
                                       const std::vector<int32_t>& ids, placement_start start,
                                       int32_t start_partition_id) {
  replica_assignment out;
  const int64_t n = static_cast<int64_t>(ids.size());
  int64_t shift = start.replica_shift;
  int64_t p = std::max(0, start_partition_id);
  for (int32_t i = 0; i < partitions; ++i, ++p) {
    if (p > 0 && p % n == 0) ++shift;
    int64_t first = (p + start.start_index) % n;
    std::vector<int32_t> replicas{ids[first]};
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      replicas.push_back(ids[replica_index(first, shift, j, n)]);
    }
    out.emplace(static_cast<int32_t>(p), std::move(replicas));
  }
  return out;
}

replica_assignment assign_rack_aware(int32_t partitions, int32_t replication_factor,
                                     const std::map<int32_t, std::string>& rack_of,
                                     placement_start start, int32_t start_partition_id) {
  std::set<std::string> all_racks;
  for (const auto& [id, rack] : rack_of) all_racks.insert(rack);
  const auto num_racks = all_racks.size();
  const std::vector<int32_t> arranged = rack_alternated_broker_list(rack_of);
  const int64_t n = static_cast<int64_t>(arranged.size());

  replica_assignment out;
  int64_t shift = start.replica_shift;
  int64_t p = std::max(0, start_partition_id);
  for (int32_t i = 0; i < partitions; ++i, ++p) {
    if (p > 0 && p % n == 0) ++shift;
    int64_t first = (p + start.start_index) % n;
    int32_t leader = arranged[first];
    std::vector<int32_t> replicas{leader};
    std::set<std::string> racks_with_replicas{rack_of.at(leader)};
    std::set<int32_t> brokers_with_replicas{leader};
    int64_t k = 0;
    for (int32_t j = 0; j < replication_factor - 1; ++j) {
      for (;; ++k) {
        int32_t broker = arranged[replica_index(first, shift * static_cast<int64_t>(num_racks), k, n)];
        const std::string& rack = rack_of.at(broker);
        // Skip the broker while a rack without a replica remains and its rack has one,
        // or while a broker without a replica remains and it has one.
        bool rack_ok = !racks_with_replicas.contains(rack) || racks_with_replicas.size() == num_racks;
        bool broker_ok = !brokers_with_replicas.contains(broker) ||
                         static_cast<int64_t>(brokers_with_replicas.size()) == n;
        if (rack_ok && broker_ok) {
          replicas.push_back(broker);
          racks_with_replicas.insert(rack);
          brokers_with_replicas.insert(broker);
          ++k;
          break;
        }
      }
    }
    out.emplace(static_cast<int32_t>(p), std::move(replicas));
  }
  return out;
}

}  // namespace

const std::error_category& placement_category() noexcept {
  static const placement_category_impl c;
  return c;
}

broker_list_result brokers_for_placement(std::vector<broker_metadata> brokers, rack_aware_mode mode) {
  std::sort(brokers.begin(), brokers.end(),
            [](const broker_metadata& a, const broker_metadata& b) { return a.id < b.id; });
  auto with_rack = std::count_if(brokers.begin(), brokers.end(),
                                 [](const broker_metadata& b) { return b.rack.has_value(); });
  bool partial = with_rack > 0 && with_rack < static_cast<std::ptrdiff_t>(brokers.size());
  if (mode == rack_aware_mode::enforced && partial) {
    return broker_list_result{{},
                              make_error_code(placement_errc::incomplete_rack_information),
                              "Not all brokers have rack information."};
  }
  if (mode == rack_aware_mode::disabled || (mode == rack_aware_mode::safe && partial)) {
    for (auto& b : brokers) b.rack.reset();
  }
  return broker_list_result{std::move(brokers), {}, {}};
}

placement_start random_placement_start(std::size_t broker_count, std::mt19937& rng) {
  if (broker_count == 0) return {};
  std::uniform_int_distribution<int32_t> d(0, static_cast<int32_t>(broker_count - 1));
  int32_t start_index = d(rng);
  int32_t replica_shift = d(rng);
  return {start_index, replica_shift};
}

placement_result assign_replicas_to_brokers(std::span<const broker_metadata> brokers,
                                            int32_t partitions, int32_t replication_factor,
                                            placement_start start, int32_t start_partition_id) {
  if (partitions <= 0) {
    return fail(placement_errc::invalid_partitions, "Number of partitions must be larger than 0.");
  }
  if (replication_factor <= 0) {
    return fail(placement_errc::invalid_replication_factor,
                "Replication factor must be larger than 0.");
  }
  if (static_cast<std::size_t>(replication_factor) > brokers.size()) {
    return fail(placement_errc::invalid_replication_factor,
                "Replication factor: " + std::to_string(replication_factor) +
                    " larger than available brokers: " + std::to_string(brokers.size()) + ".");
  }
  const auto sorted = sorted_by_id(brokers);
  bool any_rack = std::any_of(sorted.begin(), sorted.end(),
                              [](const broker_metadata& b) { return b.rack.has_value(); });
  if (!any_rack) {
    std::vector<int32_t> ids;
    for (const auto& b : sorted) ids.push_back(b.id);
    return placement_result{
        assign_rack_unaware(partitions, replication_factor, ids, start, start_partition_id), {}, {}};
  }
  std::map<int32_t, std::string> rack_of;
  for (const auto& b : sorted) {
    if (!b.rack) {
      return fail(placement_errc::incomplete_rack_information,
                  "Not all brokers have rack information for replica rack aware assignment.");
    }
    rack_of.emplace(b.id, *b.rack);
  }
  return placement_result{
      assign_rack_aware(partitions, replication_factor, rack_of, start, start_partition_id), {}, {}};
}

std::vector<int32_t> rack_alternated_broker_list(const std::map<int32_t, std::string>& broker_racks) {
  // Racks in name order, each with its brokers in id order (the map iterates by id).
  std::map<std::string, std::vector<int32_t>> by_rack;
  for (const auto& [id, rack] : broker_racks) by_rack[rack].push_back(id);
  std::vector<int32_t> out;
  out.reserve(broker_racks.size());
  for (std::size_t round = 0; out.size() < broker_racks.size(); ++round) {
    for (const auto& [rack, ids] : by_rack) {
      if (round < ids.size()) out.push_back(ids[round]);
    }
  }
  return out;
}

placement_result assign_replicas_for_new_partitions(const replica_assignment& existing,
                                                    std::span<const broker_metadata> brokers,
                                                    int32_t new_partition_count) {
  auto p0 = existing.find(0);
  if (p0 == existing.end() || p0->second.empty()) {
    return fail(placement_errc::missing_partition_zero,
                "Unexpected existing replica assignment, partition id 0 is missing.");
  }
  const auto old_count = static_cast<int64_t>(existing.size());
  if (new_partition_count < old_count) {
    return fail(placement_errc::invalid_partitions,
                "Topic currently has " + std::to_string(old_count) +
                    " partitions, which is higher than the requested " +
                    std::to_string(new_partition_count) + ".");
  }
  if (new_partition_count == old_count) {
    return fail(placement_errc::invalid_partitions,
                "Topic already has " + std::to_string(old_count) + " partitions.");
  }
  const auto sorted = sorted_by_id(brokers);
  const int32_t first_replica = p0->second.front();
  auto it = std::find_if(sorted.begin(), sorted.end(),
                         [&](const broker_metadata& b) { return b.id >= first_replica; });
  // Kafka: max(0, indexWhere(...)); indexWhere gives -1 when no broker qualifies.
  const auto start_index = it == sorted.end() ? 0 : static_cast<int32_t>(it - sorted.begin());
  return assign_replicas_to_brokers(sorted, new_partition_count - static_cast<int32_t>(old_count),
                                    static_cast<int32_t>(p0->second.size()),
                                    placement_start{start_index, start_index},
                                    static_cast<int32_t>(old_count));
}

}  // namespace strata::cluster
