// Produce (key 0): validate each partition's batches (header + CRC only), hand
// them to the replica manager (which checks leadership, min.insync.replicas and
// the idempotent producer's sequence, and appends them verbatim), and answer per
// partition. acks=0 gets no response (the connection is closed if any partition
// failed, as Kafka does so the client refreshes its metadata). acks=all answers
// once every ISR member has the batch (the high watermark passed it), or
// REQUEST_TIMED_OUT after timeout_ms. With strata.log.flush.on.ack the answer
// also waits for a group-commit fdatasync covering the append.
#include <spdlog/spdlog.h>

#include "base/log_limiter.h"
#include "broker/broker.h"
#include "broker/error_mapping.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_validate.h"
#include "protocol/records/record_iterator.h"
#include "storage/log_manager.h"

namespace strata::broker::handlers {
namespace {

using protocol::error_code;
using resp_t = protocol::produce_response;
using part_resp = resp_t::topic_produce_response::partition_produce_response;

// What an answer still waits for, per partition.
struct waiting_partition {
  std::shared_ptr<cluster::partition> part;
  int64_t last_offset = -1;
  int32_t min_insync = 1;
  size_t t = 0, p = 0;      // where its answer is in the response
  bool replication = false;  // acks=all: the high watermark must pass last_offset
  bool flush = false;        // strata.log.flush.on.ack: an fdatasync must cover it
  cluster::watermark_waiters::waiter_id waiter = 0;
};

// Validates and appends one partition's batches. Fills `pr`; returns the
// append's last offset when it appended.
std::optional<int64_t> produce_partition(request_context& ctx, const std::string& topic_name,
                                         const std::shared_ptr<const topic_state>& t,
                                         protocol::produce_request::topic_produce_data::partition_produce_data& pd,
                                         const protocol::produce_request& req, int64_t now, part_resp& pr,
                                         bool& any_error) {
  broker& b = *ctx.b;
  const int16_t acks = req.acks;
  const bool acks_valid = acks == 0 || acks == 1 || acks == -1;
  auto fail = [&](error_code code, std::string msg = {}) {
    pr.error_code = ec(code);
    if (!msg.empty()) pr.error_message = std::move(msg);
    any_error = true;
  };
  if (!acks_valid) {
    fail(error_code::invalid_required_acks);
  } else if (!t || !t->partition_at(pd.index)) {
    fail(missing_partition_error(t.get(), pd.index));
  } else if (!t->partition_at(pd.index)->online()) {
    // Offline since startup (KIP-112): its log could not be opened.
    fail(error_code::kafka_storage_error, t->partition_at(pd.index)->offline_reason());
  } else if (t->internal) {
    fail(error_code::invalid_topic_exception, "cannot produce to an internal topic");
  } else if (req.transactional_id.has_value()) {
    fail(error_code::transactional_id_authorization_failed, "transactions are not supported yet");
  } else if (pd.records.is_null || pd.records.memory.empty()) {
    fail(error_code::invalid_record, "no record batches");
  } else {
    records::validate_options vo;
    vo.mode = records::validate_mode::client;
    vo.max_batch_size = static_cast<size_t>(t->cfg.max_message_bytes);
    bool zstd = false;
    cluster::batch_identity first;
    records::errc record_error = records::errc::ok;
    auto vr = records::validate_batches(pd.records.memory, vo, [&](const records::batch_info& bi) {
      zstd = zstd || bi.codec() == records::compression::zstd;
      if (bi.position == 0) first = {bi.producer_id, bi.producer_epoch, bi.base_sequence, bi.last_sequence()};
      // Kafka's LogValidator reads every record (decompressing if need
      // be): a batch consumers could not read must never be stored.
      if (b.validate_records() && record_error == records::errc::ok) {
        thread_local std::vector<uint8_t> scratch;
        // Compacted topics keep the newest record per key: a record without one
        // would be dropped by the cleaner, so Kafka refuses it here.
        record_error = records::validate_records(pd.records.memory.subspan(bi.position, bi.size), scratch,
                                                 records::validate_mode::client, {}, t->cfg.compact);
      }
    });
    const bool idempotent = vr.ok() && first.producer_id >= 0;
    if (!vr.ok()) {
      fail(to_wire(records::make_error_code(vr.error)), std::string(records::to_string(vr.error)));
      spdlog::debug("produce from {} to {}-{} rejected: {}", ctx.peer(), topic_name, pd.index,
                    records::to_string(vr.error));
    } else if (zstd && ctx.api_version < 7) {
      // Kafka checks this when it parses the request, before the records.
      fail(error_code::unsupported_compression_type, "zstd needs Produce v7 or later");
    } else if (record_error != records::errc::ok) {
      fail(to_wire(records::make_error_code(record_error)), std::string(records::to_string(record_error)));
    } else if (idempotent && vr.batch_count != 1) {
      // Kafka: Produce v3+ carries exactly one batch per partition.
      fail(error_code::invalid_record, "an idempotent produce must carry one batch per partition");
    } else {
      // The records view points into the request frame, which this request
      // owns and which nobody else reads: the log stamps offsets in place.
      std::span<uint8_t> batches(const_cast<uint8_t*>(pd.records.memory.data()), pd.records.memory.size());
      // LogAppendTime topics: the broker's clock replaces each batch's max
      // timestamp (and the CRC is recomputed).
      if (t->cfg.log_append_time) records::stamp_log_append_time(batches, now);
      auto& part = *t->partitions[static_cast<size_t>(pd.index)];
      cluster::leader_append la;
      la.batches = batches;
      la.first = first;
      la.required_acks = acks;
      la.min_insync_replicas = t->cfg.min_insync_replicas;
      la.now_ms = now;
      auto res = b.replicas().append_as_leader(part, la);
      if (!res) {
        fail(to_wire(res.error()), res.error().message());
        if (res.error().category() == storage::storage_category())
          STRATA_LOG_LIMITED(spdlog::level::err, "append to {}-{} failed: {}", topic_name, pd.index,
                             res.error().message());
      } else if (res->duplicate) {
        // A retry of a batch we already have: success with its offset.
        pr.error_code = ec(error_code::none);
        pr.base_offset = res->base_offset;
        pr.log_start_offset = res->log_start_offset;
      } else {
        pr.error_code = ec(error_code::none);
        pr.base_offset = res->base_offset;
        pr.log_append_time_ms = t->cfg.log_append_time ? now : -1;
        pr.log_start_offset = res->log_start_offset;
        // Counted once appended (not for retries answered from producer
        // state): the batch bytes and the record counts of their headers.
        part.io().add_in(batches.size(), static_cast<uint64_t>(vr.record_count));
        return res->last_offset;
      }
    }
  }
  return std::nullopt;
}

// The answer of a Produce that waits: for acks=all replication, for group-commit
// flushes, or both. Lives on the request's reactor: every callback posts there.
class waiting_produce : public std::enable_shared_from_this<waiting_produce> {
 public:
  waiting_produce(request_context&& ctx, resp_t&& resp, std::vector<waiting_partition>&& parts, int32_t timeout_ms)
      : ctx_(std::move(ctx)), resp_(std::move(resp)), parts_(std::move(parts)), timeout_ms_(timeout_ms) {}

  void start() {
    auto self = shared_from_this();
    net::reactor_ref* reactor = ctx_.req.reactor;
    for (size_t i = 0; i < parts_.size(); ++i) {
      auto& w = parts_[i];
      if (w.flush) {
        ++pending_;
        ctx_.b->logs().flush_then(w.part->log_ptr(), w.last_offset, [self, reactor, i](std::error_code e) {
          reactor->post([self, i, e] { self->flushed(i, e); });
        });
      }
      if (w.replication) {
        ++pending_;
        watch(i);
      }
    }
    if (pending_ > 0 && any_replication())
      timer_ = reactor->run_after(std::chrono::milliseconds(std::max(timeout_ms_, 0)), [self] { self->timed_out(); });
    maybe_respond();
  }

 private:
  bool any_replication() const {
    for (const auto& w : parts_)
      if (w.replication) return true;
    return false;
  }

  part_resp& answer(const waiting_partition& w) { return resp_.responses[w.t].partition_responses[w.p]; }

  void fail(waiting_partition& w, error_code code, std::string msg = {}) {
    auto& pr = answer(w);
    pr.error_code = ec(code);
    if (!msg.empty()) pr.error_message = std::move(msg);
    ctx_.mark_error();
  }

  // Parks partition i until its high watermark passes the append (or the
  // partition changes: a lost leadership wakes every waiter).
  void watch(size_t i) {
    auto& w = parts_[i];
    auto status = ctx_.b->replicas().replication_of(*w.part, w.last_offset, w.min_insync);
    if (status == cluster::replication_status::waiting && w.part->is_leader() && !ctx_.b->shutting_down()) {
      std::weak_ptr<waiting_produce> weak = shared_from_this();
      net::reactor_ref* reactor = ctx_.req.reactor;
      w.waiter = w.part->hw_waiters().add(w.last_offset + 1, [weak, reactor, i] {
        reactor->post([weak, i] {
          if (auto self = weak.lock()) self->woken(i);
        });
      });
      // The high watermark may have moved between the check and the registration.
      if (ctx_.b->replicas().replication_of(*w.part, w.last_offset, w.min_insync) ==
          cluster::replication_status::waiting)
        return;
      w.part->hw_waiters().remove(w.waiter);
      status = ctx_.b->replicas().replication_of(*w.part, w.last_offset, w.min_insync);
    }
    w.waiter = 0;
    w.replication = false;
    if (status == cluster::replication_status::not_enough_replicas_after_append)
      fail(w, error_code::not_enough_replicas_after_append);
    else if (status == cluster::replication_status::offline)
      fail(w, error_code::kafka_storage_error, w.part->offline_reason());
    else if (status == cluster::replication_status::waiting)
      fail(w, error_code::not_leader_or_follower, "leadership moved before the in-sync replicas had the batch");
    --pending_;
  }

  void woken(size_t i) {
    if (done_ || !parts_[i].replication) return;
    watch(i);
    maybe_respond();
  }

  void flushed(size_t i, std::error_code e) {
    if (done_) return;
    if (e) fail(parts_[i], error_code::kafka_storage_error, e.message());
    --pending_;
    maybe_respond();
  }

  void timed_out() {
    if (done_) return;
    for (auto& w : parts_) {
      if (!w.replication) continue;
      w.part->hw_waiters().remove(w.waiter);
      w.replication = false;
      fail(w, error_code::request_timed_out, "the in-sync replicas did not confirm the batch within timeout_ms");
      --pending_;
    }
    maybe_respond();
  }

  void maybe_respond() {
    if (done_ || pending_ > 0) return;
    done_ = true;
    if (timer_) timer_->cancel();
    ctx_.respond(resp_);
  }

  request_context ctx_;
  resp_t resp_;
  std::vector<waiting_partition> parts_;
  int32_t timeout_ms_;
  int pending_ = 0;
  bool done_ = false;
  std::shared_ptr<net::timer_handle> timer_;
};

}  // namespace

void produce(request_context&& ctx) {
  protocol::produce_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  const int64_t now = now_ms();
  bool any_error = false;

  resp_t resp;
  std::vector<waiting_partition> waits;
  for (auto& topic : req.topic_data) {
    resp_t::topic_produce_response tr;
    tr.name = topic.name;
    auto t = b.topics().find(topic.name);
    for (auto& pd : topic.partition_data) {
      part_resp pr;
      pr.index = pd.index;
      pr.base_offset = -1;
      if (auto last = produce_partition(ctx, topic.name, t, pd, req, now, pr, any_error)) {
        auto part = t->partition_at(pd.index);
        waiting_partition w;
        w.replication = req.acks == -1 && part->high_watermark() <= *last;
        w.flush = b.flush_on_ack() && req.acks != 0;
        if (w.replication || w.flush) {
          w.part = std::move(part);
          w.last_offset = *last;
          w.min_insync = t->cfg.min_insync_replicas;
          w.t = resp.responses.size();
          w.p = tr.partition_responses.size();
          waits.push_back(std::move(w));
        }
      }
      tr.partition_responses.push_back(std::move(pr));
    }
    resp.responses.push_back(std::move(tr));
  }

  if (any_error) ctx.mark_error();
  if (req.acks == 0) {
    if (any_error)
      ctx.close_connection();
    else
      ctx.no_response();
    return;
  }
  if (waits.empty()) {
    ctx.respond(resp);
    return;
  }
  std::make_shared<waiting_produce>(std::move(ctx), std::move(resp), std::move(waits), req.timeout_ms)->start();
}

}  // namespace strata::broker::handlers
