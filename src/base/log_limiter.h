#pragma once
// Rate limits for repeated log lines, so that a remote client cannot grow the broker's
// log by sending the same bad request over and over (or a full disk turn every rejected
// write into an error line). A limiter stands for one cause, usually one call site: the
// first occurrence is logged, then at most one line per interval, which says how many
// occurrences were left out since the last line.
//
// Thread-safe and lock-free: any thread may call allow(); two threads racing at the
// end of an interval log one line between them.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace strata {

class log_limiter {
 public:
  explicit log_limiter(std::chrono::milliseconds interval = std::chrono::seconds(5)) : interval_ms_(interval.count()) {}

  // True when this occurrence should be logged; *suppressed is then the number of
  // occurrences left out since the last logged one.
  bool allow(uint64_t* suppressed) { return allow_at(now_ms(), suppressed); }

  // allow() with the time given (tests).
  bool allow_at(int64_t now_ms, uint64_t* suppressed) {
    int64_t next = next_ms_.load(std::memory_order_relaxed);
    if (now_ms >= next && next_ms_.compare_exchange_strong(next, now_ms + interval_ms_, std::memory_order_relaxed)) {
      *suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
      return true;
    }
    suppressed_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  int64_t interval_ms() const { return interval_ms_; }

 private:
  static int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }

  const int64_t interval_ms_;
  std::atomic<int64_t> next_ms_{INT64_MIN};
  std::atomic<uint64_t> suppressed_{0};
};

// " (N more like this in the last Ts)" after a limited line that stood for others, else "".
inline std::string suppressed_note(uint64_t suppressed, int64_t interval_ms) {
  if (suppressed == 0) return {};
  return " (" + std::to_string(suppressed) + " more like this in the last " + std::to_string((interval_ms + 999) / 1000) +
         "s)";
}

}  // namespace strata

// Logs through spdlog at `level` (spdlog::level::warn, ...) at most once per 5 s for
// this call site, adding how many were left out. The caller includes spdlog.
//   STRATA_LOG_LIMITED(spdlog::level::warn, "closing connection from {}: ...", peer);
#define STRATA_LOG_LIMITED(level, ...)                                                              \
  do {                                                                                              \
    static ::strata::log_limiter strata_limiter_;                                                   \
    uint64_t strata_suppressed_ = 0;                                                                \
    if (strata_limiter_.allow(&strata_suppressed_))                                                 \
      ::spdlog::log(level, "{}{}", ::fmt::format(__VA_ARGS__),                                      \
                    ::strata::suppressed_note(strata_suppressed_, strata_limiter_.interval_ms())); \
  } while (0)
