// The coordinator's ownership of __consumer_offsets partitions (not_owned,
// loading, owned), unloading and reloading a partition's groups, and the
// errors of every request path, including failed appends (group::errc).
#include <gtest/gtest.h>

#include <future>

#include "group/errc.h"
#include "group/group_coordinator.h"
#include "utils/memory_log.h"

using namespace strata;
using namespace strata::group;
using strata::group::testing::memory_log;

namespace {

coordinator_config cluster_config() {
  coordinator_config c;
  c.min_session_timeout_ms = 100;
  c.initial_rebalance_delay_ms = 0;
  c.owns_every_partition = false;
  return c;
}

join_request join_req(const std::string& group, const std::string& member,
                      std::optional<std::string> instance = std::nullopt) {
  join_request r;
  r.group_id = group;
  r.member_id = member;
  r.group_instance_id = std::move(instance);
  r.client_id = "c";
  r.client_host = "/127.0.0.1";
  r.session_timeout_ms = 10'000;
  r.rebalance_timeout_ms = 2000;
  r.protocol_type = "consumer";
  r.protocols = {{"range", {1, 2, 3}}};
  r.require_known_member_id = true;
  return r;
}

template <class T>
T get(std::future<T>& f) {
  EXPECT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  return f.get();
}

template <class T>
bool ready(std::future<T>& f) {
  return f.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

std::future<join_result> join_async(group_coordinator& gc, join_request r) {
  auto p = std::make_shared<std::promise<join_result>>();
  auto f = p->get_future();
  gc.join(std::move(r), [p](join_result jr) { p->set_value(std::move(jr)); });
  return f;
}

std::future<sync_result> sync_async(group_coordinator& gc, const std::string& group, const std::string& member,
                                    int32_t gen, std::vector<std::pair<std::string, protocol::bytes>> assignments = {}) {
  auto p = std::make_shared<std::promise<sync_result>>();
  auto f = p->get_future();
  sync_request s;
  s.group_id = group;
  s.generation = gen;
  s.member_id = member;
  s.assignments = std::move(assignments);
  gc.sync(std::move(s), [p](sync_result r) { p->set_value(std::move(r)); });
  return f;
}

// Joins `group` as a new member (KIP-394 round trip); returns the member id.
std::string join_member(group_coordinator& gc, const std::string& group) {
  auto first = join_async(gc, join_req(group, ""));
  auto r1 = get(first);
  EXPECT_EQ(r1.error, errc::member_id_required);
  auto second = join_async(gc, join_req(group, r1.member_id));
  EXPECT_EQ(get(second).error, errc::ok);
  return r1.member_id;
}

// A stable one-member group at generation 1 with assignment {9}.
std::string stable_group(group_coordinator& gc, const std::string& group) {
  std::string m = join_member(gc, group);
  auto s = sync_async(gc, group, m, 1, {{m, {9}}});
  EXPECT_EQ(get(s).error, errc::ok);
  return m;
}

std::vector<errc> commit(group_coordinator& gc, const std::string& group, int32_t gen, const std::string& member,
                         int64_t offset, std::string metadata = "") {
  auto p = std::make_shared<std::promise<std::vector<errc>>>();
  auto f = p->get_future();
  commit_request c;
  c.group_id = group;
  c.generation = gen;
  c.member_id = member;
  c.offsets.push_back({{"t", 0}, committed_offset{offset, -1, std::move(metadata), -1}});
  gc.commit(std::move(c), [p](std::vector<errc> e) { p->set_value(std::move(e)); });
  return get(f);
}

std::vector<errc> delete_groups(group_coordinator& gc, std::vector<std::string> ids) {
  auto p = std::make_shared<std::promise<std::vector<errc>>>();
  auto f = p->get_future();
  gc.delete_groups(std::move(ids), [p](std::vector<errc> e) { p->set_value(std::move(e)); });
  return get(f);
}

errc delete_offsets(group_coordinator& gc, const std::string& group, bool subscribed = false) {
  auto p = std::make_shared<std::promise<std::pair<errc, std::vector<errc>>>>();
  auto f = p->get_future();
  gc.delete_offsets(
      group, {{"t", 0}}, [subscribed](const std::string&, const struct group&) { return subscribed; },
      [p](errc top, std::vector<errc> per) { p->set_value({top, std::move(per)}); });
  auto [top, per] = get(f);
  if (top != errc::ok) return top;
  return per.empty() ? errc::ok : per[0];
}

// Every request path answers `want` for `group` (a partition not owned or loading).
void expect_every_path_answers(group_coordinator& gc, const std::string& group, errc want) {
  auto j = join_async(gc, join_req(group, ""));
  EXPECT_EQ(get(j).error, want);
  auto s = sync_async(gc, group, "m", 1);
  EXPECT_EQ(get(s).error, want);
  EXPECT_EQ(gc.heartbeat(group, "m", std::nullopt, 1), want);
  auto [top, per] = gc.leave(group, {{"m", std::nullopt}});
  EXPECT_EQ(top, want);
  EXPECT_TRUE(per.empty());
  EXPECT_EQ(commit(gc, group, -1, "", 5), std::vector<errc>{want});
  auto fetched = gc.fetch_committed(group, std::nullopt);
  EXPECT_EQ(fetched.error, want);
  EXPECT_TRUE(fetched.offsets.empty());
  auto d = gc.describe(group);
  EXPECT_EQ(d.error, want);
  EXPECT_EQ(d.state, "");
  EXPECT_EQ(delete_groups(gc, {group}), std::vector<errc>{want});
  EXPECT_EQ(delete_offsets(gc, group), want);
}

}  // namespace

TEST(group_errc, messages_and_categories) {
  std::error_code e = errc::not_coordinator;
  EXPECT_EQ(e.category(), group_category());
  EXPECT_STREQ(e.category().name(), "strata.group");
  EXPECT_EQ(e.message(), "not the coordinator of this group");
  std::error_code a = append_errc::not_leader;
  EXPECT_EQ(a.category(), append_category());
  EXPECT_FALSE(a.message().empty());
  EXPECT_NE(a, std::error_code(errc::not_coordinator));
}

// Kafka's GroupMetadataManager rules, and the compatibility row for the
// single-node log's own error codes.
TEST(group_errc, append_failures_map_as_kafka_does) {
  struct row {
    std::error_code append;
    errc offsets, group;
  };
  const row rows[] = {
      {{}, errc::ok, errc::ok},
      {append_errc::unknown_partition, errc::coordinator_not_available, errc::coordinator_not_available},
      {append_errc::not_enough_replicas, errc::coordinator_not_available, errc::coordinator_not_available},
      {append_errc::not_leader, errc::not_coordinator, errc::not_coordinator},
      {append_errc::storage_error, errc::not_coordinator, errc::not_coordinator},
      {append_errc::timed_out, errc::request_timed_out, errc::rebalance_in_progress},
      {append_errc::record_too_large, errc::invalid_commit_offset_size, errc::storage_failure},
      {std::make_error_code(std::errc::io_error), errc::coordinator_not_available, errc::coordinator_not_available},
  };
  for (const auto& r : rows) {
    EXPECT_EQ(offset_write_error(r.append), r.offsets) << r.append.message();
    EXPECT_EQ(group_write_error(r.append), r.group) << r.append.message();
  }
}

TEST(group_ownership, single_node_owns_every_partition) {
  memory_log log;
  coordinator_config cfg = cluster_config();
  cfg.owns_every_partition = true;
  group_coordinator gc(cfg, log);
  gc.start();
  for (const char* g : {"a", "b", "g", "another-group"}) EXPECT_TRUE(gc.is_coordinator(g)) << g;
  // Already owned: nothing to load.
  EXPECT_FALSE(gc.begin_loading(gc.partition_for("g")));
  EXPECT_EQ(gc.list_groups({}).error, errc::ok);
}

TEST(group_ownership, groups_of_a_partition_not_owned_answer_not_coordinator) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  EXPECT_FALSE(gc.is_coordinator("g"));
  expect_every_path_answers(gc, "g", errc::not_coordinator);
  // Nothing was created or written for them.
  EXPECT_EQ(gc.group_count(), 0u);
  EXPECT_EQ(log.record_count(), 0u);
  // Owning another partition changes nothing for "g".
  std::string other = "h";
  ASSERT_NE(gc.partition_for(other), gc.partition_for("g"));
  ASSERT_TRUE(gc.begin_loading(gc.partition_for(other)));
  ASSERT_TRUE(gc.finish_loading(gc.partition_for(other), 1));
  EXPECT_TRUE(gc.is_coordinator(other));
  EXPECT_FALSE(gc.is_coordinator("g"));
  EXPECT_EQ(gc.heartbeat("g", "m", std::nullopt, 1), errc::not_coordinator);
}

TEST(group_ownership, loading_partition_answers_load_in_progress_then_serves) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  ASSERT_TRUE(gc.begin_loading(p));
  EXPECT_FALSE(gc.begin_loading(p));  // already loading
  EXPECT_FALSE(gc.is_coordinator("g"));
  expect_every_path_answers(gc, "g", errc::coordinator_load_in_progress);
  EXPECT_EQ(gc.list_groups({}).error, errc::coordinator_load_in_progress);
  ASSERT_TRUE(gc.finish_loading(p, 3));
  EXPECT_TRUE(gc.is_coordinator("g"));
  EXPECT_EQ(gc.list_groups({}).error, errc::ok);
  std::string m = stable_group(gc, "g");
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::ok);
  EXPECT_EQ(gc.describe("g").state, "Stable");
}

TEST(group_ownership, unload_then_reload_of_the_same_records_restores_the_state) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  ASSERT_TRUE(gc.begin_loading(p));
  ASSERT_TRUE(gc.finish_loading(p, 1));
  std::string m = stable_group(gc, "g");
  ASSERT_EQ(commit(gc, "g", 1, m, 42, "meta"), std::vector<errc>{errc::ok});
  const auto before = gc.describe("g");
  ASSERT_EQ(before.state, "Stable");

  gc.unload(p, 2);
  EXPECT_FALSE(gc.is_coordinator("g"));
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::not_coordinator);
  EXPECT_EQ(gc.describe("g").error, errc::not_coordinator);
  for (const auto& lg : gc.list({})) EXPECT_NE(lg.group_id, "g");

  // This broker leads the partition again: replay its records.
  ASSERT_TRUE(gc.begin_loading(p));
  log.replay_partition(gc, p);
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::coordinator_load_in_progress);
  ASSERT_TRUE(gc.finish_loading(p, 3));
  const auto after = gc.describe("g");
  EXPECT_EQ(after.error, errc::ok);
  EXPECT_EQ(after.state, "Stable");
  EXPECT_EQ(after.protocol_type, before.protocol_type);
  EXPECT_EQ(after.protocol_data, "range");
  ASSERT_EQ(after.members.size(), 1u);
  EXPECT_EQ(after.members[0].member_id, m);
  EXPECT_EQ(after.members[0].assignment, (protocol::bytes{9}));
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::ok);
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 2), errc::illegal_generation);
  auto fetched = gc.fetch_committed("g", std::nullopt);
  ASSERT_EQ(fetched.error, errc::ok);
  ASSERT_EQ(fetched.offsets.size(), 1u);
  EXPECT_EQ(fetched.offsets[0].second->offset, 42);
  EXPECT_EQ(fetched.offsets[0].second->metadata, "meta");
  // The reloaded group keeps working: a commit at generation 1 is accepted.
  EXPECT_EQ(commit(gc, "g", 1, m, 43), std::vector<errc>{errc::ok});
}

TEST(group_ownership, unload_answers_parked_join_and_sync_with_not_coordinator) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  ASSERT_TRUE(gc.begin_loading(p));
  ASSERT_TRUE(gc.finish_loading(p, 1));
  std::string a = stable_group(gc, "g");
  // b joins: its JoinGroup parks until a rejoins.
  auto b_first = join_async(gc, join_req("g", ""));
  std::string b = get(b_first).member_id;
  auto b_join = join_async(gc, join_req("g", b));
  EXPECT_FALSE(ready(b_join));
  // Another group of the same partition with a SyncGroup parked: the
  // follower waits for the leader's assignment.
  std::string g2;
  for (int i = 0; g2.empty(); ++i)
    if (gc.partition_for("other-" + std::to_string(i)) == p) g2 = "other-" + std::to_string(i);
  std::string l = join_member(gc, g2);
  auto l_first_sync = sync_async(gc, g2, l, 1, {{l, {1}}});
  ASSERT_EQ(get(l_first_sync).error, errc::ok);
  auto f_first = join_async(gc, join_req(g2, ""));
  std::string f = get(f_first).member_id;
  auto f_join = join_async(gc, join_req(g2, f));
  auto l_join = join_async(gc, join_req(g2, l));
  ASSERT_EQ(get(f_join).generation, 2);
  ASSERT_EQ(get(l_join).generation, 2);
  auto f_sync = sync_async(gc, g2, f, 2);
  EXPECT_FALSE(ready(f_sync));

  gc.unload(p);
  EXPECT_EQ(get(b_join).error, errc::not_coordinator);
  EXPECT_EQ(get(f_sync).error, errc::not_coordinator);
  EXPECT_EQ(gc.group_count(), 0u);
  // The leader's late SyncGroup finds no coordinator either.
  auto l_sync = sync_async(gc, g2, l, 2, {{l, {1}}, {f, {2}}});
  EXPECT_EQ(get(l_sync).error, errc::not_coordinator);
}

TEST(group_ownership, stale_epochs_are_ignored) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  ASSERT_TRUE(gc.begin_loading(p));
  ASSERT_TRUE(gc.finish_loading(p, 5));
  gc.unload(p, 4);  // older than the load: ignored
  EXPECT_TRUE(gc.is_coordinator("g"));
  gc.unload(p, 6);
  EXPECT_FALSE(gc.is_coordinator("g"));
  // A load that finishes at an epoch older than the unload is stale.
  ASSERT_TRUE(gc.begin_loading(p));
  EXPECT_FALSE(gc.finish_loading(p, 5));
  EXPECT_FALSE(gc.is_coordinator("g"));
  EXPECT_EQ(gc.heartbeat("g", "m", std::nullopt, 1), errc::not_coordinator);
  // An unload during a load cancels it.
  ASSERT_TRUE(gc.begin_loading(p));
  gc.unload(p);
  EXPECT_FALSE(gc.finish_loading(p, 7));
  EXPECT_FALSE(gc.is_coordinator("g"));
  // Out-of-range partitions are refused.
  EXPECT_FALSE(gc.begin_loading(-1));
  EXPECT_FALSE(gc.begin_loading(50));
}

TEST(group_ownership, load_skips_records_of_other_partitions_groups) {
  memory_log log;
  {
    coordinator_config cfg = cluster_config();
    cfg.owns_every_partition = true;
    group_coordinator writer(cfg, log);
    writer.start();
    ASSERT_EQ(commit(writer, "g", -1, "", 11), std::vector<errc>{errc::ok});
  }
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  const int32_t q = (p + 1) % 50;
  // "g"'s records replayed as if they were q's: not q's groups.
  ASSERT_TRUE(gc.begin_loading(q));
  {
    std::lock_guard lk(log.mu);
    for (auto& r : log.parts[p]) gc.load(q, memory_log::decode(r));
  }
  ASSERT_TRUE(gc.finish_loading(q, 1));
  EXPECT_EQ(gc.group_count(), 0u);
  // Records for a partition that is not loading are skipped too.
  log.replay_partition(gc, p);
  EXPECT_EQ(gc.group_count(), 0u);
  ASSERT_TRUE(gc.begin_loading(p));
  log.replay_partition(gc, p);
  ASSERT_TRUE(gc.finish_loading(p, 1));
  auto fetched = gc.fetch_committed("g", std::nullopt);
  ASSERT_EQ(fetched.offsets.size(), 1u);
  EXPECT_EQ(fetched.offsets[0].second->offset, 11);
}

// A commit whose append completes after its partition was unloaded is
// answered from `done` (the record is in the log), but does not put offsets
// into a later load's groups; the reload reads it from the log instead.
TEST(group_ownership, commit_in_flight_across_unload_is_answered_and_not_applied) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  const int32_t p = gc.partition_for("g");
  ASSERT_TRUE(gc.begin_loading(p));
  ASSERT_TRUE(gc.finish_loading(p, 1));
  log.hold = true;
  auto pr = std::make_shared<std::promise<std::vector<errc>>>();
  auto f = pr->get_future();
  commit_request c;
  c.group_id = "g";
  c.offsets.push_back({{"t", 0}, committed_offset{77, -1, "", -1}});
  gc.commit(std::move(c), [pr](std::vector<errc> e) { pr->set_value(std::move(e)); });
  EXPECT_FALSE(ready(f));  // acknowledged only once the log says so
  gc.unload(p);
  ASSERT_TRUE(gc.begin_loading(p));
  ASSERT_TRUE(gc.finish_loading(p, 2));  // an empty load: before the record counted
  EXPECT_EQ(log.release(), 1u);
  EXPECT_EQ(get(f), std::vector<errc>{errc::ok});
  EXPECT_TRUE(gc.fetch_committed("g", std::nullopt).offsets.empty());
  gc.unload(p);
  ASSERT_TRUE(gc.begin_loading(p));
  log.replay_partition(gc, p);
  ASSERT_TRUE(gc.finish_loading(p, 3));
  auto fetched = gc.fetch_committed("g", std::nullopt);
  ASSERT_EQ(fetched.offsets.size(), 1u);
  EXPECT_EQ(fetched.offsets[0].second->offset, 77);
}

TEST(group_errors, failed_commit_appends_answer_kafkas_codes) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  ASSERT_TRUE(gc.begin_loading(gc.partition_for("g")));
  ASSERT_TRUE(gc.finish_loading(gc.partition_for("g"), 1));
  const std::pair<std::error_code, errc> cases[] = {
      {append_errc::not_leader, errc::not_coordinator},
      {append_errc::storage_error, errc::not_coordinator},
      {append_errc::not_enough_replicas, errc::coordinator_not_available},
      {append_errc::timed_out, errc::request_timed_out},
      {append_errc::record_too_large, errc::invalid_commit_offset_size},
      {std::make_error_code(std::errc::io_error), errc::coordinator_not_available},
  };
  for (const auto& [fail, want] : cases) {
    log.fail = fail;
    EXPECT_EQ(commit(gc, "g", -1, "", 1), std::vector<errc>{want}) << fail.message();
    EXPECT_TRUE(gc.fetch_committed("g", std::nullopt).offsets.empty());
  }
  log.fail = {};
  EXPECT_EQ(commit(gc, "g", -1, "", 1), std::vector<errc>{errc::ok});
  // The oversized metadata is refused before any append.
  EXPECT_EQ(commit(gc, "g", -1, "", 1, std::string(5000, 'm')), std::vector<errc>{errc::offset_metadata_too_large});
  // Deleting the group with a failing log: the tombstones' append maps the same way.
  log.fail = append_errc::not_leader;
  EXPECT_EQ(delete_groups(gc, {"g"}), std::vector<errc>{errc::not_coordinator});
}

TEST(group_errors, failed_group_write_fails_the_sync_with_the_mapped_error) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  ASSERT_TRUE(gc.begin_loading(gc.partition_for("g")));
  ASSERT_TRUE(gc.finish_loading(gc.partition_for("g"), 1));
  std::string m = join_member(gc, "g");
  log.fail = append_errc::not_leader;
  auto s = sync_async(gc, "g", m, 1, {{m, {1}}});
  EXPECT_EQ(get(s).error, errc::not_coordinator);
  // Kafka: the group goes back to rebalancing.
  EXPECT_EQ(gc.describe("g").state, "PreparingRebalance");
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::rebalance_in_progress);
}

// KIP-345: a static member's rejoin is answered once its new member id is
// stored; when that fails the old id stays valid (Kafka's
// updateStaticMemberAndRebalance).
TEST(group_errors, failed_static_rejoin_keeps_the_old_member_id) {
  memory_log log;
  group_coordinator gc(cluster_config(), log);
  gc.start();
  ASSERT_TRUE(gc.begin_loading(gc.partition_for("g")));
  ASSERT_TRUE(gc.finish_loading(gc.partition_for("g"), 1));
  auto f = join_async(gc, join_req("g", "", "instance-1"));
  auto r = get(f);
  ASSERT_EQ(r.error, errc::ok);
  auto s = sync_async(gc, "g", r.member_id, 1, {{r.member_id, {7}}});
  ASSERT_EQ(get(s).error, errc::ok);
  log.fail = append_errc::timed_out;
  auto f2 = join_async(gc, join_req("g", "", "instance-1"));
  auto r2 = get(f2);
  EXPECT_EQ(r2.error, errc::rebalance_in_progress);  // group write timed out
  EXPECT_EQ(r2.member_id, "");
  EXPECT_EQ(gc.heartbeat("g", r.member_id, std::string("instance-1"), 1), errc::ok);
  log.fail = {};
  auto f3 = join_async(gc, join_req("g", "", "instance-1"));
  auto r3 = get(f3);
  EXPECT_EQ(r3.error, errc::ok);
  EXPECT_NE(r3.member_id, r.member_id);
  EXPECT_EQ(gc.heartbeat("g", r.member_id, std::string("instance-1"), 1), errc::fenced_instance_id);
}

TEST(group_errors, request_validation_and_group_administration) {
  memory_log log;
  coordinator_config cfg = cluster_config();
  cfg.owns_every_partition = true;
  cfg.max_group_size = 1;
  group_coordinator gc(cfg, log);
  gc.start();
  auto empty_id = join_async(gc, join_req("", ""));
  EXPECT_EQ(get(empty_id).error, errc::invalid_group_id);
  auto bad_timeout = join_req("g", "");
  bad_timeout.session_timeout_ms = 1;
  auto bt = join_async(gc, bad_timeout);
  EXPECT_EQ(get(bt).error, errc::invalid_session_timeout);
  std::string m = stable_group(gc, "g");
  auto full = join_async(gc, join_req("g", ""));
  EXPECT_EQ(get(full).error, errc::group_max_size_reached);
  auto unknown = join_async(gc, join_req("g", "nobody"));
  EXPECT_EQ(get(unknown).error, errc::unknown_member_id);
  auto other_protocol = join_req("g", m);
  other_protocol.protocol_type = "connect";
  auto op = join_async(gc, other_protocol);
  EXPECT_EQ(get(op).error, errc::inconsistent_group_protocol);
  EXPECT_EQ(commit(gc, "", -1, "", 1), std::vector<errc>{errc::invalid_group_id});
  EXPECT_EQ(commit(gc, "g", 1, m, 1), std::vector<errc>{errc::ok});
  EXPECT_EQ(delete_offsets(gc, "g", /*subscribed=*/true), errc::group_subscribed_to_topic);
  EXPECT_EQ(delete_offsets(gc, "absent"), errc::group_id_not_found);
  EXPECT_EQ(delete_groups(gc, {"", "g", "absent"}),
            (std::vector<errc>{errc::invalid_group_id, errc::non_empty_group, errc::group_id_not_found}));
  // A stopped coordinator is not available (Kafka's isActive).
  gc.stop();
  EXPECT_EQ(gc.heartbeat("g", m, std::nullopt, 1), errc::coordinator_not_available);
}
