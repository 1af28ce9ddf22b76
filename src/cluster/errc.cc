#include "cluster/errc.h"

#include <string>

namespace strata::cluster {
namespace {

class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "cluster"; }
  std::string message(int v) const override {
    switch (static_cast<errc>(v)) {
      case errc::success: return "success";
      case errc::not_leader_or_follower: return "this broker is not the leader of the partition";
      case errc::fenced_leader_epoch: return "the request's leader epoch is older than the partition's";
      case errc::unknown_leader_epoch: return "the request's leader epoch is newer than the partition's";
      case errc::not_enough_replicas: return "fewer in-sync replicas than min.insync.replicas";
      case errc::not_enough_replicas_after_append:
        return "appended, but the in-sync replicas fell below min.insync.replicas";
      case errc::request_timed_out: return "the in-sync replicas did not confirm the append within the timeout";
      case errc::partition_offline: return "the partition is offline: its log could not be opened";
      case errc::invalid_producer_epoch: return "the producer's epoch is older than the partition's";
      case errc::out_of_order_sequence: return "the producer's sequence number is out of order";
      case errc::unknown_topic_or_partition: return "unknown topic or partition";
      case errc::partition_deleted: return "the partition was deleted";
      case errc::shutting_down: return "the broker is shutting down";
    }
    return "unknown cluster error " + std::to_string(v);
  }
};

}  // namespace

const std::error_category& cluster_category() noexcept {
  static const category c;
  return c;
}

}  // namespace strata::cluster
