#pragma once
// The entry point of the admin client: bootstrap, cluster metadata, and
// routing of each request to the broker that must answer it.
//
//   any()             the bootstrap broker (DescribeConfigs, ListGroups, ...)
//   controller()      the controller from metadata (CreateTopics, DeleteTopics,
//                     CreatePartitions), as Kafka's AdminClient routes them
//   coordinator(g)    the group's coordinator, found with FindCoordinator
//   broker(id)        a broker by node id (partition leaders, DescribeLogDirs)
//
// One deadline bounds everything done through this object: a command never
// outlives --timeout-ms. Connections are opened lazily and kept for reuse.
// Not thread-safe.
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/broker_connection.h"
#include "protocol/generated/metadata.h"

namespace strata::client {

struct broker_info {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

class cluster_client {
 public:
  // Parses `bootstrap` (Kafka's bootstrap.servers form; throws client_error
  // when malformed) and starts the deadline. Nothing is sent until the first
  // request: a command can check its own arguments first.
  cluster_client(const std::string& bootstrap, std::chrono::milliseconds timeout);

  clock::time_point deadline() const { return deadline_; }
  // Milliseconds left, for the timeout_ms fields of requests (at least 1).
  int32_t remaining_ms() const;

  // The first reachable bootstrap server (connected on first use; throws
  // client_error naming the first server when none is reachable).
  broker_connection& any();
  broker_connection& broker(int32_t node_id);
  broker_connection& controller();
  broker_connection& coordinator(const std::string& group_id);

  // Metadata for `topics` (nullopt: every topic), never creating topics.
  // Refreshes the broker list and controller id kept for routing.
  protocol::metadata_response metadata(const std::optional<std::vector<std::string>>& topics);
  const std::vector<broker_info>& brokers();
  int32_t controller_id();

  // Runs `op` again while it fails with a retriable Kafka error (not the
  // controller, coordinator loading, no leader yet...), after forgetting the
  // cached routing, until the deadline. Other errors pass through.
  template <class F>
  auto with_retries(F&& op) -> decltype(op()) {
    while (true) {
      try {
        return op();
      } catch (const client_error& e) {
        if (!is_retriable(e.code()) || !backoff()) throw;
      }
    }
  }

 private:
  // Forgets cached metadata and coordinators and sleeps a short backoff;
  // false when the deadline leaves no time for another attempt.
  bool backoff();
  broker_connection& connect_to(const broker_info& b);

  clock::time_point deadline_;
  std::vector<endpoint> servers_;
  std::unique_ptr<broker_connection> bootstrap_;
  std::map<int32_t, std::unique_ptr<broker_connection>> by_node_;
  std::optional<std::vector<broker_info>> brokers_;
  int32_t controller_id_ = -1;
  std::map<std::string, int32_t> coordinators_;
};

}  // namespace strata::client
