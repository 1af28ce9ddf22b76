#pragma once
// The group coordinator (Kafka's classic GroupCoordinator): consumer-group
// membership, rebalances, and committed offsets, persisted as records of
// `__consumer_offsets` through a group_log.
//
// Takes and returns Strata types; broker/ maps them to and from the wire.
// Thread-safe: one mutex guards all groups. Callbacks (join and sync answers,
// commit completions) are always invoked outside that mutex, from the calling
// thread, the housekeeping thread, or the group_log's completion thread.
//
// A housekeeping thread ends rebalances (all members joined, rebalance
// timeout, initial delay), expires members whose session timed out, and
// expires offsets of empty groups after offsets.retention.minutes. It sleeps
// until the next deadline; nothing polls.
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

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
  protocol::error_code error = protocol::error_code::none;
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

class group_coordinator {
 public:
  group_coordinator(coordinator_config cfg, group_log& log);
  ~group_coordinator();
  group_coordinator(const group_coordinator&) = delete;
  group_coordinator& operator=(const group_coordinator&) = delete;

  // Replays one record of __consumer_offsets (before start()).
  void load(const decoded_record& r);
  void start();
  void stop();

  int32_t partition_for(const std::string& group_id) const;

  void join(join_request req, join_callback cb);
  void sync(sync_request req, sync_callback cb);
  protocol::error_code heartbeat(const std::string& group_id, const std::string& member_id,
                                 const std::optional<std::string>& instance_id, int32_t generation);
  // Per-member errors, and a top-level error (unknown group etc.).
  std::pair<protocol::error_code, std::vector<protocol::error_code>> leave(const std::string& group_id,
                                                                            const std::vector<member_identity>& members);
  // done(per-offset error codes, in request order).
  void commit(commit_request req, std::function<void(std::vector<protocol::error_code>)> done);
  // nullopt partitions: every committed offset of the group.
  std::vector<std::pair<topic_partition, std::optional<committed_offset>>> fetch_offsets(
      const std::string& group_id, const std::optional<std::vector<topic_partition>>& partitions);
  group_description describe(const std::string& group_id);
  std::vector<listed_group> list(const std::vector<std::string>& states_filter);
  void delete_groups(std::vector<std::string> groups,
                     std::function<void(std::vector<protocol::error_code>)> done);
  // Topics a group's members are subscribed to are protected (GROUP_SUBSCRIBED_TO_TOPIC)
  // when `subscribed` says so; the broker decodes subscriptions.
  void delete_offsets(const std::string& group_id, std::vector<topic_partition> partitions,
                      std::function<bool(const std::string& topic, const group& g)> subscribed,
                      std::function<void(protocol::error_code, std::vector<protocol::error_code>)> done);

  size_t group_count();

 private:
  using actions = std::vector<std::function<void()>>;

  group* find(const std::string& id);
  group& get_or_create(const std::string& id);
  void prepare_rebalance(group& g, actions& out, const char* reason);
  void maybe_complete_join(group& g, actions& out);
  void complete_join(group& g, actions& out);
  void remove_member(group& g, const std::string& member_id, actions& out, const char* reason);
  void finish_sync(group& g, actions& out);
  void persist_group(group& g, actions& out, std::function<void(std::error_code)> then);
  void reset_session(member& m);
  protocol::error_code check_static(const group& g, const std::string& member_id,
                                    const std::optional<std::string>& instance_id) const;
  void join_existing(group& g, join_request req, join_callback cb, actions& out);
  void static_rejoin(group& g, join_request req, join_callback cb, actions& out);
  void housekeeping();
  void expire_offsets(actions& out);
  static void run(actions& a);
  std::string new_member_id(const std::string& client_id);

  coordinator_config cfg_;
  group_log& log_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, group> groups_;
  std::thread thread_;
  bool stopping_ = false;
  clock::time_point next_offsets_check_;
};

}  // namespace strata::group
