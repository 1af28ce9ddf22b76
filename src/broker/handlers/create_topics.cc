// CreateTopics (key 19): partitions, replication factor, configs, validate-only.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/config_entries.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

namespace {

// What one topic of the request asks for, checked before anything is created.
struct topic_plan {
  int32_t partitions = 0;
  int16_t rf = 0;
  std::optional<cluster::replica_assignment> manual;  // the client's own assignment (a cluster)
  protocol::error_code error = protocol::error_code::none;
  std::string message;
};

// Counts come from the client (or a mutated frame): every one is checked against this
// broker and the limits before it sizes anything.
topic_plan plan_topic(broker& b, const protocol::create_topics_request::creatable_topic& t) {
  topic_plan pl;
  auto fail = [&](protocol::error_code code, std::string msg) {
    pl.error = code;
    pl.message = std::move(msg);
    return pl;
  };
  pl.partitions = t.num_partitions;
  pl.rf = t.replication_factor;
  if (!t.assignments.empty()) {
    // Manual assignment: the partition count is the number of assignments, their
    // indexes are 0..n-1, and every replica must be this broker (so one per partition).
    if (t.num_partitions != -1 || t.replication_factor != -1)
      return fail(protocol::error_code::invalid_request,
                  "num_partitions and replication_factor must be -1 when assignments are given");
    const size_t n = t.assignments.size();
    const auto max = static_cast<size_t>(b.cfg().get_int("strata.create.partitions.max.per.request"));
    if (n > max)
      return fail(protocol::error_code::policy_violation,
                  fmt::format("strata.create.partitions.max.per.request is {}: the assignments name {} partitions",
                              max, n));
    std::vector<bool> seen(n, false);
    const bool cluster = b.topics().cluster_mode();
    cluster::replica_assignment manual;
    for (const auto& a : t.assignments) {
      if (a.partition_index < 0 || static_cast<size_t>(a.partition_index) >= n || seen[size_t(a.partition_index)])
        return fail(protocol::error_code::invalid_replica_assignment,
                    fmt::format("assignment partition indexes must be 0..{} once each, got {}", n - 1,
                                a.partition_index));
      seen[size_t(a.partition_index)] = true;
      if (!cluster) {
        if (a.broker_ids.size() != 1 || a.broker_ids.front() != b.node_id())
          return fail(protocol::error_code::invalid_replica_assignment,
                      fmt::format("partition {} is assigned to {} replica(s); the only broker is {}",
                                  a.partition_index, a.broker_ids.size(), b.node_id()));
        continue;
      }
      // Kafka's AdminZkClient.validateReplicaAssignment.
      if (a.broker_ids.empty())
        return fail(protocol::error_code::invalid_replica_assignment,
                    fmt::format("partition {} is assigned no replica", a.partition_index));
      if (std::set<int32_t>(a.broker_ids.begin(), a.broker_ids.end()).size() != a.broker_ids.size())
        return fail(protocol::error_code::invalid_replica_assignment,
                    fmt::format("duplicate replica assignment found for partition {}", a.partition_index));
      if (!manual.empty() && manual.begin()->second.size() != a.broker_ids.size())
        return fail(protocol::error_code::invalid_replica_assignment,
                    "all partitions should have the same number of replicas");
      const auto view = b.metadata().snapshot();
      for (int32_t id : a.broker_ids)
        if (!view->broker(id))
          return fail(protocol::error_code::invalid_replica_assignment,
                      fmt::format("unknown broker {} in the assignment of partition {}", id, a.partition_index));
      manual[a.partition_index] = a.broker_ids;
    }
    pl.partitions = static_cast<int32_t>(n);
    pl.rf = cluster ? static_cast<int16_t>(manual.begin()->second.size()) : int16_t{1};
    if (cluster) pl.manual = std::move(manual);
  }
  if (pl.partitions == -1) pl.partitions = static_cast<int32_t>(b.cfg().get_int("num.partitions"));
  if (pl.rf == -1) pl.rf = static_cast<int16_t>(b.cfg().get_int("default.replication.factor"));
  if (pl.partitions <= 0)
    return fail(protocol::error_code::invalid_partitions,
                fmt::format("number of partitions must be at least 1, got {}", pl.partitions));
  return pl;
}

}  // namespace

void create_topics(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), create_topics);
  protocol::create_topics_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::create_topics_response resp;
  // Everything is checked before anything is created: each topic's counts, names that
  // appear twice (Kafka: INVALID_REQUEST for each), and the partitions of the whole
  // request against strata.create.partitions.max.per.request (validate_only too). Past
  // it, no topic of the request is created, as Kafka 4.0 does past its fixed 10,000
  // (KAFKA-17870).
  std::vector<topic_plan> plans;
  plans.reserve(req.topics.size());
  std::map<std::string_view, int> names;
  for (const auto& t : req.topics) names[t.name]++;
  int64_t requested = 0;
  for (const auto& t : req.topics) {
    auto pl = plan_topic(b, t);
    if (names[t.name] > 1) {
      pl.error = protocol::error_code::invalid_request;
      pl.message = fmt::format("topic '{}' appears more than once in the request", t.name);
    }
    if (pl.error == protocol::error_code::none) requested += pl.partitions;
    plans.push_back(std::move(pl));
  }
  if (auto over = b.topics().check_request_limit(requested)) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "CreateTopics from {} refused: {}", ctx.peer(), over.message);
    for (auto& pl : plans) {
      if (pl.error != protocol::error_code::none) continue;
      pl.error = over.code;
      pl.message = over.message;
    }
  }
  for (size_t i = 0; i < req.topics.size(); ++i) {
    const auto& t = req.topics[i];
    const auto& pl = plans[i];
    protocol::create_topics_response::creatable_topic_result r;
    r.name = t.name;
    auto fail = [&](protocol::error_code code, std::string msg) {
      r.error_code = ec(code);
      r.error_message = std::move(msg);
      resp.topics.push_back(r);
    };
    if (pl.error != protocol::error_code::none) {
      fail(pl.error, pl.message);
      continue;
    }
    const int32_t partitions = pl.partitions;
    const int16_t rf = pl.rf;
    config::topic_overrides overrides;
    for (const auto& c : t.configs)
      if (c.value) overrides[c.name] = *c.value;
    auto err = b.topics().create(t.name, partitions, rf, overrides, req.validate_only, /*internal=*/false,
                                 pl.manual ? &*pl.manual : nullptr);
    if (err) {
      if (err.code == protocol::error_code::policy_violation || err.code == protocol::error_code::kafka_storage_error)
        STRATA_LOG_LIMITED(spdlog::level::warn, "CreateTopics '{}' from {} refused: {}", t.name, ctx.peer(),
                           err.message);
      fail(err.code, err.message);
      continue;
    }
    if (!req.validate_only)
      spdlog::info("created topic '{}' with {} partition(s) for {}", t.name, partitions, ctx.peer());
    if (!req.validate_only && b.topics().cluster_mode()) {
      // Kafka answers once the controller has elected the new partitions' leaders and
      // this broker knows them (or timeout_ms passed: the topic exists, its leaders
      // come later, and clients retry LEADER_NOT_AVAILABLE).
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::max(req.timeout_ms, 0));
      const std::string name = t.name;
      bool led = b.metadata().wait_until(
          [&](const cluster::cluster_view& v) {
            auto ti = v.topic(name);
            if (!ti || static_cast<int32_t>(ti->partitions.size()) < partitions) return false;
            for (const auto& p : ti->partitions)
              if (p.leader < 0) return false;
            return true;
          },
          deadline);
      if (!led && req.timeout_ms > 0) {
        fail(protocol::error_code::request_timed_out,
             fmt::format("topic '{}' was created but its leaders were not elected within {} ms", name, req.timeout_ms));
        continue;
      }
    }
    r.error_code = ec(protocol::error_code::none);
    r.num_partitions = partitions;
    r.replication_factor = rf;
    if (auto ts = b.topics().find(t.name)) r.topic_id = ts->id;
    if (ctx.api_version >= 5) {
      auto tc = config::resolve_topic_config(b.cfg(), overrides);
      std::vector<protocol::create_topics_response::creatable_topic_result::creatable_topic_configs> cfgs;
      for (const auto& e : tc.entries) {
        protocol::create_topics_response::creatable_topic_result::creatable_topic_configs c;
        c.name = e.name;
        c.value = e.value;
        c.read_only = false;
        c.config_source = topic_config_source(e.src);
        c.is_sensitive = false;
        cfgs.push_back(std::move(c));
      }
      r.configs = std::move(cfgs);
    }
    resp.topics.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
