#pragma once
// The broker: turns request frames into handler calls. It decodes the request
// header, checks the API key and version against api_table, and hands a
// request_context to the handler. net::server calls it on the connection's
// reactor; its one thread of its own, the worker (run_blocking), takes the admin
// requests whose file work would stall every connection of that reactor.
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "broker/fetch_session.h"
#include "broker/serial_worker.h"
#include "broker/request_metrics.h"
#include "broker/topic_registry.h"
#include "cluster/metadata_cache.h"
#include "cluster/replica_manager.h"
#include "net/request.h"
#include "storage/log_manager.h"

namespace strata::group {
class group_coordinator;
}

namespace strata::broker {

class producer_ids;
class offsets_log;
class cluster_member;

class broker final : public net::request_handler {
 public:
  broker(config::broker_config& cfg, cluster::metadata_store& store, storage::log_manager& logs);
  ~broker() override;

  void handle(net::request req) override;

  topic_registry& topics() { return topics_; }
  // The only path into local partitions (append, read, leadership).
  cluster::replica_manager& replicas() { return replicas_; }
  // The whole cluster as this broker knows it: brokers, controller, leaders.
  const cluster::metadata_cache& metadata() const { return metadata_; }
  cluster::metadata_cache& metadata() { return metadata_; }
  // ZooKeeper mode: this broker's membership (null on a single node).
  cluster_member* cluster() { return cluster_; }
  void set_cluster(cluster_member* c) { cluster_ = c; }
  config::broker_config& cfg() { return cfg_; }
  cluster::metadata_store& store() { return store_; }
  storage::log_manager& logs() { return logs_; }
  producer_ids& pids() { return *pids_; }
  group::group_coordinator& groups() { return *groups_; }
  offsets_log& offsets() { return *offsets_; }
  fetch_session_cache& fetch_sessions() { return fetch_sessions_; }
  // Per-API request counts, errors and latencies (indexed like supported_apis()).
  request_metrics& request_stats() { return request_stats_; }
  // Loads committed offsets and groups from __consumer_offsets and starts the
  // coordinator's housekeeping (startup, after topics().load()).
  void start_groups();
  int32_t node_id() const { return cfg_.broker_id(); }
  // Where clients reach this broker on `listener` (advertised.listeners): Metadata,
  // FindCoordinator and DescribeCluster answer with the endpoint of the listener the
  // request came in on, as Kafka does, so an SSL client is sent to the SSL port.
  struct endpoint {
    std::string host;
    int32_t port;
  };
  endpoint advertised(const std::string& listener) const;
  // Once the listener is bound: an advertised port 0 (tests) becomes the bound one.
  void set_bound_port(const std::string& listener, int32_t port);
  std::string cluster_id() const { return store_.cluster_id(); }
  bool flush_on_ack() const { return flush_on_ack_; }
  bool validate_records() const { return validate_records_; }
  // Broker cap on a fetch response (fetch.max.bytes), read once: fetches read it per request.
  int32_t fetch_max_bytes() const { return fetch_max_bytes_; }

  // Runs `fn` on the broker's worker thread (started on first use), in submission
  // order. For handlers that create, delete or truncate files (CreateTopics,
  // CreatePartitions, DeleteTopics, DeleteRecords, the first FindCoordinator
  // creating __consumer_offsets): creating 1,000 partitions takes seconds, and on a
  // reactor that would stall every other connection it serves.
  void run_blocking(std::function<void()> fn);
  // The same on a second thread, for the controller's requests (cluster mode).
  void run_controller_request(std::function<void()> fn);
  // The same on a third thread, for loading and unloading groups when this broker
  // gains or loses a __consumer_offsets leadership: replaying a large partition must
  // not hold up the controller's requests (Kafka's group-metadata-manager thread).
  void run_group_load(std::function<void()> fn);
  // Runs what the worker has queued and ends it; later run_blocking calls run
  // inline. Shutdown calls it before the logs close, so an admin request still
  // queued after the connections drained never touches a closed log manager.
  void stop_worker();

  // A log directory failed at run time (storage::log_manager's handler, any thread):
  // on the controller-request lane, wakes what waits on its partitions (parked
  // fetches and acks=all produces answer KAFKA_STORAGE_ERROR), and in a cluster stops
  // their fetchers and tells the controller (cluster_member::log_dir_failed).
  void log_dir_failed(const storage::log_manager::dir_failure& f);

  // Shutdown: wake every parked fetch so connections can drain.
  void begin_shutdown();
  bool shutting_down() const { return shutting_down_.load(); }

 private:
  config::broker_config& cfg_;
  cluster::metadata_store& store_;
  storage::log_manager& logs_;
  cluster::replica_manager replicas_;
  cluster::metadata_cache metadata_;
  topic_registry topics_;
  std::unique_ptr<producer_ids> pids_;
  std::unique_ptr<offsets_log> offsets_;
  std::unique_ptr<group::group_coordinator> groups_;
  fetch_session_cache fetch_sessions_;
  request_metrics request_stats_;
  std::vector<config::listener> advertised_;  // ports resolved by set_bound_port
  bool flush_on_ack_;
  bool validate_records_;
  int32_t fetch_max_bytes_;
  std::atomic<bool> shutting_down_{false};
  cluster_member* cluster_ = nullptr;


  // Single node: this broker, with its advertised endpoints, is the cluster and its
  // controller.
  void publish_self();
  serial_worker worker_{"broker-worker"};
  serial_worker controller_lane_{"controller-reqs"};
  serial_worker group_loader_{"group-loader"};  // after groups_: stopped before it goes
};

}  // namespace strata::broker
