// Fetch (key 1): serve stored batches verbatim, as file slices the connection
// sends with sendfile. Long poll: when less than min_bytes is available the
// request parks on its partitions and is woken by an append or by max_wait_ms.
//
// Fetch sessions (KIP-227): every response carries session_id 0, which tells
// the client "no session, send full requests" — valid for every client
// (the Java consumer keeps sending full fetches, librdkafka and kafkajs never
// open sessions).
#include <spdlog/spdlog.h>

#include "broker/broker.h"
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

class fetch_op : public std::enable_shared_from_this<fetch_op> {
 public:
  fetch_op(request_context&& ctx, protocol::fetch_request&& req) : ctx_(std::move(ctx)), req_(std::move(req)) {}

  void start() {
    broker& b = *ctx_.b;
    // Resolve topics once; a topic deleted while we wait keeps its partition
    // objects alive through these pointers and simply stops growing.
    for (const auto& ft : req_.topics) {
      std::shared_ptr<const topic_state> t = ctx_.api_version >= 13 ? b.topics().find(ft.topic_id) : b.topics().find(ft.topic);
      topics_.push_back(t);
    }
    run(false);
  }

 private:
  void run(bool final) {
    if (done_) return;
    broker& b = *ctx_.b;
    resp_t resp;
    hw_sum_ = 0;
    int64_t total = 0;
    bool errors = false;
    const int64_t max_bytes = req_.max_bytes > 0 ? req_.max_bytes : INT32_MAX;
    for (size_t ti = 0; ti < req_.topics.size(); ++ti) {
      const auto& ft = req_.topics[ti];
      const auto& t = topics_[ti];
      topic_resp tr;
      tr.topic = t ? t->name : ft.topic;
      tr.topic_id = t ? t->id : ft.topic_id;
      for (const auto& fp : ft.partitions) {
        part_resp pr;
        pr.partition_index = fp.partition;
        pr.high_watermark = -1;
        pr.last_stable_offset = -1;
        pr.log_start_offset = -1;
        if (!t || fp.partition < 0 || fp.partition >= static_cast<int32_t>(t->partitions.size())) {
          pr.error_code = ec(ctx_.api_version >= 13 && !t ? error_code::unknown_topic_id
                                                          : error_code::unknown_topic_or_partition);
          errors = true;
          tr.partitions.push_back(std::move(pr));
          continue;
        }
        auto& part = *t->partitions[static_cast<size_t>(fp.partition)];
        if (fp.current_leader_epoch >= 0 && fp.current_leader_epoch != part.leader_epoch()) {
          pr.error_code = ec(fp.current_leader_epoch < part.leader_epoch() ? error_code::fenced_leader_epoch
                                                                           : error_code::unknown_leader_epoch);
          errors = true;
          tr.partitions.push_back(std::move(pr));
          continue;
        }
        storage::log& log = part.log();
        const int64_t hw = log.high_watermark();
        hw_sum_ += hw;
        pr.high_watermark = hw;
        pr.last_stable_offset = hw;  // no transactions: LSO = HW
        pr.log_start_offset = log.log_start_offset();
        int64_t budget = std::min<int64_t>(fp.partition_max_bytes, max_bytes - total);
        if (budget <= 0 && total > 0) {
          tr.partitions.push_back(std::move(pr));
          continue;
        }
        auto rd = log.read(fp.fetch_offset, static_cast<int32_t>(std::max<int64_t>(budget, 0)), hw, total == 0);
        if (!rd) {
          pr.error_code = ec(rd.error() == storage::errc::offset_out_of_range ? error_code::offset_out_of_range
                                                                               : error_code::kafka_storage_error);
          errors = true;
        } else {
          pr.error_code = ec(error_code::none);
          for (auto& fr : rd->ranges) {
            pr.records.slices.push_back({fr.fd, fr.position, fr.size, fr.keepalive});
            total += fr.size;
          }
        }
        tr.partitions.push_back(std::move(pr));
      }
      resp.responses.push_back(std::move(tr));
    }
    const bool enough = total >= req_.min_bytes || (total > 0 && total >= max_bytes);
    if (final || enough || errors || req_.max_wait_ms <= 0 || b.shutting_down()) {
      finish(std::move(resp));
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
    for (size_t ti = 0; ti < req_.topics.size(); ++ti) {
      if (!topics_[ti]) continue;
      for (const auto& fp : req_.topics[ti].partitions) {
        if (fp.partition < 0 || fp.partition >= static_cast<int32_t>(topics_[ti]->partitions.size())) continue;
        auto& p = topics_[ti]->partitions[static_cast<size_t>(fp.partition)];
        wakers_.push_back({p, p->add_waker(wake)});
      }
    }
    if (!timer_) {
      timer_ = reactor->run_after(std::chrono::milliseconds(req_.max_wait_ms), [self] { self->run(true); });
    }
    // An append between our read and the registration above would have found
    // no waker; look again so it is not missed.
    if (current_hw_sum() != hw_sum_) reactor->post([self] { self->on_wake(); });
  }

  int64_t current_hw_sum() const {
    int64_t sum = 0;
    for (size_t ti = 0; ti < req_.topics.size(); ++ti) {
      if (!topics_[ti]) continue;
      for (const auto& fp : req_.topics[ti].partitions) {
        if (fp.partition < 0 || fp.partition >= static_cast<int32_t>(topics_[ti]->partitions.size())) continue;
        sum += topics_[ti]->partitions[static_cast<size_t>(fp.partition)]->log().high_watermark();
      }
    }
    return sum;
  }

  void on_wake() {
    clear_wakers();
    run(false);
  }

  void clear_wakers() {
    for (auto& [p, id] : wakers_) p->remove_waker(id);
    wakers_.clear();
  }

  void finish(resp_t&& resp) {
    done_ = true;
    clear_wakers();
    if (timer_) timer_->cancel();
    resp.error_code = ec(error_code::none);
    resp.session_id = 0;
    ctx_.respond(resp);
  }

  request_context ctx_;
  protocol::fetch_request req_;
  std::vector<std::shared_ptr<const topic_state>> topics_;
  std::vector<std::pair<std::shared_ptr<partition>, uint64_t>> wakers_;
  std::shared_ptr<net::timer_handle> timer_;
  bool done_ = false;
  int64_t hw_sum_ = 0;  // sum of the high watermarks seen by the last run()
};

}  // namespace

void fetch(request_context&& ctx) {
  protocol::fetch_request req;
  if (!ctx.decode(req)) return;
  auto op = std::make_shared<fetch_op>(std::move(ctx), std::move(req));
  op->start();
}

}  // namespace strata::broker::handlers
