#include "random_values.h"

namespace strata::protocol::testing {

size_t test_rng::length() {
  if (one_in(8)) return std::uniform_int_distribution<size_t>(120, 300)(engine_);
  return std::uniform_int_distribution<size_t>(0, 12)(engine_);
}

std::string test_rng::random_string() {
  std::string s(length(), ' ');
  for (auto& c : s) c = static_cast<char>(std::uniform_int_distribution<int>('a', 'z')(engine_));
  return s;
}

bytes test_rng::random_bytes() {
  bytes b(length());
  for (auto& c : b) c = static_cast<uint8_t>(engine_());
  return b;
}

uuid test_rng::random_uuid() {
  uuid u;
  if (one_in(4)) return u;  // the zero UUID is the default; exercise it too
  for (auto& c : u.data) c = static_cast<uint8_t>(engine_());
  return u;
}

records test_rng::random_records() { return records::copy_of(random_bytes()); }

}  // namespace strata::protocol::testing
