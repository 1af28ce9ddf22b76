// zk::client against a real standalone ZooKeeper (one server for the suite).
#include "zk/client.h"

#include <gtest/gtest.h>

#include "zk_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using zk::errc;

class zk_client : public zk_server_suite {};

TEST(zk_client_offline, connect_string_parsing) {
  auto a = zk::parse_connect_string("h1:1,h2:2/kafka/prod/");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->hosts, "h1:1,h2:2");
  EXPECT_EQ(a->chroot, "/kafka/prod");
  EXPECT_EQ(zk::parse_connect_string("h:1")->chroot, "");
  EXPECT_EQ(zk::parse_connect_string("h:1/")->chroot, "");
  EXPECT_FALSE(zk::parse_connect_string("/only-chroot"));
  EXPECT_FALSE(zk::parse_connect_string("h:1/a//b"));
}

TEST(zk_client_offline, connect_fails_clearly_when_nobody_answers) {
  int port = zk_server::free_port();
  zk::client_options o;
  o.connect = "127.0.0.1:" + std::to_string(port) + "/x";
  o.connection_timeout = 700ms;
  zk::client c(o);
  auto t0 = std::chrono::steady_clock::now();
  try {
    c.connect();
    FAIL() << "connect() succeeded with no server";
  } catch (const std::runtime_error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find(o.connect), std::string::npos) << m;
    EXPECT_NE(m.find("700 ms"), std::string::npos) << m;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
}

TEST_F(zk_client, create_get_set_delete_round_trip) {
  auto c = connect(test_chroot());
  auto created = c->create("/a", "one");
  ASSERT_TRUE(created) << created.error().message();
  EXPECT_EQ(created.value(), "/a");  // without the chroot

  auto g = c->get("/a");
  ASSERT_TRUE(g);
  EXPECT_EQ(g.value().data, "one");
  EXPECT_EQ(g.value().stat.version, 0);

  auto dup = c->create("/a", "again");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error(), errc::node_exists);

  auto s = c->set("/a", "two", 0);
  ASSERT_TRUE(s);
  EXPECT_EQ(s.value().version, 1);
  auto stale = c->set("/a", "three", 0);
  ASSERT_FALSE(stale);
  EXPECT_EQ(stale.error(), errc::bad_version);
  EXPECT_EQ(c->get("/a").value().data, "two");

  ASSERT_TRUE(c->create("/a/child", std::nullopt));
  auto not_empty = c->remove("/a");
  ASSERT_FALSE(not_empty);
  EXPECT_EQ(not_empty.error(), errc::not_empty);
  EXPECT_EQ(c->get_children("/a").value(), std::vector<std::string>{"child"});
  EXPECT_EQ(c->get("/a/child").value().data, "");  // null data reads as ""

  EXPECT_EQ(c->remove("/a", 0).error(), errc::bad_version);
  ASSERT_TRUE(c->remove("/a/child"));
  ASSERT_TRUE(c->remove("/a", 1));
  auto gone = c->exists("/a");
  ASSERT_TRUE(gone);
  EXPECT_FALSE(gone.value().has_value());
  EXPECT_EQ(c->get("/a").error(), errc::no_node);
  EXPECT_NE(c->get("/a").error().message().find("get /a"), std::string::npos);
}

TEST_F(zk_client, chroot_is_created_and_isolates) {
  std::string root = test_chroot() + "/deep/er";
  auto c = connect(root);
  ASSERT_TRUE(c->create("/x", "1"));
  auto plain = connect();
  EXPECT_EQ(plain->get(root + "/x").value().data, "1");
}

TEST_F(zk_client, sequential_and_ensure_path) {
  auto c = connect(test_chroot());
  ASSERT_TRUE(c->ensure_path("/q/r/s"));
  ASSERT_TRUE(c->ensure_path("/q/r/s"));  // existing is fine
  auto a = c->create("/q/item_", "a", zk::create_mode::persistent_sequential);
  auto b = c->create("/q/item_", "b", zk::create_mode::persistent_sequential);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a.value(), "/q/item_0000000001");  // /q/r came first: sequence 0
  EXPECT_EQ(b.value(), "/q/item_0000000002");
}

TEST_F(zk_client, multi_is_all_or_nothing) {
  auto c = connect(test_chroot());
  ASSERT_TRUE(c->create("/m", "0"));
  auto bad = c->multi({zk::op::create("/m1", std::string("x")), zk::op::set("/m", "1", 0), zk::op::check("/m", 7)});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), errc::bad_version);
  EXPECT_EQ(bad.error().failed_op, 2);
  EXPECT_EQ(c->exists("/m1").value(), std::nullopt);
  EXPECT_EQ(c->get("/m").value().data, "0");

  auto ok = c->multi({zk::op::create("/m1", std::string("x")), zk::op::set("/m", "1", 0), zk::op::check("/m", 1),
                      zk::op::create("/seq_", std::nullopt, zk::create_mode::persistent_sequential),
                      zk::op::remove("/m1", 0)});
  ASSERT_TRUE(ok) << ok.error().message();
  EXPECT_EQ(ok.value()[1].stat.version, 1);
  EXPECT_EQ(ok.value()[3].created_path.rfind("/seq_", 0), 0u);
  EXPECT_EQ(c->get("/m").value().data, "1");
  EXPECT_FALSE(c->exists("/m1").value().has_value());
}

TEST_F(zk_client, watches_fire_once_on_the_event_thread_and_may_call_back) {
  event_log<std::string> events;  // outlives the client, whose callbacks use it
  auto c = connect(test_chroot());
  ASSERT_TRUE(c->create("/w", "0"));
  // A data watch whose callback re-reads synchronously (allowed on the event thread).
  ASSERT_TRUE(c->get("/w", [&](zk::watch_event e, const std::string& p) {
    auto now = c->get(p);
    events.push(std::string("data:") + zk::to_string(e) + ":" + (now ? now.value().data : "?"));
  }));
  ASSERT_TRUE(c->exists("/later", [&](zk::watch_event e, const std::string&) {
    events.push(std::string("exists:") + zk::to_string(e));
  }));
  ASSERT_TRUE(c->get_children("/w", [&](zk::watch_event e, const std::string&) {
    events.push(std::string("children:") + zk::to_string(e));
  }));
  // A failed get arms nothing.
  ASSERT_FALSE(c->get("/nothing", [&](zk::watch_event, const std::string&) { events.push("never"); }));

  auto other = connect(test_chroot());
  ASSERT_TRUE(other->set("/w", "1"));
  ASSERT_TRUE(other->create("/later", "x"));
  ASSERT_TRUE(other->create("/w/kid", "x"));
  ASSERT_TRUE(other->set("/w", "2"));  // the data watch was one-shot
  ASSERT_TRUE(other->create("/nothing", "x"));
  EXPECT_TRUE(events.wait_for([](auto& v) { return v.size() >= 3; }));
  auto got = events.snapshot();
  EXPECT_EQ(got.size(), 3u);
  EXPECT_NE(std::find(got.begin(), got.end(), "data:data_changed:1"), got.end()) << ::testing::PrintToString(got);
  EXPECT_NE(std::find(got.begin(), got.end(), "exists:created"), got.end());
  EXPECT_NE(std::find(got.begin(), got.end(), "children:children_changed"), got.end());
}

TEST_F(zk_client, ephemeral_goes_with_the_session) {
  event_log<zk::watch_event> events;  // outlives the clients, whose callbacks use it
  auto owner = connect(test_chroot());
  auto observer = connect(test_chroot());
  ASSERT_TRUE(owner->create("/eph", "x", zk::create_mode::ephemeral));
  auto st = observer->exists("/eph");
  ASSERT_TRUE(st && st.value());
  EXPECT_EQ(st.value()->ephemeral_owner, owner->session_id());
  ASSERT_TRUE(observer->exists("/eph", [&](zk::watch_event e, const std::string&) { events.push(e); }));
  owner->close();
  EXPECT_TRUE(events.wait_for_item(zk::watch_event::deleted));
  EXPECT_FALSE(observer->exists("/eph").value().has_value());
  EXPECT_EQ(owner->get("/eph").error(), errc::closing);
}

}  // namespace
}  // namespace strata::test
