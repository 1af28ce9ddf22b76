#pragma once
// The broker seen by the admin listener (admin::source): topics and
// partitions from the registry's snapshot, groups from the coordinator,
// counters from request_metrics, the partitions' io() and net::server.
//
// Borrows the broker and the server, which must outlive it; the admin router
// stops using it before they go (router::set_source(nullptr)).
#include "admin/source.h"

namespace strata::net {
class server;
}

namespace strata::broker {

class broker;

class admin_source final : public admin::source {
 public:
  admin_source(broker& b, net::server& srv) : b_(b), srv_(srv) {}

  admin::broker_metrics metrics() override;
  std::vector<admin::topic_summary> topics() override;
  std::optional<admin::topic_detail> topic(std::string_view name) override;
  std::vector<admin::group_summary> groups() override;
  std::optional<admin::group_detail> group(std::string_view group_id) override;
  std::vector<admin::broker_view> brokers() override;

 private:
  broker& b_;
  net::server& srv_;
};

}  // namespace strata::broker
