#include "client/move_throttles.h"

#include <algorithm>
#include <map>

#include "client/topics.h"

namespace strata::client {

std::set<int32_t> set_move_throttles(cluster_client& c, const std::vector<partition_move_replicas>& moves,
                                     int64_t bytes_per_second) {
  std::map<std::string, std::pair<std::string, std::string>> lists;  // topic -> (leader, follower)
  std::set<int32_t> brokers;
  auto add = [](std::string& list, int32_t p, int32_t b) {
    list += (list.empty() ? "" : ",") + std::to_string(p) + ":" + std::to_string(b);
  };
  for (const auto& m : moves) {
    auto& [leader, follower] = lists[m.tp.topic];
    for (int32_t b : m.from) {
      add(leader, m.tp.partition, b);
      brokers.insert(b);
    }
    for (int32_t b : m.to) {
      if (std::count(m.from.begin(), m.from.end(), b)) continue;
      add(follower, m.tp.partition, b);
      brokers.insert(b);
    }
  }
  for (const auto& [topic, l] : lists)
    alter_topic_configs(c, topic, {{"leader.replication.throttled.replicas", l.first},
                                   {"follower.replication.throttled.replicas", l.second}});
  const std::string rate = std::to_string(bytes_per_second);
  for (int32_t b : brokers)
    alter_broker_configs(c, b, {{"leader.replication.throttled.rate", rate}, {"follower.replication.throttled.rate", rate}});
  return brokers;
}

void clear_move_throttles(cluster_client& c, const std::set<std::string>& topics, const std::set<int32_t>& brokers) {
  for (const auto& t : topics)
    alter_topic_configs(c, t, {{"leader.replication.throttled.replicas", std::nullopt},
                               {"follower.replication.throttled.replicas", std::nullopt}});
  for (int32_t b : brokers)
    alter_broker_configs(c, b, {{"leader.replication.throttled.rate", std::nullopt},
                                {"follower.replication.throttled.rate", std::nullopt}});
}

}  // namespace strata::client
