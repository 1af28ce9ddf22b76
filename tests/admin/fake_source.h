#pragma once
// An admin::source with fixed contents, for router and server tests.
#include "admin/source.h"

namespace strata::admin::testing {

class fake_source final : public source {
 public:
  broker_metrics m;
  std::vector<topic_summary> topic_list{{"orders", "AAAAAAAAAAAAAAAAAAAAAQ", 3, 1, false},
                                        {"we\"ird", "AAAAAAAAAAAAAAAAAAAAAg", 1, 1, false}};
  int metrics_calls = 0;

  broker_metrics metrics() override {
    ++metrics_calls;
    return m;
  }
  std::vector<topic_summary> topics() override { return topic_list; }
  std::optional<topic_detail> topic(std::string_view name) override {
    for (const auto& t : topic_list)
      if (t.name == name) {
        topic_detail d;
        d.summary = t;
        for (int32_t p = 0; p < t.partitions; ++p) d.partitions.push_back({p, 1, {1}, {1}, 0, 10 * p, 10 * p, 100});
        d.configs.push_back({"retention.ms", "1000", "topic"});
        return d;
      }
    return std::nullopt;
  }
  std::vector<group_summary> groups() override { return {{"g/1", "Stable", "consumer", "range", 2}}; }
  std::optional<group_detail> group(std::string_view id) override {
    if (id != "g/1") return std::nullopt;
    group_detail d;
    d.summary = groups().front();
    d.members.push_back({"m-1", "client\x01", "/127.0.0.1", std::nullopt});
    d.offsets.push_back({"orders", 0, 5, 7, 2});
    d.offsets.push_back({"gone", 0, 5, std::nullopt, std::nullopt});
    return d;
  }
  std::vector<broker_view> brokers() override { return {{1, "localhost", 9092, true}}; }
};

}  // namespace strata::admin::testing
