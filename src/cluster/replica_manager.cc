#include "cluster/replica_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "cluster/follower_truncation.h"
#include "cluster/isr_rules.h"
#include "protocol/records/batch_header.h"
#include "storage/log.h"

namespace strata::cluster {
namespace {

bool contains(const std::vector<int32_t>& v, int32_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

}  // namespace

partition_state replica_manager::single_node_state() const {
  partition_state s;
  s.leader = local_id_;
  s.leader_epoch = 0;
  s.partition_epoch = 0;
  s.replicas = {local_id_};
  s.isr = {local_id_};
  return s;
}

std::shared_ptr<partition> replica_manager::add(const std::string& topic, int32_t index,
                                                std::shared_ptr<storage::log> log, const partition_state& state) {
  auto p = std::make_shared<partition>(topic, index, log);
  // Every append (produce, replication, group commits) wakes what waits on the
  // partition's watermarks. The listener holds the partition weakly: the partition
  // owns the log.
  std::weak_ptr<partition> weak = p;
  log->set_append_listener([weak] {
    if (auto pp = weak.lock()) pp->watermarks_moved();
  });
  return install(std::move(p), state);
}

std::shared_ptr<partition> replica_manager::add_offline(const std::string& topic, int32_t index, std::string reason,
                                                        const partition_state& state) {
  return install(std::make_shared<partition>(topic, index, std::move(reason)), state);
}

std::shared_ptr<partition> replica_manager::install(std::shared_ptr<partition> p, const partition_state& state) {
  if (state.leader == local_id_) {
    if (auto ec = become_leader(*p, state))
      spdlog::warn("{}-{}: cannot become leader: {}", p->topic(), p->index(), ec.message());
  } else if (state.leader >= 0 && contains(state.replicas, local_id_)) {
    if (auto ec = become_follower(*p, state))
      spdlog::warn("{}-{}: cannot become follower: {}", p->topic(), p->index(), ec.message());
  } else {
    p->set_state(state, replica_role::none);
  }
  std::lock_guard lk(mu_);
  partitions_[{p->topic(), p->index()}] = p;
  return p;
}

void replica_manager::remove(const std::string& topic, int32_t index) {
  std::shared_ptr<partition> p;
  {
    std::lock_guard lk(mu_);
    auto it = partitions_.find(std::make_pair(topic, index));
    if (it == partitions_.end()) return;
    p = std::move(it->second);
    partitions_.erase(it);
  }
  p->set_state(p->state(), replica_role::none);
  p->wake_all();
}

std::shared_ptr<partition> replica_manager::get(const std::string& topic, int32_t index) const {
  std::lock_guard lk(mu_);
  auto it = partitions_.find(std::make_pair(topic, index));
  return it == partitions_.end() ? nullptr : it->second;
}

size_t replica_manager::size() const {
  std::lock_guard lk(mu_);
  return partitions_.size();
}

std::error_code replica_manager::transition(partition& p, const partition_state& state, replica_role role) {
  const auto cur = p.state();
  // A broker ignores state older than what it has (DESIGN-NOTES §9). The first
  // transition of a new partition object starts from epoch 0, which any state passes.
  if (p.role() != replica_role::none && state.leader_epoch < cur.leader_epoch) return make_error_code(errc::fenced_leader_epoch);
  p.set_state(state, role);
  if (p.online()) {
    // The high watermark follows the log end only while this broker is the whole ISR:
    // with followers it moves when they have fetched (DESIGN-NOTES §8, §14).
    const bool alone = role == replica_role::leader && state.isr.size() == 1 && state.isr[0] == local_id_;
    p.log().set_high_watermark_follows_log_end(alone);
    if (alone) p.log().set_high_watermark(p.log().log_end_offset());
  }
  // Requests parked under the old state look again (a leader that became follower
  // answers them NOT_LEADER_OR_FOLLOWER).
  p.wake_all();
  return {};
}

std::error_code replica_manager::become_leader(partition& p, const partition_state& state) {
  if (auto ec = transition(p, state, replica_role::leader)) return ec;
  if (!p.online()) return {};
  // Kafka's makeLeader: (epoch, LEO) goes into the leader-epoch cache at once, before
  // anything is written, so followers holding a later aborted epoch truncate right.
  // Doing it when the partition is created or loaded also keeps that checkpoint's
  // fsync off the first produce.
  return p.log().assign_leader_epoch(state.leader_epoch);
}

std::error_code replica_manager::become_follower(partition& p, const partition_state& state) {
  return transition(p, state, replica_role::follower);
}

std::error_code replica_manager::truncate_to(partition& p, int64_t offset) {
  if (!p.online()) return make_error_code(errc::partition_offline);
  std::lock_guard idem(p.idempotence_mutex());
  if (auto ec = p.log().truncate_to(offset)) return ec;
  // Producer state past the cut is wrong now: rebuild it from the log when needed.
  p.producers() = producer_state{};
  return {};
}

std::error_code replica_manager::check_leader(const partition& p, int32_t current_leader_epoch) const {
  switch (check_current_leader_epoch(current_leader_epoch, p.leader_epoch())) {
    case leader_epoch_check::ok: break;
    case leader_epoch_check::fenced_leader_epoch: return errc::fenced_leader_epoch;
    case leader_epoch_check::unknown_leader_epoch: return errc::unknown_leader_epoch;
  }
  if (!p.is_leader()) return make_error_code(errc::not_leader_or_follower);
  if (!p.online()) return make_error_code(errc::partition_offline);
  return {};
}

storage::result<appended> replica_manager::append_as_leader(partition& p, const leader_append& a) {
  if (!p.is_leader()) return make_error_code(errc::not_leader_or_follower);
  if (!p.online()) return make_error_code(errc::partition_offline);
  // acks=all is refused before the append when too few replicas are in sync (classic
  // Kafka: ISR size < min.insync.replicas, DESIGN-NOTES §10).
  if (a.required_acks == -1 && !has_enough_replicas_for_append(p.state().isr.size(), a.min_insync_replicas))
    return make_error_code(errc::not_enough_replicas);
  storage::log& log = p.log();
  const bool idempotent = a.first.producer_id >= 0;
  std::unique_lock<std::mutex> idem_lock;
  if (idempotent) {
    idem_lock = std::unique_lock(p.idempotence_mutex());
    producer_state& producers = p.producers();
    if (!producers.loaded) {
      rebuild_producer_state(log, producers);
      producers.loaded = true;
    }
    auto v = producers.check(a.first);
    if (v.error != errc::success) return make_error_code(v.error);
    if (v.duplicate_of) {
      appended out;
      out.base_offset = *v.duplicate_of;
      out.log_start_offset = log.log_start_offset();
      out.duplicate = true;
      return out;
    }
  }
  auto res = log.append(a.batches, p.leader_epoch(), a.now_ms);
  if (!res) return res.error();
  if (idempotent) p.producers().record(a.first, res->base_offset, res->last_offset);
  appended out;
  out.base_offset = res->base_offset;
  out.last_offset = res->last_offset;
  out.log_start_offset = res->log_start_offset;
  return out;
}

storage::result<appended> replica_manager::append_as_follower(partition& p, std::span<uint8_t> batches,
                                                              int64_t now_ms) {
  if (p.role() != replica_role::follower) return make_error_code(errc::not_leader_or_follower);
  if (!p.online()) return make_error_code(errc::partition_offline);
  std::lock_guard idem(p.idempotence_mutex());
  auto res = p.log().append_replicated(batches, now_ms);
  if (!res) return res.error();
  // Producer state follows the leader's batches, so a follower that takes over
  // recognises retries of what it replicated (no duplicates after failover).
  if (p.producers().loaded) {
    for (size_t pos = 0; pos < batches.size();) {
      records::batch_header_view h(batches.data() + pos);
      if (h.producer_id() >= 0 && h.base_sequence() >= 0)
        p.producers().record(identity_of(h), h.base_offset(), h.last_offset());
      pos += static_cast<size_t>(h.total_size());
    }
  }
  appended out;
  out.base_offset = res->base_offset;
  out.last_offset = res->last_offset;
  out.log_start_offset = res->log_start_offset;
  return out;
}

replication_status replica_manager::replication_of(const partition& p, int64_t last_offset,
                                                   int32_t min_insync_replicas) const {
  if (!p.online()) return replication_status::waiting;
  switch (acks_all_satisfied(p.high_watermark(), last_offset + 1, p.state().isr.size(), min_insync_replicas)) {
    case acks_all_status::done: return replication_status::done;
    case acks_all_status::not_enough_replicas_after_append: return replication_status::not_enough_replicas_after_append;
    case acks_all_status::wait: break;
  }
  return replication_status::waiting;
}

void replica_manager::when_replicated(std::shared_ptr<partition> p, int64_t last_offset, int32_t min_insync_replicas,
                                      std::function<void(std::error_code)> done) const {
  for (;;) {
    auto status = replication_of(*p, last_offset, min_insync_replicas);
    if (status == replication_status::done) return done({});
    if (status == replication_status::not_enough_replicas_after_append)
      return done(errc::not_enough_replicas_after_append);
    if (!p->is_leader()) return done(errc::not_leader_or_follower);
    // Woken by the high watermark passing the append, or by wake_all (a leadership
    // change or deletion), which looks again.
    auto id = p->hw_waiters().add(last_offset + 1, [this, p, last_offset, min_insync_replicas, done] {
      when_replicated(p, last_offset, min_insync_replicas, done);
    });
    // The watermark may have moved before the waiter was in place.
    if (replication_of(*p, last_offset, min_insync_replicas) == replication_status::waiting && p->is_leader()) return;
    p->hw_waiters().remove(id);
  }
}

storage::result<partition_read> replica_manager::read(const partition& p, const read_request& r) const {
  if (auto ec = check_leader(p, r.current_leader_epoch)) return ec;
  const storage::log& log = p.log();
  partition_read out;
  out.high_watermark = log.high_watermark();
  out.log_start_offset = log.log_start_offset();
  out.log_end_offset = log.log_end_offset();
  const int64_t limit = r.who == reader::follower ? out.log_end_offset : out.high_watermark;
  auto rd = log.read(r.offset, r.max_bytes, limit, r.min_one_batch);
  if (!rd) return rd.error();
  out.data = std::move(rd.value());
  return out;
}

}  // namespace strata::cluster
