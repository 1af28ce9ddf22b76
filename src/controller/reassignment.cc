#include "controller/reassignment.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace strata::controller {
namespace {

bool contains(std::span<const int32_t> v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

// `a` without the members of `b`, in `a` order.
std::vector<int32_t> diff(std::span<const int32_t> a, std::span<const int32_t> b) {
  std::vector<int32_t> out;
  for (int32_t x : a)
    if (!contains(b, x)) out.push_back(x);
  return out;
}

}  // namespace

std::vector<int32_t> replica_assignment::origin_replicas() const { return diff(replicas, adding); }

std::vector<int32_t> replica_assignment::target_replicas() const { return diff(replicas, removing); }

replica_assignment replica_assignment::reassign_to(std::span<const int32_t> target) const {
  const auto origin = origin_replicas();
  replica_assignment next;
  next.replicas.assign(target.begin(), target.end());
  for (int32_t r : origin)
    if (!contains(next.replicas, r)) next.replicas.push_back(r);
  next.adding = diff(next.replicas, origin);
  next.removing = diff(next.replicas, target);
  return next;
}

std::optional<std::string> validate_target(std::span<const int32_t> target, const replica_assignment& current,
                                           std::span<const int32_t> live_brokers) {
  if (target.empty()) return "Empty replica list specified in partition reassignment.";
  if (std::set<int32_t>(target.begin(), target.end()).size() != target.size())
    return fmt::format("Duplicate replica ids in partition reassignment replica list: [{}]", fmt::join(target, ","));
  if (std::any_of(target.begin(), target.end(), [](int32_t r) { return r < 0; }))
    return fmt::format("Invalid broker id in replica list: [{}]", fmt::join(target, ","));
  const auto next = current.reassign_to(target);
  for (int32_t r : next.adding)
    if (!contains(live_brokers, r))
      return fmt::format("Replica assignment has brokers that are not alive. Replica list: [{}], live broker list: [{}]",
                         fmt::join(next.adding, ","), fmt::join(live_brokers, ","));
  return std::nullopt;
}

std::optional<replica_assignment> build_reassignment(const replica_assignment& current,
                                                     const std::optional<std::vector<int32_t>>& target) {
  if (current.being_reassigned()) return current.reassign_to(target ? *target : current.origin_replicas());
  if (!target) return std::nullopt;
  return current.reassign_to(*target);
}

bool reassignment_complete(const replica_assignment& a, std::span<const int32_t> isr) {
  if (!a.being_reassigned()) return true;
  for (int32_t r : a.target_replicas())
    if (!contains(isr, r)) return false;
  return true;
}

std::vector<int32_t> replicas_dropped(std::span<const int32_t> before, std::span<const int32_t> after) {
  return diff(before, after);
}

std::optional<int32_t> reassign_partition_leader(std::span<const int32_t> target, std::span<const int32_t> isr,
                                                 std::span<const int32_t> live_brokers) {
  for (int32_t r : target)
    if (contains(isr, r) && contains(live_brokers, r)) return r;
  return std::nullopt;
}

std::vector<int32_t> isr_after_reassignment(std::span<const int32_t> isr, std::span<const int32_t> target) {
  std::vector<int32_t> out;
  for (int32_t r : isr)
    if (contains(target, r)) out.push_back(r);
  return out;
}

}  // namespace strata::controller
