#include "cluster/replica_manager.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "cluster/follower_truncation.h"
#include "cluster/high_watermark.h"
#include "cluster/isr_rules.h"
#include "cluster/replica_state.h"
#include "protocol/records/batch_header.h"
#include "storage/log.h"

namespace strata::cluster {
namespace {

bool contains(const std::vector<int32_t>& v, int32_t id) { return std::find(v.begin(), v.end(), id) != v.end(); }

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The committed ISR plus whoever a pending change adds: waiting for more replicas is
// always safe, so a pending shrink removes no one yet (Kafka's maximal ISR).
std::vector<int32_t> maximal(const partition_state& s, const std::optional<std::vector<int32_t>>& pending) {
  std::vector<int32_t> out = s.isr;
  if (pending)
    for (int32_t id : *pending)
      if (!contains(out, id)) out.push_back(id);
  return out;
}

}  // namespace

void replica_manager::set_isr_change_handler(isr_change_fn fn) {
  std::lock_guard lk(hooks_mu_);
  isr_change_ = std::move(fn);
}

void replica_manager::set_broker_alive_fn(std::function<bool(int32_t)> fn) {
  std::lock_guard lk(hooks_mu_);
  broker_alive_ = std::move(fn);
}

bool replica_manager::alive(int32_t broker) const {
  std::lock_guard lk(hooks_mu_);
  return !broker_alive_ || broker_alive_(broker);
}

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
  const bool new_leader = role == replica_role::leader && (p.role() != replica_role::leader ||
                                                            state.leader_epoch != cur.leader_epoch);
  p.set_state(state, role);
  if (new_leader) {
    // Kafka's makeLeader: every follower's fetch state starts again; those in the ISR
    // count as caught up now, so the shrink task gives them replica.lag.time.max.ms.
    const int64_t now = wall_ms();
    const int64_t leo = p.online() ? p.log().log_end_offset() : 0;
    std::lock_guard lk(p.state_mu_);
    std::vector<replica_state> followers;
    for (int32_t id : state.replicas) {
      if (id == local_id_) continue;
      replica_state rs;
      rs.broker_id = id;
      followers.push_back(reset_replica_state(rs, now, leo, true, contains(state.isr, id)));
    }
    p.followers_ = std::move(followers);
    p.pending_isr_.reset();
    p.leader_epoch_start_offset_ = leo;
  } else if (role != replica_role::leader) {
    std::lock_guard lk(p.state_mu_);
    p.followers_.clear();
    p.pending_isr_.reset();
  }
  update_hw_mode(p);
  // Requests parked under the old state look again (a leader that became follower
  // answers them NOT_LEADER_OR_FOLLOWER).
  p.wake_all();
  return {};
}

void replica_manager::update_hw_mode(partition& p) {
  if (!p.online()) return;
  // The high watermark follows the log end only while this broker is the whole
  // (maximal) ISR: with followers it moves when they have fetched (DESIGN-NOTES §8,
  // §14). A leader alone owns everything it has: HW = LEO at once.
  bool alone = false;
  if (p.role() == replica_role::leader) {
    std::lock_guard lk(p.state_mu_);
    auto isr = maximal(p.state_, p.pending_isr_);
    alone = isr.size() == 1 && isr[0] == local_id_;
  }
  p.log().set_high_watermark_follows_log_end(alone);
  if (alone) {
    p.log().set_high_watermark(p.log().log_end_offset());
    p.watermarks_moved();
  }
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
  const int64_t leo = p.log().log_end_offset();
  if (auto ec = p.log().truncate_to(offset)) return ec;
  // Producer state past the cut is wrong now: rebuild it from the log when needed.
  if (p.log().log_end_offset() < leo) p.producers() = producer_state{};
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

bool replica_manager::lease_valid() const {
  const int64_t until = lease_until_ms_.load(std::memory_order_relaxed);
  if (until == 0) return true;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::steady_clock::now().time_since_epoch())
                       .count();
  return now <= until;
}

storage::result<appended> replica_manager::append_as_leader(partition& p, const leader_append& a) {
  if (!p.is_leader() || !lease_valid()) return make_error_code(errc::not_leader_or_follower);
  if (!p.online()) return make_error_code(errc::partition_offline);
  // acks=all is refused before the append when too few replicas are in sync (classic
  // Kafka: ISR size < min.insync.replicas, DESIGN-NOTES §10).
  if (a.required_acks == -1 && !has_enough_replicas_for_append(p.isr_size(), a.min_insync_replicas))
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
  if (!p.online()) return replication_status::offline;
  switch (acks_all_satisfied(p.high_watermark(), last_offset + 1, p.isr_size(), min_insync_replicas)) {
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
    if (status == replication_status::offline) return done(errc::partition_offline);
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

storage::result<partition_read> replica_manager::read(const std::shared_ptr<partition>& p, const read_request& r) {
  if (auto ec = check_leader(*p, r.current_leader_epoch)) return ec;
  const storage::log& log = p->log();
  partition_read out;
  out.high_watermark = log.high_watermark();
  out.log_start_offset = log.log_start_offset();
  out.log_end_offset = log.log_end_offset();
  const bool follower = r.who == reader::follower;
  if (follower && r.last_fetched_epoch >= 0) {
    // Fetch v12+: a follower whose last epoch ended earlier here than its fetch offset
    // has a divergent tail (DESIGN-NOTES §7).
    auto [epoch, end] = log.end_offset_for_epoch(r.last_fetched_epoch);
    auto d = check_diverging_epoch(r.last_fetched_epoch, r.offset, {epoch, end}, out.log_start_offset);
    if (d.status == diverging_epoch_status::offset_out_of_range) return storage::errc::offset_out_of_range;
    if (d.status == diverging_epoch_status::diverging) {
      out.diverging = d.diverging;
      return out;
    }
  }
  const int64_t limit = follower ? out.log_end_offset : out.high_watermark;
  auto rd = log.read(r.offset, r.max_bytes, limit, r.min_one_batch);
  if (!rd) return rd.error();
  out.data = std::move(rd.value());
  if (follower) record_follower_fetch(p, r, out.log_end_offset);
  return out;
}

void replica_manager::follower_fetched(const std::shared_ptr<partition>& p, const read_request& r) {
  if (r.who != reader::follower || !p->is_leader() || !p->online()) return;
  record_follower_fetch(p, r, p->log_end_offset());
}

void replica_manager::record_follower_fetch(const std::shared_ptr<partition>& p, const read_request& r,
                                            int64_t leader_leo) {
  std::optional<std::vector<int32_t>> expanded;
  {
    std::lock_guard lk(p->state_mu_);
    auto it = std::find_if(p->followers_.begin(), p->followers_.end(),
                           [&](const replica_state& s) { return s.broker_id == r.replica_id; });
    if (it == p->followers_.end()) return;  // not a replica of this partition
    *it = update_follower_fetch_state(*it, r.offset, r.follower_log_start_offset, leader_leo, r.now_ms);
    isr_expand_input in;
    in.follower_log_end_offset = it->log_end_offset;
    in.high_watermark = p->log().high_watermark();
    in.leader_epoch_start_offset = p->leader_epoch_start_offset_;
    in.broker_alive = alive(r.replica_id);
    in.in_isr = contains(p->state_.isr, r.replica_id);
    in.isr_change_in_flight = p->pending_isr_.has_value();
    if (should_expand_isr(in)) {
      expanded = p->state_.isr;
      expanded->push_back(r.replica_id);
    }
  }
  if (expanded) propose_isr(p, std::move(*expanded));
  maybe_advance_high_watermark(*p, r.now_ms);
}

void replica_manager::propose_isr(const std::shared_ptr<partition>& p, std::vector<int32_t> isr) {
  isr_change_fn handler;
  {
    std::lock_guard lk(hooks_mu_);
    handler = isr_change_;
  }
  if (!handler) return;  // a single node: the ISR is [self] for good
  partition_state proposed;
  {
    std::lock_guard lk(p->state_mu_);
    if (p->pending_isr_) return;  // one change in flight at a time
    p->pending_isr_ = isr;
    proposed = p->state_;
    proposed.isr = std::move(isr);
  }
  update_hw_mode(*p);
  handler(p, proposed);
}

void replica_manager::isr_committed(partition& p, const partition_state& committed, int64_t now_ms) {
  {
    std::lock_guard lk(p.state_mu_);
    if (committed.leader_epoch < p.state_.leader_epoch) return;  // stale
    p.pending_isr_.reset();
    if (committed.isr.size() < p.state_.isr.size()) ++isr_shrinks_;
    if (committed.isr.size() > p.state_.isr.size()) ++isr_expands_;
    p.state_ = committed;
  }
  update_hw_mode(p);
  maybe_advance_high_watermark(p, now_ms);
}

void replica_manager::isr_change_failed(partition& p) {
  {
    std::lock_guard lk(p.state_mu_);
    p.pending_isr_.reset();
  }
  update_hw_mode(p);
}

void replica_manager::maybe_advance_high_watermark(partition& p, int64_t now_ms) {
  if (!p.is_leader() || !p.online()) return;
  std::vector<replica_state> followers;
  std::vector<int32_t> isr;
  std::vector<int32_t> eligible;
  {
    std::lock_guard lk(p.state_mu_);
    followers = p.followers_;
    isr = maximal(p.state_, p.pending_isr_);
  }
  for (const auto& f : followers)
    if (alive(f.broker_id)) eligible.push_back(f.broker_id);
  leader_hw_input in;
  in.leader_log_end_offset = p.log().log_end_offset();
  in.high_watermark = p.log().high_watermark();
  in.followers = followers;
  in.maximal_isr = isr;
  in.isr_eligible_brokers = eligible;
  in.now_ms = now_ms;
  in.replica_lag_time_max_ms = lag_max_ms_.load();
  if (auto hw = compute_high_watermark(in)) {
    p.log().set_high_watermark(*hw);
    p.watermarks_moved();
  }
}

bool replica_manager::in_isr(const partition& p, int32_t replica) const {
  const auto isr = p.state().isr;
  return std::find(isr.begin(), isr.end(), replica) != isr.end();
}

replica_manager::stats replica_manager::statistics() const {
  stats s;
  s.isr_shrinks = isr_shrinks_.load();
  s.isr_expands = isr_expands_.load();
  std::lock_guard lk(mu_);
  for (const auto& [key, p] : partitions_) {
    if (!p->is_leader()) continue;
    ++s.leaders;
    auto st = p->state();
    if (st.isr.size() < st.replicas.size()) ++s.under_replicated;
  }
  return s;
}

void replica_manager::resign_leaderships() {
  std::vector<std::shared_ptr<partition>> led;
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, p] : partitions_)
      if (p->is_leader()) led.push_back(p);
  }
  for (const auto& p : led) {
    p->set_state(p->state(), replica_role::none);
    update_hw_mode(*p);
    p->wake_all();
  }
  if (!led.empty()) spdlog::warn("stopped leading {} partition(s) until the controller says again", led.size());
}

void replica_manager::shrink_isrs(int64_t now_ms) {
  std::vector<std::shared_ptr<partition>> led;
  {
    std::lock_guard lk(mu_);
    for (const auto& [key, p] : partitions_)
      if (p->is_leader() && p->online()) led.push_back(p);
  }
  for (const auto& p : led) {
    std::vector<int32_t> out;
    std::vector<int32_t> isr;
    {
      std::lock_guard lk(p->state_mu_);
      if (p->state_.isr.size() <= 1) continue;
      isr = p->state_.isr;
      isr_shrink_input in;
      in.leader_id = local_id_;
      in.isr = isr;
      in.followers = p->followers_;
      in.leader_log_end_offset = p->log().log_end_offset();
      in.now_ms = now_ms;
      in.replica_lag_time_max_ms = lag_max_ms_.load();
      in.isr_change_in_flight = p->pending_isr_.has_value();
      out = out_of_sync_replicas(in);
    }
    if (out.empty()) continue;
    std::erase_if(isr, [&](int32_t id) { return contains(out, id); });
    propose_isr(p, std::move(isr));
  }
}

}  // namespace strata::cluster
