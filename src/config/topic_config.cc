#include "config/topic_config.h"

#include <fmt/format.h>

#include <charconv>

#include "config/broker_config.h"
#include "config/config_def.h"

namespace strata::config {
namespace {

int64_t to_i64(const std::string& s, int64_t fallback) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size() ? v : fallback;
}

double to_double(const std::string& s, double fallback) {
  try {
    size_t used = 0;
    const double v = std::stod(s, &used);
    return used == s.size() ? v : fallback;
  } catch (const std::exception&) {
    return fallback;
  }
}

}  // namespace

std::optional<std::string> validate_topic_overrides(const topic_overrides& overrides) {
  for (const auto& [k, v] : overrides) {
    const config_def* def = find_topic_def(k);
    if (!def) return fmt::format("unknown topic configuration '{}'", k);
    if (auto err = validate_value(*def, v)) return err;
  }
  return std::nullopt;
}

topic_config resolve_topic_config(const broker_config& broker, const topic_overrides& overrides) {
  topic_config tc;
  std::map<std::string, std::string> eff;
  for (const auto& def : topic_config_defs()) {
    std::string name(def.name);
    std::string value;
    topic_config::source src = topic_config::source::default_;
    if (auto it = overrides.find(name); it != overrides.end()) {
      value = it->second;
      src = topic_config::source::topic;
    } else if (!def.broker_default.empty()) {
      std::string bkey(def.broker_default);
      // Derived broker values (ms/minutes/hours precedence) come from accessors.
      if (bkey == "log.retention.ms")
        value = std::to_string(broker.log_retention_ms());
      else if (bkey == "log.roll.ms")
        value = std::to_string(broker.log_roll_ms());
      else if (bkey == "log.flush.interval.ms")
        value = std::to_string(broker.log_flush_interval_ms());
      else
        value = broker.get(bkey);
      bool broker_set = broker.is_set(bkey) || (bkey == "log.retention.ms" && (broker.is_set("log.retention.hours") ||
                                                                                broker.is_set("log.retention.minutes"))) ||
                        (bkey == "log.roll.ms" && broker.is_set("log.roll.hours"));
      if (broker_set) src = topic_config::source::static_broker;
      if (value.empty()) value = std::string(def.default_value);
    } else {
      value = std::string(def.default_value);
    }
    eff[name] = value;
    tc.entries.push_back({name, value, src});
  }
  tc.retention_ms = to_i64(eff["retention.ms"], tc.retention_ms);
  tc.retention_bytes = to_i64(eff["retention.bytes"], tc.retention_bytes);
  tc.segment_bytes = to_i64(eff["segment.bytes"], tc.segment_bytes);
  tc.segment_ms = to_i64(eff["segment.ms"], tc.segment_ms);
  tc.segment_index_bytes = to_i64(eff["segment.index.bytes"], tc.segment_index_bytes);
  tc.index_interval_bytes = to_i64(eff["index.interval.bytes"], tc.index_interval_bytes);
  tc.flush_messages = to_i64(eff["flush.messages"], tc.flush_messages);
  tc.flush_ms = to_i64(eff["flush.ms"], tc.flush_ms);
  tc.max_message_bytes = static_cast<int32_t>(to_i64(eff["max.message.bytes"], tc.max_message_bytes));
  tc.min_insync_replicas = static_cast<int32_t>(to_i64(eff["min.insync.replicas"], tc.min_insync_replicas));
  tc.log_append_time = eff["message.timestamp.type"] == "LogAppendTime";
  const std::string& policy = eff["cleanup.policy"];
  tc.compact = policy.find("compact") != std::string::npos;
  tc.remove_on_retention = policy.find("delete") != std::string::npos;
  tc.compression_type = eff["compression.type"];
  tc.min_cleanable_dirty_ratio = to_double(eff["min.cleanable.dirty.ratio"], tc.min_cleanable_dirty_ratio);
  tc.min_compaction_lag_ms = to_i64(eff["min.compaction.lag.ms"], tc.min_compaction_lag_ms);
  tc.max_compaction_lag_ms = to_i64(eff["max.compaction.lag.ms"], tc.max_compaction_lag_ms);
  tc.delete_retention_ms = to_i64(eff["delete.retention.ms"], tc.delete_retention_ms);
  tc.leader_throttled_replicas =
      parse_throttled_replicas(eff["leader.replication.throttled.replicas"]).value_or(throttled_replicas{});
  tc.follower_throttled_replicas =
      parse_throttled_replicas(eff["follower.replication.throttled.replicas"]).value_or(throttled_replicas{});
  return tc;
}

}  // namespace strata::config
