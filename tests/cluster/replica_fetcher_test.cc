// The replica fetcher against a real leader: the `strata` binary on a free loopback
// port (a single node leads its partitions with replicas [its id] and serves another
// replica id's Fetch like a consumer's, to the HW, which is the log end there). The
// follower is a local replica_manager (broker 2) with a follower partition on a temp
// dir log.
#include "cluster/replica_fetcher.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <thread>

#include "broker_process.h"
#include "client/broker_connection.h"
#include "cluster/replica_fetcher_manager.h"
#include "cluster/replica_manager.h"
#include "protocol/generated/messages.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/batch_header.h"
#include "protocol/records/batch_validate.h"
#include "storage/log.h"
#include "utils/batch_factory.h"
#include "utils/scripted_leader.h"

namespace strata::cluster {
namespace {

using namespace std::chrono_literals;
using client::clock;
using protocol::error_code;

constexpr int32_t kLeaderId = 1;
constexpr int32_t kSelf = 2;

// Waits for `cond`, polling, at most `limit`.
bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 4000ms) {
  const auto deadline = clock::now() + limit;
  while (!cond()) {
    if (clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::vector<uint8_t> batch_of(int records, const std::string& value) {
  records::batch_builder b;
  for (int i = 0; i < records; ++i)
    b.add(1'700'000'000'000 + i, records::as_bytes("k"), records::as_bytes(value + std::to_string(i)));
  std::vector<uint8_t> out;
  EXPECT_EQ(b.finish(out), records::errc::ok);
  return out;
}

// The real broker as leader, and a client to produce to it and read its log.
struct leader {
  test::broker_process broker{{"broker.id=1", "auto.create.topics.enable=false"}};
  std::unique_ptr<client::broker_connection> conn;
  protocol::uuid topic_id;

  leader() { connect(); }
  void connect() {
    conn = std::make_unique<client::broker_connection>(client::endpoint{"127.0.0.1", uint16_t(broker.port())},
                                                       kLeaderId, clock::now() + 5s);
  }
  source_broker source() const { return {kLeaderId, "127.0.0.1", uint16_t(broker.port())}; }

  void create(const std::string& topic) {
    protocol::create_topics_request req;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    t.num_partitions = 1;
    t.replication_factor = 1;
    req.timeout_ms = 5000;
    auto resp = conn->call<protocol::create_topics_response>(req, clock::now() + 5s);
    ASSERT_EQ(resp.topics.at(0).error_code, 0);
    topic_id = resp.topics.at(0).topic_id;
  }

  // Appends one batch of `records` records; returns its base offset.
  int64_t produce(const std::string& topic, int records, const std::string& value = "v") {
    auto batch = batch_of(records, value);
    protocol::produce_request req;
    req.acks = -1;
    req.timeout_ms = 5000;
    auto& td = req.topic_data.emplace_back();
    td.name = topic;
    auto& pd = td.partition_data.emplace_back();
    pd.index = 0;
    pd.records = protocol::records::copy_of(batch);
    auto resp = conn->call<protocol::produce_response>(req, clock::now() + 5s);
    const auto& pr = resp.responses.at(0).partition_responses.at(0);
    EXPECT_EQ(pr.error_code, 0);
    return pr.base_offset;
  }

  void delete_records_before(const std::string& topic, int64_t offset) {
    protocol::delete_records_request req;
    req.timeout_ms = 5000;
    auto& t = req.topics.emplace_back();
    t.name = topic;
    t.partitions.push_back({0, offset});
    auto resp = conn->call<protocol::delete_records_response>(req, clock::now() + 5s);
    ASSERT_EQ(resp.topics.at(0).partitions.at(0).error_code, 0);
  }

  // The leader's log from `from` to its HW, as a consumer reads it: whole batches.
  std::vector<uint8_t> log_bytes(const std::string& topic, int64_t from = 0, int64_t* hw = nullptr) {
    protocol::fetch_request req;
    req.max_bytes = 64 << 20;
    req.session_epoch = -1;
    auto& ft = req.topics.emplace_back();
    ft.topic = topic;
    auto& fp = ft.partitions.emplace_back();
    fp.fetch_offset = from;
    fp.partition_max_bytes = 64 << 20;
    std::vector<uint8_t> frame;
    auto resp = conn->call_at<protocol::fetch_response>(req, 12, clock::now() + 5s, frame);
    const auto& pd = resp.responses.at(0).partitions.at(0);
    EXPECT_EQ(pd.error_code, 0);
    if (hw) *hw = pd.high_watermark;
    return {pd.records.memory.begin(), pd.records.memory.end()};
  }
};

// The follower's whole log, as stored.
std::vector<uint8_t> local_bytes(const storage::log& log) {
  auto rd = log.read(log.log_start_offset(), INT32_MAX, log.log_end_offset(), true);
  EXPECT_TRUE(rd);
  std::vector<uint8_t> out;
  if (rd) {
    EXPECT_TRUE(storage::append_range_bytes(rd.value(), out));
  }
  return out;
}

// The batches of `bytes` from base offset `from` on.
std::vector<uint8_t> batches_from(const std::vector<uint8_t>& bytes, int64_t from) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    records::batch_header_view h(bytes.data() + pos);
    if (h.base_offset() >= from) break;
    pos += size_t(h.total_size());
  }
  return {bytes.begin() + long(pos), bytes.end()};
}

// The first `n` batches of `bytes`.
std::vector<uint8_t> first_batches(const std::vector<uint8_t>& bytes, int n) {
  size_t pos = 0;
  for (int i = 0; i < n && pos < bytes.size(); ++i)
    pos += size_t(records::batch_header_view(bytes.data() + pos).total_size());
  return {bytes.begin(), bytes.begin() + long(pos)};
}

// A batch as a leader in `epoch` would have written it at `base_offset`.
std::vector<uint8_t> stamped(std::vector<uint8_t> batch, int64_t base_offset, int32_t epoch) {
  records::batch_header_mut h(batch.data());
  h.set_base_offset(base_offset);
  h.set_partition_leader_epoch(epoch);
  return batch;
}

partition_state follower_of_leader(int32_t epoch = 0) {
  partition_state s;
  s.leader = kLeaderId;
  s.leader_epoch = epoch;
  s.replicas = {kLeaderId, kSelf};
  s.isr = {kLeaderId, kSelf};
  return s;
}

fetcher_config fast_config() {
  fetcher_config c;
  c.broker_id = kSelf;
  c.fetch_wait_max_ms = 100;
  c.fetch_backoff_ms = 100;
  c.socket_timeout_ms = 3000;
  return c;
}

// A follower replica of topic `topic`-0 on a temp dir log.
struct follower {
  storage::testing::temp_dir dir;
  replica_manager rm{kSelf};
  std::shared_ptr<partition> p;
  replica_fetcher_manager fetchers{rm, fast_config()};

  explicit follower(const std::string& topic = "t", fetcher_config cfg = fast_config()) : fetchers(rm, cfg) {
    auto opts = storage::testing::log_options(dir.path());
    opts.topic = topic;
    opts.dir = dir.path() + "/" + topic + "-0";
    auto lg = storage::log::open(opts).value();
    p = rm.add(topic, 0, lg, follower_of_leader());
  }
  storage::log& log() { return p->log(); }
  void append(std::vector<uint8_t> batches) {
    auto r = rm.append_as_follower(*p, batches, 0);
    ASSERT_TRUE(r) << r.error().message();
  }
  std::optional<partition_fetch_state> state() const {
    auto all = fetchers.fetch_states();
    if (all.empty()) return std::nullopt;
    return all.front();
  }
};

// The follower holds exactly the leader's log: the same batches, byte for byte, at the
// same offsets and epochs (both are in the bytes), and its HW is the leader's.
void expect_same_log(leader& l, follower& f, const std::string& topic = "t") {
  int64_t hw = -1;
  auto theirs = l.log_bytes(topic, f.log().log_start_offset(), &hw);
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == hw && f.log().high_watermark() == hw; }))
      << "LEO " << f.log().log_end_offset() << " HW " << f.log().high_watermark() << ", leader's HW " << hw;
  EXPECT_EQ(local_bytes(f.log()), theirs);
}

TEST(replica_fetcher, a_follower_copies_the_leaders_batches_as_they_are_and_its_hw_follows) {
  leader l;
  l.create("t");
  l.produce("t", 3, "a");
  l.produce("t", 1, "b");
  l.produce("t", 5, "c");
  follower f;
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 9);
  EXPECT_EQ(f.log().latest_epoch(), 0);  // learnt from the leader's batches
  // Appends while it is fetching arrive too (a long poll woken by the leader's append).
  l.produce("t", 2, "d");
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 11);
  auto s = f.state();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->phase, fetch_phase::fetching);
  EXPECT_EQ(s->source_broker, kLeaderId);
  EXPECT_TRUE(eventually([&] {
    auto st = f.state();
    return st && st->leader_high_watermark == 11 && st->lag == 0 && st->fetch_offset == 11;
  }));
  EXPECT_EQ(f.fetchers.fetcher_count(), 1u);
}

TEST(replica_fetcher, with_topic_ids_it_fetches_at_the_newest_version) {
  leader l;
  l.create("t");
  ASSERT_FALSE(l.topic_id.is_zero());
  l.produce("t", 4, "a");
  follower f;
  f.fetchers.add_partitions(l.source(), std::vector<follower_partition>{{f.p, l.topic_id}});
  expect_same_log(l, f);
  l.produce("t", 1, "b");
  expect_same_log(l, f);
}

TEST(replica_fetcher, a_tail_in_an_epoch_the_leader_never_had_is_cut_at_the_high_watermark) {
  leader l;
  l.create("t");
  l.produce("t", 3, "a");  // 0-2
  l.produce("t", 2, "b");  // 3-4
  follower f;
  // Ours: the leader's first batch, then 4 records of epoch 1 at 3-6, HW 3.
  f.append(first_batches(l.log_bytes("t"), 1));
  f.append(stamped(batch_of(4, "x"), 3, 1));
  f.log().set_high_watermark(3);
  ASSERT_EQ(f.log().log_end_offset(), 7);
  ASSERT_EQ(f.log().latest_epoch(), 1);
  // OffsetsForLeaderEpoch(1) is undefined at the leader (its latest epoch is 0): cut
  // to our HW, then fetch 3-4.
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 5);
  EXPECT_EQ(f.log().latest_epoch(), 0);
}

TEST(replica_fetcher, records_past_the_leaders_end_are_cut_at_its_end_for_our_epoch) {
  leader l;
  l.create("t");
  l.produce("t", 3, "a");  // 0-2
  l.produce("t", 2, "b");  // 3-4
  follower f;
  // Ours: the whole leader log, then 3 records at 5-7 in the same epoch; HW 0.
  f.append(l.log_bytes("t"));
  f.append(stamped(batch_of(3, "x"), 5, 0));
  ASSERT_EQ(f.log().log_end_offset(), 8);
  ASSERT_EQ(f.log().high_watermark(), 0);
  // OffsetsForLeaderEpoch(0) = (0, 5): cut to 5, nothing below it lost.
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 5 && f.log().high_watermark() == 5; }));
  expect_same_log(l, f);
  // New data at the leader continues from there.
  l.produce("t", 1, "c");
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 6);
}

TEST(replica_fetcher, a_log_ahead_of_the_leaders_end_while_fetching_is_truncated_to_it) {
  leader l;
  l.create("t");
  l.produce("t", 5, "a");
  follower f;
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
  // Records the leader never had appear past its end (an unclean election's leftovers,
  // in a later epoch). The next Fetch, at 8, is OFFSET_OUT_OF_RANGE: ListOffsets says
  // the leader ends at 5, and the follower truncates there.
  f.append(stamped(batch_of(3, "x"), 5, 1));
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 5; }));
  expect_same_log(l, f);
  l.produce("t", 2, "b");
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 7);
}

TEST(replica_fetcher, a_follower_behind_the_leaders_log_start_restarts_its_log_there) {
  leader l;
  l.create("t");
  l.produce("t", 3, "a");  // 0-2
  l.produce("t", 2, "b");  // 3-4
  l.delete_records_before("t", 3);
  follower f;
  // Fetch at 0 is below the leader's log start: the log is emptied and restarts at 3.
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 5; }));
  EXPECT_EQ(f.log().log_start_offset(), 3);
  EXPECT_EQ(local_bytes(f.log()), batches_from(l.log_bytes("t", 3), 3));
  EXPECT_TRUE(eventually([&] { return f.log().high_watermark() == 5; }));
}

TEST(replica_fetcher, removed_partitions_are_no_longer_fetched) {
  leader l;
  l.create("t");
  l.produce("t", 1, "a");
  l.produce("t", 1, "b");
  follower f;
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
  const auto start = clock::now();
  f.fetchers.remove_partitions({{"t", 0}});
  EXPECT_LT(clock::now() - start, 1s);
  EXPECT_TRUE(f.fetchers.fetch_states().empty());
  EXPECT_EQ(f.fetchers.fetcher_count(), 0u);  // an idle fetcher stops
  // Once remove_partitions returned the log is ours alone: cut it, and see that nothing
  // refills it while the leader gets more (several fetch rounds of 100 ms).
  ASSERT_FALSE(f.rm.truncate_to(*f.p, 1));
  l.produce("t", 3, "b");
  std::this_thread::sleep_for(400ms);
  EXPECT_EQ(f.log().log_end_offset(), 1);
  // Added again, it truncates (nothing to cut) and catches up.
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
}

TEST(replica_fetcher, a_lost_leader_is_retried_with_backoff_and_fetching_resumes_when_it_is_back) {
  leader l;
  l.create("t");
  l.produce("t", 3, "a");
  follower f;
  f.fetchers.add_partitions(l.source(), {f.p});
  expect_same_log(l, f);
  const int port = l.broker.port();
  l.conn.reset();
  l.broker.kill_now();
  // The fetcher notices and backs off.
  ASSERT_TRUE(eventually([&] {
    auto s = f.state();
    return s && s->last_error == static_cast<int16_t>(error_code::network_exception);
  }));
  EXPECT_EQ(f.log().log_end_offset(), 3);
  // The same broker comes back on the same port and data directory.
  l.broker.start(
      {"broker.id=1", "auto.create.topics.enable=false", "listeners=PLAINTEXT://127.0.0.1:" + std::to_string(port)});
  ASSERT_EQ(l.broker.port(), port);
  l.connect();
  l.produce("t", 2, "b");
  expect_same_log(l, f);
  EXPECT_EQ(f.log().log_end_offset(), 5);
  EXPECT_TRUE(eventually([&] {
    auto s = f.state();
    return s && s->last_error == 0 && s->phase == fetch_phase::fetching;
  }));
}

TEST(replica_fetcher, a_partition_the_leader_does_not_have_is_retried_after_the_backoff) {
  leader l;
  follower f("missing");
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] {
    auto s = f.state();
    return s && s->last_error == static_cast<int16_t>(error_code::unknown_topic_or_partition) && s->delayed;
  }));
  // Once the topic exists it is fetched.
  l.create("missing");
  l.produce("missing", 2, "a");
  expect_same_log(l, f, "missing");
}

TEST(replica_fetcher, a_failed_local_append_marks_the_partition_failed) {
  leader l;
  l.create("t");
  l.produce("t", 2, "a");
  l.produce("t", 2, "b");
  follower f;
  // Our log has the leader's first batch, so there is nothing to cut (no truncation
  // touches the log) and the first fetched records hit the failing append.
  f.append(first_batches(l.log_bytes("t"), 1));
  ASSERT_FALSE(f.log().close());
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] {
    auto s = f.state();
    return s && s->phase == fetch_phase::failed;
  }));
  EXPECT_EQ(f.state()->last_error, static_cast<int16_t>(error_code::kafka_storage_error));
  EXPECT_EQ(f.log().log_end_offset(), 2);
  // Added again (the controller's next LeaderAndIsr), it is tried again: here with a
  // log that works again, so the attempt shows (checking the phase right after the add
  // raced the thread's next failing attempt on the closed log).
  auto opts = storage::testing::log_options(f.dir.path() + "/again");
  opts.topic = "t";
  opts.dir = f.dir.path() + "/again/t-0";
  auto p2 = f.rm.add("t", 0, storage::log::open(opts).value(), follower_of_leader());
  auto first = first_batches(l.log_bytes("t"), 1);
  ASSERT_TRUE(f.rm.append_as_follower(*p2, first, 0));
  f.fetchers.add_partitions(l.source(), {p2});
  ASSERT_TRUE(eventually([&] { return p2->log().log_end_offset() == 4; }));
  EXPECT_EQ(f.state()->phase, fetch_phase::fetching);
}

TEST(replica_fetcher, a_local_log_that_cannot_be_truncated_marks_the_partition_failed) {
  leader l;
  l.create("t");
  l.produce("t", 2, "a");
  follower f;
  ASSERT_FALSE(f.log().close());  // appends and truncation now fail
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] {
    auto s = f.state();
    return s && s->phase == fetch_phase::failed;
  }));
  EXPECT_EQ(f.state()->last_error, static_cast<int16_t>(error_code::kafka_storage_error));
  EXPECT_EQ(f.log().log_end_offset(), 0);
}

TEST(replica_fetcher, shutdown_interrupts_a_long_poll_and_joins) {
  leader l;
  l.create("t");
  l.produce("t", 1, "a");
  auto cfg = fast_config();
  cfg.fetch_wait_max_ms = 20000;  // a long poll that would outlast the test
  follower f("t", cfg);
  f.fetchers.add_partitions(l.source(), {f.p});
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 1; }));
  // Give the next long poll time to be sent (nothing to wait for: it is parked at the leader).
  std::this_thread::sleep_for(100ms);
  const auto start = clock::now();
  f.fetchers.shutdown();
  EXPECT_LT(clock::now() - start, 1s);
  EXPECT_EQ(f.fetchers.fetcher_count(), 0u);
  // Ignored once shut down.
  f.fetchers.add_partitions(l.source(), {f.p});
  EXPECT_EQ(f.fetchers.fetcher_count(), 0u);
}

TEST(replica_fetcher, partitions_move_between_fetchers_when_their_leader_moves) {
  leader a;
  a.create("t");
  a.produce("t", 2, "a");
  follower f;
  f.fetchers.add_partitions(a.source(), {f.p});
  expect_same_log(a, f);
  // Same broker id at a new address: a new fetcher takes the partition over.
  leader b;
  b.create("t");
  b.produce("t", 2, "a");  // the same records at the same offsets and epoch...
  b.produce("t", 3, "z");  // ...and more
  f.fetchers.add_partitions(b.source(), {f.p});
  EXPECT_EQ(f.fetchers.fetcher_count(), 1u);
  expect_same_log(b, f);
  EXPECT_EQ(f.log().log_end_offset(), 5);
  auto s = f.state();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->source_broker, kLeaderId);
}

// ---- Against a scripted leader: the answers a single node never gives ----

// A Fetch answer for t-0 with `records` (copied into the response).
protocol::fetch_response fetch_answer(int64_t hw, const std::vector<uint8_t>& records = {}) {
  protocol::fetch_response resp;
  auto& tr = resp.responses.emplace_back();
  tr.topic = "t";
  auto& pd = tr.partitions.emplace_back();
  pd.high_watermark = hw;
  pd.last_stable_offset = hw;
  pd.log_start_offset = 0;
  pd.records = protocol::records::copy_of(records);
  return resp;
}

// A leader with nothing new parks the fetch for max_wait (a long poll).
protocol::fetch_response parked(const protocol::fetch_request& req, int64_t hw) {
  std::this_thread::sleep_for(std::chrono::milliseconds(req.max_wait_ms));
  return fetch_answer(hw);
}

std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(replica_fetcher, a_diverging_epoch_in_a_fetch_answer_truncates_and_fetching_goes_on_from_there) {
  follower f;
  // Ours: epoch 0 at 0-2, epoch 2 at 3-6. The leader's: epoch 0 at 0-2, epoch 1 at 3-4.
  const auto a = stamped(batch_of(3, "a"), 0, 0);
  f.append(a);
  f.append(stamped(batch_of(4, "b"), 3, 2));
  const auto c = stamped(batch_of(2, "c"), 3, 1);
  std::mutex mu;
  std::vector<std::pair<int64_t, int32_t>> fetches;  // (fetch offset, last fetched epoch)
  std::vector<int32_t> replica_ids;
  testing::scripted_leader leader(
      [](const protocol::offset_for_leader_epoch_request& req) {
        // The leader's answer for our epoch 2 does not show the divergence (as when
        // it is only found by the fetch): nothing to cut.
        protocol::offset_for_leader_epoch_response resp;
        auto& tr = resp.topics.emplace_back();
        tr.topic = req.topics.at(0).topic;
        auto& pr = tr.partitions.emplace_back();
        pr.leader_epoch = req.topics.at(0).partitions.at(0).leader_epoch;
        pr.end_offset = 7;
        return resp;
      },
      [&](const protocol::fetch_request& req, int16_t) {
        const auto& fp = req.topics.at(0).partitions.at(0);
        {
          std::lock_guard lk(mu);
          fetches.emplace_back(fp.fetch_offset, fp.last_fetched_epoch);
          replica_ids.push_back(req.replica_id);
        }
        if (fp.last_fetched_epoch == 2) {
          auto resp = fetch_answer(5);
          auto& pd = resp.responses[0].partitions[0];
          pd.diverging_epoch.epoch = 0;
          pd.diverging_epoch.end_offset = 3;
          return resp;
        }
        if (fp.fetch_offset == 3) return fetch_answer(5, c);
        return parked(req, 5);
      });
  f.fetchers.add_partitions({kLeaderId, "127.0.0.1", leader.port()}, {f.p});
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 5 && f.log().high_watermark() == 5; }));
  EXPECT_EQ(local_bytes(f.log()), concat(a, c));
  EXPECT_EQ(f.log().latest_epoch(), 1);
  std::lock_guard lk(mu);
  ASSERT_GE(fetches.size(), 2u);
  EXPECT_EQ(fetches[0], std::make_pair(int64_t{7}, 2));  // diverging: cut to 3
  EXPECT_EQ(fetches[1], std::make_pair(int64_t{3}, 0));  // fetched again from there
  EXPECT_EQ(replica_ids[0], kSelf);
}

TEST(replica_fetcher, truncation_asks_again_until_it_is_complete_and_comes_before_the_first_fetch) {
  follower f;
  // Ours: epoch 0 at 0-2, epoch 2 at 3-6. The leader had epoch 1 from 3 (never ours).
  const auto a = stamped(batch_of(3, "a"), 0, 0);
  f.append(a);
  f.append(stamped(batch_of(4, "b"), 3, 2));
  std::mutex mu;
  std::vector<int32_t> asked;          // the epochs OffsetsForLeaderEpoch asked for
  std::vector<int64_t> fetch_offsets;  // and where fetches started
  testing::scripted_leader leader(
      [&](const protocol::offset_for_leader_epoch_request& req) {
        const int32_t epoch = req.topics.at(0).partitions.at(0).leader_epoch;
        {
          std::lock_guard lk(mu);
          asked.push_back(epoch);
        }
        protocol::offset_for_leader_epoch_response resp;
        auto& tr = resp.topics.emplace_back();
        tr.topic = "t";
        auto& pr = tr.partitions.emplace_back();
        // For 2: the largest epoch <= 2 is 1, which ended at 5. For 0: ended at 3.
        pr.leader_epoch = epoch >= 1 ? 1 : 0;
        pr.end_offset = epoch >= 1 ? 5 : 3;
        return resp;
      },
      [&](const protocol::fetch_request& req, int16_t) {
        {
          std::lock_guard lk(mu);
          fetch_offsets.push_back(req.topics.at(0).partitions.at(0).fetch_offset);
        }
        return parked(req, 3);
      });
  f.fetchers.add_partitions({kLeaderId, "127.0.0.1", leader.port()}, {f.p});
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lk(mu);
    return !fetch_offsets.empty();
  }));
  std::lock_guard lk(mu);
  // We have no epoch 1: cut to where our epoch 0 ended (3) and ask again for 0.
  EXPECT_EQ(asked, (std::vector<int32_t>{2, 0}));
  EXPECT_EQ(fetch_offsets.front(), 3);
  EXPECT_EQ(local_bytes(f.log()), a);
  EXPECT_EQ(f.log().latest_epoch(), 0);
}

TEST(replica_fetcher, a_partial_last_batch_is_cut_off_and_fetched_whole_next_time) {
  follower f;
  const auto x = stamped(batch_of(2, "x"), 0, 0);
  const auto y = stamped(batch_of(3, "y"), 2, 0);
  std::mutex mu;
  std::vector<int64_t> offsets;
  testing::scripted_leader leader(
      [](const protocol::offset_for_leader_epoch_request&) {
        ADD_FAILURE() << "a log without epochs does not ask";
        return protocol::offset_for_leader_epoch_response{};
      },
      [&](const protocol::fetch_request& req, int16_t) {
        const int64_t offset = req.topics.at(0).partitions.at(0).fetch_offset;
        {
          std::lock_guard lk(mu);
          offsets.push_back(offset);
        }
        // x and the first half of y, as a leader cut by max bytes sends them.
        if (offset == 0)
          return fetch_answer(5, concat(x, std::vector<uint8_t>(y.begin(), y.begin() + long(y.size() / 2))));
        if (offset == 2) return fetch_answer(5, y);
        return parked(req, 5);
      });
  f.fetchers.add_partitions({kLeaderId, "127.0.0.1", leader.port()}, {f.p});
  ASSERT_TRUE(eventually([&] { return f.log().log_end_offset() == 5 && f.log().high_watermark() == 5; }));
  EXPECT_EQ(local_bytes(f.log()), concat(x, y));
  std::lock_guard lk(mu);
  ASSERT_GE(offsets.size(), 2u);
  EXPECT_EQ(offsets[0], 0);
  EXPECT_EQ(offsets[1], 2);
}

}  // namespace
}  // namespace strata::cluster
