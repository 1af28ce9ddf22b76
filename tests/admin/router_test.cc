#include "admin/router.h"

#include <gtest/gtest.h>

#include "fake_source.h"

namespace strata::admin {
namespace {

class router_test : public ::testing::Test {
 protected:
  router rt{1700000000.0};
  testing::fake_source src;
};

TEST_F(router_test, health_follows_the_state) {
  auto r = rt.handle("GET", "/health");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, R"({"status":"starting"})");
  EXPECT_EQ(r.content_type, "application/json");
  rt.set_health(health::ready);
  r = rt.handle("GET", "/health");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body, R"({"status":"ready"})");
  rt.set_health(health::shutting_down);
  r = rt.handle("GET", "/health?verbose=1");
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(r.body, R"({"status":"shutting_down"})");
}

TEST_F(router_test, api_is_503_without_a_source_and_metrics_still_answer) {
  EXPECT_EQ(rt.handle("GET", "/v1/topics").status, 503u);
  auto m = rt.handle("GET", "/metrics");
  EXPECT_EQ(m.status, 200u);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(m.body.find("process_start_time_seconds"), std::string::npos);
  EXPECT_EQ(src.metrics_calls, 0);
  rt.set_source(&src);
  rt.handle("GET", "/metrics");
  EXPECT_EQ(src.metrics_calls, 1);
}

TEST_F(router_test, topics_list_and_detail) {
  rt.set_source(&src);
  auto r = rt.handle("GET", "/v1/topics");
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.body,
            R"({"topics":[{"name":"orders","id":"AAAAAAAAAAAAAAAAAAAAAQ","partitions":3,"replication_factor":1,)"
            R"("internal":false},{"name":"we\"ird","id":"AAAAAAAAAAAAAAAAAAAAAg","partitions":1,)"
            R"("replication_factor":1,"internal":false}]})");
  r = rt.handle("GET", "/v1/topics/orders/");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find(R"("partition_count":3)"), std::string::npos);
  EXPECT_NE(r.body.find(R"({"partition":2,"leader":1,"replicas":[1],"isr":[1],"log_start_offset":0,)"
                        R"("log_end_offset":20,"high_watermark":20,"size_bytes":100})"),
            std::string::npos);
  EXPECT_NE(r.body.find(R"("configs":[{"name":"retention.ms","value":"1000","source":"topic"}])"), std::string::npos);
  r = rt.handle("GET", "/v1/topics/we%22ird");
  EXPECT_EQ(r.status, 200u);
  r = rt.handle("GET", "/v1/topics/nope");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(r.body, R"({"error":"unknown topic"})");
}

TEST_F(router_test, groups_with_percent_encoded_id) {
  rt.set_source(&src);
  auto r = rt.handle("GET", "/v1/groups");
  EXPECT_EQ(r.body,
            R"({"groups":[{"group_id":"g/1","state":"Stable","protocol_type":"consumer","protocol":"range","members":2}]})");
  r = rt.handle("GET", "/v1/groups/g%2F1");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find(R"("client_id":"client\u0001")"), std::string::npos);
  EXPECT_NE(r.body.find(R"("group_instance_id":null)"), std::string::npos);
  EXPECT_NE(r.body.find(R"({"topic":"orders","partition":0,"committed_offset":5,"log_end_offset":7,"lag":2})"),
            std::string::npos);
  EXPECT_NE(r.body.find(R"({"topic":"gone","partition":0,"committed_offset":5,"log_end_offset":null,"lag":null})"),
            std::string::npos);
  EXPECT_EQ(rt.handle("GET", "/v1/groups/g/1").status, 404u);  // an unescaped slash is another path
  EXPECT_EQ(rt.handle("GET", "/v1/groups/other").status, 404u);
}

TEST_F(router_test, brokers) {
  rt.set_source(&src);
  EXPECT_EQ(rt.handle("GET", "/v1/brokers").body, R"({"brokers":[{"id":1,"host":"localhost","port":9092,"self":true}]})");
}

TEST_F(router_test, status_codes_for_bad_requests) {
  rt.set_source(&src);
  EXPECT_EQ(rt.handle("GET", "/nope").status, 404u);
  EXPECT_EQ(rt.handle("GET", "/").status, 404u);
  EXPECT_EQ(rt.handle("GET", "/v1/topics//").status, 404u);
  EXPECT_EQ(rt.handle("GET", "/v1/brokers/1").status, 404u);
  EXPECT_EQ(rt.handle("GET", "/v1/topics/a%zz").status, 400u);
  EXPECT_EQ(rt.handle("GET", "/v1/topics/a%2").status, 400u);
  EXPECT_EQ(rt.handle("GET", "*").status, 400u);
  EXPECT_EQ(rt.handle("GET", "").status, 400u);
  auto r = rt.handle("POST", "/metrics");
  EXPECT_EQ(r.status, 405u);
  EXPECT_EQ(r.allow, "GET");
  EXPECT_EQ(rt.handle("DELETE", "/v1/topics/orders").status, 405u);
  EXPECT_EQ(rt.handle("POST", "/elsewhere").status, 404u);
}

TEST(percent_decode, decodes_and_rejects) {
  EXPECT_EQ(percent_decode("a%20b%2f%2F+"), std::optional<std::string>("a b//+"));
  EXPECT_EQ(percent_decode("%00"), std::optional<std::string>(std::string(1, '\0')));
  EXPECT_FALSE(percent_decode("%").has_value());
  EXPECT_FALSE(percent_decode("%4").has_value());
  EXPECT_FALSE(percent_decode("%g0").has_value());
}

}  // namespace
}  // namespace strata::admin
