#pragma once
// controller: the ZooKeeper-mode cluster controller, one per broker, active on the
// broker that holds /controller (ARCHITECTURE.md §6, DESIGN-NOTES §9 and §13;
// Kafka's KafkaController with its Partition/ReplicaStateMachine and
// TopicDeletionManager).
//
// Lifecycle. start() joins the election: it watches /controller and tries
// kafka_zk::try_elect_controller; a loser waits for the znode to go and tries
// again. The winner (controller epoch E, fencing token = /controller_epoch's zk
// version) loads brokers, topics and partition states into a controller_context,
// elects leaders for partitions without a live one, and sends UpdateMetadata then
// LeaderAndIsr to every live broker. stop() resigns if active (deletes /controller,
// fenced) and joins the threads.
//
// Resignation. A lost ZooKeeper session, a fenced write that fails (a newer
// controller exists: kafka_zk's CheckOp on /controller_epoch), or any other
// ZooKeeper failure in an event makes the controller stop acting at once: the
// context is dropped, the broker connections closed; then it re-enters the
// election. A new controller rebuilds everything from ZooKeeper, so nothing is
// carried over.
//
// Every ZooKeeper write is a fenced multi-op through kafka_zk (partition states,
// their creation, the removal of notifications, deletion requests, topic znodes and
// their assignments, /admin/reassign_partitions).
//
// Events (one thread, in order; watch callbacks only enqueue):
//   - broker registered / gone / re-registered with a new epoch (/brokers/ids);
//   - new topic (/brokers/topics children), partitions added (topic znode data);
//   - topic deletion requested (/admin/delete_topics);
//   - ISR change notifications (/isr_change_notification);
//   - controlled shutdown (called by the broker's ControlledShutdown handler);
//   - the periodic preferred-leader check (auto.leader.rebalance.enable);
//   - ElectLeaders (preferred or unclean, called by the broker's handler);
//   - partition reassignments (KIP-455): Alter/ListPartitionReassignments (called by
//     the broker's handlers), /admin/reassign_partitions created, the state znode of
//     a moving partition changed.
//
// Threading: public methods are thread-safe. The state accessors read atomics
// updated after each event; snapshot(), controlled_shutdown(), elect_leaders() and
// the reassignment calls run on the event thread and wait for it (bounded).
//
// Borrows `zk` (connected; may be shared with the broker's registration, as Kafka
// shares one session), which must outlive the controller.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "controller/controller_channel.h"
#include "controller/controller_context.h"
#include "controller/event_queue.h"
#include "zk/kafka_zk.h"

namespace strata::cluster {
struct leader_and_isr;
}

namespace strata::controller {

struct controller_config {
  int32_t broker_id = -1;
  // inter.broker.listener.name: the listener the controller connects to; "" = the
  // first endpoint of the broker's registration.
  std::string inter_broker_listener_name;
  // The broker default of unclean.leader.election.enable; a topic's
  // /config/topics/<t> overrides it.
  bool unclean_leader_election_enable = false;
  bool auto_leader_rebalance_enable = true;
  std::chrono::milliseconds leader_imbalance_check_interval{300000};
  int32_t leader_imbalance_per_broker_percentage = 10;
  channel_options channel;  // controller.socket.timeout.ms, retry backoff
  // Bound on a controlled_shutdown() or snapshot() wait for the event thread.
  std::chrono::milliseconds call_timeout{30000};
  // Pause before re-entering the election after a ZooKeeper failure.
  std::chrono::milliseconds election_retry_backoff{1000};
};

// Why controlled_shutdown() could not act. The broker maps these to wire codes:
// not_controller -> NOT_CONTROLLER (41), broker_not_available ->
// BROKER_NOT_AVAILABLE (8), stale_broker_epoch -> STALE_BROKER_EPOCH (77),
// timed_out -> REQUEST_TIMED_OUT (7).
enum class shutdown_error { none, not_controller, broker_not_available, stale_broker_epoch, timed_out };
const char* to_string(shutdown_error e);

// ElectLeaders (KIP-460): preferred puts the first replica of the assignment back in
// the lead (it must be live and in the ISR); unclean elects for a partition without a
// live leader, out of the ISR if no ISR member is live, whatever the topic's
// unclean.leader.election.enable says (the operator asked).
enum class election_type { preferred, unclean };
// The broker maps these to wire codes: NOT_CONTROLLER (41), UNKNOWN_TOPIC_OR_PARTITION
// (3), INVALID_TOPIC_EXCEPTION (17), ELECTION_NOT_NEEDED (84),
// PREFERRED_LEADER_NOT_AVAILABLE (80), ELIGIBLE_LEADERS_NOT_AVAILABLE (83),
// REQUEST_TIMED_OUT (7).
enum class election_error {
  none,
  not_controller,
  unknown_topic_or_partition,
  topic_being_deleted,
  election_not_needed,
  preferred_leader_not_available,
  eligible_leaders_not_available,
  timed_out,
};
const char* to_string(election_error e);
struct election_result {
  partition_key partition;
  election_error error = election_error::none;
};

struct controlled_shutdown_result {
  shutdown_error error = shutdown_error::none;
  // Partitions with other replicas that the broker still leads (no other ISR member
  // could take over); empty = it may stop. Kafka's remaining_partitions.
  std::vector<partition_key> remaining_partitions;
};

class controller {
 public:
  controller(zk::client& zk, controller_config cfg, sender_factory senders);
  ~controller();  // stop()
  controller(const controller&) = delete;
  controller& operator=(const controller&) = delete;

  void start();
  // Resigns if active, stops the threads. Idempotent. Not from a ZooKeeper callback.
  void stop();

  bool is_active() const { return active_.load(); }
  // While active: this controller's epoch. Otherwise the epoch last seen.
  int32_t controller_epoch() const { return epoch_.load(); }
  // The fencing token (zk version of /controller_epoch) while active, else -1.
  int32_t epoch_zk_version() const { return active_.load() ? token_.load() : -1; }
  // The cluster's controller as last seen (-1: none known).
  int32_t active_controller_id() const { return active_id_.load(); }
  int32_t offline_partition_count() const { return offline_.load(); }
  uint64_t events_processed() const { return events_.load(); }

  // A copy of the context (active == false and nothing else when not active).
  controller_snapshot snapshot();

  // The broker's ControlledShutdown (Kafka's doControlledShutdown): moves the
  // leaderships `broker_id` holds to other ISR members, takes it out of the ISRs it
  // follows, and returns what it still leads. broker_epoch -1 skips the epoch check.
  controlled_shutdown_result controlled_shutdown(int32_t broker_id, int64_t broker_epoch);

  // AlterPartitionReassignments (KIP-455, Kafka's onApiPartitionReassignment): starts,
  // replaces or cancels (nullopt target) the reassignment of each partition and
  // returns at once; the moves complete in the background (controller_reassign.cc).
  alter_reassignments_result alter_reassignments(std::vector<reassignment_request> reqs);
  // ListPartitionReassignments: the partitions being reassigned, all of them when
  // `filter` is nullopt, else those of `filter` that are moving.
  list_reassignments_result list_reassignments(std::optional<std::vector<partition_key>> filter);

  // Runs the preferred-leader check now (tests, an admin command), whatever
  // auto.leader.rebalance.enable says.
  void trigger_preferred_leader_check();

  // ElectLeaders (Kafka's KafkaController.electLeaders): one result per partition
  // asked for; `parts` nullopt asks for every partition and then leaves out those
  // that needed no election, as Kafka does. Returns once the new states are written
  // and the LeaderAndIsr requests queued (the brokers apply them shortly after).
  std::vector<election_result> elect_leaders(election_type type, const std::optional<std::vector<partition_key>>& parts);

 private:
  enum class election_kind { offline, controlled_shutdown, preferred, unclean };

  // ---- lifecycle (controller.cc)
  void run();
  void dispatch(event_queue::event& ev);
  zk::watch_fn watcher(std::string name, std::function<void()> handler);
  void push(std::string name, std::function<void()> fn);
  void elect();
  void on_controller_change();
  void on_became_active(const zk::election& e);
  void resign(bool give_up_znode);
  void schedule_elect();
  void update_metrics();
  template <class T>
  std::optional<T> call_on_thread(std::function<T()> fn);

  // ---- events (controller_events.cc)
  void on_broker_change();
  void on_brokers_gone(const std::vector<int32_t>& ids);
  void on_brokers_started(const std::vector<zk::broker_registration>& regs);
  void on_topic_change();
  void on_topic_data_change(const std::string& topic);
  void on_new_partitions(const std::vector<partition_key>& parts);
  void on_isr_change_notification();
  // KIP-112: a broker's log dir failed (/log_dir_event_notification): LeaderAndIsr for
  // all its replicas, whose KAFKA_STORAGE_ERROR answers say which are offline.
  void on_log_dir_event_notification();
  // Kafka's onReplicasBecomeOffline for replicas on a failed log dir: leadership moves
  // away, they leave the ISRs, UpdateMetadata names them offline.
  void on_replicas_offline(int32_t broker, const std::vector<partition_key>& parts);
  void on_preferred_leader_check(uint64_t generation);
  void check_preferred_leaders();
  controlled_shutdown_result do_controlled_shutdown(int32_t broker_id, int64_t broker_epoch);
  std::vector<election_result> do_elect_leaders(election_type type,
                                                const std::optional<std::vector<partition_key>>& parts);

  // ---- topic deletion (controller_deletion.cc)
  void on_topic_deletion_requests();
  void start_deletion(const std::string& topic);
  void resume_deletions_on(int32_t broker);
  void on_stop_replica_response(int32_t broker, const protocol::stop_replica_response& resp);
  void maybe_complete_deletion(const std::string& topic);

  // ---- partition reassignment (controller_reassign.cc)
  alter_reassignments_result do_alter_reassignments(const std::vector<reassignment_request>& reqs);
  list_reassignments_result do_list_reassignments(const std::optional<std::vector<partition_key>>& filter);
  // Kafka's onPartitionReassignment: moves `k` towards `next` (phase A, or phase B once
  // every target replica is in the ISR). Event thread; throws on ZooKeeper failures.
  void on_partition_reassignment(const partition_key& k, const replica_assignment& next);
  // Phase B when the partition's ISR (re-read from ZooKeeper) holds every target replica.
  void maybe_complete_reassignment(const partition_key& k);
  // /admin/reassign_partitions was created (or at failover): start what it asks.
  // Returns the partitions it started.
  std::set<partition_key> on_reassign_partitions_znode();
  void watch_reassign_partitions_znode();
  // Failover and broker startup (Kafka's maybeResumeReassignments): restart the moves
  // the topic znodes record, those with a target replica in `on` (all if empty),
  // except those in `skip`.
  void resume_reassignments(const std::vector<int32_t>& on, const std::set<partition_key>& skip = {});
  // Drops the entries `drop` selects from /admin/reassign_partitions (the znode goes
  // when none is left: Kafka's maybeRemoveFromZkReassignment).
  void remove_from_reassign_znode(const std::function<bool(const zk::partition_reassignment&)>& drop);
  // Fenced write of `k`'s topic znode with `a`, then the context.
  void write_assignment(const partition_key& k, const replica_assignment& a);
  // Same leader, leader epoch + 1, ISR `isr` (nullopt: unchanged). False if the state
  // could not be written (no state, or it kept changing under us).
  bool bump_leader_epoch(const partition_key& k, std::optional<std::vector<int32_t>> isr = std::nullopt);
  // A data watch on the state znode of a moving partition (Kafka's
  // PartitionReassignmentIsrChangeHandler); at most one per partition per term.
  void watch_reassignment_isr(const partition_key& k);

  // ---- partition state changes (partition_changes.cc)
  // Elects new leaders; writes the states fenced; returns the partitions changed.
  std::vector<partition_key> elect_leaders(const std::vector<partition_key>& parts, election_kind kind);
  // Initial leader and ISR for partitions without a state znode; creates them.
  std::vector<partition_key> initialize_partitions(const std::vector<partition_key>& parts);
  // Takes `replica` out of the ISR of each partition (leader -1 if it led).
  std::vector<partition_key> remove_from_isr(const std::vector<partition_key>& parts, int32_t replica);
  // Elects for every offline partition (new ones included); the batch gets
  // LeaderAndIsr to their live replicas and UpdateMetadata to every broker. Returns
  // the new partitions that got their first state.
  std::vector<partition_key> trigger_online_partitions(request_batch& batch);
  // Fenced setData of one state. False when the partition changed under us (the
  // context then holds the state re-read from ZooKeeper). Throws on a fence or a
  // ZooKeeper failure.
  bool write_state(const partition_key& k, const cluster::leader_and_isr& next);
  bool unclean_election_enabled(const std::string& topic);
  void add_leader_and_isr(request_batch& batch, const std::vector<partition_key>& parts, bool is_new = false);

  request_batch new_batch() const;
  void send(request_batch& batch);

  zk::client& zk_;
  zk::kafka_zk kzk_;
  const controller_config cfg_;
  std::shared_ptr<event_queue> queue_ = std::make_shared<event_queue>();
  std::unique_ptr<controller_channel> channel_;
  std::thread thread_;
  int listener_id_ = -1;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};

  // Event thread only.
  controller_context ctx_;
  uint64_t generation_ = 0;  // + 1 at every failover and resignation

  std::atomic<bool> active_{false};
  std::atomic<int32_t> epoch_{0};
  std::atomic<int32_t> token_{-1};
  std::atomic<int32_t> active_id_{-1};
  std::atomic<int32_t> offline_{0};
  std::atomic<uint64_t> events_{0};
};

}  // namespace strata::controller
