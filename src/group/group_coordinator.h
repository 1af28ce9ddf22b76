#pragma once
// The group coordinator (Kafka's classic GroupCoordinator with its
// GroupMetadataManager): consumer-group membership, rebalances, and committed
// offsets, persisted as records of `__consumer_offsets` through a group_log.
//
// Takes and returns Strata types; every outcome is a `group::errc`, which
// broker/handlers/group_errors.cc maps to the wire.
// Thread-safe: one mutex guards all groups. Callbacks (join and sync answers,
// commit completions) are always invoked outside that mutex, from the calling
// thread, the housekeeping thread, or the group_log's completion thread.
//
// Ownership. The coordinator serves a group only while it owns the group's
// partition of __consumer_offsets (partition_for(group)), as Kafka's broker
// does while it leads that partition. Each partition is in one state:
//
//   not_owned --begin_loading--> loading --finish_loading--> owned
//       ^                           |                          |
//       +---------- unload ---------+------------ unload ------+
//
//   not_owned: requests for its groups answer not_coordinator; it holds no groups.
//   loading:   requests answer coordinator_load_in_progress; load(partition, record)
//              replays the partition's records into its groups.
//   owned:     requests are served.
//
// unload drops the partition's groups: their parked JoinGroup/SyncGroup
// requests are answered not_coordinator and their members' session timers go
// with them (Kafka's onGroupUnloaded). A write in flight when its partition is
// unloaded is still answered from the group_log's `done`, but does not touch
// the groups of a later load: each begin_loading starts a new load generation.
//
// Single node (coordinator_config::owns_every_partition, the default): every
// partition is owned from construction, and the old sequence -- load(record)
// for every record of the topic, then start() -- works unchanged. A cluster
// sets it false and drives ownership from leadership changes.
//
// A housekeeping thread ends rebalances (all members joined, rebalance
// timeout, initial delay), expires members whose session timed out, and
// expires offsets of empty groups after offsets.retention.minutes, for the
// groups of owned partitions. It sleeps until the next deadline; nothing polls.
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "group/group.h"
#include "group/group_log.h"

namespace strata::group {

struct coordinator_config {
  int32_t offsets_partitions = 50;
  int32_t min_session_timeout_ms = 6000;
  int32_t max_session_timeout_ms = 1'800'000;
  int32_t initial_rebalance_delay_ms = 3000;
  int64_t offsets_retention_ms = 7LL * 24 * 3600 * 1000;
  int64_t offsets_retention_check_ms = 600'000;
  int32_t max_group_size = INT32_MAX;
  size_t max_metadata_bytes = 4096;  // offset.metadata.max.bytes
  // Single node: this broker leads every partition of __consumer_offsets, so
  // each starts owned. false: each starts not_owned (see the class comment).
  bool owns_every_partition = true;
};

struct join_request {
  std::string group_id;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;
  std::string protocol_type;
  std::vector<std::pair<std::string, protocol::bytes>> protocols;
  bool require_known_member_id = false;  // JoinGroup v4+ (KIP-394)
};

struct sync_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::optional<std::string> protocol_type;
  std::optional<std::string> protocol_name;
  std::vector<std::pair<std::string, protocol::bytes>> assignments;
};

struct member_identity {
  std::string member_id;
  std::optional<std::string> group_instance_id;
};

struct topic_partition {
  std::string topic;
  int32_t partition = 0;
  auto operator<=>(const topic_partition&) const = default;
};

struct commit_request {
  std::string group_id;
  int32_t generation = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<std::pair<topic_partition, committed_offset>> offsets;
};

struct group_description {
  errc error = errc::ok;  // not ok: every other field but group_id is empty (Kafka's EmptyGroup)
  std::string group_id;
  std::string state;
  std::string protocol_type;
  std::string protocol_data;
  struct member_info {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    std::string client_id, client_host;
    protocol::bytes metadata, assignment;
  };
  std::vector<member_info> members;
};

struct listed_group {
  std::string group_id, protocol_type, state;
};

struct group_listing {
  // coordinator_load_in_progress while any partition loads (the groups of the
  // owned ones are listed anyway, as Kafka does).
  errc error = errc::ok;
  std::vector<listed_group> groups;
};

using offset_list = std::vector<std::pair<topic_partition, std::optional<committed_offset>>>;

struct fetched_offsets {
  errc error = errc::ok;  // not ok: `offsets` is empty
  offset_list offsets;
};

class group_coordinator {
 public:
  group_coordinator(coordinator_config cfg, group_log& log);
  ~group_coordinator();
  group_coordinator(const group_coordinator&) = delete;
  group_coordinator& operator=(const group_coordinator&) = delete;

  // ---- ownership of __consumer_offsets partitions (class comment) ----

  // not_owned -> loading; false (and nothing changes) if the partition is
  // already loading or owned (Kafka's "already loading"), or out of range.
  bool begin_loading(int32_t partition);
  // Replays one record of `partition` while it loads, last write winning.
  // Records of another partition's groups, and records for a partition that
  // is not loading (the load was cancelled by unload), are skipped.
  void load(int32_t partition, const decoded_record& r);
  // loading -> owned: the loaded groups' members get a fresh session. false if
  // the load was cancelled (unload came first) or `coordinator_epoch` is older
  // than one already seen for the partition; the partition is then not_owned.
  bool finish_loading(int32_t partition, int32_t coordinator_epoch);
  // -> not_owned, dropping the partition's groups (class comment). With an
  // epoch older than one already seen, nothing happens (a stale unload).
  void unload(int32_t partition, std::optional<int32_t> coordinator_epoch = std::nullopt);
  // Whether the partition of `group_id` is owned (loaded and served here).
  bool is_coordinator(const std::string& group_id);

  // Compatibility, single node: replays one record into the partition of its
  // group, which must be owned or loading (before start() on a single node).
  void load(const decoded_record& r);
  void start();
  void stop();

  int32_t partition_for(const std::string& group_id) const;

  void join(join_request req, join_callback cb);
  void sync(sync_request req, sync_callback cb);
  errc heartbeat(const std::string& group_id, const std::string& member_id,
                 const std::optional<std::string>& instance_id, int32_t generation);
  // A top-level error (this broker does not coordinate the group: then no
  // per-member errors), and per-member errors in request order.
  std::pair<errc, std::vector<errc>> leave(const std::string& group_id, const std::vector<member_identity>& members);
  // done(per-offset errors, in request order), once the write is acknowledged.
  void commit(commit_request req, std::function<void(std::vector<errc>)> done);
  // nullopt partitions: every committed offset of the group.
  fetched_offsets fetch_committed(const std::string& group_id,
                                  const std::optional<std::vector<topic_partition>>& partitions);
  // In-process readers (the admin listener): the offsets only, none for a
  // group this broker does not coordinate.
  offset_list fetch_offsets(const std::string& group_id, const std::optional<std::vector<topic_partition>>& partitions) {
    return fetch_committed(group_id, partitions).offsets;
  }
  group_description describe(const std::string& group_id);
  group_listing list_groups(const std::vector<std::string>& states_filter);
  std::vector<listed_group> list(const std::vector<std::string>& states_filter) {
    return list_groups(states_filter).groups;
  }
  void delete_groups(std::vector<std::string> groups, std::function<void(std::vector<errc>)> done);
  // Topics a group's members are subscribed to are protected (GROUP_SUBSCRIBED_TO_TOPIC)
  // when `subscribed` says so; the broker decodes subscriptions.
  void delete_offsets(const std::string& group_id, std::vector<topic_partition> partitions,
                      std::function<bool(const std::string& topic, const group& g)> subscribed,
                      std::function<void(errc, std::vector<errc>)> done);

  size_t group_count();

 private:
  using actions = std::vector<std::function<void()>>;

  enum class partition_state { not_owned, loading, owned };
  struct partition_ownership {
    partition_state state = partition_state::not_owned;
    int32_t coordinator_epoch = -1;  // the newest seen; -1: none yet
    // Bumped by every begin_loading and unload: a write's completion applies
    // to the groups only if it is unchanged (and the partition owned).
    uint64_t generation = 0;
  };

  // ok if the group's partition is owned; otherwise why not (class comment).
  errc check_owner(const std::string& group_id) const;
  bool owns(int32_t partition, uint64_t generation) const;
  uint64_t generation_of(int32_t partition) const { return partitions_[partition].generation; }
  void apply_record(const decoded_record& r);
  size_t drop_partition_groups(int32_t partition, actions& out);  // returns how many

  group* find(const std::string& id);
  group& get_or_create(const std::string& id);
  void prepare_rebalance(group& g, actions& out, const char* reason);
  void maybe_complete_join(group& g, actions& out);
  void complete_join(group& g, actions& out);
  void remove_member(group& g, const std::string& member_id, actions& out, const char* reason);
  void finish_sync(group& g, actions& out);
  // Appends the group's record; `then` (may be null) gets the outcome, mapped
  // with group_write_error.
  void persist_group(group& g, actions& out, std::function<void(errc)> then);
  void reset_session(member& m);
  errc check_static(const group& g, const std::string& member_id, const std::optional<std::string>& instance_id) const;
  void join_existing(group& g, join_request req, join_callback cb, actions& out);
  void static_rejoin(group& g, join_request req, join_callback cb, actions& out);
  void revert_static_rejoin(const std::string& group_id, uint64_t partition_generation, int32_t generation,
                            const std::string& new_id, const member& before);
  void housekeeping();
  void expire_offsets(actions& out);
  static void run(actions& a);
  // Answers a member's parked JoinGroup and SyncGroup (if any) with `e`.
  static void fail_pending(member& m, errc e, actions& out);
  std::string new_member_id(const std::string& client_id);

  coordinator_config cfg_;
  group_log& log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, group> groups_;
  std::vector<partition_ownership> partitions_;  // cfg_.offsets_partitions of them
  std::thread thread_;
  bool stopping_ = false;
  clock::time_point next_offsets_check_;
};

}  // namespace strata::group
