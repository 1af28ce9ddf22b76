// Fetch (key 1): serve stored batches verbatim, as file slices the connection
// sends with sendfile, read through the replica manager: consumers up to the
// high watermark, a partition's followers (replica id >= 0, one of its
// replicas) up to the log end. Long poll: when less than min_bytes is
// available the request parks on its partitions' watermarks (the high
// watermark for consumers, the log end for followers) and is woken when one
// moves past what it saw, or by max_wait_ms.
// Incremental fetch sessions (KIP-227, v7+) are kept in fetch_session_cache.
// A response holds at most min(request max_bytes, broker fetch.max.bytes),
// except that the first partition with data returns at least one whole batch.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/fetch_session.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "storage/log.h"

namespace strata::broker::handlers {
namespace {

using protocol::error_code;
using resp_t = protocol::fetch_response;
using topic_resp = resp_t::fetchable_topic_response;
using part_resp = topic_resp::partition_data;

// The replication throttle's clock: steady, so a wall-clock step cannot open or
// close it.
int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// One partition to read: from the request (sessionless) or the session.
struct work_item {
  session_partition* sp = nullptr;  // points into `own` or into the session
  std::shared_ptr<const topic_state> topic;
  std::shared_ptr<partition> part;  // null: unknown topic or partition
  cluster::reader who = cluster::reader::consumer;
  int64_t seen = -1;  // the watermark the last read saw (the high watermark or the log end)
};

class fetch_op : public std::enable_shared_from_this<fetch_op> {
 public:
  fetch_op(request_context&& ctx, protocol::fetch_request&& req) : ctx_(std::move(ctx)), req_(std::move(req)) {}

  void start() {
    broker& b = *ctx_.b;
    const bool by_id = ctx_.api_version >= 13;
    if (ctx_.api_version >= 7) {
      auto lk = b.fetch_sessions().begin(req_.session_id, req_.session_epoch);
      if (lk.error != error_code::none) {
        resp_t resp;
        resp.error_code = ec(lk.error);
        resp.session_id = 0;
        done_ = true;
        ctx_.respond(resp);
        return;
      }
      session_ = lk.session;
      incremental_ = lk.incremental;
    }
    fetch_partitions& parts = session_ ? session_->partitions : own_;
    if (!session_) {
      size_t n = 0;
      for (const auto& ft : req_.topics) n += ft.partitions.size();
      own_.reserve(n);
    }
    // Apply the request's partitions (all of them for a full fetch), in the
    // request's order for new ones.
    for (const auto& ft : req_.topics) {
      for (const auto& fp : ft.partitions) {
        auto& sp = parts.upsert(
            std::make_tuple(by_id ? std::string() : ft.topic, by_id ? ft.topic_id : protocol::uuid{}, fp.partition));
        sp.topic = ft.topic;
        sp.topic_id = ft.topic_id;
        sp.partition = fp.partition;
        sp.fetch_offset = fp.fetch_offset;
        sp.max_bytes = fp.partition_max_bytes;
        sp.current_leader_epoch = fp.current_leader_epoch;
        sp.last_fetched_epoch = fp.last_fetched_epoch;
        sp.log_start_offset = fp.log_start_offset;
      }
    }
    if (incremental_) {
      for (const auto& ft : req_.forgotten_topics_data)
        for (int32_t p : ft.partitions)
          parts.erase(std::make_tuple(by_id ? std::string() : ft.topic, by_id ? ft.topic_id : protocol::uuid{}, p));
    }
    // Resolve topics once; a topic deleted while we wait keeps its partition
    // objects alive through these pointers and simply stops growing.
    // Served in the order of `parts`: the session's rotated order, or the request's.
    work_.reserve(parts.size());
    for (session_partition* sp : parts.order()) {
      work_item w;
      w.sp = sp;
      w.topic = by_id ? b.topics().find(sp->topic_id) : b.topics().find(sp->topic);
      if (w.topic) w.part = w.topic->partition_at(sp->partition);
      if (w.part && is_follower(*w.part)) w.who = cluster::reader::follower;
      work_.push_back(std::move(w));
    }
    run(false);
  }

 private:
  // Kafka: a Fetch with the replica id of one of the partition's other replicas is
  // that follower's (v15+ carries it in replica_state).
  int32_t replica_id() const { return ctx_.api_version >= 15 ? req_.replica_state.replica_id : req_.replica_id; }
  bool is_follower(const partition& p) const {
    const int32_t id = replica_id();
    if (id < 0 || id == ctx_.b->replicas().local_broker_id()) return false;
    const auto replicas = p.state().replicas;
    return std::find(replicas.begin(), replicas.end(), id) != replicas.end();
  }

  part_resp read_partition(work_item& w, int64_t& total, int64_t max_bytes, bool& errors) {
    part_resp pr;
    pr.partition_index = w.sp->partition;
    pr.high_watermark = -1;
    pr.last_stable_offset = -1;
    pr.log_start_offset = -1;
    if (!w.part) {
      pr.error_code = ec(ctx_.api_version >= 13 && !w.topic ? error_code::unknown_topic_id
                                                            : missing_partition_error(w.topic.get(), w.sp->partition));
      errors = true;
      return pr;
    }
    partition& part = *w.part;
    auto& replicas = ctx_.b->replicas();
    if (auto e = replicas.check_leader(part, w.sp->current_leader_epoch)) {
      pr.error_code = ec(to_wire(e));
      errors = true;
      return pr;
    }
    const int64_t hw = part.high_watermark();
    w.seen = w.who == cluster::reader::follower ? part.log_end_offset() : hw;
    pr.high_watermark = hw;
    pr.last_stable_offset = hw;  // no transactions: LSO = HW
    pr.log_start_offset = part.log().log_start_offset();
    pr.error_code = ec(error_code::none);
    cluster::read_request rr;
    rr.offset = w.sp->fetch_offset;
    rr.who = w.who;
    rr.current_leader_epoch = w.sp->current_leader_epoch;
    if (w.who == cluster::reader::follower) {
      rr.replica_id = replica_id();
      rr.follower_log_start_offset = w.sp->log_start_offset;
      rr.last_fetched_epoch = ctx_.api_version >= 12 ? w.sp->last_fetched_epoch : -1;
      rr.now_ms = now_ms();
    }
    // KIP-73: an out-of-sync follower fetching a replica named in the topic's
    // leader.replication.throttled.replicas (a partition move) gets nothing while the
    // leader's throttle is exceeded; its position still counts.
    const bool throttled =
        w.who == cluster::reader::follower &&
        w.topic->cfg.leader_throttled_replicas.contains(part.index(), replicas.local_broker_id()) &&
        !replicas.in_isr(part, rr.replica_id);
    if (throttled && replicas.leader_quota().exceeded(steady_ms())) {
      replicas.follower_fetched(w.part, rr);
      return pr;
    }
    int64_t budget = std::min<int64_t>(w.sp->max_bytes, max_bytes - total);
    if (budget <= 0 && total > 0) {
      replicas.follower_fetched(w.part, rr);
      return pr;
    }
    // A response within 1/16 of its limit that already satisfies min_bytes
    // stops looking: each look is an index lookup and a header read that
    // rarely finds a batch that small, and with 1 MiB responses over many
    // partitions those reads doubled the broker's CPU per consumed message.
    // The partitions skipped are served first next time (sessions rotate the
    // ones that returned data to the end; librdkafka and Java rotate their
    // sessionless requests).
    if (total > 0 && total >= req_.min_bytes && max_bytes - total <= max_bytes / 16) {
      replicas.follower_fetched(w.part, rr);
      return pr;
    }
    // Kafka: the first partition with data may exceed the limits by one batch,
    // so a consumer never stalls on a batch larger than its max bytes.
    rr.max_bytes = static_cast<int32_t>(std::max<int64_t>(budget, 0));
    rr.min_one_batch = total == 0;
    auto rd = replicas.read(w.part, rr);
    if (!rd) {
      pr.error_code = ec(to_wire(rd.error()));
      errors = true;
      return pr;
    }
    if (rd->diverging) {
      // The follower truncates to this and fetches again (DESIGN-NOTES §7).
      pr.diverging_epoch.epoch = rd->diverging->leader_epoch;
      pr.diverging_epoch.end_offset = rd->diverging->end_offset;
      return pr;
    }
    int64_t bytes = 0;
    for (auto& fr : rd->data.ranges) {
      pr.records.slices.push_back({fr.fd, fr.position, fr.size, fr.keepalive});
      bytes += fr.size;
    }
    total += bytes;
    if (throttled) replicas.leader_quota().record(bytes, steady_ms());
    return pr;
  }

  void run(bool final) {
    if (done_) return;
    broker& b = *ctx_.b;
    int64_t total = 0;
    bool errors = false;
    // Kafka: min(request max_bytes, broker fetch.max.bytes). Soft at every
    // version we serve (v4+; only v0-v2 made it a hard limit): see read_partition.
    const int64_t max_bytes = std::min<int64_t>(req_.max_bytes > 0 ? req_.max_bytes : INT32_MAX, b.fetch_max_bytes());
    std::vector<part_resp> results;
    results.reserve(work_.size());
    for (auto& w : work_) results.push_back(read_partition(w, total, max_bytes, errors));
    const bool enough = total >= req_.min_bytes || (total > 0 && total >= max_bytes);
    if (final || enough || errors || req_.max_wait_ms <= 0 || b.shutting_down()) {
      finish(std::move(results));
      return;
    }
    park();
  }

  void park() {
    auto self = shared_from_this();
    std::weak_ptr<fetch_op> weak = self;
    net::reactor_ref* reactor = ctx_.req.reactor;
    auto wake = [weak, reactor] {
      reactor->post([weak] {
        if (auto op = weak.lock()) op->on_wake();
      });
    };
    // Woken when a watermark moves past what the last read saw.
    for (const auto& w : work_) {
      if (!w.part || w.seen < 0) continue;
      auto& waiters = watched(w);
      wakers_.push_back({w.part, w.who, waiters.add(w.seen + 1, wake)});
    }
    if (!timer_)
      timer_ = reactor->run_after(std::chrono::milliseconds(req_.max_wait_ms), [self] { self->run(true); });
    // A move between our read and the registration above found no waiter; look
    // again so it is not missed.
    if (moved()) reactor->post([self] { self->on_wake(); });
  }

  cluster::watermark_waiters& watched(const work_item& w) const {
    return w.who == cluster::reader::follower ? w.part->log_end_waiters() : w.part->hw_waiters();
  }

  bool moved() const {
    for (const auto& w : work_) {
      if (!w.part || w.seen < 0 || !w.part->online()) continue;
      const int64_t now = w.who == cluster::reader::follower ? w.part->log_end_offset() : w.part->high_watermark();
      if (now > w.seen) return true;
    }
    return false;
  }

  void on_wake() {
    clear_wakers();
    run(false);
  }

  void clear_wakers() {
    for (auto& [p, who, id] : wakers_)
      (who == cluster::reader::follower ? p->log_end_waiters() : p->hw_waiters()).remove(id);
    wakers_.clear();
  }

  void finish(std::vector<part_resp>&& results) {
    done_ = true;
    clear_wakers();
    if (timer_) timer_->cancel();
    resp_t resp;
    resp.error_code = ec(error_code::none);
    resp.session_id = session_ ? session_->id : 0;
    const bool by_id = ctx_.api_version >= 13;
    for (size_t i = 0; i < work_.size(); ++i) {
      auto& w = work_[i];
      auto& pr = results[i];
      if (incremental_) {
        // Only partitions with news go into an incremental response.
        bool news = pr.records.size() > 0 || pr.error_code != 0 || pr.high_watermark != w.sp->sent_hw ||
                    pr.last_stable_offset != w.sp->sent_lso || pr.log_start_offset != w.sp->sent_log_start;
        if (!news) continue;
      }
      if (pr.error_code != 0) ctx_.mark_error();
      // Bytes out are counted when they are put in the response (the file
      // ranges' sizes); messages out are not counted, as that would mean
      // reading every batch header of the ranges.
      if (w.part && !pr.records.slices.empty()) w.part->io().add_out(pr.records.size());
      // Partitions that returned records go to the back of the session's order.
      w.sp->served = pr.records.size() > 0;
      w.sp->sent_hw = pr.high_watermark;
      w.sp->sent_lso = pr.last_stable_offset;
      w.sp->sent_log_start = pr.log_start_offset;
      const std::string& name = w.topic ? w.topic->name : w.sp->topic;
      const protocol::uuid id = w.topic ? w.topic->id : w.sp->topic_id;
      if (resp.responses.empty() || (by_id ? resp.responses.back().topic_id != id : resp.responses.back().topic != name)) {
        topic_resp tr;
        tr.topic = name;
        tr.topic_id = id;
        resp.responses.push_back(std::move(tr));
      }
      resp.responses.back().partitions.push_back(std::move(pr));
    }
    if (session_) {
      // Kafka rotates in incremental fetches only; the full fetch that opens a
      // session is rotated too, so its first incremental fetch does not serve
      // the same partitions first again.
      session_->partitions.rotate_served();
      ctx_.b->fetch_sessions().release(session_);
    }
    ctx_.respond(resp);
  }

  request_context ctx_;
  protocol::fetch_request req_;
  std::shared_ptr<fetch_session> session_;
  bool incremental_ = false;
  fetch_partitions own_;  // sessionless
  std::vector<work_item> work_;
  struct waker {
    std::shared_ptr<partition> part;
    cluster::reader who;
    cluster::watermark_waiters::waiter_id id;
  };
  std::vector<waker> wakers_;
  std::shared_ptr<net::timer_handle> timer_;
  bool done_ = false;
};

}  // namespace

void fetch(request_context&& ctx) {
  protocol::fetch_request req;
  if (!ctx.decode(req)) return;
  auto op = std::make_shared<fetch_op>(std::move(ctx), std::move(req));
  op->start();
}

}  // namespace strata::broker::handlers
