#include "cluster/rebalance_plan.h"

#include <algorithm>
#include <set>

namespace strata::cluster {
namespace {

bool contains(const std::vector<int32_t>& v, int32_t x) { return std::find(v.begin(), v.end(), x) != v.end(); }

class planner {
 public:
  explicit planner(const rebalance_input& in) : in_(in) {
    rack_aware_ = !in.brokers.empty();
    for (const auto& b : in.brokers) {
      targets_.push_back(b.id);
      if (b.rack)
        rack_[b.id] = *b.rack;
      else
        rack_aware_ = false;
    }
    std::sort(targets_.begin(), targets_.end());
    for (int32_t b : targets_) load_[b] = leaders_[b] = 0;
    for (const auto& p : in.partitions) {
      assign_.push_back(p.replicas);
      if (!topic_load_.count(p.topic)) {
        topics_.push_back(p.topic);
        for (int32_t b : targets_) topic_load_[p.topic][b] = topic_leaders_[p.topic][b] = 0;
      }
      for (int32_t r : p.replicas)
        if (load_.count(r)) {
          ++load_[r];
          ++topic_load_[p.topic][r];
        }
      if (!p.replicas.empty() && leaders_.count(p.replicas.front())) {
        ++leaders_[p.replicas.front()];
        ++topic_leaders_[p.topic][p.replicas.front()];
      }
    }
  }

  rebalance_plan run() {
    rebalance_plan plan;
    plan.replicas_before = load_;
    plan.leaders_before = leaders_;
    for (size_t i = 0; i < assign_.size(); ++i) {
      if (assign_[i].size() > targets_.size()) {
        plan.error = in_.partitions[i].topic + "-" + std::to_string(in_.partitions[i].partition) + " has " +
                     std::to_string(assign_[i].size()) + " replicas but only " + std::to_string(targets_.size()) +
                     " broker(s) would be left to hold them";
        return plan;
      }
    }
    evacuate();
    spread_replicas();
    if (in_.spread_leaders) spread_leaders();
    plan.replicas_after = load_;
    plan.leaders_after = leaders_;
    for (size_t i = 0; i < assign_.size(); ++i) {
      const auto& p = in_.partitions[i];
      if (assign_[i] == p.replicas) continue;
      partition_move m{p.topic, p.partition, p.replicas, assign_[i], p.size_bytes};
      const auto added = static_cast<int64_t>(m.adding().size());
      plan.replicas_moved += added;
      plan.bytes_to_move += added * p.size_bytes;
      plan.moves.push_back(std::move(m));
    }
    return plan;
  }

 private:
  // A broker outside the targets (being emptied) counts as a rack of its own.
  std::string rack_of(int32_t b) const {
    auto it = rack_.find(b);
    return it != rack_.end() ? it->second : "\x01" + std::to_string(b);
  }

  size_t racks(const std::vector<int32_t>& replicas) const {
    std::set<std::string> s;
    for (int32_t r : replicas) s.insert(rack_of(r));
    return s.size();
  }

  // Whether replica `slot` of partition `p` may become broker `to`.
  bool may_replace(size_t p, size_t slot, int32_t to) const {
    const auto& cur = assign_[p];
    if (contains(cur, to)) return false;
    if (!rack_aware_) return true;
    auto next = cur;
    next[slot] = to;
    return racks(next) >= racks(cur);
  }

  const std::string& topic_of(size_t p) const { return in_.partitions[p].topic; }

  void replace(size_t p, size_t slot, int32_t to) {
    const int32_t from = assign_[p][slot];
    auto& tl = topic_load_[topic_of(p)];
    if (load_.count(from)) {
      --load_[from];
      --tl[from];
    }
    ++load_[to];
    ++tl[to];
    if (slot == 0) move_leader_count(p, from, to);
    assign_[p][slot] = to;
  }

  void move_leader_count(size_t p, int32_t from, int32_t to) {
    auto& tl = topic_leaders_[topic_of(p)];
    if (leaders_.count(from)) {
      --leaders_[from];
      --tl[from];
    }
    ++leaders_[to];
    ++tl[to];
  }

  void evacuate() {
    for (size_t p = 0; p < assign_.size(); ++p) {
      for (size_t slot = 0; slot < assign_[p].size(); ++slot) {
        if (load_.count(assign_[p][slot])) continue;
        // The least-loaded broker that keeps the racks; else the least-loaded at all
        // (a partition on fewer racks beats one left on a broker being emptied).
        // Least loaded: first with this topic's replicas, then with all.
        const auto& tl = topic_load_[topic_of(p)];
        auto less = [&](int32_t a, int32_t b) {
          return std::pair(tl.at(a), load_[a]) < std::pair(tl.at(b), load_[b]);
        };
        std::optional<int32_t> best, fallback;
        for (int32_t b : targets_) {
          if (contains(assign_[p], b)) continue;
          if (!fallback || less(b, *fallback)) fallback = b;
          if (may_replace(p, slot, b) && (!best || less(b, *best))) best = b;
        }
        replace(p, slot, best ? *best : *fallback);  // a fallback exists: RF <= targets
      }
    }
  }

  // Brokers by load, most loaded first (ties: higher id first), for `counts`.
  std::vector<int32_t> by_count_desc(const std::map<int32_t, int>& counts) const {
    std::vector<int32_t> v = targets_;
    std::sort(v.begin(), v.end(), [&](int32_t a, int32_t b) {
      return counts.at(a) != counts.at(b) ? counts.at(a) > counts.at(b) : a > b;
    });
    return v;
  }

  // While one broker counts two or more more than another in `counts`, try_move(hi, lo)
  // moves one unit from the first to the second when it can. Each move lowers the sum
  // of squared counts, so this ends; the bound is a guard.
  template <class TryMove>
  void spread(const std::map<int32_t, int>& counts, TryMove try_move) {
    for (size_t guard = 0; guard < 64 * (assign_.size() + 1) * (targets_.size() + 1); ++guard) {
      if (!move_one(counts, try_move)) return;
    }
  }

  template <class TryMove>
  bool move_one(const std::map<int32_t, int>& counts, TryMove& try_move) {
    const auto order = by_count_desc(counts);
    for (int32_t hi : order) {
      for (auto lo = order.rbegin(); lo != order.rend(); ++lo) {
        if (counts.at(hi) - counts.at(*lo) < 2) break;  // every later `lo` counts more
        if (try_move(hi, *lo)) return true;
      }
    }
    return false;
  }

  // Replicas: each topic's spread evenly first (the new broker takes a share of every
  // topic, not only of the smallest), then the totals, moving only a replica whose
  // topic has more on the fuller broker (so no topic's spread gets worse).
  void spread_replicas() {
    for (const auto& t : topics_)
      spread(topic_load_[t], [&](int32_t hi, int32_t lo) { return move_replica(hi, lo, &t); });
    spread(load_, [&](int32_t hi, int32_t lo) { return move_replica(hi, lo, nullptr); });
  }

  // One replica of `topic` (any topic whose count allows it, when null) from `hi` to
  // `lo`: the smallest partition, the fewest bytes to copy.
  bool move_replica(int32_t hi, int32_t lo, const std::string* topic) {
    std::optional<std::pair<size_t, size_t>> pick;
    for (size_t p = 0; p < assign_.size(); ++p) {
      if (topic ? topic_of(p) != *topic : topic_load_[topic_of(p)][hi] <= topic_load_[topic_of(p)][lo]) continue;
      auto it = std::find(assign_[p].begin(), assign_[p].end(), hi);
      if (it == assign_[p].end()) continue;
      const size_t slot = static_cast<size_t>(it - assign_[p].begin());
      if (!may_replace(p, slot, lo)) continue;
      if (!pick || in_.partitions[p].size_bytes < in_.partitions[pick->first].size_bytes) pick = {p, slot};
    }
    if (pick) replace(pick->first, pick->second, lo);
    return pick.has_value();
  }

  // Preferred leaders the same way: per topic, then the totals.
  void spread_leaders() {
    for (const auto& t : topics_)
      spread(topic_leaders_[t], [&](int32_t hi, int32_t lo) { return move_leader(hi, lo, &t); });
    spread(leaders_, [&](int32_t hi, int32_t lo) { return move_leader(hi, lo, nullptr); });
  }

  // A partition led by `hi` with a replica on `lo`: that replica goes first.
  bool move_leader(int32_t hi, int32_t lo, const std::string* topic) {
    for (size_t p = 0; p < assign_.size(); ++p) {
      const auto& t = topic_of(p);
      if (topic ? t != *topic : topic_leaders_[t][hi] <= topic_leaders_[t][lo]) continue;
      auto& r = assign_[p];
      if (r.empty() || r.front() != hi) continue;
      auto it = std::find(r.begin(), r.end(), lo);
      if (it == r.end()) continue;
      std::iter_swap(r.begin(), it);
      move_leader_count(p, hi, lo);
      return true;
    }
    return false;
  }

  const rebalance_input& in_;
  std::vector<int32_t> targets_;
  std::map<int32_t, std::string> rack_;
  bool rack_aware_ = false;
  std::vector<std::vector<int32_t>> assign_;
  std::map<int32_t, int> load_, leaders_;
  std::vector<std::string> topics_;  // in order of first appearance
  std::map<std::string, std::map<int32_t, int>> topic_load_, topic_leaders_;
};

}  // namespace

std::vector<int32_t> partition_move::adding() const {
  std::vector<int32_t> out;
  for (int32_t r : to)
    if (!contains(from, r)) out.push_back(r);
  return out;
}

std::vector<int32_t> partition_move::removing() const {
  std::vector<int32_t> out;
  for (int32_t r : from)
    if (!contains(to, r)) out.push_back(r);
  return out;
}

rebalance_plan plan_rebalance(const rebalance_input& in) { return planner(in).run(); }

}  // namespace strata::cluster
