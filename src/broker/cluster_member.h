#pragma once
// This broker as a member of a ZooKeeper-coordinated cluster (zookeeper.connect set):
// its session, its registration (/brokers/ids/<id>), the controller's requests
// applied to the replica manager and the metadata cache (LeaderAndIsr,
// UpdateMetadata, StopReplica), and the leader's ISR changes written to ZooKeeper
// (DESIGN-NOTES §9, §13).
//
// Fencing: requests from a controller older than the newest seen are refused with
// STALE_CONTROLLER_EPOCH; a lost session makes the broker stop acting as leader at
// once (replica_manager::resign_leaderships) and register again; the controller then
// sends it its partitions anew.
//
// Threading: apply_* run on the broker's worker (they create and delete logs). ISR
// writes run on this object's own thread, in order. Session events come on the
// ZooKeeper client's event thread.
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cluster/partition.h"
#include "cluster/replica_fetcher_manager.h"
#include "broker/serial_worker.h"
#include "controller/controller.h"
#include "config/broker_config.h"
#include "protocol/generated/error_code.h"
#include "protocol/generated/messages.h"
#include "zk/client.h"
#include "zk/kafka_zk.h"
#include "storage/log_manager.h"

namespace strata::broker {

class broker;

class cluster_member {
 public:
  // Connects to ZooKeeper (zookeeper.connect) and reads or creates the cluster id;
  // throws std::runtime_error with one line naming the problem (unreachable within
  // zookeeper.connection.timeout.ms, ...).
  explicit cluster_member(const config::broker_config& cfg);
  ~cluster_member();
  cluster_member(const cluster_member&) = delete;
  cluster_member& operator=(const cluster_member&) = delete;

  const std::string& cluster_id() const { return cluster_id_; }
  zk::kafka_zk& zk() { return *kzk_; }

  // After the listeners are bound: wires the broker and registers it. Throws when
  // the id is already registered (another broker runs with this broker.id).
  void start(broker& b);
  // SIGTERM with controlled.shutdown.enable (Kafka's controlled shutdown): asks the
  // controller to move this broker's leaderships elsewhere first, so producers see at
  // most retriable errors. Bounded by controlled.shutdown.max.retries; gives up with a
  // warning (the session's end moves them anyway, after a leaderless moment).
  void controlled_shutdown();
  // Shutdown: deregisters (closes the session) and stops the ISR writer.
  void stop();
  int64_t broker_epoch() const { return broker_epoch_.load(); }
  // The largest lag (leader's log end minus ours) over the partitions followed here.
  int64_t max_follower_lag() const;

  protocol::leader_and_isr_response apply(const protocol::leader_and_isr_request& req, int16_t version);
  protocol::update_metadata_response apply(const protocol::update_metadata_request& req, int16_t version);
  protocol::stop_replica_response apply(const protocol::stop_replica_request& req, int16_t version);
  // A log directory failed at run time (broker::log_dir_failed, on the controller-request
  // lane): its partitions' fetchers stop, and /log_dir_event_notification gets a
  // notification so the controller sends LeaderAndIsr, learns which replicas are
  // offline here (KAFKA_STORAGE_ERROR in the response) and moves their leadership.
  void log_dir_failed(const storage::log_manager::dir_failure& f);
  // ControlledShutdown from another broker, when this one is the controller.
  protocol::controlled_shutdown_response apply(const protocol::controlled_shutdown_request& req, int16_t version);
  controller::controller* active_controller() { return controller_ && controller_->is_active() ? controller_.get() : nullptr; }

  // ---- dynamic broker configs (cluster_config_changes.cc) ----
  // The settings changeable at runtime, per broker or for every broker (Kafka's
  // /config/brokers/<id> and /config/brokers/<default>): the replication throttles.
  static bool is_dynamic_broker_config(const std::string& name);
  // A dynamic value in force here and where it comes from (this broker's entity wins
  // over the default one).
  struct dynamic_value {
    std::string value;
    bool per_broker = false;  // DYNAMIC_BROKER_CONFIG, else DYNAMIC_DEFAULT_BROKER_CONFIG
  };
  std::map<std::string, dynamic_value> dynamic_broker_configs() const;
  // The dynamic configs of an entity ("<default>" or a broker id) as stored.
  zk::result<zk::config_map> broker_entity_configs(const std::string& entity);
  // Replaces them; every broker applies them from the change notification.
  zk::result<void> set_broker_entity_configs(const std::string& entity, const zk::config_map& c);

 private:
  // STALE_CONTROLLER_EPOCH for a controller older than the newest seen; records a newer one.
  // none, or why a controller's request is refused (stale broker or controller epoch).
  protocol::error_code accept_controller(int32_t epoch, int64_t broker_epoch);
  // Whether /brokers/ids/<id> holds this broker's own endpoints (an earlier run).
  bool previous_run_of_self(const zk::broker_registration& reg);
  void register_self();
  void on_isr_change(const std::shared_ptr<cluster::partition>& p, const cluster::partition_state& proposed);
  void tasks_loop();

  const config::broker_config& cfg_;
  std::unique_ptr<zk::client> zk_;
  std::unique_ptr<zk::kafka_zk> kzk_;
  std::string cluster_id_;
  broker* b_ = nullptr;
  std::atomic<int64_t> broker_epoch_{-1};
  std::mutex epoch_mu_;
  int32_t controller_epoch_ = 0;
  int listener_id_ = -1;

  std::mutex mu_;
  std::condition_variable cv_;  // wakes the tasks thread at stop
  bool stopping_ = false;
  std::unique_ptr<cluster::replica_fetcher_manager> fetchers_;
  // Every broker runs for controller; the one holding /controller acts.
  std::unique_ptr<controller::controller> controller_;
  serial_worker writer_{"cluster-writes"};  // ISR writes and re-registrations, in order
  std::thread tasks_;

  // Kafka's ZkConfigChangeListener (cluster_config_changes.cc): configs changed through
  // any broker leave a /config/changes notification; each broker reloads what it names
  // (a topic's overrides, broker-level dynamic configs). Runs on config_worker_; the
  // ZooKeeper watch only queues. A failed listing is retried by the tasks thread.
  void watch_config_changes();
  void apply_config_change(const std::string& entity_type, const std::string& entity_name);
  // Reads this broker's and the default dynamic configs and applies them (the
  // replication throttles' limits). config_worker_.
  void reload_broker_configs();
  mutable std::mutex dynamic_mu_;
  std::map<std::string, dynamic_value> dynamic_;  // dynamic_mu_
  serial_worker config_worker_{"config-changes"};
  std::string last_config_change_;  // config_worker_ only: the newest notification handled
  std::atomic<bool> config_watch_armed_{false};
};

}  // namespace strata::broker
