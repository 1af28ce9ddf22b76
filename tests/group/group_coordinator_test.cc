// Group coordinator state machine, driven directly with an in-memory
// group_log that keeps every appended record (so persistence and replay are
// checked too).
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "group/group_coordinator.h"
#include "group/offsets_topic.h"
#include "utils/memory_log.h"

using namespace strata;
using namespace strata::group;
using strata::group::testing::memory_log;

namespace {

coordinator_config test_config() {
  coordinator_config c;
  c.min_session_timeout_ms = 100;
  c.initial_rebalance_delay_ms = 0;
  return c;
}

join_request join_req(const std::string& member, int32_t session_ms = 10'000, bool v4 = true,
                      std::optional<std::string> instance = std::nullopt) {
  join_request r;
  r.group_id = "g";
  r.member_id = member;
  r.group_instance_id = std::move(instance);
  r.client_id = "c";
  r.client_host = "/127.0.0.1";
  r.session_timeout_ms = session_ms;
  r.rebalance_timeout_ms = 2000;
  r.protocol_type = "consumer";
  r.protocols = {{"range", {1, 2, 3}}, {"roundrobin", {4}}};
  r.require_known_member_id = v4;
  return r;
}

// Waits (bounded) for a future; JoinGroup answers arrive from the coordinator's thread.
template <class T>
T get(std::future<T>& f) {
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return f.get();
}

std::future<join_result> join_async(group_coordinator& gc, join_request r) {
  auto p = std::make_shared<std::promise<join_result>>();
  auto f = p->get_future();
  gc.join(std::move(r), [p](join_result jr) { p->set_value(std::move(jr)); });
  return f;
}

sync_result sync_now(group_coordinator& gc, const std::string& member, int32_t gen,
                     std::vector<std::pair<std::string, protocol::bytes>> assignments = {}) {
  auto p = std::make_shared<std::promise<sync_result>>();
  auto f = p->get_future();
  sync_request s;
  s.group_id = "g";
  s.generation = gen;
  s.member_id = member;
  s.assignments = std::move(assignments);
  gc.sync(std::move(s), [p](sync_result r) { p->set_value(std::move(r)); });
  return get(f);
}

std::string join_with_id(group_coordinator& gc, join_result* out = nullptr) {
  auto first = join_async(gc, join_req(""));
  auto r1 = get(first);
  EXPECT_EQ(r1.error, errc::member_id_required);
  EXPECT_FALSE(r1.member_id.empty());
  auto second = join_async(gc, join_req(r1.member_id));
  auto r2 = get(second);
  if (out) *out = r2;
  return r1.member_id;
}

}  // namespace

TEST(offsets_topic, java_string_hash_matches_java) {
  EXPECT_EQ(java_string_hash(""), 0);
  EXPECT_EQ(java_string_hash("hello"), 99162322);
  EXPECT_EQ(java_string_hash("\xc3\xa9"), 233);                         // é
  EXPECT_EQ(java_string_hash("\xf0\x9f\x98\x80"), 55357 * 31 + 56832);  // U+1F600 as a surrogate pair
  for (int32_t p = 0; p < 50; ++p) (void)p;
  EXPECT_GE(partition_for("any-group", 50), 0);
  EXPECT_LT(partition_for("any-group", 50), 50);
}

TEST(offsets_topic, records_round_trip) {
  committed_offset off{42, 3, "meta", 1234};
  auto d = decode_record(encode_offset_key("g", "t", 7), protocol::bytes_view(encode_offset_value(off)));
  ASSERT_TRUE(d);
  auto k = std::get<offset_key>(d->key);
  EXPECT_EQ(k.group, "g");
  EXPECT_EQ(k.topic, "t");
  EXPECT_EQ(k.partition, 7);
  auto v = std::get<committed_offset>(*d->value);
  EXPECT_EQ(v.offset, 42);
  EXPECT_EQ(v.leader_epoch, 3);
  EXPECT_EQ(v.metadata, "meta");
  auto tomb = decode_record(encode_group_key("g"), std::nullopt);
  ASSERT_TRUE(tomb);
  EXPECT_FALSE(tomb->value.has_value());
  protocol::bytes garbage{0, 9, 1, 2};
  EXPECT_FALSE(decode_record(garbage, std::nullopt).has_value());
}

TEST(group_coordinator, member_id_required_then_join_makes_generation_one) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  join_result r;
  std::string id = join_with_id(gc, &r);
  EXPECT_EQ(r.error, errc::ok);
  EXPECT_EQ(r.generation, 1);
  EXPECT_EQ(r.leader, id);
  EXPECT_EQ(r.protocol_name, "range");
  ASSERT_EQ(r.members.size(), 1u);
  EXPECT_EQ(r.members[0].metadata, (protocol::bytes{1, 2, 3}));
  auto s = sync_now(gc, id, 1, {{id, {9, 9}}});
  EXPECT_EQ(s.error, errc::ok);
  EXPECT_EQ(s.assignment, (protocol::bytes{9, 9}));
  EXPECT_EQ(gc.describe("g").state, "Stable");
  EXPECT_EQ(gc.heartbeat("g", id, std::nullopt, 1), errc::ok);
  EXPECT_EQ(gc.heartbeat("g", id, std::nullopt, 7), errc::illegal_generation);
  EXPECT_EQ(gc.heartbeat("g", "nobody", std::nullopt, 1), errc::unknown_member_id);
  EXPECT_EQ(gc.heartbeat("other", id, std::nullopt, 1), errc::unknown_member_id);
}

TEST(group_coordinator, old_join_versions_get_an_id_directly) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  auto f = join_async(gc, join_req("", 10'000, /*v4=*/false));
  auto r = get(f);
  EXPECT_EQ(r.error, errc::ok);
  EXPECT_FALSE(r.member_id.empty());
  EXPECT_EQ(r.generation, 1);
}

TEST(group_coordinator, second_member_triggers_rebalance_and_both_get_assignments) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  std::string a = join_with_id(gc);
  ASSERT_EQ(sync_now(gc, a, 1, {{a, {1}}}).error, errc::ok);
  // b joins: the group rebalances; a learns it from its heartbeat and rejoins.
  auto b_first = join_async(gc, join_req(""));
  std::string b = get(b_first).member_id;
  auto b_join = join_async(gc, join_req(b));
  EXPECT_EQ(gc.heartbeat("g", a, std::nullopt, 1), errc::rebalance_in_progress);
  auto a_join = join_async(gc, join_req(a));
  auto ra = get(a_join), rb = get(b_join);
  EXPECT_EQ(ra.generation, 2);
  EXPECT_EQ(rb.generation, 2);
  EXPECT_EQ(ra.leader, a);  // the previous leader stays leader
  EXPECT_EQ(ra.members.size(), 2u);
  EXPECT_TRUE(rb.members.empty());
  // b syncs first and waits for the leader's assignment.
  auto p = std::make_shared<std::promise<sync_result>>();
  auto fb = p->get_future();
  gc.sync({"g", 2, b, std::nullopt, std::nullopt, std::nullopt, {}}, [p](sync_result r) { p->set_value(r); });
  EXPECT_EQ(fb.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  auto sa = sync_now(gc, a, 2, {{a, {1}}, {b, {2}}});
  EXPECT_EQ(sa.assignment, (protocol::bytes{1}));
  EXPECT_EQ(get(fb).assignment, (protocol::bytes{2}));
  EXPECT_EQ(sync_now(gc, b, 1).error, errc::illegal_generation);
}

TEST(group_coordinator, silent_member_expires_and_group_rebalances) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  auto f1 = join_async(gc, join_req("", 200));
  std::string a = get(f1).member_id;
  auto f2 = join_async(gc, join_req(a, 200));
  ASSERT_EQ(get(f2).generation, 1);
  ASSERT_EQ(sync_now(gc, a, 1, {{a, {1}}}).error, errc::ok);
  // No heartbeats: the session (200 ms) expires and the group empties.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (gc.describe("g").state != "Empty" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(gc.describe("g").state, "Empty");
  EXPECT_EQ(gc.heartbeat("g", a, std::nullopt, 1), errc::unknown_member_id);
}

TEST(group_coordinator, static_member_rejoin_keeps_generation_and_assignment) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  auto f = join_async(gc, join_req("", 10'000, true, "instance-1"));
  auto r = get(f);
  ASSERT_EQ(r.error, errc::ok);  // static members skip MEMBER_ID_REQUIRED
  ASSERT_EQ(sync_now(gc, r.member_id, 1, {{r.member_id, {7}}}).error, errc::ok);
  // "Restart": join again with an empty member id and the same instance id.
  auto f2 = join_async(gc, join_req("", 10'000, true, "instance-1"));
  auto r2 = get(f2);
  EXPECT_EQ(r2.error, errc::ok);
  EXPECT_EQ(r2.generation, 1);  // no rebalance
  EXPECT_NE(r2.member_id, r.member_id);
  EXPECT_EQ(gc.describe("g").state, "Stable");
  EXPECT_EQ(sync_now(gc, r2.member_id, 1).assignment, (protocol::bytes{7}));
  // The old member id is fenced.
  EXPECT_EQ(gc.heartbeat("g", r.member_id, std::string("instance-1"), 1), errc::fenced_instance_id);
}

TEST(group_coordinator, inconsistent_protocols_are_rejected) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  join_with_id(gc);
  auto req = join_req("");
  req.protocols = {{"sticky", {}}};
  auto f = join_async(gc, req);
  EXPECT_EQ(get(f).error, errc::inconsistent_group_protocol);
  req = join_req("");
  req.protocol_type = "connect";
  auto f2 = join_async(gc, req);
  EXPECT_EQ(get(f2).error, errc::inconsistent_group_protocol);
}

TEST(group_coordinator, commits_check_membership_and_survive_replay) {
  memory_log log;
  std::string member;
  {
    group_coordinator gc(test_config(), log);
    gc.start();
    member = join_with_id(gc);
    ASSERT_EQ(sync_now(gc, member, 1, {{member, {}}}).error, errc::ok);
    auto commit = [&](int32_t gen, std::string m) {
      std::promise<std::vector<errc>> p;
      auto f = p.get_future();
      commit_request c;
      c.group_id = "g";
      c.generation = gen;
      c.member_id = std::move(m);
      c.offsets.push_back({{"t", 0}, committed_offset{10, -1, "x", -1}});
      c.offsets.push_back({{"t", 1}, committed_offset{20, -1, std::string(5000, 'm'), -1}});
      gc.commit(std::move(c), [&p](std::vector<errc> e) { p.set_value(e); });
      return get(f);
    };
    auto ok = commit(1, member);
    EXPECT_EQ(ok[0], errc::ok);
    EXPECT_EQ(ok[1], errc::offset_metadata_too_large);
    EXPECT_EQ(commit(5, member)[0], errc::illegal_generation);
    EXPECT_EQ(commit(1, "stranger")[0], errc::unknown_member_id);
    auto fetched = gc.fetch_offsets("g", std::vector<topic_partition>{{"t", 0}, {"t", 1}});
    ASSERT_EQ(fetched.size(), 2u);
    ASSERT_TRUE(fetched[0].second);
    EXPECT_EQ(fetched[0].second->offset, 10);
    EXPECT_FALSE(fetched[1].second);
  }
  // A new coordinator (a restarted broker) replays the log.
  group_coordinator gc2(test_config(), log);
  log.replay_into(gc2);
  gc2.start();
  auto all = gc2.fetch_offsets("g", std::nullopt);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].first.topic, "t");
  EXPECT_EQ(all[0].second->offset, 10);
  EXPECT_EQ(all[0].second->metadata, "x");
  EXPECT_EQ(gc2.describe("g").state, "Stable");
  EXPECT_EQ(gc2.heartbeat("g", member, std::nullopt, 1), errc::ok);
}

TEST(group_coordinator, simple_consumer_commits_and_group_deletion) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  std::promise<std::vector<errc>> p;
  auto f = p.get_future();
  commit_request c;
  c.group_id = "simple";
  c.offsets.push_back({{"t", 0}, committed_offset{5, -1, "", -1}});
  gc.commit(std::move(c), [&p](std::vector<errc> e) { p.set_value(e); });
  EXPECT_EQ(get(f)[0], errc::ok);
  EXPECT_EQ(gc.describe("simple").state, "Empty");
  std::string member = join_with_id(gc);
  std::promise<std::vector<errc>> pd;
  auto fd = pd.get_future();
  gc.delete_groups({"g", "simple", "missing"}, [&pd](std::vector<errc> e) { pd.set_value(e); });
  auto errs = get(fd);
  EXPECT_EQ(errs[0], errc::non_empty_group);
  EXPECT_EQ(errs[1], errc::ok);
  EXPECT_EQ(errs[2], errc::group_id_not_found);
  EXPECT_EQ(gc.describe("simple").state, "Dead");
  EXPECT_TRUE(gc.fetch_offsets("simple", std::nullopt).empty());
  auto listed = gc.list({});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].group_id, "g");
  EXPECT_TRUE(gc.list({"Empty"}).empty());
}

TEST(group_coordinator, leave_removes_member_and_reports_unknown_ones) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  std::string a = join_with_id(gc);
  auto [top, per] = gc.leave("g", {{a, std::nullopt}, {"ghost", std::nullopt}});
  EXPECT_EQ(top, errc::ok);
  ASSERT_EQ(per.size(), 2u);
  EXPECT_EQ(per[0], errc::ok);
  EXPECT_EQ(per[1], errc::unknown_member_id);
  EXPECT_EQ(gc.describe("g").state, "Empty");
}

// Random group ids (a fuzzer, a careless client) must not pile up: a group
// that a request created but that never got a member, a generation or an
// offset goes away once nothing refers to it (here: the KIP-394 member id it
// handed out expires unused).
TEST(group_coordinator, groups_that_never_formed_are_dropped) {
  memory_log log;
  group_coordinator gc(test_config(), log);
  gc.start();
  for (int i = 0; i < 100; ++i) {
    auto r = join_req("", 150);
    r.group_id = "random-" + std::to_string(i);
    auto f = join_async(gc, std::move(r));
    ASSERT_EQ(get(f).error, errc::member_id_required);
  }
  EXPECT_EQ(gc.list({}).size(), 100u);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!gc.list({}).empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(gc.list({}).empty());
  EXPECT_EQ(gc.describe("random-0").state, "Dead");
  // Nothing was persisted for them.
  std::lock_guard lk(log.mu);
  EXPECT_TRUE(log.parts.empty());
}

// Kafka's cleanupGroupMetadata: at the offsets-retention check an empty group
// with no offsets left is dead and its group record gets a tombstone, so a
// replay does not bring it back.
TEST(group_coordinator, empty_group_without_offsets_dies_at_retention_check) {
  memory_log log;
  auto cfg = test_config();
  cfg.offsets_retention_check_ms = 100;
  group_coordinator gc(cfg, log);
  gc.start();
  auto f1 = join_async(gc, join_req("", 200));
  std::string a = get(f1).member_id;
  auto f2 = join_async(gc, join_req(a, 200));
  ASSERT_EQ(get(f2).generation, 1);
  // A simple consumer's group with an offset inside retention stays.
  std::promise<std::vector<errc>> p;
  auto f = p.get_future();
  commit_request c;
  c.group_id = "simple";
  c.offsets.push_back({{"t", 0}, committed_offset{5, -1, "", -1}});
  gc.commit(std::move(c), [&p](std::vector<errc> e) { p.set_value(e); });
  ASSERT_EQ(get(f)[0], errc::ok);
  // No heartbeats: the member expires, "g" empties with no offsets, and the
  // next retention check removes it.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (gc.describe("g").state != "Dead" && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(gc.describe("g").state, "Dead");
  auto listed = gc.list({});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].group_id, "simple");
  group_coordinator replayed(cfg, log);
  log.replay_into(replayed);
  EXPECT_EQ(replayed.describe("g").state, "Dead");
  EXPECT_EQ(replayed.describe("simple").state, "Empty");
}
