#include "broker/fetch_session.h"

#include <algorithm>

namespace strata::broker {

session_partition& fetch_partitions::upsert(key&& k) {
  auto [it, added] = by_key_.try_emplace(std::move(k));
  if (added) order_.push_back(&it->second);
  return it->second;
}

void fetch_partitions::erase(const key& k) {
  auto it = by_key_.find(k);
  if (it == by_key_.end()) return;
  // Forgetting partitions is rare (reassignment), so a linear search is fine.
  order_.erase(std::find(order_.begin(), order_.end(), &it->second));
  by_key_.erase(it);
}

void fetch_partitions::rotate_served() {
  scratch_.clear();
  size_t kept = 0;
  for (session_partition* p : order_) {
    if (p->served) {
      p->served = false;
      scratch_.push_back(p);
    } else {
      order_[kept++] = p;
    }
  }
  std::copy(scratch_.begin(), scratch_.end(), order_.begin() + static_cast<std::ptrdiff_t>(kept));
}

fetch_session_cache::lookup fetch_session_cache::begin(int32_t session_id, int32_t epoch) {
  std::lock_guard lk(mu_);
  lookup out;
  const auto now = std::chrono::steady_clock::now();
  if (session_id != 0 && epoch <= 0) sessions_.erase(session_id);  // close S
  if (epoch == -1) return out;                                     // sessionless
  if (epoch == 0) {
    if (sessions_.size() >= max_) {
      auto lru = sessions_.begin();
      for (auto it = sessions_.begin(); it != sessions_.end(); ++it)
        if (it->second->last_used < lru->second->last_used) lru = it;
      sessions_.erase(lru);
    }
    auto s = std::make_shared<fetch_session>();
    do {
      s->id = next_id_++;
      if (next_id_ <= 0) next_id_ = 1;
    } while (sessions_.count(s->id));
    s->next_epoch = 1;
    s->last_used = now;
    s->busy = true;
    sessions_[s->id] = s;
    out.session = s;
    return out;
  }
  auto it = sessions_.find(session_id);
  if (it == sessions_.end()) {
    out.error = protocol::error_code::fetch_session_id_not_found;
    return out;
  }
  if (it->second->next_epoch != epoch || it->second->busy) {
    out.error = protocol::error_code::invalid_fetch_session_epoch;
    return out;
  }
  it->second->next_epoch = epoch == INT32_MAX ? 1 : epoch + 1;
  it->second->last_used = now;
  out.session = it->second;
  out.session->busy = true;
  out.incremental = true;
  return out;
}

void fetch_session_cache::release(const std::shared_ptr<fetch_session>& s) {
  std::lock_guard lk(mu_);
  s->busy = false;
}

void fetch_session_cache::remove(int32_t id) {
  std::lock_guard lk(mu_);
  sessions_.erase(id);
}

}  // namespace strata::broker
