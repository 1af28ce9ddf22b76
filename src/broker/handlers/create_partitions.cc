// CreatePartitions (key 37): grow a topic's partition count.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {

namespace {

// Manual assignments (optional): one per new partition, each naming this broker only.
std::optional<std::string> check_assignments(broker& b,
                                             const protocol::create_partitions_request::create_partitions_topic& t) {
  if (!t.assignments || t.assignments->empty()) return std::nullopt;
  auto cur = b.topics().find(t.name);
  if (!cur) return std::nullopt;  // add_partitions says the topic does not exist
  const int64_t adding = int64_t(t.count) - static_cast<int64_t>(cur->partitions.size());
  if (static_cast<int64_t>(t.assignments->size()) != adding)
    return fmt::format("{} assignments for {} new partitions", t.assignments->size(), adding);
  for (const auto& a : *t.assignments)
    if (a.broker_ids.size() != 1 || a.broker_ids.front() != b.node_id())
      return fmt::format("an assignment names {} replica(s); the only broker is {}", a.broker_ids.size(),
                         b.node_id());
  return std::nullopt;
}

}  // namespace

void create_partitions(request_context&& ctx) {
  // File work (creating/removing partition directories, segments, fsyncs): off the reactor.
  if (!ctx.on_worker) return offload(std::move(ctx), create_partitions);
  protocol::create_partitions_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  protocol::create_partitions_response resp;
  // The new partitions of the whole request are checked against
  // strata.create.partitions.max.per.request before any is created (validate_only
  // too); a topic named twice is refused (Kafka: INVALID_REQUEST).
  std::map<std::string_view, int> names;
  for (const auto& t : req.topics) names[t.name]++;
  int64_t requested = 0;
  for (const auto& t : req.topics) {
    auto cur = b.topics().find(t.name);
    if (cur && names[t.name] == 1 && t.count > static_cast<int32_t>(cur->partitions.size()))
      requested += int64_t(t.count) - static_cast<int64_t>(cur->partitions.size());
  }
  auto over = b.topics().check_request_limit(requested);
  if (over) STRATA_LOG_LIMITED(spdlog::level::warn, "CreatePartitions from {} refused: {}", ctx.peer(), over.message);
  for (const auto& t : req.topics) {
    protocol::create_partitions_response::create_partitions_topic_result r;
    r.name = t.name;
    topic_error err;
    if (names[t.name] > 1)
      err = {protocol::error_code::invalid_request, fmt::format("topic '{}' appears more than once in the request", t.name)};
    else if (auto bad = check_assignments(b, t))
      err = {protocol::error_code::invalid_replica_assignment, *bad};
    else if (over)
      err = over;
    else
      err = b.topics().add_partitions(t.name, t.count, req.validate_only);
    r.error_code = ec(err.code);
    if (err)
      r.error_message = err.message;
    else if (!req.validate_only)
      spdlog::info("topic '{}' now has {} partitions", t.name, t.count);
    resp.results.push_back(std::move(r));
  }
  ctx.respond(resp);
}

}  // namespace strata::broker::handlers
