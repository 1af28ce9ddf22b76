#include "cluster/partition.h"

#include "storage/log.h"

namespace strata::cluster {

partition::partition(std::string topic, int32_t index, std::shared_ptr<storage::log> log)
    : topic_(std::move(topic)), index_(index), log_(std::move(log)) {}

partition::partition(std::string topic, int32_t index, std::string reason)
    : topic_(std::move(topic)), index_(index), offline_reason_(std::move(reason)) {}

bool partition::online() const { return log_ != nullptr && !log_->offline(); }

std::string partition::offline_reason() const {
  if (!log_) return offline_reason_;
  if (log_->offline()) return "its log directory failed (an I/O error in " + log_->dir() + ", see the broker's log)";
  return {};
}

partition_state partition::state() const {
  std::lock_guard lk(state_mu_);
  return state_;
}

size_t partition::isr_size() const {
  std::lock_guard lk(state_mu_);
  return state_.isr.size();
}

std::vector<replica_state> partition::followers() const {
  std::lock_guard lk(state_mu_);
  return followers_;
}

std::optional<std::vector<int32_t>> partition::pending_isr() const {
  std::lock_guard lk(state_mu_);
  return pending_isr_;
}

void partition::set_state(partition_state s, replica_role r) {
  std::lock_guard lk(state_mu_);
  leader_epoch_.store(s.leader_epoch, std::memory_order_release);
  role_.store(r, std::memory_order_release);
  state_ = std::move(s);
}

int64_t partition::high_watermark() const { return log_->high_watermark(); }
int64_t partition::log_end_offset() const { return log_->log_end_offset(); }

void partition::watermarks_moved() {
  if (!log_) return;
  leo_waiters_.advance(log_->log_end_offset());
  hw_waiters_.advance(log_->high_watermark());
}

void partition::wake_all() {
  hw_waiters_.fire_all();
  leo_waiters_.fire_all();
}

}  // namespace strata::cluster
