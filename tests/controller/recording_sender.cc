#include "recording_sender.h"

#include <stdexcept>
#include <string>

namespace strata::test {
namespace {

class recording_sender final : public controller::broker_sender {
 public:
  recording_sender(request_log& log, int32_t id) : log_(log), id_(id) {}

  controller::controller_response send(const controller::controller_request& req,
                                       std::chrono::steady_clock::time_point) override {
    if (log_.unreachable(id_)) throw std::runtime_error("broker " + std::to_string(id_) + " is unreachable (test)");
    log_.record(id_, req);
    switch (req.index()) {
      case 0: {
        protocol::leader_and_isr_response resp;
        constexpr int16_t kStorageError = 56;  // KAFKA_STORAGE_ERROR
        for (const auto& ts : std::get<protocol::leader_and_isr_request>(req).topic_states) {
          protocol::leader_and_isr_response::leader_and_isr_topic_error te;
          te.topic_id = ts.topic_id;
          for (const auto& ps : ts.partition_states)
            te.partition_errors.push_back(
                {"", ps.partition_index, log_.replica_offline(id_, ts.topic_name, ps.partition_index) ? kStorageError
                                                                                                        : int16_t(0)});
          resp.topics.push_back(std::move(te));
        }
        return resp;
      }
      case 1: return protocol::update_metadata_response{};
      default: {
        protocol::stop_replica_response resp;
        for (const auto& ts : std::get<protocol::stop_replica_request>(req).topic_states)
          for (const auto& ps : ts.partition_states) resp.partition_errors.push_back({ts.topic_name, ps.partition_index, 0});
        return resp;
      }
    }
  }

 private:
  request_log& log_;
  int32_t id_;
};

}  // namespace

void request_log::record(int32_t broker, const controller::controller_request& req) {
  std::lock_guard lk(mu_);
  items_.push_back({broker, req});
  cv_.notify_all();
}

std::vector<sent_request> request_log::all() const {
  std::lock_guard lk(mu_);
  return items_;
}

bool request_log::wait_for(const std::function<bool(const std::vector<sent_request>&)>& pred,
                           std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return pred(items_); });
}

void request_log::set_offline_replicas(int32_t broker, std::set<std::pair<std::string, int32_t>> parts) {
  std::lock_guard lk(mu_);
  offline_[broker] = std::move(parts);
}

bool request_log::replica_offline(int32_t broker, const std::string& topic, int32_t partition) const {
  std::lock_guard lk(mu_);
  auto it = offline_.find(broker);
  return it != offline_.end() && it->second.count({topic, partition}) > 0;
}

void request_log::set_unreachable(int32_t broker, bool unreachable) {
  std::lock_guard lk(mu_);
  if (unreachable)
    unreachable_.insert(broker);
  else
    unreachable_.erase(broker);
}

bool request_log::unreachable(int32_t broker) const {
  std::lock_guard lk(mu_);
  return unreachable_.count(broker) > 0;
}

void request_log::clear() {
  std::lock_guard lk(mu_);
  items_.clear();
}

controller::sender_factory request_log::factory() {
  return [this](const controller::broker_target& t) { return std::make_unique<recording_sender>(*this, t.id); };
}

const protocol::leader_and_isr_request::leader_and_isr_partition_state* last_leader_and_isr(
    const std::vector<sent_request>& all, int32_t broker, const std::string& topic, int32_t partition,
    const protocol::leader_and_isr_request** req) {
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->broker != broker) continue;
    const auto* r = std::get_if<protocol::leader_and_isr_request>(&it->req);
    if (!r) continue;
    for (const auto& ts : r->topic_states)
      if (ts.topic_name == topic)
        for (const auto& ps : ts.partition_states)
          if (ps.partition_index == partition) {
            if (req) *req = r;
            return &ps;
          }
  }
  return nullptr;
}

const protocol::update_metadata_request::update_metadata_partition_state* last_update_metadata(
    const std::vector<sent_request>& all, int32_t broker, const std::string& topic, int32_t partition,
    const protocol::update_metadata_request** req) {
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    if (it->broker != broker) continue;
    const auto* r = std::get_if<protocol::update_metadata_request>(&it->req);
    if (!r) continue;
    for (const auto& ts : r->topic_states)
      if (ts.topic_name == topic)
        for (const auto& ps : ts.partition_states)
          if (ps.partition_index == partition) {
            if (req) *req = r;
            return &ps;
          }
  }
  return nullptr;
}

bool got_stop_replica(const std::vector<sent_request>& all, int32_t broker, const std::string& topic,
                      int32_t partition, bool delete_partition) {
  for (const auto& s : all) {
    if (s.broker != broker) continue;
    const auto* r = std::get_if<protocol::stop_replica_request>(&s.req);
    if (!r || r->delete_partitions != delete_partition) continue;
    for (const auto& ts : r->topic_states)
      if (ts.topic_name == topic)
        for (const auto& ps : ts.partition_states)
          if (ps.partition_index == partition && ps.delete_partition == delete_partition) return true;
  }
  return false;
}

}  // namespace strata::test
