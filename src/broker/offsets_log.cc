#include "broker/offsets_log.h"

#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/handlers/common.h"
#include "cluster/errc.h"
#include "group/errc.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/record_iterator.h"
#include "storage/log.h"
#include "storage/log_manager.h"

namespace strata::broker {
namespace {

// What the group coordinator understands of a failed append (group/errc.h): it
// answers each with Kafka's code for commits and for group-metadata writes.
std::error_code for_group(std::error_code e) {
  using group::append_errc;
  if (!e) return e;
  if (e.category() == cluster::cluster_category()) {
    switch (static_cast<cluster::errc>(e.value())) {
      case cluster::errc::not_leader_or_follower:
      case cluster::errc::fenced_leader_epoch:
      case cluster::errc::unknown_leader_epoch:
      case cluster::errc::partition_deleted:
      case cluster::errc::shutting_down: return group::make_error_code(append_errc::not_leader);
      case cluster::errc::not_enough_replicas:
      case cluster::errc::not_enough_replicas_after_append:
        return group::make_error_code(append_errc::not_enough_replicas);
      case cluster::errc::request_timed_out: return group::make_error_code(append_errc::timed_out);
      case cluster::errc::unknown_topic_or_partition: return group::make_error_code(append_errc::unknown_partition);
      default: return group::make_error_code(append_errc::storage_error);
    }
  }
  if (e == storage::errc::batch_too_large) return group::make_error_code(append_errc::record_too_large);
  if (e.category() == storage::storage_category()) return group::make_error_code(append_errc::storage_error);
  return e;
}

}  // namespace

bool offsets_log::ensure_topic() {
  if (b_.topics().find(kOffsetsTopic)) return true;
  const auto& cfg = b_.cfg();
  config::topic_overrides overrides{{"cleanup.policy", "compact"},
                                    {"segment.bytes", cfg.get("offsets.topic.segment.bytes")}};
  // Kafka's default is 3 replicas; fewer brokers than that (a single node, a small
  // cluster) get one per broker.
  const auto brokers = static_cast<int64_t>(std::max<size_t>(b_.metadata().snapshot()->brokers.size(), 1));
  const auto rf = static_cast<int16_t>(std::min(cfg.get_int("offsets.topic.replication.factor"), brokers));
  auto err = b_.topics().create(kOffsetsTopic, static_cast<int32_t>(cfg.get_int("offsets.topic.num.partitions")),
                                rf, overrides, false, /*internal=*/true);
  if (err && err.code != protocol::error_code::topic_already_exists) {
    // Every FindCoordinator asks again: one line per cause, then a count.
    STRATA_LOG_LIMITED(spdlog::level::err, "cannot create {}: {}", kOffsetsTopic, err.message);
    return false;
  }
  if (!err) spdlog::info("created internal topic {}", kOffsetsTopic);
  return true;
}

void offsets_log::append(int32_t partition, std::vector<group::log_record> records,
                         std::function<void(std::error_code)> done) {
  if (!ensure_topic()) {
    done(std::make_error_code(std::errc::io_error));
    return;
  }
  auto part = b_.topics().find_partition(kOffsetsTopic, partition);
  if (!part) {
    done(group::make_error_code(group::append_errc::unknown_partition));
    return;
  }
  const int64_t now = now_ms();
  records::batch_builder builder;
  for (const auto& r : records) {
    records::nullable_bytes value;
    if (r.value) value = records::bytes_view(*r.value);
    builder.add(now, records::bytes_view(r.key), value);
  }
  std::vector<uint8_t> batch;
  if (auto e = builder.finish(batch); e != records::errc::ok) {
    done(records::make_error_code(e));
    return;
  }
  // Kafka appends commits with acks=all and answers once they are replicated
  // (DESIGN-NOTES §12).
  auto t = b_.topics().find(kOffsetsTopic);
  cluster::leader_append la;
  la.batches = batch;
  la.required_acks = -1;
  la.min_insync_replicas = t ? t->cfg.min_insync_replicas : 1;
  la.now_ms = now;
  auto res = b_.replicas().append_as_leader(*part, la);
  if (!res) {
    done(for_group(res.error()));
    return;
  }
  auto replicated = [this, part, last = res->last_offset, done = std::move(done)](std::error_code e) mutable {
    if (!e && b_.flush_on_ack()) {
      return b_.logs().flush_then(part->log_ptr(), last,
                                  [done = std::move(done)](std::error_code fe) { done(for_group(fe)); });
    }
    done(for_group(e));
  };
  b_.replicas().when_replicated(part, res->last_offset, la.min_insync_replicas, std::move(replicated));
}

size_t offsets_log::replay(group::group_coordinator& coordinator) {
  auto t = b_.topics().find(kOffsetsTopic);
  if (!t) return 0;
  size_t count = 0;
  for (const auto& part : t->partitions) {
    if (!part) continue;  // cluster mode: not held here
    if (!part->online()) {
      // Its groups are not loaded; commits to it answer NOT_COORDINATOR (a storage error).
      spdlog::error("{}-{} is offline: its groups are not loaded ({})", kOffsetsTopic, part->index(),
                    part->offline_reason());
      continue;
    }
    count += replay_partition(*part, [&](const group::decoded_record& d) { coordinator.load(d); });
  }
  return count;
}

size_t offsets_log::replay_partition(cluster::partition& part,
                                     const std::function<void(const group::decoded_record&)>& apply) {
  size_t count = 0;
  std::vector<uint8_t> buf, scratch;
  storage::log& log = part.log();
  int64_t offset = log.log_start_offset();
  const int64_t end = log.log_end_offset();
  while (offset < end) {
    auto rd = log.read(offset, 1 << 20, end, true);
    if (!rd || rd->ranges.empty()) break;
    buf.clear();
    // A short read leaves whole batches plus a partial tail, which
    // validate_batches below tolerates.
    storage::append_range_bytes(rd.value(), buf);
    int64_t next = offset;
    records::validate_options vo;
    vo.mode = records::validate_mode::log;
    vo.allow_partial_tail = true;
    records::validate_batches(buf, vo, [&](const records::batch_info& bi) {
      next = bi.last_offset() + 1;
      records::record_iterator it(std::span<const uint8_t>(buf).subspan(bi.position, bi.size), scratch);
      records::record rec;
      while (it.next(rec)) {
        if (it.offset_of(rec) < offset || !rec.key) continue;
        std::optional<protocol::bytes_view> value;
        if (rec.value) value = *rec.value;
        if (auto d = group::decode_record(*rec.key, value)) {
          apply(*d);
          ++count;
        }
      }
    });
    if (next <= offset) {
      spdlog::error("{}-{}: cannot read past offset {} while loading groups", kOffsetsTopic, part.index(), offset);
      break;
    }
    offset = next;
  }
  return count;
}

void offsets_log::leadership_changed(const std::shared_ptr<cluster::partition>& part, bool leader) {
  auto& coordinator = b_.groups();
  const int32_t index = part->index();
  const int32_t epoch = part->leader_epoch();
  if (!leader) {
    coordinator.unload(index, epoch);
    return;
  }
  // Kafka's loadGroupsAndOffsets: until the replay is done, requests for these groups
  // answer COORDINATOR_LOAD_IN_PROGRESS.
  if (!coordinator.begin_loading(index)) return;
  size_t n = part->online() ? replay_partition(*part, [&](const group::decoded_record& d) { coordinator.load(index, d); })
                            : 0;
  coordinator.finish_loading(index, epoch);
  spdlog::info("{}-{}: coordinator for its groups (epoch {}), {} record(s) loaded", kOffsetsTopic, index, epoch, n);
}

}  // namespace strata::broker
