#pragma once
// A log-linear latency histogram for `strata bench` (in the spirit of
// HdrHistogram, without the dependency). Values are microseconds. Values
// below 256 have a bucket each; above, every power of two is split into 128
// buckets, so a reported percentile is at most 1/128 (0.8 %) above the true
// value. Count, sum, min and max are exact. Not thread-safe: each thread keeps
// its own and merges.
#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <limits>
#include <vector>

namespace strata::cli::bench {

class histogram {
 public:
  static constexpr int linear_bits = 8;                      // values < 256: exact
  static constexpr int sub_bits = 7;                         // 128 buckets per octave above
  static constexpr int max_exponent = 48;                    // 2^48 µs ≈ 9 years
  static constexpr std::size_t bucket_count =
      (std::size_t{1} << linear_bits) + (max_exponent - linear_bits + 1) * (std::size_t{1} << sub_bits);

  histogram() : counts_(bucket_count, 0) {}

  void record(std::uint64_t us) {
    ++counts_[index_of(us)];
    ++count_;
    sum_ += us;
    min_ = std::min(min_, us);
    max_ = std::max(max_, us);
  }

  void merge(const histogram& o) {
    for (std::size_t i = 0; i < bucket_count; ++i) counts_[i] += o.counts_[i];
    count_ += o.count_;
    sum_ += o.sum_;
    min_ = std::min(min_, o.min_);
    max_ = std::max(max_, o.max_);
  }

  void reset() {
    std::fill(counts_.begin(), counts_.end(), 0);
    count_ = sum_ = 0;
    min_ = std::numeric_limits<std::uint64_t>::max();
    max_ = 0;
  }

  std::uint64_t count() const { return count_; }
  std::uint64_t min() const { return count_ ? min_ : 0; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0; }

  // The smallest value v such that at least q (0..1) of the recorded values
  // are <= v, as the top of v's bucket (never above the exact maximum).
  std::uint64_t percentile(double q) const {
    if (count_ == 0) return 0;
    if (q >= 1.0) return max_;
    auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_) + 0.5);
    rank = std::clamp<std::uint64_t>(rank, 1, count_);
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < bucket_count; ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min(bucket_top(i), max_);
    }
    return max_;
  }

  // Exposed for the unit checks in `strata bench selftest`.
  static std::size_t index_of(std::uint64_t v) {
    if (v < (std::uint64_t{1} << linear_bits)) return static_cast<std::size_t>(v);
    int e = std::bit_width(v) - 1;  // >= linear_bits
    if (e > max_exponent) return bucket_count - 1;
    int shift = e - sub_bits;
    std::uint64_t mantissa = (v >> shift) - (std::uint64_t{1} << sub_bits);  // 0..127
    return (std::size_t{1} << linear_bits) + static_cast<std::size_t>(e - linear_bits) * (std::size_t{1} << sub_bits) +
           static_cast<std::size_t>(mantissa);
  }
  static std::uint64_t bucket_top(std::size_t i) {
    if (i < (std::size_t{1} << linear_bits)) return i;
    std::size_t j = i - (std::size_t{1} << linear_bits);
    int e = static_cast<int>(j >> sub_bits) + linear_bits;
    std::uint64_t mantissa = (j & ((std::size_t{1} << sub_bits) - 1)) + (std::uint64_t{1} << sub_bits);
    int shift = e - sub_bits;
    return ((mantissa + 1) << shift) - 1;
  }

 private:
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t sum_ = 0;
  std::uint64_t min_ = std::numeric_limits<std::uint64_t>::max();
  std::uint64_t max_ = 0;
};

}  // namespace strata::cli::bench
