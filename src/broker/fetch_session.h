#pragma once
// Incremental fetch sessions (KIP-227).
//
//   request session_id / epoch   meaning
//   0 / -1                       sessionless full fetch (answered with session 0)
//   0 / 0                        full fetch that opens a new session
//   S / 0                        close S and open a new session (full fetch)
//   S / -1                       close S; sessionless full fetch
//   S / N>0                      incremental fetch: the request lists only
//                                added or changed partitions and the ones to
//                                forget; the rest come from the session
//
// An incremental response lists only partitions with news: records, an
// error, or a changed high watermark / last stable / log start offset.
// Unknown sessions get FETCH_SESSION_ID_NOT_FOUND, wrong epochs
// INVALID_FETCH_SESSION_EPOCH. The cache holds at most `max_sessions`; the
// least recently used is evicted (Kafka's max.incremental.fetch.session.cache.slots).
//
// Thread-safe. A client has one fetch in flight per session, so a session's
// partition list is only touched by one request at a time.
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "protocol/generated/error_code.h"
#include "protocol/wire.h"

namespace strata::broker {

struct session_partition {
  std::string topic;
  protocol::uuid topic_id;
  int32_t partition = 0;
  int64_t fetch_offset = 0;
  int32_t max_bytes = 0;
  int32_t current_leader_epoch = -1;
  // Followers: the epoch of their last batch (v12+) and their log start offset (v5+).
  int32_t last_fetched_epoch = -1;
  int64_t log_start_offset = -1;
  // What the last response told the client (for incremental filtering).
  int64_t sent_hw = -1, sent_lso = -1, sent_log_start = -1;
  // Set by the fetch that returned records from it, for rotate_served.
  bool served = false;
};

// The partitions of a fetch: found by key, served in `order()`. A new partition
// goes to the end, an updated one keeps its place (Kafka's FetchSession keeps
// them the same way, in an ImplicitLinkedHashCollection). Sessionless fetches
// use one per request, so the response follows the request's order, which
// clients rotate themselves; sessions keep theirs and rotate it after each
// response (rotate_served), as the request no longer lists the partitions.
class fetch_partitions {
 public:
  using key = std::tuple<std::string, protocol::uuid, int32_t>;

  // The partition for `k`, appended to the order if it is new.
  session_partition& upsert(key&& k);
  void erase(const key& k);
  const std::vector<session_partition*>& order() const { return order_; }
  size_t size() const { return order_.size(); }
  void reserve(size_t n) { order_.reserve(n); }
  // KIP-227 fairness: the partitions marked `served` (they returned records)
  // move to the end, keeping their relative order, and are unmarked; so when a
  // response is cut off by its byte limit, the next one starts with the
  // partitions that got nothing. Stable and O(n); reuses scratch memory.
  void rotate_served();

 private:
  // std::map: node-based, so the pointers in order_ stay valid.
  std::map<key, session_partition> by_key_;
  std::vector<session_partition*> order_;
  std::vector<session_partition*> scratch_;
};

struct fetch_session {
  int32_t id = 0;
  int32_t next_epoch = 1;
  fetch_partitions partitions;
  std::chrono::steady_clock::time_point last_used;
  // A fetch is using the session. A second one (a pipelining or misbehaving
  // client) is refused rather than racing on `partitions`.
  bool busy = false;
};

class fetch_session_cache {
 public:
  explicit fetch_session_cache(size_t max_sessions = 1000) : max_(max_sessions) {}

  struct lookup {
    protocol::error_code error = protocol::error_code::none;
    std::shared_ptr<fetch_session> session;  // null: sessionless
    bool incremental = false;
  };
  // Resolves the session part of a request (see the table above). For a new
  // session the caller fills its partitions from the request.
  lookup begin(int32_t session_id, int32_t epoch);
  void remove(int32_t id);
  // The fetch that used `s` has answered.
  void release(const std::shared_ptr<fetch_session>& s);

 private:
  std::mutex mu_;
  size_t max_;
  int32_t next_id_ = 1;
  std::map<int32_t, std::shared_ptr<fetch_session>> sessions_;
};

}  // namespace strata::broker
