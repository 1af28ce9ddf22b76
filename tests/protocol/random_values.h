#pragma once
// Random field values for the generated fill_random() functions
// (tests/protocol/generated/). Seeded, so a failing run can be replayed.
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <type_traits>

#include "protocol/wire.h"

namespace strata::protocol::testing {

class test_rng {
 public:
  explicit test_rng(uint64_t seed) : engine_(seed) {}

  // True with probability 1/n.
  bool one_in(int n) { return std::uniform_int_distribution<int>(0, n - 1)(engine_) == 0; }
  // Array lengths: mostly small, so nested arrays stay small.
  size_t count() { return std::uniform_int_distribution<size_t>(0, 3)(engine_); }

  // Integers favour the edges (0, -1, min, max) a quarter of the time;
  // doubles are finite so that equality holds after a round trip.
  template <typename T>
  T next() {
    if constexpr (std::is_same_v<T, bool>) {
      return one_in(2);
    } else if constexpr (std::is_floating_point_v<T>) {
      if (one_in(4)) return 0.0;
      return std::uniform_real_distribution<T>(-1e12, 1e12)(engine_);
    } else {
      if (one_in(4)) {
        switch (std::uniform_int_distribution<int>(0, 3)(engine_)) {
          case 0: return T{0};
          case 1: return static_cast<T>(-1);
          case 2: return std::numeric_limits<T>::min();
          default: return std::numeric_limits<T>::max();
        }
      }
      using wide = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      return static_cast<T>(std::uniform_int_distribution<wide>(
          std::numeric_limits<T>::min(), std::numeric_limits<T>::max())(engine_));
    }
  }

  // Lengths are usually short, sometimes past 127 so that compact lengths
  // need two varint bytes.
  std::string random_string();
  bytes random_bytes();
  uuid random_uuid();
  records random_records();

  std::mt19937_64& engine() { return engine_; }

 private:
  size_t length();

  std::mt19937_64 engine_;
};

}  // namespace strata::protocol::testing
