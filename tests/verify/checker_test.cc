// Every violation the checker knows, and every legal outcome it must not
// call a violation, on hand-written histories.
#include "verify/checker.h"

#include <gtest/gtest.h>

#include "verify/summary.h"

namespace strata::verify {
namespace {

// Builds a history event by event; times increase by 10 ms per event unless given.
class builder {
 public:
  explicit builder(bool idempotence = true) {
    event e;
    e.kind = event_kind::run;
    e.run = std::make_shared<run_info>(run_info{"r", "t", "all", idempotence});
    add(e);
    add(kind(event_kind::produce_start));
  }
  builder& send(int producer, std::int64_t seq, int partition = 0) {
    event e = kind(event_kind::send);
    e.producer = producer;
    e.seq = seq;
    e.partition = partition;
    return add(e);
  }
  builder& ack(int producer, std::int64_t seq, int partition, std::int64_t offset) {
    event e = kind(event_kind::ack);
    e.producer = producer;
    e.seq = seq;
    e.partition = partition;
    e.offset = offset;
    return add(e);
  }
  builder& fail(int producer, std::int64_t seq, int partition = 0) {
    event e = kind(event_kind::fail);
    e.producer = producer;
    e.seq = seq;
    e.partition = partition;
    e.error = "_MSG_TIMED_OUT";
    e.error_code = -192;
    return add(e);
  }
  builder& read(int producer, std::int64_t seq, int partition, std::int64_t offset) {
    event e = kind(event_kind::read);
    e.consumer = 0;
    e.producer = producer;
    e.seq = seq;
    e.partition = partition;
    e.offset = offset;
    return add(e);
  }
  // A read by the final read (the log as it stands at the end).
  builder& final_read(int producer, std::int64_t seq, int partition, std::int64_t offset) {
    read(producer, seq, partition, offset);
    events_.back().final_read = true;
    return *this;
  }
  builder& commit(const std::string& group, int partition, std::int64_t offset) {
    event e = kind(event_kind::commit);
    e.group = group;
    e.partition = partition;
    e.offset = offset;
    return add(e);
  }
  // send + ack + read at the same place: the normal life of a value.
  builder& ok(int producer, std::int64_t seq, int partition, std::int64_t offset) {
    return send(producer, seq, partition).ack(producer, seq, partition, offset).read(producer, seq, partition, offset);
  }
  builder& produce_end() { return add(kind(event_kind::produce_end)); }
  builder& wait(std::int64_t ms) {
    time_ += ms;
    return *this;
  }
  builder& position(int partition, std::int64_t offset) {
    event e = kind(event_kind::position);
    e.partition = partition;
    e.offset = offset;
    e.high_watermark = offset;
    return add(e);
  }
  builder& end(bool complete = true) {
    event e = kind(event_kind::end);
    e.read_complete = complete;
    return add(e);
  }
  report check() const { return verify::check(events_); }

 private:
  event kind(event_kind k) {
    event e;
    e.kind = k;
    return e;
  }
  builder& add(event e) {
    time_ += 10;
    e.time_ms = time_;
    events_.push_back(std::move(e));
    return *this;
  }
  std::vector<event> events_;
  std::int64_t time_ = -10;
};

std::int64_t others(const report& r, std::int64_t report::*keep) {
  std::int64_t sum = 0;
  for (auto f : {&report::lost, &report::duplicated, &report::reordered, &report::phantom, &report::offset_conflicts,
                 &report::commits_backwards})
    if (f != keep) sum += r.*f;
  return sum;
}

TEST(VerifyChecker, CleanRunIsOk) {
  builder b;
  b.ok(0, 0, 0, 0).ok(1, 0, 1, 0).ok(0, 1, 0, 1).ok(1, 1, 1, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.sent, 4);
  EXPECT_EQ(r.acked, 4);
  EXPECT_EQ(r.read, 4);
  EXPECT_EQ(r.violations, 0);
  EXPECT_TRUE(r.read_complete);
  EXPECT_EQ(r.exit_code(), 0);
  EXPECT_EQ(result_line(r), "RESULT: OK");
  EXPECT_EQ(r.run_id, "r");
  EXPECT_EQ(r.acks, "all");
  EXPECT_TRUE(r.idempotence);
}

TEST(VerifyChecker, AckedNeverReadIsLost) {
  builder b;
  b.ok(0, 0, 0, 0).send(0, 1).ack(0, 1, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.lost, 1);
  EXPECT_EQ(others(r, &report::lost), 0);
  EXPECT_EQ(r.violations, 1);
  EXPECT_EQ(r.exit_code(), 1);
  EXPECT_EQ(result_line(r), "RESULT: VIOLATIONS (lost=1)");
}

TEST(VerifyChecker, ReadDuringTheRunButGoneFromTheFinalReadIsLost) {
  // An unclean election: seq 1 was acknowledged and even read at 0@1, then
  // truncated away; the final read finds seq 2 there instead.
  builder b(false);
  b.ok(0, 0, 0, 0).ok(0, 1, 0, 1).send(0, 2).ack(0, 2, 0, 1).produce_end();
  b.final_read(0, 0, 0, 0).final_read(0, 2, 0, 1).end();
  auto r = b.check();
  EXPECT_EQ(r.lost, 1);
  EXPECT_EQ(r.read, 3);
  EXPECT_GE(r.offset_conflicts, 1);  // two values acknowledged, and read, at 0@1
  ASSERT_FALSE(r.examples.empty());
  bool named = false;
  for (const auto& ex : r.examples) named |= ex.find("gone from the log") != std::string::npos;
  EXPECT_TRUE(named);
}

TEST(VerifyChecker, FinalReadAloneDecidesWhatIsThere) {
  // The run's consumer missed seq 1 (it stopped early); the final read has it.
  builder b;
  b.ok(0, 0, 0, 0).send(0, 1).ack(0, 1, 0, 1).send(0, 2).fail(0, 2).produce_end();
  b.final_read(0, 0, 0, 0).final_read(0, 1, 0, 1).final_read(0, 2, 0, 2).end();
  auto r = b.check();
  EXPECT_EQ(r.lost, 0);
  EXPECT_EQ(r.violations, 0);
  EXPECT_EQ(r.indeterminate_present, 1);
}

TEST(VerifyChecker, IncompleteReadCountsLostOnlyBelowThePosition) {
  builder b;
  // Partition 0: read up to offset 2 (exclusive); offset 1 missing is lost,
  // offset 5 beyond the position is not known to be lost.
  b.ok(0, 0, 0, 0).send(0, 1).ack(0, 1, 0, 1).ok(0, 2, 0, 2).send(0, 3).ack(0, 3, 0, 5);
  // Partition 1: nothing read at all, and no position: nothing counted.
  b.send(1, 0, 1).ack(1, 0, 1, 0).produce_end().position(0, 3).end(false);
  auto r = b.check();
  EXPECT_EQ(r.lost, 1);
  EXPECT_FALSE(r.read_complete);
  EXPECT_EQ(r.exit_code(), 1);

  builder c;
  c.ok(0, 0, 0, 0).send(0, 1).ack(0, 1, 0, 7).produce_end().position(0, 1).end(false);
  r = c.check();
  EXPECT_EQ(r.violations, 0);
  EXPECT_EQ(r.exit_code(), 3);
  EXPECT_EQ(result_line(r).rfind("RESULT: INCOMPLETE (", 0), 0u);
}

TEST(VerifyChecker, NoEndEventMeansIncomplete) {
  builder b;
  b.ok(0, 0, 0, 0);
  auto r = b.check();
  EXPECT_FALSE(r.read_complete);
  EXPECT_EQ(r.exit_code(), 3);
}

TEST(VerifyChecker, ValueReadAtTwoOffsetsIsDuplicated) {
  builder b;
  b.ok(0, 0, 0, 0).read(0, 0, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.duplicated, 1);
  EXPECT_EQ(r.reordered, 0) << "it was read at its acknowledged offset too";
  EXPECT_EQ(r.violations, 1);
}

TEST(VerifyChecker, SameOffsetReadTwiceIsNotADuplicate) {
  // A rebalance makes a group member read again what another member read.
  builder b;
  b.ok(0, 0, 0, 0).ok(0, 1, 0, 1).read(0, 0, 0, 0).read(0, 1, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.violations, 0);
  EXPECT_EQ(r.read, 2);
}

TEST(VerifyChecker, ReadAtAnotherOffsetThanAcknowledgedIsReordered) {
  builder b;
  b.send(0, 0).ack(0, 0, 0, 0).read(0, 0, 0, 3).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.reordered, 1);
  EXPECT_EQ(others(r, &report::reordered), 0);
}

TEST(VerifyChecker, IdempotentProducerOutOfOrderIsReordered) {
  // Unacknowledged (failed) values still have a place once read: seq 1 at an
  // offset below seq 0 in the same partition.
  builder b;
  b.send(0, 0).send(0, 1).fail(0, 0).fail(0, 1).read(0, 1, 0, 0).read(0, 0, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.reordered, 1);
  EXPECT_EQ(r.indeterminate_present, 2);
  EXPECT_EQ(others(r, &report::reordered), 0);

  // The same history from a non-idempotent producer: retries may reorder.
  builder c(false);
  c.send(0, 0).send(0, 1).fail(0, 0).fail(0, 1).read(0, 1, 0, 0).read(0, 0, 0, 1).produce_end().end();
  EXPECT_EQ(c.check().violations, 0);

  // Different producers, or different partitions, are not ordered.
  builder d;
  d.ok(0, 5, 0, 0).ok(1, 0, 0, 1).ok(0, 9, 1, 0).ok(0, 1, 2, 0).produce_end().end();
  EXPECT_EQ(d.check().violations, 0);
}

TEST(VerifyChecker, ReadButNeverSentIsPhantom) {
  builder b;
  b.ok(0, 0, 0, 0).read(3, 42, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.phantom, 1);
  EXPECT_EQ(others(r, &report::phantom), 0);
  EXPECT_EQ(r.read, 2);
}

TEST(VerifyChecker, TwoValuesAtOneOffsetConflict) {
  builder acked;
  acked.ok(0, 0, 0, 0).send(0, 1).ack(0, 1, 0, 0).read(0, 1, 0, 1).produce_end().end();
  auto r = acked.check();
  EXPECT_EQ(r.offset_conflicts, 1);
  EXPECT_EQ(r.reordered, 1) << "seq 1 was read at 1, acknowledged at 0";

  builder read;
  read.ok(0, 0, 0, 0).send(0, 1).fail(0, 1).read(0, 1, 0, 0).produce_end().end();
  r = read.check();
  EXPECT_EQ(r.offset_conflicts, 1);
  EXPECT_EQ(others(r, &report::offset_conflicts), 0);
}

TEST(VerifyChecker, CommitGoingBackIsAViolation) {
  builder b;
  b.ok(0, 0, 0, 0).commit("g", 0, 1).commit("g", 0, 1).commit("g", 1, 5).commit("h", 0, 0).commit("g", 0, 0);
  b.produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.commits, 5);
  EXPECT_EQ(r.commits_backwards, 1) << "equal commits, other partitions and other groups are fine";
  EXPECT_EQ(others(r, &report::commits_backwards), 0);
  EXPECT_EQ(result_line(r), "RESULT: VIOLATIONS (commits_backwards=1)");
}

TEST(VerifyChecker, FailedSendsAreIndeterminateNeverLostNorPhantom) {
  builder b;
  // seq 1 failed and is absent, seq 2 failed but was written (read).
  b.ok(0, 0, 0, 0).send(0, 1).fail(0, 1).send(0, 2).fail(0, 2).read(0, 2, 0, 1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.failed, 2);
  EXPECT_EQ(r.indeterminate, 2);
  EXPECT_EQ(r.indeterminate_present, 1);
  EXPECT_EQ(r.indeterminate_absent, 1);
  EXPECT_EQ(r.violations, 0);
  EXPECT_EQ(r.exit_code(), 0);
}

TEST(VerifyChecker, AcksWithoutOffsetCannotBeLost) {
  // acks=0: the delivery report carries no offset and promises nothing.
  builder b;
  b.send(0, 0).ack(0, 0, 0, -1).produce_end().end();
  auto r = b.check();
  EXPECT_EQ(r.acked, 1);
  EXPECT_EQ(r.violations, 0);
}

TEST(VerifyChecker, LongestUnavailableSpansProductionWithoutAcks) {
  builder b;
  b.send(0, 0).wait(100).ack(0, 0, 0, 0);  // produce_start 10, ack at 130
  b.send(0, 1).wait(500).ack(0, 1, 0, 1);  // previous ack 130, this one at 650
  b.send(0, 2).wait(200).fail(0, 2).produce_end();  // last ack 650, end at 880
  auto r = b.check();
  EXPECT_EQ(r.longest_unavailable_ms, 520);

  builder none;
  none.send(0, 0).wait(1000).fail(0, 0).produce_end();
  EXPECT_EQ(none.check().longest_unavailable_ms, 1030);
}

TEST(VerifyChecker, SummaryJsonHasEveryKey) {
  builder b;
  b.ok(0, 0, 0, 0).produce_end().end();
  const std::string j = summary_json(b.check());
  for (const char* k : {"sent", "acked", "failed", "read", "lost", "duplicated", "reordered", "phantom",
                        "offset_conflicts", "commits_backwards", "indeterminate", "indeterminate_present",
                        "indeterminate_absent", "longest_unavailable_ms", "violations", "read_complete",
                        "duration_ms", "run_id", "acks", "idempotence"})
    EXPECT_NE(j.find(std::string("\"") + k + "\":"), std::string::npos) << k;
  EXPECT_NE(j.find("\"read_complete\":1"), std::string::npos) << j;
}

}  // namespace
}  // namespace strata::verify
