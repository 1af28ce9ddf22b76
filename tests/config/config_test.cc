#include <gtest/gtest.h>

#include "config/broker_config.h"
#include "config/config_def.h"
#include "config/config_error.h"
#include "config/properties.h"
#include "config/topic_config.h"

using namespace strata::config;

TEST(properties, parses_comments_separators_and_continuations) {
  auto p = parse_properties("# comment\n! also\n\nbroker.id=3\nlog.dirs : /tmp/a , /tmp/b \nlisteners=PLAINTEXT://\\\n  localhost:1234\n");
  EXPECT_EQ(p.at("broker.id"), "3");
  EXPECT_EQ(p.at("log.dirs"), "/tmp/a , /tmp/b");
  EXPECT_EQ(p.at("listeners"), "PLAINTEXT://localhost:1234");
  EXPECT_EQ(p.size(), 3u);
}

TEST(properties, malformed_line_names_the_line) {
  try {
    parse_properties("a=1\nnot a pair\n", "server.properties");
    FAIL() << "expected config_error";
  } catch (const config_error& e) {
    EXPECT_NE(std::string(e.what()).find("server.properties:2"), std::string::npos);
  }
}

TEST(broker_config, defaults_serve_localhost_9092_with_data_dir) {
  broker_config c;
  ASSERT_EQ(c.listeners().size(), 1u);
  EXPECT_EQ(c.listeners()[0].host, "localhost");
  EXPECT_EQ(c.listeners()[0].port, 9092);
  ASSERT_EQ(c.log_dirs().size(), 1u);
  EXPECT_EQ(c.log_dirs()[0], "./data");
  EXPECT_EQ(c.get_int("num.partitions"), 1);
  EXPECT_EQ(c.log_retention_ms(), 168LL * 3600 * 1000);
}

TEST(broker_config, unknown_keys_warn_and_bad_values_name_the_key) {
  std::vector<std::string> warnings;
  broker_config c({{"no.such.key", "1"}, {"num.partitions", "4"}}, warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("no.such.key"), std::string::npos);
  EXPECT_EQ(c.get_int("num.partitions"), 4);
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"num.partitions", "zero"}, {"num.partitions", "0"}, {"auto.create.topics.enable", "yes"},
           {"listeners", "localhost:9092"}, {"listeners", "PLAINTEXT://h:99999"},
           {"log.message.timestamp.type", "Wallclock"}}) {
    try {
      broker_config bad({{k, v}}, warnings);
      FAIL() << k << "=" << v << " accepted";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(k), std::string::npos) << e.what();
    }
  }
}

TEST(broker_config, listeners_take_their_protocol_from_the_map_and_advertise_by_name) {
  std::vector<std::string> w;
  broker_config c({{"listeners", "PLAINTEXT://:9092,SSL://0.0.0.0:9093,INTERNAL://127.0.0.1:9094"},
                   {"listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,SSL:SSL,INTERNAL:SSL"},
                   {"advertised.listeners", "SSL://broker.example:19093"}},
                  w);
  ASSERT_EQ(c.listeners().size(), 3u);
  EXPECT_EQ(c.listeners()[1].protocol, "SSL");
  EXPECT_EQ(c.listeners()[2].name, "INTERNAL");
  EXPECT_EQ(c.listeners()[2].protocol, "SSL");
  // The advertised one as given, the others as bound (a wildcard host as localhost).
  ASSERT_EQ(c.advertised_listeners().size(), 3u);
  EXPECT_EQ(c.advertised_listeners()[0].name, "SSL");
  EXPECT_EQ(c.advertised_listeners()[0].host, "broker.example");
  EXPECT_EQ(c.advertised_listeners()[0].port, 19093);
  EXPECT_EQ(c.advertised_listeners()[1].name, "PLAINTEXT");
  EXPECT_EQ(c.advertised_listeners()[1].host, "localhost");

  for (auto [props, needle] : std::vector<std::pair<properties, std::string>>{
           {{{"listeners", "SASL_SSL://:9092"}}, "SASL_SSL is not supported"},
           {{{"listeners", "OTHER://:9092"}}, "no security protocol"},
           {{{"listeners", "PLAINTEXT://:9092,PLAINTEXT://:9093"}}, "twice"},
           {{{"advertised.listeners", "SSL://h:1"}}, "not one of 'listeners'"},
           {{{"listener.security.protocol.map", "PLAINTEXT"}}, "NAME:PROTOCOL"},
           {{{"ssl.enabled.protocols", "TLSv1.1"}}, "ssl.enabled.protocols"},
           {{{"ssl.client.auth", "sometimes"}}, "ssl.client.auth"}}) {
    try {
      broker_config bad(props, w);
      FAIL() << needle << ": accepted";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

TEST(broker_config, retention_precedence_ms_over_minutes_over_hours) {
  std::vector<std::string> w;
  EXPECT_EQ(broker_config({{"log.retention.hours", "1"}}, w).log_retention_ms(), 3'600'000);
  EXPECT_EQ(broker_config({{"log.retention.hours", "1"}, {"log.retention.minutes", "2"}}, w).log_retention_ms(),
            120'000);
  EXPECT_EQ(broker_config({{"log.retention.minutes", "2"}, {"log.retention.ms", "5"}}, w).log_retention_ms(), 5);
}

TEST(topic_config, overrides_win_over_broker_defaults) {
  std::vector<std::string> w;
  broker_config b({{"log.segment.bytes", "1048576"}, {"log.retention.ms", "1000"}}, w);
  auto tc = resolve_topic_config(b, {{"retention.ms", "5000"}, {"cleanup.policy", "compact"},
                                     {"message.timestamp.type", "LogAppendTime"}});
  EXPECT_EQ(tc.segment_bytes, 1048576);
  EXPECT_EQ(tc.retention_ms, 5000);
  EXPECT_TRUE(tc.compact);
  EXPECT_FALSE(tc.remove_on_retention);
  EXPECT_TRUE(tc.log_append_time);
  bool found = false;
  for (const auto& e : tc.entries)
    if (e.name == "segment.bytes") {
      found = true;
      EXPECT_EQ(e.src, topic_config::source::static_broker);
    }
  EXPECT_TRUE(found);
}

TEST(topic_config, invalid_overrides_are_reported) {
  EXPECT_TRUE(validate_topic_overrides({{"retention.ms", "abc"}}).has_value());
  EXPECT_TRUE(validate_topic_overrides({{"no.such", "1"}}).has_value());
  EXPECT_TRUE(validate_topic_overrides({{"cleanup.policy", "shred"}}).has_value());
  EXPECT_FALSE(validate_topic_overrides({{"cleanup.policy", "compact,delete"}}).has_value());
}

TEST(config_list, append_and_subtract_compare_whole_items) {
  EXPECT_EQ(list_append("ab,c", "a"), "ab,c,a");
  EXPECT_EQ(list_append("a, b", "b"), "a,b");
  EXPECT_EQ(list_append("", "x"), "x");
  EXPECT_EQ(list_append("x", ""), "x");
  EXPECT_EQ(list_subtract("a,ab,a,c", "a"), "ab,c");
  EXPECT_EQ(list_subtract("ab", "a"), "ab");
  EXPECT_EQ(list_subtract("a", "a"), "");
}

TEST(broker_config, connection_limits_and_request_memory_use_kafkas_names) {
  std::vector<std::string> w;
  broker_config d;
  EXPECT_EQ(d.get_int("queued.max.request.bytes"), 536870912);  // Kafka: -1
  EXPECT_EQ(d.get_int("max.connections"), 2147483647);
  EXPECT_EQ(d.get_int("max.connections.per.ip"), 2147483647);
  EXPECT_EQ(d.get_int("max.connection.creation.rate"), 2147483647);
  EXPECT_TRUE(d.get_list("max.connections.per.ip.overrides").empty());
  broker_config c({{"queued.max.request.bytes", "-1"},
                   {"max.connections.per.ip", "0"},
                   {"max.connections.per.ip.overrides", "127.0.0.3:4, client.example:50,::1:7"}},
                  w);
  EXPECT_EQ(c.get_int("queued.max.request.bytes"), -1);
  EXPECT_EQ(c.get_list("max.connections.per.ip.overrides").size(), 3u);
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"queued.max.request.bytes", "-2"},
           {"max.connections", "-1"},
           {"max.connection.creation.rate", "0"},
           {"max.connections.per.ip.overrides", "127.0.0.3"},
           {"max.connections.per.ip.overrides", "127.0.0.3:many"},
           {"max.connections.per.ip.overrides", "127.0.0.3:-1"},
           {"max.connections.per.ip.overrides", ":5"},
           {"max.connections.per.ip.overrides", "h:2147483648"}}) {
    try {
      broker_config bad({{k, v}}, w);
      FAIL() << k << "=" << v << " accepted";
    } catch (const config_error& e) {
      EXPECT_NE(std::string(e.what()).find(k), std::string::npos) << e.what();
    }
  }
}
