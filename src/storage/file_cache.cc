#include "storage/file_cache.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <string>

#include <spdlog/spdlog.h>

namespace strata::storage {

size_t open_file_cache::size() const {
  std::lock_guard lk(mu_);
  return slots_.size();
}

void open_file_cache::admit(cache_entry* e) {
  std::vector<std::shared_ptr<void>> dropped;  // destroyed (closed, unmapped) after unlocking
  {
    std::lock_guard lk(mu_);
    if (e->slot_ != cache_entry::kNoSlot) return;
    e->slot_ = slots_.size();
    slots_.push_back(e);
    opens_.fetch_add(1, std::memory_order_relaxed);
    evict_locked(capacity(), dropped);
  }
}

void open_file_cache::forget(cache_entry* e) {
  std::lock_guard lk(mu_);
  size_t i = e->slot_;
  if (i == cache_entry::kNoSlot) return;
  cache_entry* last = slots_.back();
  slots_[i] = last;
  last->slot_ = i;
  slots_.pop_back();
  e->slot_ = cache_entry::kNoSlot;
}

void open_file_cache::evict_all() {
  std::vector<std::shared_ptr<void>> dropped;
  std::lock_guard lk(mu_);
  evict_locked(0, dropped);
}

void open_file_cache::evict_locked(size_t target, std::vector<std::shared_ptr<void>>& dropped) {
  // Two sweeps at most: the first may only clear referenced bits.
  size_t budget = 2 * slots_.size() + 1;
  while (slots_.size() > target && budget-- > 0) {
    if (hand_ >= slots_.size()) hand_ = 0;
    cache_entry* e = slots_[hand_];
    if (target > 0 && e->referenced_.exchange(false, std::memory_order_relaxed)) {
      ++hand_;
      continue;
    }
    dropped.push_back(e->release());
    // Swap the last slot into the hand's place; the hand looks at it next.
    cache_entry* last = slots_.back();
    slots_[hand_] = last;
    last->slot_ = hand_;
    slots_.pop_back();
    e->slot_ = cache_entry::kNoSlot;
    evictions_.fetch_add(1, std::memory_order_relaxed);
  }
}

open_file_cache& log_file_cache() {
  static open_file_cache c(default_file_budgets().open_files / 2);
  return c;
}

open_file_cache& index_cache() {
  static open_file_cache c([] {
    auto b = default_file_budgets();
    return std::max<size_t>(1, std::min(b.open_files / 4, b.index_maps / 2));
  }());
  return c;
}

file_budgets default_file_budgets() {
  file_budgets b;
  struct rlimit rl{};
  size_t nofile = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) nofile = size_t(rl.rlim_cur);
  if (rl.rlim_cur == RLIM_INFINITY) nofile = size_t(1) << 20;
  // Half is left for connections and for descriptors readers hold beyond the budget: a
  // fetch keeps one per partition it returns until the response is sent.
  size_t reserve = std::max<size_t>(256, nofile / 2);
  b.open_files = nofile > reserve + 64 ? nofile - reserve : 64;
  size_t maps = 65530;
  std::ifstream in("/proc/sys/vm/max_map_count");
  if (size_t v = 0; in >> v && v > 0) maps = v;
  b.index_maps = std::max<size_t>(16, maps / 2);
  return b;
}

void set_file_budgets(file_budgets b) {
  auto d = default_file_budgets();
  if (b.open_files == 0) b.open_files = d.open_files;
  if (b.index_maps == 0) b.index_maps = d.index_maps;
  log_file_cache().set_capacity(std::max<size_t>(8, b.open_files / 2));
  index_cache().set_capacity(std::max<size_t>(4, std::min(b.open_files / 4, b.index_maps / 2)));
  struct rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  spdlog::info("storage: keeping at most {} .log descriptors and {} index pairs open (strata.log.open.files.max {}, "
               "strata.log.index.maps.max {}; RLIMIT_NOFILE {})",
               log_file_cache().capacity(), index_cache().capacity(), b.open_files, b.index_maps,
               rl.rlim_cur == RLIM_INFINITY ? std::string("unlimited") : std::to_string(rl.rlim_cur));
}

}  // namespace strata::storage
