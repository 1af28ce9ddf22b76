#include "cluster/replica_fetcher.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

#include "base/log_limiter.h"
#include "client/broker_connection.h"
#include "client/errors.h"
#include "cluster/follower_truncation.h"
#include "cluster/high_watermark.h"
#include "cluster/replica_manager.h"
#include "protocol/generated/error_code.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/offset_for_leader_epoch.h"
#include "protocol/records/batch_validate.h"
#include "storage/log.h"

namespace strata::cluster {

using clock = std::chrono::steady_clock;
using protocol::error_code;

struct replica_fetcher::entry {
  follower_partition fp;
  uint64_t generation = 0;
  int32_t leader_epoch = 0;  // the partition's epoch this state is for
  fetch_phase phase = fetch_phase::truncating;
  clock::time_point delayed_until{};
  int64_t leader_hw = -1;
  int64_t leader_log_start = -1;
  int16_t last_error = 0;
};

// One partition as it stood when a request was built for it.
struct replica_fetcher::ready_partition {
  topic_partition tp;
  uint64_t generation = 0;
  std::shared_ptr<partition> p;
  protocol::uuid topic_id;
  int32_t leader_epoch = 0;
  int64_t fetch_offset = 0;  // the LEO then
  bool throttled = false;    // its bytes count against the follower throttle (KIP-73)
};

namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Marks a request in flight on the fetcher's connection (replica_fetcher::
// request_sent_ms_) for as long as the call lasts.
struct in_flight {
  std::atomic<int64_t>& sent;
  explicit in_flight(std::atomic<int64_t>& s) : sent(s) { sent = steady_ms(); }
  ~in_flight() { sent = 0; }
};

int16_t code(error_code e) { return static_cast<int16_t>(e); }

std::string error_name(int16_t c) { return std::string(protocol::error_name(static_cast<error_code>(c))); }

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The follower's endOffsetFor(epoch) for offset_truncation_state.
epoch_end_offset_lookup lookup_in(const storage::log& log) {
  return [&log](int32_t epoch) {
    auto [e, o] = log.end_offset_for_epoch(epoch);
    return epoch_end_offset{e, o};
  };
}

// Kafka's truncateFullyAndStartAt through the same steps as replica_manager::truncate_to:
// under the idempotence lock, producer state forgotten (rebuilt from the log on demand).
std::error_code truncate_fully_and_start_at(partition& p, int64_t offset) {
  if (!p.online()) return make_error_code(errc::partition_offline);
  std::lock_guard idem(p.idempotence_mutex());
  if (auto ec = p.log().truncate_fully_and_start_at(offset)) return ec;
  p.producers() = producer_state{};
  return {};
}

// Kafka's FetchResponse.isDivergingEpoch.
bool is_diverging(const protocol::fetch_response_types::partition_data& pd) {
  return pd.diverging_epoch.epoch != -1 || pd.diverging_epoch.end_offset != -1;
}

// The request's topics, one entry per topic in order of first appearance.
template <class Topic, class Request>
Topic& topic_in(Request& req, std::map<std::string, size_t>& index, const std::string& name) {
  auto [it, added] = index.try_emplace(name, req.topics.size());
  if (added) req.topics.emplace_back();
  return req.topics[it->second];
}

}  // namespace

replica_fetcher::replica_fetcher(replica_manager& rm, const fetcher_config& cfg, source_broker source, int fetcher_id)
    : rm_(rm), cfg_(cfg), source_(std::move(source)), fetcher_id_(fetcher_id) {
  thread_ = std::thread([this] {
    // A thread inherits its creator's name ("controller-reqs"): name it after the source,
    // as Kafka's ReplicaFetcherThread-<id>-<source>, so profiles and top tell them apart.
    const std::string name = "fetch-" + std::to_string(source_.id) + "-" + std::to_string(fetcher_id_);
    pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
    run();
  });
}

replica_fetcher::~replica_fetcher() { shutdown(); }

void replica_fetcher::shutdown() {
  {
    std::lock_guard lk(state_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  {
    // A Fetch long poll or a slow leader must not hold up the shutdown.
    std::lock_guard lk(conn_mu_);
    if (conn_) conn_->interrupt();
  }
  std::lock_guard lk(join_mu_);
  if (thread_.joinable()) thread_.join();
}

void replica_fetcher::add_partitions(const std::vector<follower_partition>& parts) {
  {
    std::lock_guard process(process_mu_);
    std::lock_guard lk(state_mu_);
    for (const auto& fp : parts) {
      entry e;
      e.fp = fp;
      e.generation = next_generation_++;
      e.leader_epoch = fp.p->leader_epoch();
      if (!fp.p->online()) {
        e.phase = fetch_phase::failed;
        e.last_error = code(error_code::kafka_storage_error);
      }
      parts_[{fp.p->topic(), fp.p->index()}] = std::move(e);
    }
    cv_.notify_all();
  }
  interrupt_stale_fetch();  // takes conn_mu_, which comes before state_mu_
}

void replica_fetcher::interrupt_stale_fetch() {
  const int64_t sent = request_sent_ms_.load();
  if (sent == 0) return;
  const int64_t now = steady_ms();
  // A healthy long poll answers within replica.fetch.wait.max.ms; allow a loaded leader
  // two seconds more before calling the connection dead.
  if (now - sent <= cfg_.fetch_wait_max_ms + 2000) return;
  spdlog::info("replica fetcher {}-{}: a request has been unanswered for {} ms: reconnecting to {}:{}", source_.id,
               fetcher_id_, now - sent, source_.host, source_.port);
  std::lock_guard lk(conn_mu_);
  if (conn_) conn_->interrupt();
}

std::vector<follower_partition> replica_fetcher::remove_partitions(const std::vector<topic_partition>& tps) {
  // process_mu_: a truncation or append in progress finishes before the removal.
  std::lock_guard process(process_mu_);
  std::lock_guard lk(state_mu_);
  std::vector<follower_partition> out;
  for (const auto& tp : tps) {
    auto it = parts_.find(tp);
    if (it == parts_.end()) continue;
    out.push_back(std::move(it->second.fp));
    parts_.erase(it);
  }
  return out;
}

std::vector<follower_partition> replica_fetcher::remove_all() {
  std::lock_guard process(process_mu_);
  std::lock_guard lk(state_mu_);
  std::vector<follower_partition> out;
  for (auto& [tp, e] : parts_) out.push_back(std::move(e.fp));
  parts_.clear();
  return out;
}

size_t replica_fetcher::partition_count() const {
  std::lock_guard lk(state_mu_);
  return parts_.size();
}

std::vector<partition_fetch_state> replica_fetcher::fetch_states() const {
  std::lock_guard lk(state_mu_);
  const auto now = clock::now();
  std::vector<partition_fetch_state> out;
  out.reserve(parts_.size());
  for (const auto& [tp, e] : parts_) {
    partition_fetch_state s;
    s.topic = tp.first;
    s.partition = tp.second;
    s.source_broker = source_.id;
    s.phase = e.phase;
    s.fetch_offset = e.fp.p->online() ? e.fp.p->log_end_offset() : -1;
    s.leader_high_watermark = e.leader_hw;
    s.leader_log_start_offset = e.leader_log_start;
    s.lag = e.leader_hw < 0 || s.fetch_offset < 0 ? -1 : std::max<int64_t>(0, e.leader_hw - s.fetch_offset);
    s.delayed = e.delayed_until > now;
    s.last_error = e.last_error;
    out.push_back(std::move(s));
  }
  return out;
}

// ---- The thread ----

void replica_fetcher::run() {
  while (wait_for_work()) {
    if (!ensure_connected()) continue;
    try {
      truncate_phase();
      fetch_phase_once();
    } catch (const std::exception& e) {
      // Connection lost, timed out, or a response that does not decode: every
      // partition waits out the backoff, then the next request reconnects.
      {
        std::lock_guard lk(state_mu_);
        if (stopping_) break;
      }
      STRATA_LOG_LIMITED(spdlog::level::warn, "replica fetcher {}-{}: {}; retrying in {} ms", source_.id, fetcher_id_,
                         e.what(), cfg_.fetch_backoff_ms);
      drop_connection();
      delay_all(code(error_code::network_exception));
    }
  }
  drop_connection();
}

bool replica_fetcher::wait_for_work() {
  std::unique_lock lk(state_mu_);
  for (;;) {
    if (stopping_) return false;
    const auto now = clock::now();
    std::optional<clock::time_point> next;
    bool ready = false;
    for (auto& [tp, e] : parts_) {
      if (e.phase == fetch_phase::failed) continue;
      // A new leader epoch without a new add (same leader, LeaderAndIsr bumped the
      // epoch): the log may have to be cut again before fetching.
      const int32_t epoch = e.fp.p->leader_epoch();
      if (epoch != e.leader_epoch) {
        e.leader_epoch = epoch;
        e.phase = fetch_phase::truncating;
      }
      if (e.delayed_until <= now) {
        ready = true;
      } else if (!next || e.delayed_until < *next) {
        next = e.delayed_until;
      }
    }
    if (ready) return true;
    if (next)
      cv_.wait_until(lk, *next);
    else
      cv_.wait(lk);
  }
}

bool replica_fetcher::ensure_connected() {
  if (conn_) return true;
  // Kafka's socket.connection.setup.timeout.ms is 10 s; a connect never waits longer
  // than the request timeout either.
  const auto deadline = clock::now() + std::chrono::milliseconds(std::min(cfg_.socket_timeout_ms, 10000));
  try {
    auto c =
        std::make_unique<client::broker_connection>(client::endpoint{source_.host, source_.port}, source_.id, deadline);
    std::lock_guard lk(conn_mu_);
    {
      // shutdown() sets stopping_ before it interrupts conn_: seen here, or it
      // interrupts this connection.
      std::lock_guard s(state_mu_);
      if (stopping_) return false;
    }
    conn_ = std::move(c);
    if (reconnecting_)
      spdlog::info("replica fetcher {}-{}: connected to {}:{} again", source_.id, fetcher_id_, source_.host,
                   source_.port);
    reconnecting_ = false;
    return true;
  } catch (const std::exception& e) {
    {
      std::lock_guard s(state_mu_);
      if (stopping_) return false;
    }
    STRATA_LOG_LIMITED(spdlog::level::warn, "replica fetcher {}-{}: {}; retrying in {} ms", source_.id, fetcher_id_,
                       e.what(), cfg_.fetch_backoff_ms);
    reconnecting_ = true;
    delay_all(code(error_code::network_exception));
    return false;
  }
}

void replica_fetcher::drop_connection() {
  std::unique_ptr<client::broker_connection> old;
  {
    std::lock_guard lk(conn_mu_);
    old = std::move(conn_);
  }
  if (old) reconnecting_ = true;
}

void replica_fetcher::delay_locked(entry& e, int16_t error) {
  if (e.phase == fetch_phase::failed) return;  // keeps the error that failed it
  e.delayed_until = clock::now() + std::chrono::milliseconds(cfg_.fetch_backoff_ms);
  e.last_error = error;
}

void replica_fetcher::delay_all(int16_t error) {
  std::lock_guard lk(state_mu_);
  for (auto& [tp, e] : parts_) delay_locked(e, error);
}

replica_fetcher::entry* replica_fetcher::current_locked(const topic_partition& tp, uint64_t generation) {
  auto it = parts_.find(tp);
  if (it == parts_.end() || it->second.generation != generation) return nullptr;
  return &it->second;
}

void replica_fetcher::fail_locked(entry& e, const std::string& what, std::error_code ec) {
  e.phase = fetch_phase::failed;
  e.last_error = code(error_code::kafka_storage_error);
  STRATA_LOG_LIMITED(spdlog::level::err,
                     "replica fetcher {}-{}: {}-{}: {} failed ({}); the partition is no longer fetched until the "
                     "controller sends it again",
                     source_.id, fetcher_id_, e.fp.p->topic(), e.fp.p->index(), what, ec.message());
}

// ---- Truncation (OffsetsForLeaderEpoch) ----

void replica_fetcher::truncate_phase() {
  std::vector<ready_partition> with_epochs;
  std::vector<ready_partition> without_epochs;
  {
    std::lock_guard lk(state_mu_);
    const auto now = clock::now();
    for (auto& [tp, e] : parts_) {
      if (e.phase != fetch_phase::truncating || e.delayed_until > now) continue;
      ready_partition rp{tp, e.generation, e.fp.p, e.fp.topic_id, e.leader_epoch, e.fp.p->log_end_offset()};
      (e.fp.p->log().latest_epoch() ? with_epochs : without_epochs).push_back(std::move(rp));
    }
  }
  if (with_epochs.empty() && without_epochs.empty()) return;

  protocol::offset_for_leader_epoch_response resp;
  if (!with_epochs.empty()) {
    protocol::offset_for_leader_epoch_request req;
    req.replica_id = cfg_.broker_id;
    std::map<std::string, size_t> index;
    for (const auto& rp : with_epochs) {
      auto& t = topic_in<protocol::offset_for_leader_epoch_request::offset_for_leader_topic>(req, index, rp.tp.first);
      t.topic = rp.tp.first;
      auto& part = t.partitions.emplace_back();
      part.partition = rp.tp.second;
      part.current_leader_epoch = rp.leader_epoch;
      part.leader_epoch = rp.p->log().latest_epoch().value_or(-1);
    }
    in_flight mark(request_sent_ms_);
    resp = conn_->call<protocol::offset_for_leader_epoch_response>(
        req, clock::now() + std::chrono::milliseconds(cfg_.socket_timeout_ms));
  }

  std::lock_guard process(process_mu_);
  // A log that has never seen an epoch cannot ask: Kafka cuts it to its HW, which is
  // never above what the leader committed.
  for (const auto& rp : without_epochs) {
    std::unique_lock lk(state_mu_);
    entry* e = current_locked(rp.tp, rp.generation);
    if (!e || e->phase != fetch_phase::truncating) continue;
    lk.unlock();
    auto ec = rm_.truncate_to(*rp.p, rp.p->high_watermark());
    lk.lock();
    if (ec) {
      fail_locked(*e, "truncation", ec);
      continue;
    }
    e->phase = fetch_phase::fetching;
    e->last_error = 0;
  }

  std::map<topic_partition, const ready_partition*> asked;
  for (const auto& rp : with_epochs) asked[rp.tp] = &rp;
  for (const auto& tr : resp.topics) {
    for (const auto& pr : tr.partitions) {
      auto it = asked.find({tr.topic, pr.partition});
      if (it == asked.end()) continue;
      const ready_partition& rp = *it->second;
      asked.erase(it);
      std::unique_lock lk(state_mu_);
      entry* e = current_locked(rp.tp, rp.generation);
      if (!e || e->phase != fetch_phase::truncating || e->leader_epoch != rp.leader_epoch) continue;
      if (pr.error_code != 0) {
        STRATA_LOG_LIMITED(spdlog::level::info, "replica fetcher {}-{}: {}-{}: OffsetsForLeaderEpoch answered {}",
                           source_.id, fetcher_id_, rp.tp.first, rp.tp.second, error_name(pr.error_code));
        delay_locked(*e, pr.error_code);
        continue;
      }
      lk.unlock();
      storage::log& log = rp.p->log();
      const int64_t leo = log.log_end_offset();
      const auto ts =
          offset_truncation_state({pr.leader_epoch, pr.end_offset}, leo, log.high_watermark(), lookup_in(log));
      // Called even when no record is cut: an epoch entry at our end that the leader
      // does not have goes too (storage::log::truncate_to).
      std::error_code ec = rm_.truncate_to(*rp.p, ts.offset);
      if (!ec && ts.offset < leo)
        spdlog::info("replica fetcher {}-{}: {}-{}: truncated from {} to {} (leader's end offset for epoch {}: {})",
                     source_.id, fetcher_id_, rp.tp.first, rp.tp.second, leo, ts.offset, pr.leader_epoch,
                     pr.end_offset);
      lk.lock();
      if (ec) {
        fail_locked(*e, "truncation", ec);
        continue;
      }
      // Not completed: the leader named an epoch we do not have; ask again with the
      // latest epoch we have left.
      if (ts.truncation_completed) {
        e->phase = fetch_phase::fetching;
        e->last_error = 0;
      }
    }
  }
  // Asked but not answered: try again after the backoff.
  std::lock_guard lk(state_mu_);
  for (const auto& [tp, rp] : asked)
    if (entry* e = current_locked(tp, rp->generation)) delay_locked(*e, code(error_code::unknown_server_error));
}

// ---- Fetch ----

void replica_fetcher::fetch_phase_once() {
  std::vector<ready_partition> parts;
  bool held_back = false;  // a throttled partition left out
  {
    // KIP-73 (Kafka's shouldFollowerThrottle): an out-of-sync replica named in its
    // topic's follower.replication.throttled.replicas waits while the throttle is
    // exceeded.
    const bool over = cfg_.follower_throttled && rm_.follower_quota().exceeded(steady_ms());
    std::lock_guard lk(state_mu_);
    const auto now = clock::now();
    for (auto& [tp, e] : parts_) {
      if (e.phase != fetch_phase::fetching || e.delayed_until > now) continue;
      const int64_t leo = e.fp.p->log_end_offset();
      const bool in_sync = e.leader_hw >= 0 && leo >= e.leader_hw;
      const bool throttled = cfg_.follower_throttled && !in_sync && cfg_.follower_throttled(*e.fp.p);
      if (throttled && over) {
        held_back = true;
        continue;
      }
      parts.push_back({tp, e.generation, e.fp.p, e.fp.topic_id, e.leader_epoch, leo, throttled});
    }
    // A partition at the front gets the leader's "at least one batch"; rotating the
    // order keeps one busy partition from taking every response.
    if (!parts.empty()) std::rotate(parts.begin(), parts.begin() + (round_++ % parts.size()), parts.end());
  }
  if (parts.empty()) {
    // Only throttled partitions were ready: wait (Kafka's fetchBackOffMs), a new
    // partition or the shutdown ends the wait early.
    if (held_back) {
      std::unique_lock lk(state_mu_);
      cv_.wait_for(lk, std::chrono::milliseconds(std::min(cfg_.fetch_backoff_ms, 100)),
                   [&] { return stopping_; });
    }
    return;
  }

  // Fetch v13+ names topics by id: without every id, v12 (as Kafka does).
  int16_t version = conn_->version_for(protocol::fetch_request::api_key);
  const bool all_ids =
      std::all_of(parts.begin(), parts.end(), [](const ready_partition& rp) { return !rp.topic_id.is_zero(); });
  if (version >= 13 && !all_ids) version = 12;
  const bool by_id = version >= 13;

  protocol::fetch_request req;
  req.replica_id = cfg_.broker_id;                // v0-14
  req.replica_state.replica_id = cfg_.broker_id;  // v15+
  req.replica_state.replica_epoch = -1;           // ZooKeeper mode: no broker epoch
  req.max_wait_ms = cfg_.fetch_wait_max_ms;
  req.min_bytes = cfg_.fetch_min_bytes;
  req.max_bytes = cfg_.fetch_response_max_bytes;
  req.isolation_level = 0;
  req.session_id = 0;
  req.session_epoch = -1;  // sessionless full fetch
  std::map<std::string, size_t> index;
  std::map<protocol::uuid, std::string> names;
  std::map<topic_partition, const ready_partition*> asked;
  for (const auto& rp : parts) {
    auto& t = topic_in<protocol::fetch_request::fetch_topic>(req, index, rp.tp.first);
    t.topic = rp.tp.first;
    t.topic_id = rp.topic_id;
    names[rp.topic_id] = rp.tp.first;
    auto& fp = t.partitions.emplace_back();
    fp.partition = rp.tp.second;
    fp.current_leader_epoch = rp.leader_epoch;
    fp.fetch_offset = rp.fetch_offset;
    fp.last_fetched_epoch = rp.p->log().latest_epoch().value_or(-1);
    fp.log_start_offset = rp.p->log().log_start_offset();
    fp.partition_max_bytes = cfg_.fetch_max_bytes;
    asked[rp.tp] = &rp;
  }

  // The response's records point into `frame`, the only copy of the fetched bytes:
  // they are appended from there. The thread reuses one buffer for every response
  // (a fresh 1 MiB vector per fetch cost an allocation, a zero fill, a page fault per
  // 4 KiB and glibc's madvise on free: measured with bench/cluster_bench.py --mode
  // follower-cost); one far larger than a usual response is not kept.
  std::vector<uint8_t>& frame = frame_;
  struct release_large {
    std::vector<uint8_t>& f;
    size_t keep;
    ~release_large() {
      if (f.capacity() > keep) std::vector<uint8_t>().swap(f);
    }
  } release{frame, 2 * static_cast<size_t>(std::max(cfg_.fetch_max_bytes, 1 << 20))};
  const auto deadline = clock::now() + std::chrono::milliseconds(cfg_.socket_timeout_ms + cfg_.fetch_wait_max_ms);
  in_flight mark(request_sent_ms_);
  auto resp = conn_->call_at<protocol::fetch_response>(req, version, deadline, frame);

  if (resp.error_code != 0) {
    STRATA_LOG_LIMITED(spdlog::level::warn, "replica fetcher {}-{}: Fetch answered {}", source_.id, fetcher_id_,
                       error_name(resp.error_code));
    std::lock_guard lk(state_mu_);
    for (const auto& rp : parts)
      if (entry* e = current_locked(rp.tp, rp.generation)) delay_locked(*e, resp.error_code);
    return;
  }

  std::vector<ready_partition> out_of_range;
  {
    std::lock_guard process(process_mu_);
    for (auto& tr : resp.responses) {
      std::string name = tr.topic;
      if (by_id) {
        auto n = names.find(tr.topic_id);
        if (n == names.end()) continue;
        name = n->second;
      }
      for (auto& pd : tr.partitions) {
        auto it = asked.find({name, pd.partition_index});
        if (it == asked.end()) continue;
        const ready_partition& rp = *it->second;
        entry* e;
        {
          std::lock_guard lk(state_mu_);
          e = current_locked(rp.tp, rp.generation);
          // Removed, re-added, truncated or moved to a new epoch while the request was
          // out: this answer is for a state that is gone (Kafka checks the same).
          if (!e || e->phase != fetch_phase::fetching || e->leader_epoch != rp.leader_epoch ||
              rp.p->log_end_offset() != rp.fetch_offset)
            continue;
        }
        switch (static_cast<error_code>(pd.error_code)) {
          case error_code::none:
            if (rp.throttled) rm_.follower_quota().record(static_cast<int64_t>(pd.records.memory.size()), steady_ms());
            process_partition_data(*e, rp, pd, frame);
            break;
          case error_code::offset_out_of_range:
            out_of_range.push_back(rp);
            break;
          default: {
            // NOT_LEADER_OR_FOLLOWER, FENCED/UNKNOWN_LEADER_EPOCH, UNKNOWN_TOPIC_*,
            // KAFKA_STORAGE_ERROR...: the leader or the controller moves first; retry
            // after the backoff (a new LeaderAndIsr re-adds or removes the partition).
            STRATA_LOG_LIMITED(
                spdlog::level::info, "replica fetcher {}-{}: {}-{}: Fetch answered {}; retrying in {} ms", source_.id,
                fetcher_id_, rp.tp.first, rp.tp.second, error_name(pd.error_code), cfg_.fetch_backoff_ms);
            std::lock_guard lk(state_mu_);
            delay_locked(*e, pd.error_code);
          }
        }
      }
    }
  }
  if (!out_of_range.empty()) handle_out_of_range(out_of_range);
}

void replica_fetcher::process_partition_data(entry& e, const ready_partition& rp,
                                             protocol::fetch_response_types::partition_data& pd,
                                             std::vector<uint8_t>& frame) {
  partition& p = *rp.p;
  storage::log& log = p.log();
  if (is_diverging(pd)) {
    // Fetch v12+: our tail is not the leader's (DESIGN-NOTES §7). Truncate, and fetch
    // again with our new last epoch; the watermarks move on the next answer (Kafka).
    const int64_t leo = log.log_end_offset();
    const auto ts = offset_truncation_state({pd.diverging_epoch.epoch, pd.diverging_epoch.end_offset}, leo,
                                            log.high_watermark(), lookup_in(log));
    // Even when no record is cut: an epoch entry at our end that the leader does not
    // have must go, or the next fetch names it again and diverges again.
    if (auto ec = rm_.truncate_to(p, ts.offset)) {
      std::lock_guard lk(state_mu_);
      fail_locked(e, "truncation", ec);
      return;
    }
    if (ts.offset < leo) {
      spdlog::info("replica fetcher {}-{}: {}-{}: truncated from {} to {} (diverging epoch {} ends at {})", source_.id,
                   fetcher_id_, rp.tp.first, rp.tp.second, leo, ts.offset, pd.diverging_epoch.epoch,
                   pd.diverging_epoch.end_offset);
    }
    return;
  }

  const protocol::bytes_view mem = pd.records.memory;
  if (!mem.empty()) {
    // Whole batches, CRC-checked (no per-record work); a batch cut off at the end of
    // the response is left for the next fetch.
    records::validate_options vo;
    vo.mode = records::validate_mode::log;
    vo.allow_partial_tail = true;
    const auto vr = records::validate_batches(mem, vo);
    if (!vr.ok()) {
      STRATA_LOG_LIMITED(spdlog::level::warn,
                         "replica fetcher {}-{}: {}-{}: invalid records at offset {} ({}); retrying in {} ms",
                         source_.id, fetcher_id_, rp.tp.first, rp.tp.second, rp.fetch_offset,
                         records::make_error_code(vr.error).message(), cfg_.fetch_backoff_ms);
      std::lock_guard lk(state_mu_);
      delay_locked(e, code(error_code::corrupt_message));
      return;
    }
    if (vr.valid_bytes > 0) {
      // The records are a view of our own frame: append them in place.
      const size_t at = static_cast<size_t>(mem.data() - frame.data());
      std::span<uint8_t> batches(frame.data() + at, vr.valid_bytes);
      auto res = rm_.append_as_follower(p, batches, wall_ms());
      if (!res) {
        std::lock_guard lk(state_mu_);
        if (res.error() == errc::not_leader_or_follower) {
          // The partition is changing role; its remove_partitions is on its way.
          delay_locked(e, code(error_code::not_leader_or_follower));
        } else {
          fail_locked(e, "append at offset " + std::to_string(rp.fetch_offset), res.error());
        }
        return;
      }
    }
  }

  // Follower HW = min(leader HW, own LEO) (DESIGN-NOTES §8).
  if (auto hw = follower_high_watermark(pd.high_watermark, log.log_start_offset(), log.log_end_offset(),
                                        log.high_watermark())) {
    log.set_high_watermark(*hw);
    p.watermarks_moved();
  }
  // The log start follows the leader's (retention, DeleteRecords), as Kafka's
  // maybeIncrementLogStartOffset(LeaderOffsetIncremented); not past our HW.
  if (pd.log_start_offset > log.log_start_offset() && pd.log_start_offset <= log.high_watermark()) {
    if (auto ec = log.delete_records_before(pd.log_start_offset))
      STRATA_LOG_LIMITED(spdlog::level::warn, "replica fetcher {}-{}: {}-{}: moving the log start to {}: {}",
                         source_.id, fetcher_id_, rp.tp.first, rp.tp.second, pd.log_start_offset, ec.message());
  }
  std::lock_guard lk(state_mu_);
  e.leader_hw = pd.high_watermark;
  e.leader_log_start = pd.log_start_offset;
  e.last_error = 0;
}

// ---- OFFSET_OUT_OF_RANGE (Kafka's fetchOffsetAndTruncate) ----

std::map<topic_partition, std::pair<int16_t, int64_t>> replica_fetcher::list_offsets(
    const std::vector<ready_partition>& parts, int64_t timestamp) {
  protocol::list_offsets_request req;
  // A replica id: a Kafka leader answers "latest" with its LEO, not its HW.
  req.replica_id = cfg_.broker_id;
  req.isolation_level = 0;
  req.timeout_ms = cfg_.socket_timeout_ms;
  std::map<std::string, size_t> index;
  for (const auto& rp : parts) {
    auto& t = topic_in<protocol::list_offsets_request::list_offsets_topic>(req, index, rp.tp.first);
    t.name = rp.tp.first;
    auto& lp = t.partitions.emplace_back();
    lp.partition_index = rp.tp.second;
    lp.current_leader_epoch = rp.leader_epoch;
    lp.timestamp = timestamp;
  }
  in_flight mark(request_sent_ms_);
  auto resp = conn_->call<protocol::list_offsets_response>(
      req, clock::now() + std::chrono::milliseconds(cfg_.socket_timeout_ms));
  std::map<topic_partition, std::pair<int16_t, int64_t>> out;
  for (const auto& tr : resp.topics)
    for (const auto& pr : tr.partitions) out[{tr.name, pr.partition_index}] = {pr.error_code, pr.offset};
  return out;
}

void replica_fetcher::handle_out_of_range(const std::vector<ready_partition>& parts) {
  // Requests first, without process_mu_: a removal does not wait on the network.
  const auto latest = list_offsets(parts, -1);
  const auto earliest = list_offsets(parts, -2);
  std::lock_guard process(process_mu_);
  for (const auto& rp : parts) {
    std::unique_lock lk(state_mu_);
    entry* e = current_locked(rp.tp, rp.generation);
    if (!e || e->phase != fetch_phase::fetching || e->leader_epoch != rp.leader_epoch ||
        rp.p->log_end_offset() != rp.fetch_offset)
      continue;
    auto l = latest.find(rp.tp);
    auto s = earliest.find(rp.tp);
    int16_t err = l == latest.end() || s == earliest.end() ? code(error_code::unknown_server_error) : l->second.first;
    if (err == 0) err = s->second.first;
    if (err != 0) {
      STRATA_LOG_LIMITED(spdlog::level::info, "replica fetcher {}-{}: {}-{}: ListOffsets answered {}", source_.id,
                         fetcher_id_, rp.tp.first, rp.tp.second, error_name(err));
      delay_locked(*e, err);
      continue;
    }
    lk.unlock();
    const int64_t leo = rp.fetch_offset;
    const auto r = handle_offset_out_of_range(leo, l->second.second, s->second.second);
    std::error_code ec;
    switch (r.action) {
      case out_of_range_action::truncate:
        ec = rm_.truncate_to(*rp.p, r.offset);
        break;
      case out_of_range_action::truncate_fully_and_start_at:
        ec = truncate_fully_and_start_at(*rp.p, r.offset);
        break;
      case out_of_range_action::fetch_from:
        break;
    }
    if (!ec && r.action != out_of_range_action::fetch_from)
      spdlog::info("replica fetcher {}-{}: {}-{}: fetch offset {} out of range (leader's log {}..{}): {} {}",
                   source_.id, fetcher_id_, rp.tp.first, rp.tp.second, leo, s->second.second, l->second.second,
                   r.action == out_of_range_action::truncate ? "truncated to" : "restarted the log at", r.offset);
    lk.lock();
    if (ec) {
      fail_locked(*e, "truncation", ec);
    } else if (r.action == out_of_range_action::fetch_from) {
      // Our LEO is inside the leader's log: the answer was a passing state (its HW, a
      // moving log start). Back off rather than spin on it.
      delay_locked(*e, code(error_code::offset_out_of_range));
    } else {
      e->last_error = 0;
    }
  }
}

}  // namespace strata::cluster
