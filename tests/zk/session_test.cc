// Sessions against a real ZooKeeper: expiry builds a new session and lets the
// owner re-register its ephemerals; a server restart within the session
// timeout keeps the session; calls fail fast while disconnected.
#include <gtest/gtest.h>

#include "zk/kafka_zk.h"
#include "zk_server.h"

namespace strata::test {
namespace {

using namespace std::chrono_literals;
using zk::errc;
using zk::session_state;

class zk_session : public zk_server_suite {};
class zk_restart : public zk_server_suite {};

TEST_F(zk_session, expiry_notifies_listeners_and_a_new_session_re_registers) {
  event_log<std::string> events;  // outlives the client, whose callbacks use it
  auto c = connect(test_chroot());
  zk::kafka_zk k(*c);
  ASSERT_TRUE(k.ensure_persistent_paths());
  zk::broker_registration b;
  b.id = 1;
  b.endpoints = {{"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 9092}};
  // What a broker does (Kafka's ZooKeeperClient state-change handlers): on a
  // new session, register again. Runs on the client's event thread and makes
  // synchronous calls from there.
  c->add_session_listener([&](session_state s) {
    events.push(zk::to_string(s));
    if (s == session_state::new_session) {
      auto r = k.register_broker(b);
      events.push(r ? "re-registered" : "re-register failed: " + r.error().message());
    }
  });
  ASSERT_TRUE(k.register_broker(b));
  const int64_t old_session = c->session_id();
  // A watch armed in the old session must not fire after expiry.
  ASSERT_TRUE(c->exists("/never-created", [&](zk::watch_event, const std::string&) { events.push("stale watch"); }));

  auto observer = connect(test_chroot());
  auto r = c->expire_session_for_testing();
  ASSERT_TRUE(r) << r.error().message();

  ASSERT_TRUE(events.wait_for_item("re-registered")) << ::testing::PrintToString(events.snapshot());
  auto seen = events.snapshot();
  auto pos = [&](const std::string& s) { return std::find(seen.begin(), seen.end(), s) - seen.begin(); };
  EXPECT_LT(pos("expired"), pos("new_session"));
  EXPECT_NE(c->session_id(), old_session);
  EXPECT_TRUE(c->connected());

  auto st = observer->exists("/brokers/ids/1").value();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->ephemeral_owner, c->session_id());
  // The new session works, and the old session's watch stays silent.
  ASSERT_TRUE(observer->create("/never-created", "x"));
  ASSERT_TRUE(c->get("/never-created"));
  for (auto& e : events.snapshot()) EXPECT_NE(e, "stale watch");
  c->close();  // the listener uses `k` and `b`, destroyed before `c`
}

TEST_F(zk_restart, server_restart_within_the_session_timeout_keeps_the_session) {
  event_log<session_state> events;  // outlives the client, whose callbacks use it
  auto c = connect(test_chroot(), 15s);
  c->add_session_listener([&](session_state s) { events.push(s); });
  ASSERT_TRUE(c->create("/eph", "x", zk::create_mode::ephemeral));
  ASSERT_TRUE(c->create("/persistent", "p"));
  const int64_t session = c->session_id();

  server_->stop();
  ASSERT_TRUE(events.wait_for_item(session_state::disconnected));

  // While disconnected a call fails within its bound, with connection_loss.
  auto t0 = std::chrono::steady_clock::now();
  auto down = c->get("/persistent");
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(down);
  EXPECT_EQ(down.error(), errc::connection_loss);
  EXPECT_LE(took, c->options().request_timeout + 2s);

  server_->start();  // same port, same data dir
  ASSERT_TRUE(events.wait_for_item(session_state::connected, 20s));
  EXPECT_EQ(c->session_id(), session);
  for (auto s : events.snapshot()) {
    EXPECT_NE(s, session_state::expired);
    EXPECT_NE(s, session_state::new_session);
  }
  auto eph = c->exists("/eph");
  ASSERT_TRUE(eph) << eph.error().message();
  ASSERT_TRUE(eph.value());
  EXPECT_EQ(eph.value()->ephemeral_owner, session);
  EXPECT_EQ(c->get("/persistent").value().data, "p");
}

TEST_F(zk_restart, request_timeout_bounds_calls_while_disconnected) {
  event_log<session_state> events;  // outlives the client, whose callbacks use it
  zk::client_options o;
  o.connect = server_->connect_string() + test_chroot();
  o.session_timeout = 10s;
  o.connection_timeout = 10s;
  o.request_timeout = 400ms;
  zk::client c(o);
  c.connect();
  c.add_session_listener([&](session_state s) { events.push(s); });
  server_->stop();
  ASSERT_TRUE(events.wait_for_item(session_state::disconnected));
  for (int i = 0; i < 3; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = c.create("/x", "1");
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), errc::connection_loss) << r.error().message();
    // It waits for the connection at most request_timeout. (Not a lower bound:
    // a server shutting down may briefly accept the reconnect, and a request
    // sent then fails at once with connection_loss.)
    EXPECT_LT(took, 2s);
  }
  server_->start();
  ASSERT_TRUE(events.wait_for_item(session_state::connected, 20s));
  EXPECT_TRUE(c.create("/x", "1"));
}

TEST_F(zk_restart, a_callback_waiting_for_the_connection_sees_it_return) {
  event_log<std::string> events;  // outlives the client, whose callbacks use it
  zk::client_options o;
  o.connect = server_->connect_string() + test_chroot();
  o.session_timeout = 20s;
  o.connection_timeout = 10s;
  o.request_timeout = 25s;  // longer than the restart: the call must not time out
  zk::client c(o);
  c.connect();
  ASSERT_TRUE(c.create("/p", "v"));
  // Runs on the event thread, which is then busy until the call returns: the
  // call must still see the C client reconnect.
  c.add_session_listener([&](session_state s) {
    if (s != session_state::disconnected) return;
    auto r = c.get("/p");
    events.push(r ? "read " + r.value().data : "failed: " + r.error().message());
  });
  server_->stop();
  server_->start();
  ASSERT_TRUE(events.wait_for([](auto& v) { return !v.empty(); }, 30s));
  EXPECT_EQ(events.snapshot().front(), "read v");
}

}  // namespace
}  // namespace strata::test
