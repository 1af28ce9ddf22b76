#pragma once
// kafka_zk: typed operations over Kafka's classic znode layout (znodes.h
// documents every path and JSON value), the ZooKeeper half of what Kafka's
// KafkaZkClient does. Controller and broker logic stay in cluster/; this class
// only reads and writes znodes, with Kafka's conditional-write rules.
//
// Borrows a connected zk::client, which must outlive it. Thread-safe as the
// client is; it keeps no state of its own. Every call is synchronous and
// bounded by the client's request timeout.
//
// Controller fencing (DESIGN-NOTES §13): the controller keeps the zk version of
// /controller_epoch its election wrote (`election::epoch_zk_version`). Every
// write a controller makes goes through fenced_multi(), which puts
// CheckOp(/controller_epoch, that version) first: once a newer controller is
// elected, a deposed controller's writes fail with errc::bad_version and
// failed_op == 0, and change nothing.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "zk/client.h"
#include "zk/znodes.h"

namespace strata::zk {

struct controller_epoch_state {
  int32_t epoch = 0;
  int32_t zk_version = -1;  // of /controller_epoch: the fencing token
};

struct election {
  bool elected = false;
  controller_epoch_state epoch;  // ours if elected; what we last read otherwise
  int32_t controller_id = -1;    // the controller now (us if elected; -1 if none yet)
};

class kafka_zk {
 public:
  explicit kafka_zk(client& c) : zk_(c) {}

  client& zk() { return zk_; }

  // Creates the persistent paths Kafka expects (paths::persistent()).
  result<void> ensure_persistent_paths();

  // ---- cluster id
  // The cluster id in ZooKeeper, creating /cluster/id with `proposed` if
  // there is none (the first broker's id wins a race).
  result<std::string> get_or_create_cluster_id(const std::string& proposed);
  result<std::optional<std::string>> get_cluster_id();

  // ---- brokers
  // Creates the ephemeral /brokers/ids/<id> (timestamp_ms 0 = now) and returns
  // the broker epoch (the znode's czxid). If the znode exists and belongs to
  // this session (a retry, Kafka's checkedEphemeralCreate), that is success;
  // if another session holds it, kafka_errc::broker_already_registered with a
  // message naming the id.
  result<int64_t> register_broker(const broker_registration& b);
  // Sorted broker ids; `w` watches the children of /brokers/ids.
  result<std::vector<int32_t>> list_brokers(watch_fn w = {});
  result<std::optional<broker_registration>> get_broker(int32_t id, watch_fn w = {});
  result<std::vector<broker_registration>> get_all_brokers();

  // ---- controller
  // `w` is an exists-watch: it fires when /controller is created or deleted.
  result<std::optional<controller_info>> get_controller(watch_fn w = {});
  result<std::optional<controller_epoch_state>> get_controller_epoch();
  // Kafka's registerControllerAndIncrementControllerEpoch: reads
  // /controller_epoch (creating it as "0" if missing), then one multi creates
  // the ephemeral /controller and sets /controller_epoch to epoch+1 at the
  // version read. Losing the race is not an error: elected == false.
  result<election> try_elect_controller(int32_t broker_id);
  // Resigning: deletes /controller, fenced.
  result<void> resign_controller(int32_t epoch_zk_version);
  // `ops` with CheckOp(/controller_epoch, epoch_zk_version) put first.
  static std::vector<op> fenced(std::vector<op> ops, int32_t epoch_zk_version);
  result<std::vector<op_result>> fenced_multi(std::vector<op> ops, int32_t epoch_zk_version);

  // ---- topics
  // Writes /config/topics/<t> (set or create), then creates /brokers/topics/<t>
  // (kafka_errc::topic_exists if it is there), as Kafka's
  // AdminZkClient.createTopicWithAssignment.
  result<void> create_topic(const std::string& topic, const topic_assignment& a, const config_map& configs);
  result<std::optional<topic_assignment>> get_topic(const std::string& topic, watch_fn w = {});
  result<std::vector<std::string>> list_topics(watch_fn w = {});
  // Appends partitions: `added` must start at the current partition count
  // and be contiguous. Conditional on the topic znode's `expected_zk_version`
  // (-1 = any). Returns the new zk version.
  result<int32_t> add_partitions(const std::string& topic, const replica_map& added, int32_t expected_zk_version);

  // Controller write of a topic's assignment (replicas, adding, removing; KIP-455),
  // fenced, at any version (Kafka's setTopicAssignment). Returns the new zk version.
  result<int32_t> set_topic_assignment_fenced(const std::string& topic, const topic_assignment& a,
                                              int32_t epoch_zk_version);

  // ---- /admin/reassign_partitions (the pre-KIP-455 reassignment request)
  // nullopt when there is none; `w` is an exists-watch (fires on creation, change and
  // deletion), set whether or not the znode exists (Kafka's
  // registerZNodeChangeHandlerAndCheckExistence).
  result<std::optional<std::vector<partition_reassignment>>> get_partition_reassignment(watch_fn w = {});
  // Fenced; an empty list deletes the znode (missing is success).
  result<void> set_partition_reassignment(const std::vector<partition_reassignment>& r, int32_t epoch_zk_version);
  // Not fenced: an admin tool's write (tests, `strata topic reassign --zookeeper`).
  result<void> create_partition_reassignment(const std::vector<partition_reassignment>& r);

  // ---- partition state
  // Creates /brokers/topics/<t>/partitions/<p>/state for each partition, fenced
  // (Kafka's createTopicPartitionStatesRaw). Up to 500 partitions per multi, so
  // a very large topic is created in several atomic steps.
  result<void> create_partition_states(const std::string& topic, const std::map<int32_t, leader_and_isr>& states,
                                       int32_t epoch_zk_version);
  // partition_epoch is filled from the znode version.
  result<std::optional<leader_and_isr>> get_partition_state(const std::string& topic, int32_t partition,
                                                            watch_fn w = {});
  // Controller write: fenced setData at s.partition_epoch. Returns the new
  // partition epoch.
  result<int32_t> update_partition_state_fenced(const std::string& topic, int32_t partition, const leader_and_isr& s,
                                                int32_t epoch_zk_version);
  // Leader write (ZkAlterPartitionManager, DESIGN-NOTES §9): setData at
  // s.partition_epoch; on BADVERSION re-read, and if the znode holds exactly
  // `s` count it as success (our earlier attempt landed). Otherwise
  // errc::bad_version: the controller has moved on, wait for its LeaderAndIsr.
  // Returns the partition epoch now in ZooKeeper.
  result<int32_t> update_partition_state_conditional(const std::string& topic, int32_t partition,
                                                     const leader_and_isr& s);

  // ---- ISR change notifications
  // Returns the child name ("isr_change_0000000007").
  result<std::string> create_isr_change_notification(const std::vector<topic_partition>& tps);
  result<std::vector<std::string>> list_isr_change_notifications(watch_fn w = {});  // sorted
  result<std::vector<topic_partition>> get_isr_change_notification(const std::string& name);
  // Fenced; names that are already gone are skipped.
  result<void> delete_isr_change_notifications(const std::vector<std::string>& names, int32_t epoch_zk_version);

  // ---- log dir event notifications (KIP-112)
  // A broker's log directory failed; returns the child name ("log_dir_event_0000000003").
  result<std::string> create_log_dir_event_notification(int32_t broker_id);
  result<std::vector<std::string>> list_log_dir_event_notifications(watch_fn w = {});  // sorted
  // The broker id the notification names.
  result<int32_t> get_log_dir_event_notification(const std::string& name);
  // Fenced; names that are already gone are skipped.
  result<void> delete_log_dir_event_notifications(const std::vector<std::string>& names, int32_t epoch_zk_version);

  // ---- topic deletion
  result<void> request_topic_deletion(const std::string& topic);  // an existing request is success
  result<std::vector<std::string>> list_topic_deletions(watch_fn w = {});
  result<void> remove_topic_deletion_request(const std::string& topic, int32_t epoch_zk_version);
  // Deletes /brokers/topics/<t> with everything under it, and /config/topics/<t>,
  // fenced, children first. Missing znodes are success.
  result<void> delete_topic_znodes(const std::string& topic, int32_t epoch_zk_version);

  // ---- configs (type "topics", "brokers" with a broker id or default_broker_entity, ...)
  // Empty when the entity has no znode (Kafka's fetchEntityConfig).
  result<config_map> get_entity_config(const std::string& type, const std::string& name);
  // Set or create the entity znode, then create the change notification
  // /config/changes/config_change_<seq> (Kafka's AdminZkClient.changeConfigs).
  result<void> set_entity_config(const std::string& type, const std::string& name, const config_map& c);
  result<std::vector<std::string>> list_config_changes(watch_fn w = {});  // sorted
  result<config_change> get_config_change(const std::string& name);
  result<void> delete_config_changes(const std::vector<std::string>& names);

  // ---- producer ids (DESIGN-NOTES §11, Kafka's ZkProducerIdManager)
  // Claims the next block of 1000 ids with a conditional set of
  // /latest_producer_id_block, retrying on BADVERSION (bounded).
  result<producer_id_block> claim_producer_id_block(int32_t broker_id);

 private:
  result<std::vector<std::string>> sorted_children(const std::string& path, watch_fn w);
  result<void> delete_recursive_fenced(const std::string& path, int32_t epoch_zk_version);
  result<void> fenced_chunks(const std::vector<op>& ops, int32_t epoch_zk_version);

  client& zk_;
};

}  // namespace strata::zk
