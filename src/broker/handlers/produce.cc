// Produce (key 0): validate each partition's batches (header + CRC only),
// append them verbatim, and answer per partition. acks=0 gets no response
// (the connection is closed if any partition failed, as Kafka does so the
// client refreshes its metadata). With strata.log.flush.on.ack the answer
// waits for a group-commit fdatasync covering the append.
#include <spdlog/spdlog.h>

#include <atomic>

#include "broker/broker.h"
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

error_code map_validation(records::errc e) {
  switch (e) {
    case records::errc::batch_too_large: return error_code::message_too_large;
    case records::errc::unsupported_magic:
    case records::errc::invalid_offset_range:
    case records::errc::invalid_record_count:
    case records::errc::invalid_sequence:
    case records::errc::control_batch_from_client:
    case records::errc::missing_key:
    case records::errc::invalid_record: return error_code::invalid_record;
    default: return error_code::corrupt_message;
  }
}

error_code map_storage(std::error_code e) {
  if (e == storage::errc::batch_too_large) return error_code::record_list_too_large;
  if (e == storage::errc::log_closed) return error_code::not_leader_or_follower;
  return error_code::kafka_storage_error;
}

struct flush_state {
  request_context ctx;
  resp_t resp;
  std::atomic<int> pending{0};
  // (topic index, partition index) of each flush, to mark storage errors.
  std::vector<std::pair<size_t, size_t>> where;
};

// Validates and appends one partition's batches. Fills `pr`; returns the
// append's last offset when the answer must wait for a group-commit flush.
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
    fail(error_code::unknown_topic_or_partition);
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
    batch_identity first;
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
      fail(map_validation(vr.error), std::string(records::to_string(vr.error)));
      spdlog::debug("produce from {} to {}-{} rejected: {}", ctx.peer(), topic_name, pd.index,
                    records::to_string(vr.error));
    } else if (zstd && ctx.api_version < 7) {
      // Kafka checks this when it parses the request, before the records.
      fail(error_code::unsupported_compression_type, "zstd needs Produce v7 or later");
    } else if (record_error != records::errc::ok) {
      fail(map_validation(record_error), std::string(records::to_string(record_error)));
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
      std::unique_lock<std::mutex> idem_lock;
      std::optional<int64_t> duplicate_of;
      error_code sequence_error = error_code::none;
      if (idempotent) {
        idem_lock = std::unique_lock(part.idempotence_mutex());
        if (!part.producers().loaded) {
          rebuild_producer_state(part.log(), part.producers());
          part.producers().loaded = true;
        }
        auto v = part.producers().check(first);
        sequence_error = v.error;
        duplicate_of = v.duplicate_of;
      }
      storage::result<storage::append_result> res = storage::errc::invalid_batch;
      if (sequence_error == error_code::none && !duplicate_of) {
        res = part.log().append(batches, part.leader_epoch(), now);
        if (res && idempotent) part.producers().record(first, res->base_offset, res->last_offset);
      }
      if (idem_lock) idem_lock.unlock();
      if (sequence_error != error_code::none) {
        fail(sequence_error);
      } else if (duplicate_of) {
        // A retry of a batch we already have: success with its offset.
        pr.error_code = ec(error_code::none);
        pr.base_offset = *duplicate_of;
        pr.log_start_offset = part.log().log_start_offset();
      } else if (!res) {
        fail(map_storage(res.error()), res.error().message());
        spdlog::error("append to {}-{} failed: {}", topic_name, pd.index, res.error().message());
      } else {
        pr.error_code = ec(error_code::none);
        pr.base_offset = res->base_offset;
        pr.log_append_time_ms = t->cfg.log_append_time ? now : -1;
        pr.log_start_offset = res->log_start_offset;
        // Counted once appended (not for retries answered from producer
        // state): the batch bytes and the record counts of their headers.
        part.io().add_in(batches.size(), static_cast<uint64_t>(vr.record_count));
        if (b.flush_on_ack() && acks != 0) return res->last_offset;
      }
    }
  }
  return std::nullopt;
}

}  // namespace

void produce(request_context&& ctx) {
  protocol::produce_request req;
  if (!ctx.decode(req)) return;
  broker& b = *ctx.b;
  const int64_t now = now_ms();
  bool any_error = false;

  resp_t resp;
  struct to_flush {
    std::shared_ptr<storage::log> log;
    int64_t offset;
    size_t t, p;
  };
  std::vector<to_flush> flushes;

  for (auto& topic : req.topic_data) {
    resp_t::topic_produce_response tr;
    tr.name = topic.name;
    auto t = b.topics().find(topic.name);
    for (auto& pd : topic.partition_data) {
      part_resp pr;
      pr.index = pd.index;
      pr.base_offset = -1;
      if (auto last = produce_partition(ctx, topic.name, t, pd, req, now, pr, any_error))
        flushes.push_back({t->partition_at(pd.index)->log_ptr(), *last, resp.responses.size(),
                           tr.partition_responses.size()});
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
  if (flushes.empty()) {
    ctx.respond(resp);
    return;
  }
  auto st = std::make_shared<flush_state>();
  st->resp = std::move(resp);
  st->pending = static_cast<int>(flushes.size());
  for (const auto& f : flushes) st->where.push_back({f.t, f.p});
  st->ctx = std::move(ctx);
  auto& logs = b.logs();
  for (size_t i = 0; i < flushes.size(); ++i) {
    logs.flush_then(flushes[i].log, flushes[i].offset, [st, i](std::error_code e) {
      if (e) {
        auto [ti, pi] = st->where[i];
        auto& pr = st->resp.responses[ti].partition_responses[pi];
        pr.error_code = ec(error_code::kafka_storage_error);
        pr.error_message = e.message();
      }
      if (--st->pending == 0) st->ctx.respond(st->resp);
    });
  }
}

}  // namespace strata::broker::handlers
