#pragma once
// The controller_test fixture: one real ZooKeeper per suite (zk_server_suite), each
// test under its own chroot; brokers are real ephemeral registrations on their own
// sessions, topics are written as CreateTopics writes them (kafka_zk::create_topic),
// and the brokers' side is a recording broker_sender (recording_sender.h).
// Shared by controller_test.cc and controller_reassign_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "controller/controller.h"
#include "recording_sender.h"
#include "zk_server.h"

namespace strata::test {

using namespace std::chrono_literals;
using controller::controller_config;

inline bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds timeout = 15s) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return cond();
}

inline bool contains_partition(const std::vector<controller::partition_key>& v, const std::string& t, int32_t p) {
  return std::find(v.begin(), v.end(), controller::partition_key{t, p}) != v.end();
}

class controller_test : public zk_server_suite {
 protected:
  void SetUp() override {
    zk_server_suite::SetUp();
    if (HasFatalFailure()) return;
    chroot_ = test_chroot();
    admin_ = connect(chroot_);
    k_ = std::make_unique<zk::kafka_zk>(*admin_);
    auto r = k_->ensure_persistent_paths();
    ASSERT_TRUE(r) << r.error().message();
  }
  void TearDown() override {
    for (auto& [id, c] : controllers_) c.ctl->stop();
    controllers_.clear();
    brokers_.clear();
  }

  // Registers broker `id` on its own session; returns the broker epoch.
  int64_t register_broker(int32_t id) {
    auto c = connect(chroot_);
    zk::kafka_zk k(*c);
    zk::broker_registration reg;
    reg.id = id;
    reg.endpoints = {{"PLAINTEXT", "PLAINTEXT", "127.0.0.1", 19000 + id}, {"INTERNAL", "PLAINTEXT", "10.0.0.1", 29000 + id}};
    reg.rack = "rack-" + std::to_string(id);
    auto e = k.register_broker(reg);
    EXPECT_TRUE(e) << e.error().message();
    brokers_[id] = std::move(c);
    return e ? e.value() : -1;
  }
  // Closes the broker's session: its registration goes at once.
  void kill_broker(int32_t id) { brokers_.erase(id); }

  struct running {
    std::unique_ptr<zk::client> zk;
    std::unique_ptr<controller::controller> ctl;
  };
  controller::controller& start_controller(int32_t id, std::function<void(controller_config&)> tune = {}) {
    controller_config cfg;
    cfg.broker_id = id;
    cfg.auto_leader_rebalance_enable = false;
    cfg.channel.retry_backoff = 20ms;
    cfg.channel.max_retry_backoff = 100ms;
    cfg.election_retry_backoff = 200ms;
    cfg.call_timeout = 10s;
    if (tune) tune(cfg);
    auto& r = controllers_[id];
    r.zk = connect(chroot_);
    r.ctl = std::make_unique<controller::controller>(*r.zk, cfg, log_.factory());
    r.ctl->start();
    return *r.ctl;
  }
  controller::controller& active_controller(int32_t id) {
    auto& c = start_controller(id);
    EXPECT_TRUE(eventually([&] { return c.is_active(); })) << "controller " << id << " never became active";
    return c;
  }

  void create_topic(const std::string& t, zk::replica_map assignment, zk::config_map configs = {}) {
    zk::topic_assignment a;
    a.topic_id = protocol::uuid::random().to_base64();
    a.partitions = std::move(assignment);
    auto r = k_->create_topic(t, a, configs);
    ASSERT_TRUE(r) << r.error().message();
  }
  std::optional<zk::leader_and_isr> state(const std::string& t, int32_t p) {
    auto r = k_->get_partition_state(t, p);
    EXPECT_TRUE(r) << r.error().message();
    return r ? r.value() : std::nullopt;
  }
  bool leader_is(const std::string& t, int32_t p, int32_t leader, int32_t epoch) {
    auto s = state(t, p);
    return s && s->leader == leader && s->leader_epoch == epoch;
  }
  // What a partition leader does when its ISR changes (DESIGN-NOTES §9): conditional
  // write of the state, then a notification for the controller.
  void leader_changes_isr(const std::string& t, int32_t p, std::vector<int32_t> isr) {
    auto s = state(t, p);
    ASSERT_TRUE(s);
    s->isr = std::move(isr);
    auto w = k_->update_partition_state_conditional(t, p, *s);
    ASSERT_TRUE(w) << w.error().message();
    auto n = k_->create_isr_change_notification({{t, p}});
    ASSERT_TRUE(n) << n.error().message();
  }
  bool no_isr_notifications() {
    auto n = k_->list_isr_change_notifications();
    return n && n.value().empty();
  }

  std::string chroot_;
  std::unique_ptr<zk::client> admin_;
  std::unique_ptr<zk::kafka_zk> k_;
  request_log log_;
  std::map<int32_t, std::unique_ptr<zk::client>> brokers_;
  std::map<int32_t, running> controllers_;
};

}  // namespace strata::test
