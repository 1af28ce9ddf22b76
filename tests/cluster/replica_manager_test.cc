// The replica manager: the only path into a partition's log, as leader and as
// follower, with leadership, min.insync.replicas, idempotence and epoch checks.
#include "cluster/replica_manager.h"

#include <gtest/gtest.h>

#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_header.h"
#include "storage/log.h"
#include "utils/batch_factory.h"

namespace strata::cluster {
namespace {

using storage::testing::make_batch;
using storage::testing::read_all;
using storage::testing::temp_dir;

constexpr int32_t kSelf = 1;

partition_state state(int32_t leader, int32_t epoch, std::vector<int32_t> replicas, std::vector<int32_t> isr) {
  partition_state s;
  s.leader = leader;
  s.leader_epoch = epoch;
  s.replicas = std::move(replicas);
  s.isr = std::move(isr);
  return s;
}

// One batch of `records` records from an idempotent producer.
std::vector<uint8_t> idempotent_batch(int64_t pid, int16_t epoch, int32_t base_sequence, int records = 1) {
  records::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = base_sequence;
  std::vector<records::record_data> recs(static_cast<size_t>(records));
  std::vector<uint8_t> value = {'v'};
  for (auto& r : recs) {
    r.timestamp = 1000;
    r.value = records::bytes_view(value);
  }
  std::vector<uint8_t> out;
  EXPECT_EQ(records::build_batch(o, recs, out), records::errc::ok);
  return out;
}

batch_identity identity(const std::vector<uint8_t>& batch) {
  return identity_of(records::batch_header_view(batch.data()));
}

struct fixture {
  temp_dir dir;
  replica_manager rm{kSelf};
  std::shared_ptr<partition> p;

  explicit fixture(const partition_state& s) {
    auto lg = storage::log::open(storage::testing::log_options(dir.path())).value();
    p = rm.add("t", 0, lg, s);
  }
  fixture() : fixture(replica_manager(kSelf).single_node_state()) {}

  storage::result<appended> produce(std::vector<uint8_t>& batch, int16_t acks = 1, int32_t min_isr = 1) {
    leader_append a;
    a.batches = batch;
    a.first = identity(batch);
    a.required_acks = acks;
    a.min_insync_replicas = min_isr;
    a.now_ms = 5000;
    return rm.append_as_leader(*p, a);
  }
};

TEST(replica_manager, a_single_node_leads_and_its_high_watermark_follows_each_append) {
  fixture f;
  EXPECT_TRUE(f.p->is_leader());
  EXPECT_EQ(f.rm.get("t", 0), f.p);
  bool woken = false;
  f.p->hw_waiters().add(3, [&] { woken = true; });
  auto b = make_batch(3, 10, 1000);
  auto r = f.produce(b, -1);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->base_offset, 0);
  EXPECT_EQ(r->last_offset, 2);
  EXPECT_EQ(f.p->high_watermark(), 3);
  EXPECT_TRUE(woken);
  EXPECT_EQ(f.rm.replication_of(*f.p, r->last_offset, 1), replication_status::done);
  // Becoming leader put (epoch 0, offset 0) in the leader-epoch cache.
  EXPECT_EQ(f.p->log().latest_epoch(), 0);
}

TEST(replica_manager, a_broker_that_does_not_lead_refuses_appends_and_consumer_reads) {
  fixture f(state(2, 4, {2, kSelf}, {2, kSelf}));
  EXPECT_EQ(f.p->role(), replica_role::follower);
  auto b = make_batch(1, 10, 1000);
  auto r = f.produce(b);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::not_leader_or_follower);
  EXPECT_EQ(f.p->log_end_offset(), 0);
  read_request rr;
  rr.max_bytes = 1000;
  auto rd = f.rm.read(f.p, rr);
  ASSERT_FALSE(rd);
  EXPECT_EQ(rd.error(), errc::not_leader_or_follower);
}

TEST(replica_manager, acks_all_below_min_insync_replicas_is_refused_before_the_append) {
  fixture f(state(kSelf, 1, {kSelf, 2, 3}, {kSelf}));
  auto b = make_batch(1, 10, 1000);
  auto r = f.produce(b, -1, 2);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::not_enough_replicas);
  EXPECT_EQ(f.p->log_end_offset(), 0);
  // acks=1 is not held to the minimum.
  EXPECT_TRUE(f.produce(b, 1, 2));
}

TEST(replica_manager, with_followers_in_the_isr_acks_all_waits_for_the_high_watermark) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf, 2}));
  auto b = make_batch(2, 10, 1000);
  auto r = f.produce(b, -1, 2);
  ASSERT_TRUE(r);
  EXPECT_EQ(f.p->log_end_offset(), 2);
  EXPECT_EQ(f.p->high_watermark(), 0);  // the follower has not fetched
  EXPECT_EQ(f.rm.replication_of(*f.p, r->last_offset, 2), replication_status::waiting);
  std::error_code answer = errc::request_timed_out;
  bool answered = false;
  f.rm.when_replicated(f.p, r->last_offset, 2, [&](std::error_code e) {
    answered = true;
    answer = e;
  });
  EXPECT_FALSE(answered);
  f.p->log().set_high_watermark(1);
  f.p->watermarks_moved();
  EXPECT_FALSE(answered);
  f.p->log().set_high_watermark(2);
  f.p->watermarks_moved();
  EXPECT_TRUE(answered);
  EXPECT_FALSE(answer) << answer.message();
}

TEST(replica_manager, a_waiting_commit_is_answered_when_leadership_moves) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf, 2}));
  auto b = make_batch(1, 10, 1000);
  auto r = f.produce(b, -1, 1);
  ASSERT_TRUE(r);
  std::error_code answer;
  bool answered = false;
  f.rm.when_replicated(f.p, r->last_offset, 1, [&](std::error_code e) {
    answered = true;
    answer = e;
  });
  EXPECT_FALSE(answered);
  ASSERT_FALSE(f.rm.become_follower(*f.p, state(2, 2, {kSelf, 2}, {2})));
  EXPECT_TRUE(answered);
  EXPECT_EQ(answer, errc::not_leader_or_follower);
}

// KIP-112: the log's directory fails while an acks=all append waits: it is never
// acknowledged (partition_offline: KAFKA_STORAGE_ERROR), even if the high watermark
// could still move, and every later append or read is refused the same way.
TEST(replica_manager, a_log_gone_offline_is_never_acknowledged_and_refuses_everything) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf, 2}));
  auto b = make_batch(1, 10, 1000);
  auto r = f.produce(b, -1, 2);
  ASSERT_TRUE(r);
  std::error_code answer;
  bool answered = false;
  f.rm.when_replicated(f.p, r->last_offset, 2, [&](std::error_code e) {
    answered = true;
    answer = e;
  });
  EXPECT_FALSE(answered);
  f.p->log().take_offline();  // what log_manager does to every log of a failed dir
  EXPECT_FALSE(f.p->online());
  EXPECT_NE(f.p->offline_reason().find(f.dir.path()), std::string::npos) << f.p->offline_reason();
  EXPECT_EQ(f.rm.replication_of(*f.p, r->last_offset, 2), replication_status::offline);
  f.p->wake_all();  // the broker wakes what waits on the dir's partitions
  EXPECT_TRUE(answered);
  EXPECT_EQ(answer, errc::partition_offline);
  auto b2 = make_batch(1, 10, 1000);
  EXPECT_EQ(f.produce(b2, 1).error(), errc::partition_offline);
  read_request rr;
  rr.max_bytes = 1 << 20;
  EXPECT_EQ(f.rm.read(f.p, rr).error(), errc::partition_offline);
  EXPECT_EQ(f.rm.check_leader(*f.p, -1), errc::partition_offline);
}

TEST(replica_manager, the_isr_below_the_minimum_after_the_append_is_reported) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf}));
  auto b = make_batch(1, 10, 1000);
  auto r = f.produce(b, 1);
  ASSERT_TRUE(r);
  EXPECT_EQ(f.rm.replication_of(*f.p, r->last_offset, 2), replication_status::not_enough_replicas_after_append);
}

TEST(replica_manager, idempotent_retries_are_answered_with_the_original_offset) {
  fixture f;
  auto first = idempotent_batch(42, 0, 0, 2);
  auto r1 = f.produce(first);
  ASSERT_TRUE(r1);
  auto retry = idempotent_batch(42, 0, 0, 2);
  auto r2 = f.produce(retry);
  ASSERT_TRUE(r2);
  EXPECT_TRUE(r2->duplicate);
  EXPECT_EQ(r2->base_offset, r1->base_offset);
  EXPECT_EQ(f.p->log_end_offset(), 2);
  auto gap = idempotent_batch(42, 0, 5);
  auto r3 = f.produce(gap);
  ASSERT_FALSE(r3);
  EXPECT_EQ(r3.error(), errc::out_of_order_sequence);
  auto next = idempotent_batch(42, 0, 2);  // same epoch, next sequence
  EXPECT_TRUE(f.produce(next));
  auto bumped = idempotent_batch(42, 1, 0);  // a new epoch starts at sequence 0
  EXPECT_TRUE(f.produce(bumped));
  auto zombie = idempotent_batch(42, 0, 3);  // the old epoch is fenced
  auto r4 = f.produce(zombie);
  ASSERT_FALSE(r4);
  EXPECT_EQ(r4.error(), errc::invalid_producer_epoch);
}

TEST(replica_manager, a_follower_keeps_the_leaders_offsets_and_epochs) {
  fixture f(state(2, 5, {2, kSelf}, {2, kSelf}));
  // Batches as the leader wrote them: offsets 0-1 in epoch 3, then 2-4 in epoch 5.
  auto b1 = make_batch(2, 10, 1000);
  records::batch_header_mut(b1.data()).set_partition_leader_epoch(3);
  auto b2 = make_batch(3, 10, 2000);
  records::batch_header_mut(b2.data()).set_base_offset(2);
  records::batch_header_mut(b2.data()).set_partition_leader_epoch(5);
  std::vector<uint8_t> both = b1;
  both.insert(both.end(), b2.begin(), b2.end());
  auto r = f.rm.append_as_follower(*f.p, both, 3000);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(r->base_offset, 0);
  EXPECT_EQ(r->last_offset, 4);
  EXPECT_EQ(f.p->log_end_offset(), 5);
  EXPECT_EQ(f.p->high_watermark(), 0);  // a follower's HW comes from the leader
  auto seen = read_all(f.p->log());
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].base_offset, 2);
  EXPECT_EQ(seen[1].leader_epoch, 5);
  EXPECT_EQ(f.p->log().epoch_for_offset(1), 3);
  EXPECT_EQ(f.p->log().epoch_for_offset(3), 5);
  // Offsets the follower already has are refused: it truncates first.
  auto again = make_batch(1, 10, 4000);
  records::batch_header_mut(again.data()).set_base_offset(4);
  auto r2 = f.rm.append_as_follower(*f.p, again, 3000);
  ASSERT_FALSE(r2);
  EXPECT_EQ(r2.error(), storage::errc::invalid_offset);
}

TEST(replica_manager, a_leader_refuses_follower_appends) {
  fixture f;
  auto b = make_batch(1, 10, 1000);
  auto r = f.rm.append_as_follower(*f.p, b, 3000);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), errc::not_leader_or_follower);
}

TEST(replica_manager, followers_read_to_the_log_end_and_consumers_to_the_high_watermark) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf, 2}));
  auto b = make_batch(4, 10, 1000);
  ASSERT_TRUE(f.produce(b));
  f.p->log().set_high_watermark(0);
  read_request rr;
  rr.max_bytes = 100000;
  rr.min_one_batch = true;
  auto consumer = f.rm.read(f.p, rr);
  ASSERT_TRUE(consumer);
  EXPECT_TRUE(consumer->data.ranges.empty());
  EXPECT_EQ(consumer->high_watermark, 0);
  rr.who = reader::follower;
  auto follower = f.rm.read(f.p, rr);
  ASSERT_TRUE(follower);
  EXPECT_EQ(follower->data.bytes, b.size());
  EXPECT_EQ(follower->log_end_offset, 4);
}

TEST(replica_manager, stale_and_future_leader_epochs_are_fenced) {
  fixture f(state(kSelf, 6, {kSelf}, {kSelf}));
  EXPECT_FALSE(f.rm.check_leader(*f.p, -1));
  EXPECT_FALSE(f.rm.check_leader(*f.p, 6));
  EXPECT_EQ(f.rm.check_leader(*f.p, 5), errc::fenced_leader_epoch);
  EXPECT_EQ(f.rm.check_leader(*f.p, 7), errc::unknown_leader_epoch);
  // A transition to an older epoch than the partition has is refused.
  EXPECT_EQ(f.rm.become_follower(*f.p, state(2, 5, {kSelf, 2}, {2})), errc::fenced_leader_epoch);
  EXPECT_TRUE(f.p->is_leader());
  // Becoming leader in a new epoch records (epoch, LEO) before anything is written.
  auto b = make_batch(2, 10, 1000);
  ASSERT_TRUE(f.produce(b));
  ASSERT_FALSE(f.rm.become_leader(*f.p, state(kSelf, 9, {kSelf}, {kSelf})));
  EXPECT_EQ(f.p->leader_epoch(), 9);
  EXPECT_EQ(f.p->log().end_offset_for_epoch(6), (std::pair<int32_t, int64_t>{6, 2}));
}

TEST(replica_manager, truncation_forgets_producer_state_past_the_cut) {
  fixture f;
  auto a = idempotent_batch(7, 0, 0);
  ASSERT_TRUE(f.produce(a));
  auto b = idempotent_batch(7, 0, 1);
  ASSERT_TRUE(f.produce(b));
  ASSERT_FALSE(f.rm.truncate_to(*f.p, 1));
  EXPECT_EQ(f.p->log_end_offset(), 1);
  // Sequence 1 is gone with the cut: sending it again appends it (rebuilt state knows
  // only sequence 0), where before the cut it would have been a duplicate.
  auto again = idempotent_batch(7, 0, 1);
  auto r = f.produce(again);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->duplicate);
  EXPECT_EQ(r->base_offset, 1);
}

TEST(replica_manager, a_caught_up_follower_joins_the_isr_even_when_its_fetch_read_nothing) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf}));
  std::vector<partition_state> proposed;
  f.rm.set_isr_change_handler([&](const std::shared_ptr<partition>&, const partition_state& s) { proposed.push_back(s); });
  auto b = make_batch(3, 10, 1000);
  ASSERT_TRUE(f.produce(b));
  read_request rr;
  rr.who = reader::follower;
  rr.replica_id = 2;
  rr.offset = 3;  // it has everything
  rr.now_ms = 10'000;
  // A full response skipped this partition: no read, but the position counts.
  f.rm.follower_fetched(f.p, rr);
  ASSERT_EQ(proposed.size(), 1u);
  EXPECT_EQ(proposed[0].isr, (std::vector<int32_t>{kSelf, 2}));
  // Committed: the HW now waits for the follower too.
  f.rm.isr_committed(*f.p, proposed[0], 10'000);
  EXPECT_EQ(f.p->state().isr.size(), 2u);
  EXPECT_EQ(f.rm.statistics().isr_expands, 1u);
}

TEST(replica_manager, a_follower_behind_stays_out_of_the_isr) {
  fixture f(state(kSelf, 1, {kSelf, 2}, {kSelf}));
  int proposals = 0;
  f.rm.set_isr_change_handler([&](const std::shared_ptr<partition>&, const partition_state&) { ++proposals; });
  auto b = make_batch(3, 10, 1000);
  ASSERT_TRUE(f.produce(b));
  read_request rr;
  rr.who = reader::follower;
  rr.replica_id = 2;
  rr.offset = 0;
  rr.max_bytes = 100000;
  rr.now_ms = 10'000;
  ASSERT_TRUE(f.rm.read(f.p, rr));
  EXPECT_EQ(proposals, 0);  // its log end (0) is below the high watermark (3)
  rr.offset = 3;
  ASSERT_TRUE(f.rm.read(f.p, rr));
  EXPECT_EQ(proposals, 1);
}

TEST(replica_manager, removing_a_partition_wakes_what_waits_on_it) {
  fixture f;
  int woken = 0;
  f.p->hw_waiters().add(100, [&] { ++woken; });
  f.p->log_end_waiters().add(100, [&] { ++woken; });
  f.rm.remove("t", 0);
  EXPECT_EQ(woken, 2);
  EXPECT_EQ(f.rm.get("t", 0), nullptr);
  EXPECT_EQ(f.p->role(), replica_role::none);
}

}  // namespace
}  // namespace strata::cluster
