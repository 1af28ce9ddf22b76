#include "verify/checker.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>
#include <utility>

namespace strata::verify {

namespace {

using value_id = std::pair<std::int32_t, std::int64_t>;  // producer, seq
using slot = std::pair<std::int32_t, std::int64_t>;      // partition, offset

struct value_state {
  bool sent = false;
  bool acked = false;
  bool in_final = false;  // read by the final read
  bool failed = false;
  slot ack{-1, -1};         // partition, offset (-1: unknown)
  std::vector<slot> reads;  // distinct slots it was read at, in order
};

std::string name(const value_id& id) {
  return "producer " + std::to_string(id.first) + " seq " + std::to_string(id.second);
}

std::string where(const slot& s) { return std::to_string(s.first) + "@" + std::to_string(s.second); }

}  // namespace

int report::exit_code() const {
  if (violations > 0) return 1;
  if (!read_complete) return 3;
  return 0;
}

report check(const std::vector<event>& history, std::size_t max_examples) {
  report r;
  auto example = [&](std::string s) {
    if (r.examples.size() < max_examples) r.examples.push_back(std::move(s));
  };

  std::map<value_id, value_state> values;
  // (slot, value) of every acknowledgement and read, sorted later: cheaper
  // than a map of sets for the hundreds of thousands of a long run.
  std::vector<std::pair<slot, value_id>> acked_at, read_at;
  std::map<std::int32_t, std::int64_t> position;  // partition -> next offset reading reached
  std::map<std::pair<std::string, std::int32_t>, std::int64_t> last_commit;
  std::vector<std::int64_t> ack_times;
  std::int64_t produce_start = -1, produce_end = -1, last_report = 0, last_time = 0;
  bool have_end = false;
  bool have_final = false;  // a final read is in the history

  for (const auto& e : history) {
    last_time = std::max(last_time, e.time_ms);
    const value_id id{e.producer, e.seq};
    switch (e.kind) {
      case event_kind::run:
        if (e.run) {
          r.run_id = e.run->run_id;
          r.topic = e.run->topic;
          r.acks = e.run->acks;
          r.idempotence = e.run->idempotence;
        }
        break;
      case event_kind::produce_start:
        produce_start = e.time_ms;
        break;
      case event_kind::produce_end:
        produce_end = e.time_ms;
        break;
      case event_kind::send:
        values[id].sent = true;
        break;
      case event_kind::ack: {
        auto& v = values[id];
        v.acked = true;
        v.ack = {e.partition, e.offset};
        if (e.offset >= 0) acked_at.emplace_back(v.ack, id);
        ack_times.push_back(e.time_ms);
        last_report = std::max(last_report, e.time_ms);
        break;
      }
      case event_kind::fail:
        values[id].failed = true;
        last_report = std::max(last_report, e.time_ms);
        break;
      case event_kind::read: {
        auto& v = values[id];
        const slot s{e.partition, e.offset};
        if (std::find(v.reads.begin(), v.reads.end(), s) == v.reads.end()) v.reads.push_back(s);
        if (e.final_read) {
          have_final = true;
          v.in_final = true;
        }
        read_at.emplace_back(s, id);
        auto& pos = position[e.partition];
        pos = std::max(pos, e.offset + 1);
        break;
      }
      case event_kind::commit: {
        ++r.commits;
        auto [it, fresh] = last_commit.try_emplace({e.group, e.partition}, e.offset);
        if (!fresh) {
          if (e.offset < it->second) {
            ++r.commits_backwards;
            example("commit backwards: group " + e.group + " partition " + std::to_string(e.partition) +
                    " committed " + std::to_string(e.offset) + " after " + std::to_string(it->second));
          } else {
            it->second = e.offset;
          }
        }
        break;
      }
      case event_kind::position: {
        auto& pos = position[e.partition];
        pos = std::max(pos, e.offset);
        break;
      }
      case event_kind::end:
        have_end = true;
        r.read_complete = e.read_complete;
        break;
    }
  }
  if (!have_end) r.read_complete = false;
  r.duration_ms = last_time;

  std::set<value_id> reordered;
  // Per partition and producer: (offset, seq) of every value placed there, for
  // the idempotent producer's ordering rule.
  std::map<std::pair<std::int32_t, std::int32_t>, std::vector<std::pair<std::int64_t, std::int64_t>>> placed;

  for (const auto& [id, v] : values) {
    if (v.sent) ++r.sent;
    if (v.acked) ++r.acked;
    if (v.failed) ++r.failed;
    if (!v.reads.empty()) ++r.read;
    const bool read = !v.reads.empty();

    if (read && !v.sent) {
      ++r.phantom;
      example("phantom: " + name(id) + " read at " + where(v.reads.front()) + ", never sent");
    }
    if (v.reads.size() > 1) {
      ++r.duplicated;
      std::string at;
      for (const auto& s : v.reads) at += (at.empty() ? "" : ", ") + where(s);
      example("duplicated: " + name(id) + " read at " + at);
    }
    // With a final read, the log as it stands decides: a value read during the
    // run and truncated away afterwards is not there.
    const bool there = have_final ? v.in_final : read;
    if (v.acked) {
      const bool known = v.ack.second >= 0;
      if (!there && known) {
        // Once reading reached the end, every acknowledged value must have
        // been read; otherwise only those below where reading got to.
        auto pos = position.find(v.ack.first);
        if (r.read_complete || (pos != position.end() && v.ack.second < pos->second)) {
          ++r.lost;
          example("lost: " + name(id) + " acknowledged at " + where(v.ack) +
                  (read ? ", read during the run, gone from the log at the end" : ", never read"));
        }
      }
      if (read && known && std::find(v.reads.begin(), v.reads.end(), v.ack) == v.reads.end()) {
        reordered.insert(id);
        example("reordered: " + name(id) + " acknowledged at " + where(v.ack) + ", read at " +
                where(v.reads.front()));
      }
    } else if (v.failed) {
      ++r.indeterminate;
      ++(there ? r.indeterminate_present : r.indeterminate_absent);
    }
    if (r.idempotence) {
      const slot at = v.acked && v.ack.second >= 0 ? v.ack : (read ? v.reads.front() : slot{-1, -1});
      if (at.second >= 0) placed[{at.first, id.first}].emplace_back(at.second, id.second);
    }
  }

  // An idempotent producer's values land in a partition in the order it sent
  // them: a higher sequence number at a lower offset is a reordering.
  for (auto& [key, list] : placed) {
    std::sort(list.begin(), list.end());
    std::int64_t max_seq = -1, max_offset = -1;
    for (const auto& [offset, seq] : list) {
      if (seq < max_seq) {
        if (reordered.insert({key.second, seq}).second)
          example("reordered: " + name({key.second, seq}) + " at " + where({key.first, offset}) + ", after seq " +
                  std::to_string(max_seq) + " at offset " + std::to_string(max_offset));
      } else {
        max_seq = seq;
        max_offset = offset;
      }
    }
  }
  r.reordered = static_cast<std::int64_t>(reordered.size());

  for (auto* slots : {&acked_at, &read_at}) {
    std::sort(slots->begin(), slots->end());
    slots->erase(std::unique(slots->begin(), slots->end()), slots->end());
    for (std::size_t i = 0; i < slots->size();) {
      std::size_t j = i + 1;
      while (j < slots->size() && (*slots)[j].first == (*slots)[i].first) ++j;
      if (j - i > 1) {
        ++r.offset_conflicts;
        example(std::string(slots == &acked_at ? "offset conflict: acknowledged " : "offset conflict: read ") +
                std::to_string(j - i) + " different values at " + where((*slots)[i].first));
      }
      i = j;
    }
  }

  // Longest stretch of production without a successful acknowledgement.
  const std::int64_t start = produce_start >= 0 ? produce_start : 0;
  const std::int64_t stop = produce_end >= 0 ? produce_end : last_report;
  std::sort(ack_times.begin(), ack_times.end());
  std::int64_t prev = start;
  for (std::int64_t t : ack_times) {
    if (t < start) continue;
    if (t > stop) break;
    r.longest_unavailable_ms = std::max(r.longest_unavailable_ms, t - prev);
    prev = t;
  }
  r.longest_unavailable_ms = std::max(r.longest_unavailable_ms, stop - prev);

  r.violations = r.lost + r.duplicated + r.reordered + r.phantom + r.offset_conflicts + r.commits_backwards;
  return r;
}

}  // namespace strata::verify
