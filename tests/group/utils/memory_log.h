#pragma once
// An in-memory group_log for coordinator tests: keeps every appended record
// per partition (so persistence and replay can be checked), can fail appends
// with a chosen error, and can hold completions to release them later (a
// write still in flight while ownership changes).
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <system_error>
#include <vector>

#include <gtest/gtest.h>

#include "group/group_coordinator.h"
#include "group/group_log.h"
#include "group/offsets_topic.h"

namespace strata::group::testing {

struct memory_log : group_log {
  std::mutex mu;
  std::map<int32_t, std::vector<log_record>> parts;
  std::error_code fail;  // set: every append fails with it, storing nothing
  bool hold = false;     // set: completions wait for release()
  std::vector<std::function<void()>> held;

  void append(int32_t partition, std::vector<log_record> records, std::function<void(std::error_code)> done) override {
    std::error_code e;
    {
      std::lock_guard lk(mu);
      e = fail;
      if (!e)
        for (auto& r : records) parts[partition].push_back(std::move(r));
      if (hold) {
        held.push_back([done, e] { done(e); });
        return;
      }
    }
    done(e);
  }
  // Runs the held completions (outside the lock, as a log's completion thread would).
  size_t release() {
    std::vector<std::function<void()>> h;
    {
      std::lock_guard lk(mu);
      h.swap(held);
      hold = false;
    }
    for (auto& f : h) f();
    return h.size();
  }
  size_t record_count() {
    std::lock_guard lk(mu);
    size_t n = 0;
    for (auto& [p, recs] : parts) n += recs.size();
    return n;
  }
  // Today's single-node startup: every record through load(record).
  void replay_into(group_coordinator& gc) {
    std::lock_guard lk(mu);
    for (auto& [p, recs] : parts)
      for (auto& r : recs) gc.load(decode(r));
  }
  // A partition's records through load(partition, record) (call between
  // begin_loading and finish_loading).
  void replay_partition(group_coordinator& gc, int32_t partition) {
    std::lock_guard lk(mu);
    for (auto& r : parts[partition]) gc.load(partition, decode(r));
  }
  static decoded_record decode(const log_record& r) {
    std::optional<protocol::bytes_view> v;
    if (r.value) v = protocol::bytes_view(*r.value);
    auto d = decode_record(r.key, v);
    EXPECT_TRUE(d.has_value());
    return d ? *d : decoded_record{};
  }
};

}  // namespace strata::group::testing
