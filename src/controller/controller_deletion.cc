// Topic deletion (Kafka's TopicDeletionManager, simplified):
//   1. /admin/delete_topics/<t> appears: the topic is marked for deletion; its
//      partitions leave elections and UpdateMetadata shows them with leader -2
//      (brokers drop them from their metadata cache);
//   2. every replica on a live broker gets StopReplica(delete_partitions=true);
//   3. each successful answer crosses its replica off; a replica on a broker that is
//      down waits until the broker registers again (resume_deletions_on), and one
//      that answered with an error is retried then too (or at the next failover);
//   4. when every replica has answered, the topic's znodes (/brokers/topics/<t> with
//      its partition states, /config/topics/<t>) and the request go, fenced.
// So a broker that never comes back keeps the deletion pending, as in Kafka.
// Event thread only.
#include <spdlog/spdlog.h>

#include "controller/controller.h"
#include "controller/zk_checks.h"

namespace strata::controller {

using namespace detail;

void controller::on_topic_deletion_requests() {
  if (!active_) return;
  auto names = checked(kzk_.list_topic_deletions(watcher("TopicDeletion", [this] { on_topic_deletion_requests(); })),
                       "listing topic deletions");
  for (const auto& t : names) {
    if (ctx_.being_deleted(t)) continue;
    if (!ctx_.topics.count(t)) {
      // Nothing to delete (Kafka removes requests for unknown topics).
      spdlog::info("controller: deletion of unknown topic {} requested; dropping the request", t);
      checked(kzk_.remove_topic_deletion_request(t, token_), "removing the deletion request of " + t);
      continue;
    }
    start_deletion(t);
  }
}

void controller::start_deletion(const std::string& topic) {
  auto& d = ctx_.deletions[topic];
  const auto parts = ctx_.partitions_of(topic);
  for (const auto& k : parts)
    for (int32_t r : ctx_.replicas(k)) d.pending.insert({k.partition, r});
  spdlog::info("controller: deleting topic {} ({} replicas)", topic, d.pending.size());
  request_batch batch = new_batch();
  batch.update_metadata(ctx_.live_or_shutting_down_ids(), parts);
  for (const auto& [p, r] : d.pending) batch.stop_replica(r, {topic, p}, true);
  send(batch);
  maybe_complete_deletion(topic);
}

void controller::resume_deletions_on(int32_t broker) {
  request_batch batch = new_batch();
  for (const auto& [topic, d] : ctx_.deletions)
    for (const auto& [p, r] : d.pending)
      if (r == broker) batch.stop_replica(r, {topic, p}, true);
  if (!batch.empty()) send(batch);
}

void controller::on_stop_replica_response(int32_t broker, const protocol::stop_replica_response& resp) {
  if (!active_) return;
  if (resp.error_code != 0) {
    spdlog::warn("controller: StopReplica(delete) to broker {} failed with error {}; retried when it registers again",
                 broker, resp.error_code);
    return;
  }
  std::set<std::string> topics;
  for (const auto& pe : resp.partition_errors) {
    auto it = ctx_.deletions.find(pe.topic_name);
    if (it == ctx_.deletions.end()) continue;
    if (pe.error_code != 0) {
      spdlog::warn("controller: broker {} could not delete {}-{} (error {}); retried when it registers again", broker,
                   pe.topic_name, pe.partition_index, pe.error_code);
      continue;
    }
    it->second.pending.erase({pe.partition_index, broker});
    topics.insert(pe.topic_name);
  }
  for (const auto& t : topics) maybe_complete_deletion(t);
}

void controller::maybe_complete_deletion(const std::string& topic) {
  auto it = ctx_.deletions.find(topic);
  if (it == ctx_.deletions.end() || !it->second.pending.empty()) return;
  checked(kzk_.delete_topic_znodes(topic, token_), "deleting the znodes of " + topic);
  checked(kzk_.remove_topic_deletion_request(topic, token_), "removing the deletion request of " + topic);
  ctx_.remove_topic(topic);
  spdlog::info("controller: topic {} deleted", topic);
}

}  // namespace strata::controller
