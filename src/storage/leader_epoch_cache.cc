#include "storage/leader_epoch_cache.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>

#include "storage/checkpoint_file.h"

namespace strata::storage {

leader_epoch_cache::leader_epoch_cache(fs::file_system& fs, std::string path)
    : fs_(fs), path_(std::move(path)) {
  auto lines = read_checkpoint(fs_, path_);
  if (!lines) {
    if (lines.error() != errc::not_found) {
      spdlog::warn("storage: ignoring damaged {}: {}", path_, lines.error().message());
    }
    return;
  }
  for (const auto& l : lines.value()) {
    auto sp = l.find(' ');
    epoch_entry e{};
    if (sp == std::string::npos ||
        std::from_chars(l.data(), l.data() + sp, e.epoch).ec != std::errc{} ||
        std::from_chars(l.data() + sp + 1, l.data() + l.size(), e.start_offset).ec != std::errc{}) {
      spdlog::warn("storage: ignoring damaged {}", path_);
      entries_.clear();
      return;
    }
    assign(e.epoch, e.start_offset);
  }
}

bool leader_epoch_cache::assign(int32_t epoch, int64_t start_offset) {
  if (epoch < 0 || start_offset < 0) return false;
  std::lock_guard lk(mu_);
  if (!entries_.empty()) {
    const auto& last = entries_.back();
    if (last.epoch == epoch && start_offset >= last.start_offset) return false;
  }
  std::erase_if(entries_, [&](const epoch_entry& e) {
    return e.epoch >= epoch || e.start_offset >= start_offset;
  });
  entries_.push_back({epoch, start_offset});
  return true;
}

std::optional<epoch_entry> leader_epoch_cache::latest() const {
  std::lock_guard lk(mu_);
  if (entries_.empty()) return std::nullopt;
  return entries_.back();
}

std::optional<int32_t> leader_epoch_cache::latest_epoch() const {
  auto l = latest();
  if (!l) return std::nullopt;
  return l->epoch;
}

std::pair<int32_t, int64_t> leader_epoch_cache::end_offset_for(int32_t requested,
                                                              int64_t log_end_offset) const {
  std::lock_guard lk(mu_);
  if (requested == kUndefinedEpoch) return {kUndefinedEpoch, kUndefinedEpochOffset};
  if (!entries_.empty() && entries_.back().epoch == requested) return {requested, log_end_offset};
  auto higher = std::upper_bound(entries_.begin(), entries_.end(), requested,
                                 [](int32_t r, const epoch_entry& e) { return r < e.epoch; });
  if (higher == entries_.end()) return {kUndefinedEpoch, kUndefinedEpochOffset};
  if (higher == entries_.begin()) return {requested, higher->start_offset};
  return {std::prev(higher)->epoch, higher->start_offset};
}

std::optional<int32_t> leader_epoch_cache::epoch_for_offset(int64_t offset) const {
  std::lock_guard lk(mu_);
  std::optional<int32_t> out;
  for (const auto& e : entries_) {
    if (e.start_offset > offset) break;
    out = e.epoch;
  }
  return out;
}

bool leader_epoch_cache::truncate_from_end(int64_t end_offset) {
  std::lock_guard lk(mu_);
  if (end_offset < 0 || entries_.empty() || entries_.back().start_offset < end_offset) return false;
  std::erase_if(entries_, [&](const epoch_entry& e) { return e.start_offset >= end_offset; });
  return true;
}

bool leader_epoch_cache::truncate_from_start(int64_t start_offset) {
  std::lock_guard lk(mu_);
  if (start_offset < 0) return false;
  auto first_kept = std::find_if(entries_.begin(), entries_.end(), [&](const epoch_entry& e) {
    return e.start_offset > start_offset;
  });
  if (first_kept == entries_.begin()) return false;
  epoch_entry last_removed = *std::prev(first_kept);
  if (last_removed.start_offset == start_offset && first_kept - entries_.begin() == 1) return false;
  entries_.erase(entries_.begin(), first_kept);
  entries_.insert(entries_.begin(), epoch_entry{last_removed.epoch, start_offset});
  return true;
}

std::vector<epoch_entry> leader_epoch_cache::entries() const {
  std::lock_guard lk(mu_);
  return entries_;
}

void leader_epoch_cache::clear() {
  std::lock_guard lk(mu_);
  entries_.clear();
}

std::error_code leader_epoch_cache::flush() {
  std::lock_guard f(flush_mu_);
  std::vector<std::string> lines;
  for (const auto& e : entries()) {
    lines.push_back(std::to_string(e.epoch) + " " + std::to_string(e.start_offset));
  }
  return write_checkpoint(fs_, path_, lines);
}

}  // namespace strata::storage
