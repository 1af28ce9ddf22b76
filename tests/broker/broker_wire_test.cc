// The real `strata` binary driven over the Kafka wire protocol with the
// project's generated codec as the client: exact error codes, long poll,
// fetch sessions, bad frames, restart.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "broker_process.h"
#include "protocol/generated/messages.h"
#include "protocol/records/batch_builder.h"
#include "protocol/records/record_iterator.h"

using namespace strata;
using namespace strata::test;
using protocol::error_code;

namespace {

std::vector<uint8_t> make_batch(const std::vector<std::string>& values) {
  records::batch_builder b;
  for (const auto& v : values) b.add(1'700'000'000'000, records::as_bytes("k"), records::as_bytes(v));
  std::vector<uint8_t> out;
  EXPECT_EQ(b.finish(out), records::errc::ok);
  return out;
}

int16_t ec(error_code e) { return static_cast<int16_t>(e); }

protocol::create_topics_response create_topic(wire_client& c, const std::string& name, int32_t partitions) {
  protocol::create_topics_request req;
  protocol::create_topics_request::creatable_topic t;
  t.name = name;
  t.num_partitions = partitions;
  t.replication_factor = 1;
  req.topics.push_back(t);
  return c.call<protocol::create_topics_response>(req, 5);
}

protocol::produce_response produce(wire_client& c, const std::string& topic, int32_t partition,
                                   const std::vector<uint8_t>& batch, int16_t version = 7, int16_t acks = -1) {
  protocol::produce_request req;
  req.acks = acks;
  req.timeout_ms = 5000;
  protocol::produce_request::topic_produce_data td;
  td.name = topic;
  protocol::produce_request::topic_produce_data::partition_produce_data pd;
  pd.index = partition;
  pd.records = protocol::records::copy_of(batch);
  td.partition_data.push_back(std::move(pd));
  req.topic_data.push_back(std::move(td));
  return c.call<protocol::produce_response>(req, version);
}

protocol::fetch_request fetch_req(const std::string& topic, int32_t partition, int64_t offset, int32_t max_wait = 0,
                                  int32_t min_bytes = 1) {
  protocol::fetch_request req;
  req.max_wait_ms = max_wait;
  req.min_bytes = min_bytes;
  req.max_bytes = 1 << 20;
  req.session_epoch = -1;
  protocol::fetch_request::fetch_topic ft;
  ft.topic = topic;
  protocol::fetch_request::fetch_topic::fetch_partition fp;
  fp.partition = partition;
  fp.fetch_offset = offset;
  fp.partition_max_bytes = 1 << 20;
  ft.partitions.push_back(fp);
  req.topics.push_back(ft);
  return req;
}

// Values of every record in a fetched records blob.
std::vector<std::string> values_of(const protocol::records& r) {
  std::vector<std::string> out;
  std::vector<uint8_t> scratch;
  records::validate_options vo;
  vo.mode = records::validate_mode::log;
  vo.allow_partial_tail = true;
  records::validate_batches(r.memory, vo, [&](const records::batch_info& bi) {
    records::record_iterator it(r.memory.subspan(bi.position, bi.size), scratch);
    records::record rec;
    while (it.next(rec)) out.emplace_back(records::as_string_view(*rec.value));
  });
  return out;
}

}  // namespace

TEST(broker_wire, api_versions_and_unsupported_versions) {
  broker_process b;
  wire_client c(b.port());
  auto r = c.call<protocol::api_versions_response>(protocol::api_versions_request{}, 3);
  EXPECT_EQ(r.error_code, 0);
  bool has_fetch = false;
  for (const auto& k : r.api_keys)
    if (k.api_key == 1) has_fetch = k.min_version <= 4 && k.max_version >= 11;
  EXPECT_TRUE(has_fetch);
  // ApiVersions at a version we do not know: answered at v0 with error 35.
  protocol::writer w;
  w.write_int32(0);
  w.write_int16(18);
  w.write_int16(99);
  w.write_int32(7);
  w.write_nullable_string(std::string("x"), false);
  w.write_uvarint(0);
  w.write_raw("garbage-body", 12);
  w.patch_int32(0, static_cast<int32_t>(w.size() - 4));
  c.send_raw(w.buffer().data(), w.size());
  int32_t cid = 0;
  auto v0 = c.receive<protocol::api_versions_response>(18, 0, &cid);
  EXPECT_EQ(cid, 7);
  EXPECT_EQ(v0.error_code, ec(error_code::unsupported_version));
  EXPECT_FALSE(v0.api_keys.empty());
  // Metadata at an unsupported version: the connection is closed.
  wire_client c2(b.port());
  c2.send(protocol::metadata_request{}, 99, 1);
  EXPECT_TRUE(c2.closed_by_peer());
}

TEST(broker_wire, produce_fetch_round_trip_at_classic_and_flexible_versions) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 2).topics.at(0).error_code, 0);
  for (int16_t pv : {3, 7, 9}) {
    auto pr = produce(c, "t", 1, make_batch({"a" + std::to_string(pv), "b"}), pv);
    ASSERT_EQ(pr.responses.at(0).partition_responses.at(0).error_code, 0) << "produce v" << pv;
  }
  for (int16_t fv : {4, 11, 12}) {
    auto fr = c.call<protocol::fetch_response>(fetch_req("t", 1, 0), fv);
    const auto& p = fr.responses.at(0).partitions.at(0);
    EXPECT_EQ(p.error_code, 0);
    EXPECT_EQ(p.high_watermark, 6);
    EXPECT_EQ(values_of(p.records), (std::vector<std::string>{"a3", "b", "a7", "b", "a9", "b"})) << "fetch v" << fv;
  }
  // From the middle: the batch holding offset 3 onwards.
  auto fr = c.call<protocol::fetch_response>(fetch_req("t", 1, 3), 11);
  EXPECT_EQ(values_of(fr.responses.at(0).partitions.at(0).records), (std::vector<std::string>{"a7", "b", "a9", "b"}));
  // Past the end: OFFSET_OUT_OF_RANGE.
  auto oor = c.call<protocol::fetch_response>(fetch_req("t", 1, 99), 11);
  EXPECT_EQ(oor.responses.at(0).partitions.at(0).error_code, ec(error_code::offset_out_of_range));
}

TEST(broker_wire, produce_errors_carry_kafka_codes) {
  broker_process b({"auto.create.topics.enable=false", "message.max.bytes=2000"});
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
  auto batch = make_batch({"x"});
  batch[batch.size() - 1] ^= 0x5a;  // payload byte under the CRC
  EXPECT_EQ(produce(c, "t", 0, batch).responses[0].partition_responses[0].error_code, ec(error_code::corrupt_message));
  EXPECT_EQ(produce(c, "t", 0, make_batch({"x"}), 7, 5).responses[0].partition_responses[0].error_code,
            ec(error_code::invalid_required_acks));
  EXPECT_EQ(produce(c, "nope", 0, make_batch({"x"})).responses[0].partition_responses[0].error_code,
            ec(error_code::unknown_topic_or_partition));
  EXPECT_EQ(produce(c, "t", 3, make_batch({"x"})).responses[0].partition_responses[0].error_code,
            ec(error_code::unknown_topic_or_partition));
  EXPECT_EQ(produce(c, "t", 0, make_batch({std::string(3000, 'z')})).responses[0].partition_responses[0].error_code,
            ec(error_code::message_too_large));
  // Nothing of the above reached the log.
  auto lo = c.call<protocol::fetch_response>(fetch_req("t", 0, 0), 11);
  EXPECT_EQ(lo.responses[0].partitions[0].high_watermark, 0);
}

TEST(broker_wire, acks_zero_gets_no_response) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
  protocol::produce_request req;
  req.acks = 0;
  req.timeout_ms = 1000;
  protocol::produce_request::topic_produce_data td;
  td.name = "t";
  protocol::produce_request::topic_produce_data::partition_produce_data pd;
  pd.index = 0;
  auto batch = make_batch({"fire-and-forget"});
  pd.records = protocol::records::copy_of(batch);
  td.partition_data.push_back(std::move(pd));
  req.topic_data.push_back(std::move(td));
  c.send(req, 7, 100);
  c.send(protocol::metadata_request{}, 4, 101);
  int32_t cid = 0;
  c.receive<protocol::metadata_response>(3, 4, &cid);
  EXPECT_EQ(cid, 101);  // the first answer is the Metadata one
  auto fr = c.call<protocol::fetch_response>(fetch_req("t", 0, 0), 11);
  EXPECT_EQ(values_of(fr.responses[0].partitions[0].records), (std::vector<std::string>{"fire-and-forget"}));
}

TEST(broker_wire, create_topics_runs_off_the_reactor_and_later_requests_see_it) {
  // One reactor, so both connections share it. CreateTopics runs on the broker's
  // worker: a second connection is answered while the partitions are being created,
  // and a Produce pipelined behind the CreateTopics on the same connection is handled
  // only after the topic exists (Kafka: one request per connection at a time).
  broker_process b({"num.network.threads=1", "auto.create.topics.enable=false"});
  wire_client admin(b.port()), other(b.port());
  protocol::create_topics_request req;
  protocol::create_topics_request::creatable_topic t;
  t.name = "wide";
  t.num_partitions = 1000;
  t.replication_factor = 1;
  req.topics.push_back(t);
  const auto t0 = std::chrono::steady_clock::now();
  admin.send(req, 5, 1);
  protocol::produce_request pr;
  pr.acks = -1;
  pr.timeout_ms = 5000;
  protocol::produce_request::topic_produce_data td;
  td.name = "wide";
  protocol::produce_request::topic_produce_data::partition_produce_data pd;
  pd.index = 999;
  auto batch = make_batch({"right behind"});
  pd.records = protocol::records::copy_of(batch);
  td.partition_data.push_back(std::move(pd));
  pr.topic_data.push_back(std::move(td));
  admin.send(pr, 7, 2);
  // Give the reactor the CreateTopics before asking on the other connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  other.call<protocol::api_versions_response>(protocol::api_versions_request{}, 3);
  const auto other_answered = std::chrono::steady_clock::now() - t0;
  int32_t cid = 0;
  auto cr = admin.receive<protocol::create_topics_response>(19, 5, &cid);
  const auto created = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(cid, 1);
  EXPECT_EQ(cr.topics.at(0).error_code, 0);
  auto presp = admin.receive<protocol::produce_response>(0, 7, &cid);
  EXPECT_EQ(cid, 2);
  EXPECT_EQ(presp.responses.at(0).partition_responses.at(0).error_code, 0);
  EXPECT_EQ(presp.responses.at(0).partition_responses.at(0).base_offset, 0);
  // 1,000 partitions take far longer than an ApiVersions round trip.
  EXPECT_LT(other_answered, created);
}

TEST(broker_wire, long_poll_is_woken_by_an_append) {
  broker_process b;
  wire_client consumer(b.port()), producer(b.port());
  ASSERT_EQ(create_topic(producer, "t", 1).topics.at(0).error_code, 0);
  const auto t0 = std::chrono::steady_clock::now();
  consumer.send(fetch_req("t", 0, 0, /*max_wait=*/30'000), 11, 1);
  // The fetch is parked: nothing arrives until we produce.
  ASSERT_EQ(produce(producer, "t", 0, make_batch({"wake"})).responses[0].partition_responses[0].error_code, 0);
  auto fr = consumer.receive<protocol::fetch_response>(1, 11);
  auto waited = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(values_of(fr.responses[0].partitions[0].records), (std::vector<std::string>{"wake"}));
  // Woken by the append, not by the 30 s timeout.
  EXPECT_LT(waited, std::chrono::seconds(20));
}

TEST(broker_wire, fetch_sessions_are_incremental) {
  broker_process b;
  wire_client c(b.port()), p(b.port());
  ASSERT_EQ(create_topic(c, "t", 2).topics.at(0).error_code, 0);
  ASSERT_EQ(produce(p, "t", 0, make_batch({"p0"})).responses[0].partition_responses[0].error_code, 0);
  // Open a session with both partitions.
  auto req = fetch_req("t", 0, 0);
  auto p1 = req.topics[0].partitions[0];
  p1.partition = 1;
  req.topics[0].partitions.push_back(p1);
  req.session_id = 0;
  req.session_epoch = 0;
  auto full = c.call<protocol::fetch_response>(req, 12);
  ASSERT_EQ(full.error_code, 0);
  ASSERT_NE(full.session_id, 0);
  ASSERT_EQ(full.responses.size(), 1u);
  EXPECT_EQ(full.responses[0].partitions.size(), 2u);  // a full response lists both
  const int32_t sid = full.session_id;
  // Incremental: the client consumed p0's record, so it sends p0's new fetch
  // offset (a changed partition) and nothing else; no news, no partitions.
  protocol::fetch_request inc = fetch_req("t", 0, 1);
  inc.session_id = sid;
  inc.session_epoch = 1;
  auto quiet = c.call<protocol::fetch_response>(inc, 12);
  EXPECT_EQ(quiet.error_code, 0);
  EXPECT_EQ(quiet.session_id, sid);
  EXPECT_TRUE(quiet.responses.empty());
  // New data on partition 1 shows up without naming the partition.
  ASSERT_EQ(produce(p, "t", 1, make_batch({"p1"})).responses[0].partition_responses[0].error_code, 0);
  inc.topics.clear();  // nothing changed on the client's side
  inc.session_epoch = 2;
  auto news = c.call<protocol::fetch_response>(inc, 12);
  ASSERT_EQ(news.responses.size(), 1u);
  ASSERT_EQ(news.responses[0].partitions.size(), 1u);
  EXPECT_EQ(news.responses[0].partitions[0].partition_index, 1);
  EXPECT_EQ(values_of(news.responses[0].partitions[0].records), (std::vector<std::string>{"p1"}));
  // Wrong epoch, unknown session.
  inc.session_epoch = 9;
  EXPECT_EQ(c.call<protocol::fetch_response>(inc, 12).error_code, ec(error_code::invalid_fetch_session_epoch));
  inc.session_id = sid + 1000;
  inc.session_epoch = 1;
  EXPECT_EQ(c.call<protocol::fetch_response>(inc, 12).error_code, ec(error_code::fetch_session_id_not_found));
  // Sessionless fetches still answer with session 0.
  EXPECT_EQ(c.call<protocol::fetch_response>(fetch_req("t", 0, 0), 12).session_id, 0);
}

namespace {

// A batch of 4 records of 100-byte values (~500 bytes): two fit under a
// 1,024-byte cap, a third does not.
std::vector<uint8_t> batch_of_4(int32_t partition, int batch) {
  std::vector<std::string> v;
  for (int i = 0; i < 4; ++i) {
    std::string s = "p" + std::to_string(partition) + "-" + std::to_string(batch * 4 + i) + "-";
    s.resize(100, 'x');
    v.push_back(s);
  }
  return make_batch(v);
}

// A sessionless fetch of `parts` of topic t, in that order, at `offsets`.
protocol::fetch_request multi_fetch(const std::vector<int32_t>& parts, const std::vector<int64_t>& offsets) {
  protocol::fetch_request req = fetch_req("t", parts.at(0), offsets.at(0));
  req.max_bytes = 50 << 20;  // as librdkafka and Java ask: the broker's cap decides
  for (size_t i = 1; i < parts.size(); ++i) {
    auto fp = req.topics[0].partitions[0];
    fp.partition = parts[i];
    fp.fetch_offset = offsets[i];
    req.topics[0].partitions.push_back(fp);
  }
  return req;
}

size_t record_bytes(const protocol::fetch_response& r) {
  size_t n = 0;
  for (const auto& t : r.responses)
    for (const auto& p : t.partitions) n += p.records.size();
  return n;
}

}  // namespace

TEST(broker_wire, fetch_max_bytes_caps_a_response_except_for_one_batch) {
  broker_process b({"fetch.max.bytes=1024"});
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 4).topics.at(0).error_code, 0);
  const size_t batch_size = batch_of_4(0, 0).size();
  ASSERT_GT(batch_size * 2, 900u);
  ASSERT_LE(batch_size * 2, 1024u);
  for (int32_t p = 0; p < 4; ++p)
    for (int i = 0; i < 6; ++i)
      ASSERT_EQ(produce(c, "t", p, batch_of_4(p, i)).responses[0].partition_responses[0].error_code, 0);
  // 12 KiB are available; the response stops at the cap, in whole batches,
  // and serves partitions in the request's order (here 3 first).
  auto r = c.call<protocol::fetch_response>(multi_fetch({3, 2, 1, 0}, {0, 0, 0, 0}), 12);
  ASSERT_EQ(r.error_code, 0);
  EXPECT_LE(record_bytes(r), 1024u);
  EXPECT_EQ(record_bytes(r), 2 * batch_size);
  ASSERT_EQ(r.responses.at(0).partitions.size(), 4u);
  EXPECT_EQ(r.responses[0].partitions[0].partition_index, 3);
  EXPECT_EQ(values_of(r.responses[0].partitions[0].records).size(), 8u);
  for (size_t i = 1; i < 4; ++i) EXPECT_EQ(r.responses[0].partitions[i].records.size(), 0u) << i;
  // A request asking for less than the cap gets its own limit.
  auto small = multi_fetch({0, 1}, {0, 0});
  small.max_bytes = static_cast<int32_t>(batch_size);
  EXPECT_EQ(record_bytes(c.call<protocol::fetch_response>(small, 12)), batch_size);
  // A batch larger than the cap: the first partition with data still returns
  // it whole (Kafka's "at least one batch"), the next partition nothing.
  std::string big(3000, 'b');
  ASSERT_EQ(produce(c, "t", 1, make_batch({big})).responses[0].partition_responses[0].error_code, 0);
  auto over = c.call<protocol::fetch_response>(multi_fetch({0, 1, 2}, {24, 24, 0}), 12);
  ASSERT_EQ(over.responses.at(0).partitions.size(), 3u);
  EXPECT_EQ(over.responses[0].partitions[0].records.size(), 0u);  // partition 0: at its end
  EXPECT_EQ(values_of(over.responses[0].partitions[1].records), (std::vector<std::string>{big}));
  EXPECT_GT(record_bytes(over), 1024u);
  EXPECT_EQ(over.responses[0].partitions[2].records.size(), 0u);
}

TEST(broker_wire, fetch_a_nearly_full_response_stops_looking_at_more_partitions) {
  const std::string big(2000, 'x');
  const size_t big_size = make_batch({big}).size();
  const size_t cap = big_size + 120;  // once the big batch is in, 120 bytes remain
  ASSERT_LE(120u, cap / 16);          // ... which is within 1/16 of the cap
  broker_process b({"fetch.max.bytes=" + std::to_string(cap)});
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 2).topics.at(0).error_code, 0);
  ASSERT_EQ(produce(c, "t", 0, make_batch({big})).responses[0].partition_responses[0].error_code, 0);
  const auto tiny = make_batch({"a"});
  ASSERT_LE(tiny.size(), 120u);  // it would fit
  ASSERT_EQ(produce(c, "t", 1, tiny).responses[0].partition_responses[0].error_code, 0);
  auto r = c.call<protocol::fetch_response>(multi_fetch({0, 1}, {0, 0}), 12);
  ASSERT_EQ(r.responses.at(0).partitions.size(), 2u);
  EXPECT_EQ(values_of(r.responses[0].partitions[0].records), (std::vector<std::string>{big}));
  EXPECT_EQ(r.responses[0].partitions[1].records.size(), 0u);
  EXPECT_EQ(r.responses[0].partitions[1].high_watermark, 1);  // its offsets are still reported
  // The next fetch, with partition 0 at its end, serves it.
  auto r2 = c.call<protocol::fetch_response>(multi_fetch({0, 1}, {1, 0}), 12);
  ASSERT_EQ(r2.responses.at(0).partitions.size(), 2u);
  EXPECT_EQ(values_of(r2.responses[0].partitions[1].records), (std::vector<std::string>{"a"}));
}

TEST(broker_wire, incremental_alter_configs_appends_and_subtracts_whole_list_items) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
  auto alter = [&](int8_t op, const std::string& name, const std::string& value) {
    protocol::incremental_alter_configs_request req;
    auto& res = req.resources.emplace_back();
    res.resource_type = 2;  // topic
    res.resource_name = "t";
    auto& cfg = res.configs.emplace_back();
    cfg.name = name;
    cfg.config_operation = op;
    cfg.value = value;
    auto r = c.call<protocol::incremental_alter_configs_response>(req, 1);
    return r.responses.at(0).error_code;
  };
  auto policy = [&] {
    protocol::describe_configs_request req;
    auto& res = req.resources.emplace_back();
    res.resource_type = 2;
    res.resource_name = "t";
    res.configuration_keys = std::vector<std::string>{"cleanup.policy"};
    auto r = c.call<protocol::describe_configs_response>(req, 4);
    return r.results.at(0).configs.at(0).value.value_or("<null>");
  };
  EXPECT_EQ(alter(2, "cleanup.policy", "compact"), 0);  // APPEND to the default "delete"
  EXPECT_EQ(policy(), "delete,compact");
  EXPECT_EQ(alter(2, "cleanup.policy", "compact"), 0);  // already there: unchanged
  EXPECT_EQ(policy(), "delete,compact");
  EXPECT_EQ(alter(3, "cleanup.policy", "delete"), 0);  // SUBTRACT
  EXPECT_EQ(policy(), "compact");
  EXPECT_EQ(alter(2, "retention.ms", "5"), ec(error_code::invalid_config));  // not a list
  EXPECT_EQ(alter(9, "retention.ms", "5"), ec(error_code::invalid_request));  // no such operation
  EXPECT_EQ(policy(), "compact");
}

TEST(broker_wire, fetch_sessions_rotate_partitions_so_none_starves) {
  broker_process b({"fetch.max.bytes=1024"});
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 4).topics.at(0).error_code, 0);
  constexpr int kBatches = 6;
  for (int32_t p = 0; p < 4; ++p)
    for (int i = 0; i < kBatches; ++i)
      ASSERT_EQ(produce(c, "t", p, batch_of_4(p, i)).responses[0].partition_responses[0].error_code, 0);
  // Every partition has 3 KiB, three times what one response carries.
  auto req = multi_fetch({0, 1, 2, 3}, {0, 0, 0, 0});
  req.session_id = 0;
  req.session_epoch = 0;
  std::vector<int64_t> next(4, 0);
  std::vector<std::vector<std::string>> got(4);
  std::vector<int32_t> served;  // the partition that returned data, per response
  for (int round = 0; round < 40; ++round) {
    auto r = c.call<protocol::fetch_response>(req, 12);
    ASSERT_EQ(r.error_code, 0) << "round " << round;
    ASSERT_NE(r.session_id, 0);
    EXPECT_LE(record_bytes(r), 1024u) << "round " << round;
    req.session_id = r.session_id;
    req.session_epoch = round + 1;
    req.topics.clear();
    int32_t first = -1;
    for (const auto& t : r.responses)
      for (const auto& p : t.partitions) {
        auto vals = values_of(p.records);
        if (vals.empty()) continue;
        if (first < 0) first = p.partition_index;
        auto& g = got.at(static_cast<size_t>(p.partition_index));
        g.insert(g.end(), vals.begin(), vals.end());
        next[static_cast<size_t>(p.partition_index)] += static_cast<int64_t>(vals.size());
        // Incremental: tell the session this partition's new offset.
        auto one = multi_fetch({p.partition_index}, {next[static_cast<size_t>(p.partition_index)]});
        req.topics.push_back(one.topics[0]);
      }
    if (first < 0) break;  // everything read
    served.push_back(first);
  }
  // Each response fits one partition's two batches. With rotation the
  // partitions take turns; without it partition 0 would be served three times
  // before partition 1 got anything.
  ASSERT_GE(served.size(), 4u);
  EXPECT_EQ(std::vector<int32_t>(served.begin(), served.begin() + 4), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(served.size(), 12u);  // 4 partitions x 3 responses of 2 batches
  for (size_t i = 4; i < served.size(); ++i) EXPECT_NE(served[i], served[i - 1]) << "response " << i;
  for (int32_t p = 0; p < 4; ++p) {
    std::vector<std::string> want;
    for (int i = 0; i < kBatches; ++i) {
      auto v = values_of(protocol::records::copy_of(batch_of_4(p, i)));
      want.insert(want.end(), v.begin(), v.end());
    }
    EXPECT_EQ(got[static_cast<size_t>(p)], want) << "partition " << p;
  }
}

TEST(broker_wire, list_offsets_earliest_latest_and_by_time) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
  for (int i = 0; i < 3; ++i) {
    records::batch_builder bb;
    bb.add(1000 * (i + 1), std::nullopt, records::as_bytes("v"));
    std::vector<uint8_t> batch;
    ASSERT_EQ(bb.finish(batch), records::errc::ok);
    ASSERT_EQ(produce(c, "t", 0, batch).responses[0].partition_responses[0].error_code, 0);
  }
  auto ask = [&](int64_t ts) {
    protocol::list_offsets_request req;
    req.replica_id = -1;
    protocol::list_offsets_request::list_offsets_topic t;
    t.name = "t";
    protocol::list_offsets_request::list_offsets_topic::list_offsets_partition p;
    p.partition_index = 0;
    p.timestamp = ts;
    t.partitions.push_back(p);
    req.topics.push_back(t);
    auto r = c.call<protocol::list_offsets_response>(req, 7);
    return r.topics.at(0).partitions.at(0);
  };
  EXPECT_EQ(ask(-2).offset, 0);
  EXPECT_EQ(ask(-1).offset, 3);
  EXPECT_EQ(ask(2000).offset, 1);
  EXPECT_EQ(ask(2500).offset, 2);
  EXPECT_EQ(ask(9999).offset, -1);
  auto mx = ask(-3);
  EXPECT_EQ(mx.timestamp, 3000);
  EXPECT_EQ(mx.offset, 2);
}

TEST(broker_wire, bad_frames_close_only_their_connection) {
  broker_process b({"socket.request.max.bytes=1048576"});
  wire_client good(b.port());
  ASSERT_EQ(create_topic(good, "t", 1).topics.at(0).error_code, 0);
  auto still_served = [&] {
    auto r = good.call<protocol::api_versions_response>(protocol::api_versions_request{}, 3);
    EXPECT_EQ(r.error_code, 0);
  };
  const std::vector<std::vector<uint8_t>> frames = {
      {0xff, 0xff, 0xff, 0xff},                    // size -1
      {0x7f, 0xff, 0xff, 0xff},                    // 2 GiB
      {0x00, 0x20, 0x00, 0x00},                    // 2 MiB > socket.request.max.bytes
      {0x00, 0x00, 0x00, 0x02, 0x00, 0x01},        // too small for a header
      {0x00, 0x00, 0x00, 0x0a, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0, 0},  // API key 999
  };
  for (const auto& f : frames) {
    wire_client bad(b.port());
    bad.send_raw(f.data(), f.size());
    EXPECT_TRUE(bad.closed_by_peer());
    still_served();
  }
  {
    // A Metadata request whose body is cut short.
    wire_client bad(b.port());
    const uint8_t f[] = {0, 0, 0, 12, 0, 3, 0, 4, 0, 0, 0, 1, 0xff, 0xff, 0, 0};
    bad.send_raw(f, sizeof f);
    EXPECT_TRUE(bad.closed_by_peer());
    still_served();
  }
  EXPECT_TRUE(b.alive());
}

// Issue 13: a request read behind one that condemns its connection (unknown API key,
// malformed header) must not run. Both arrive in one send, so the second is already in
// the broker's read buffer when the first is rejected.
TEST(broker_wire, nothing_runs_after_a_request_that_closes_the_connection) {
  broker_process b;
  wire_client good(b.port());
  ASSERT_EQ(create_topic(good, "t", 1).topics.at(0).error_code, 0);
  const std::vector<std::vector<uint8_t>> bad_frames = {
      {0x00, 0x00, 0x00, 0x0a, 0x03, 0xe7, 0, 0, 0, 0, 0, 1, 0, 0},        // API key 999
      {0x00, 0x00, 0x00, 0x0a, 0x00, 0x03, 0, 4, 0, 0, 0, 1, 0x00, 0x64},  // client id runs past the frame
  };
  for (const auto& bad : bad_frames) {
    protocol::writer w;
    // An ApiVersions before the bad frame (answered), a Produce after it (must not run).
    protocol::encode_request_frame(w, 3, 1, "wire-test", protocol::api_versions_request{});
    w.write_raw(bad.data(), bad.size());
    protocol::produce_request req;
    req.acks = -1;
    req.timeout_ms = 5000;
    protocol::produce_request::topic_produce_data td;
    td.name = "t";
    protocol::produce_request::topic_produce_data::partition_produce_data pd;
    pd.index = 0;
    pd.records = protocol::records::copy_of(make_batch({"after-the-bad-frame"}));
    td.partition_data.push_back(std::move(pd));
    req.topic_data.push_back(std::move(td));
    protocol::encode_request_frame(w, 7, 3, "wire-test", req);
    wire_client c(b.port());
    c.send_raw(w.buffer().data(), w.size());
    int32_t cid = 0;
    EXPECT_EQ(c.receive<protocol::api_versions_response>(18, 3, &cid).error_code, 0);
    EXPECT_EQ(cid, 1);
    EXPECT_TRUE(c.closed_by_peer());  // no Produce response before the close
  }
  // The Produce requests never reached the log: the next record is offset 0.
  auto pr = produce(good, "t", 0, make_batch({"first"}));
  EXPECT_EQ(pr.responses.at(0).partition_responses.at(0).error_code, 0);
  EXPECT_EQ(pr.responses.at(0).partition_responses.at(0).base_offset, 0);
  auto fr = good.call<protocol::fetch_response>(fetch_req("t", 0, 0), 11);
  EXPECT_EQ(values_of(fr.responses.at(0).partitions.at(0).records), (std::vector<std::string>{"first"}));
}

TEST(broker_wire, data_survives_restart_and_kill) {
  broker_process b;
  {
    wire_client c(b.port());
    ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
    ASSERT_EQ(produce(c, "t", 0, make_batch({"one", "two"})).responses[0].partition_responses[0].error_code, 0);
  }
  b.restart();
  {
    wire_client c(b.port());
    auto pr = produce(c, "t", 0, make_batch({"three"}));
    EXPECT_EQ(pr.responses[0].partition_responses[0].base_offset, 2);  // offsets continue
  }
  b.kill_now();
  b.start({});
  wire_client c(b.port());
  auto fr = c.call<protocol::fetch_response>(fetch_req("t", 0, 0), 11);
  EXPECT_EQ(values_of(fr.responses[0].partitions[0].records), (std::vector<std::string>{"one", "two", "three"}));
}

namespace {
std::vector<uint8_t> idempotent_batch(int64_t pid, int16_t epoch, int32_t seq, const std::vector<std::string>& values) {
  records::batch_options o;
  o.producer_id = pid;
  o.producer_epoch = epoch;
  o.base_sequence = seq;
  records::batch_builder b(o);
  for (const auto& v : values) b.add(1'700'000'000'000, std::nullopt, records::as_bytes(v));
  std::vector<uint8_t> out;
  EXPECT_EQ(b.finish(out), records::errc::ok);
  return out;
}
}  // namespace

TEST(broker_wire, idempotent_retries_are_not_duplicated_even_after_restart) {
  broker_process b;
  auto part = [](const protocol::produce_response& r) { return r.responses.at(0).partition_responses.at(0); };
  {
    wire_client c(b.port());
    ASSERT_EQ(create_topic(c, "t", 1).topics.at(0).error_code, 0);
    auto first = part(produce(c, "t", 0, idempotent_batch(1000, 0, 0, {"a", "b"})));
    ASSERT_EQ(first.error_code, 0);
    EXPECT_EQ(first.base_offset, 0);
    // The same batch again (a retry after a lost answer): success, original offset, no new data.
    auto retry = part(produce(c, "t", 0, idempotent_batch(1000, 0, 0, {"a", "b"})));
    EXPECT_EQ(retry.error_code, 0);
    EXPECT_EQ(retry.base_offset, 0);
    EXPECT_EQ(part(produce(c, "t", 0, idempotent_batch(1000, 0, 5, {"gap"}))).error_code,
              ec(error_code::out_of_order_sequence_number));
    EXPECT_EQ(part(produce(c, "t", 0, idempotent_batch(1000, 0, 2, {"c"}))).base_offset, 2);
    EXPECT_EQ(part(produce(c, "t", 0, idempotent_batch(1000, 1, 0, {"d"}))).base_offset, 3);  // epoch bump
    EXPECT_EQ(part(produce(c, "t", 0, idempotent_batch(1000, 0, 3, {"stale"}))).error_code,
              ec(error_code::invalid_producer_epoch));
  }
  b.restart();
  wire_client c(b.port());
  // After a restart the state comes back from the log: the retry is still recognised.
  auto again = part(produce(c, "t", 0, idempotent_batch(1000, 1, 0, {"d"})));
  EXPECT_EQ(again.error_code, 0);
  EXPECT_EQ(again.base_offset, 3);
  auto fr = c.call<protocol::fetch_response>(fetch_req("t", 0, 0), 11);
  EXPECT_EQ(values_of(fr.responses[0].partitions[0].records), (std::vector<std::string>{"a", "b", "c", "d"}));
}

namespace {

// Joins `group` as its only member (JoinGroup v3 needs no member-id round trip),
// syncs an empty assignment, and returns {member id, generation}.
std::pair<std::string, int32_t> join_alone(wire_client& c, const std::string& group, const protocol::bytes& metadata) {
  protocol::join_group_request jr;
  jr.group_id = group;
  jr.session_timeout_ms = 30'000;
  jr.rebalance_timeout_ms = 30'000;
  jr.protocol_type = "consumer";
  auto& p = jr.protocols.emplace_back();
  p.name = "range";
  p.metadata = metadata;
  auto j = c.call<protocol::join_group_response>(jr, 3);
  EXPECT_EQ(j.error_code, 0);
  protocol::sync_group_request sr;
  sr.group_id = group;
  sr.generation_id = j.generation_id;
  sr.member_id = j.member_id;
  auto& a = sr.assignments.emplace_back();
  a.member_id = j.member_id;
  auto s = c.call<protocol::sync_group_response>(sr, 3);
  EXPECT_EQ(s.error_code, 0);
  return {j.member_id, j.generation_id};
}

void commit(wire_client& c, const std::string& group, const std::pair<std::string, int32_t>& member,
            const std::vector<std::string>& topics) {
  protocol::offset_commit_request req;
  req.group_id = group;
  req.member_id = member.first;
  req.generation_id_or_member_epoch = member.second;
  for (const auto& t : topics) {
    auto& rt = req.topics.emplace_back();
    rt.name = t;
    auto& rp = rt.partitions.emplace_back();
    rp.partition_index = 0;
    rp.committed_offset = 7;
  }
  auto r = c.call<protocol::offset_commit_response>(req, 7);
  for (const auto& t : r.topics) EXPECT_EQ(t.partitions.at(0).error_code, 0) << t.name;
}

// Error code per topic of an OffsetDelete of partition 0 of each topic.
std::map<std::string, int16_t> offset_delete(wire_client& c, const std::string& group,
                                             const std::vector<std::string>& topics) {
  protocol::offset_delete_request req;
  req.group_id = group;
  for (const auto& t : topics) {
    auto& rt = req.topics.emplace_back();
    rt.name = t;
    rt.partitions.emplace_back().partition_index = 0;
  }
  auto r = c.call<protocol::offset_delete_response>(req, 0);
  EXPECT_EQ(r.error_code, 0);
  std::map<std::string, int16_t> out;
  for (const auto& t : r.topics) out[t.name] = t.partitions.at(0).error_code;
  return out;
}

// Committed offset of partition 0 of `topic` (-1: none).
int64_t committed(wire_client& c, const std::string& group, const std::string& topic) {
  protocol::offset_fetch_request req;
  req.group_id = group;
  auto& rt = req.topics->emplace_back();
  rt.name = topic;
  rt.partition_indexes = {0};
  auto r = c.call<protocol::offset_fetch_response>(req, 5);
  return r.topics.at(0).partitions.at(0).committed_offset;
}

}  // namespace

TEST(broker_wire, offset_delete_keeps_offsets_of_topics_a_member_subscribes_to) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "a", 1).topics.at(0).error_code, 0);
  ASSERT_EQ(create_topic(c, "b", 1).topics.at(0).error_code, 0);
  protocol::find_coordinator_request fc;
  fc.key = "g";
  ASSERT_EQ(c.call<protocol::find_coordinator_response>(fc, 2).error_code, 0);

  protocol::consumer_protocol_subscription sub;
  sub.topics = {"a"};
  protocol::writer w;
  w.write_int16(1);
  sub.encode(w, 1);
  auto member = join_alone(c, "g", w.buffer());
  commit(c, "g", member, {"a", "b"});
  auto errors = offset_delete(c, "g", {"a", "b"});
  EXPECT_EQ(errors["a"], ec(error_code::group_subscribed_to_topic));
  EXPECT_EQ(errors["b"], 0);
  EXPECT_EQ(committed(c, "g", "a"), 7);
  EXPECT_EQ(committed(c, "g", "b"), -1);

  // A subscription that does not decode (version -1) counts as subscribed to
  // everything, as in Kafka: nothing is deleted.
  auto other = join_alone(c, "h", protocol::bytes{0xff, 0xff});
  commit(c, "h", other, {"b"});
  EXPECT_EQ(offset_delete(c, "h", {"b"})["b"], ec(error_code::group_subscribed_to_topic));
  EXPECT_EQ(committed(c, "h", "b"), 7);
}

TEST(broker_wire, offset_for_leader_epoch_answers_from_the_epoch_cache) {
  broker_process b;
  wire_client c(b.port());
  ASSERT_EQ(create_topic(c, "e", 1).topics.at(0).error_code, 0);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(produce(c, "e", 0, make_batch({"a", "b"})).responses.at(0).partition_responses.at(0).error_code, 0);
  auto ask = [&](const std::string& topic, int32_t epoch, int32_t current, int16_t version = 4) {
    protocol::offset_for_leader_epoch_request req;
    req.replica_id = -1;
    auto& t = req.topics.emplace_back();
    t.topic = topic;
    auto& p = t.partitions.emplace_back();
    p.partition = 0;
    p.leader_epoch = epoch;
    p.current_leader_epoch = current;
    auto r = c.call<protocol::offset_for_leader_epoch_response>(req, version);
    return r.topics.at(0).partitions.at(0);
  };
  auto latest = ask("e", 0, 0);  // the only epoch so far: its end is the log end
  EXPECT_EQ(latest.error_code, 0);
  EXPECT_EQ(latest.leader_epoch, 0);
  EXPECT_EQ(latest.end_offset, 6);
  auto v0 = ask("e", 0, -1, 0);  // v0 has no epoch in the response, only the offset
  EXPECT_EQ(v0.error_code, 0);
  EXPECT_EQ(v0.end_offset, 6);
  auto newer = ask("e", 7, -1);  // an epoch this log never had
  EXPECT_EQ(newer.error_code, 0);
  EXPECT_EQ(newer.leader_epoch, -1);
  EXPECT_EQ(newer.end_offset, -1);
  EXPECT_EQ(ask("e", 0, 3).error_code, ec(error_code::unknown_leader_epoch));
  EXPECT_EQ(ask("missing", 0, -1).error_code, ec(error_code::unknown_topic_or_partition));
}

TEST(broker_wire, describe_configs_never_returns_passwords) {
  broker_process b({"ssl.keystore.password=hunter2", "ssl.keystore.key=-----BEGIN PRIVATE KEY-----"});
  wire_client c(b.port());
  protocol::describe_configs_request req;
  auto& res = req.resources.emplace_back();
  res.resource_type = 4;  // broker
  res.resource_name = "0";
  res.configuration_keys = std::vector<std::string>{"ssl.keystore.password", "ssl.keystore.key", "ssl.client.auth"};
  auto r = c.call<protocol::describe_configs_response>(req, 4);
  ASSERT_EQ(r.results.at(0).error_code, 0);
  std::map<std::string, std::pair<std::optional<std::string>, bool>> seen;
  for (const auto& e : r.results.at(0).configs) seen[e.name] = {e.value, e.is_sensitive};
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen["ssl.keystore.password"], std::make_pair(std::optional<std::string>(), true));
  EXPECT_EQ(seen["ssl.keystore.key"], std::make_pair(std::optional<std::string>(), true));
  EXPECT_EQ(seen["ssl.client.auth"], std::make_pair(std::optional<std::string>("none"), false));
}

// KIP-112: a partition whose log cannot be opened at startup is offline. Every request
// on it answers KAFKA_STORAGE_ERROR, Metadata names it, and the others are served.
TEST(broker_wire, an_offline_partition_answers_kafka_storage_error) {
  broker_process b;
  {
    wire_client c(b.port());
    ASSERT_EQ(create_topic(c, "t", 2).topics.at(0).error_code, 0);
    for (int32_t p = 0; p < 2; ++p)
      ASSERT_EQ(produce(c, "t", p, make_batch({"a", "b"})).responses[0].partition_responses[0].error_code, 0);
  }
  ASSERT_EQ(b.stop(), 0);
  const std::string seg = b.dir() + "/data/t-1/00000000000000000000.log";
  ASSERT_TRUE(std::filesystem::remove(seg));
  ASSERT_TRUE(std::filesystem::create_directory(seg));
  b.start({});
  wire_client c(b.port());
  const int16_t storage = ec(error_code::kafka_storage_error);

  protocol::metadata_request mreq;
  mreq.topics = std::nullopt;  // every topic
  auto md = c.call<protocol::metadata_response>(mreq, 12);
  ASSERT_EQ(md.topics.size(), 1u);
  ASSERT_EQ(md.topics[0].partitions.size(), 2u);
  for (const auto& p : md.topics[0].partitions) {
    EXPECT_EQ(p.error_code, p.partition_index == 1 ? storage : 0) << p.partition_index;
    EXPECT_EQ(p.offline_replicas, p.partition_index == 1 ? std::vector<int32_t>{0} : std::vector<int32_t>{});
  }
  EXPECT_EQ(produce(c, "t", 1, make_batch({"c"})).responses[0].partition_responses[0].error_code, storage);
  EXPECT_EQ(c.call<protocol::fetch_response>(fetch_req("t", 1, 0), 11).responses[0].partitions[0].error_code, storage);
  // A long poll over both partitions answers at once with the error, and the data of the other.
  auto both = fetch_req("t", 0, 0, 5000, 1 << 20);
  both.topics[0].partitions.push_back(both.topics[0].partitions[0]);
  both.topics[0].partitions[1].partition = 1;
  auto fr = c.call<protocol::fetch_response>(both, 11);
  EXPECT_EQ(values_of(fr.responses[0].partitions[0].records), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(fr.responses[0].partitions[1].error_code, storage);

  protocol::list_offsets_request lreq;
  lreq.replica_id = -1;
  auto& lt = lreq.topics.emplace_back();
  lt.name = "t";
  lt.partitions.emplace_back().partition_index = 1;
  lt.partitions.back().timestamp = -1;
  EXPECT_EQ(c.call<protocol::list_offsets_response>(lreq, 7).topics.at(0).partitions.at(0).error_code, storage);

  protocol::offset_for_leader_epoch_request oreq;
  oreq.replica_id = -1;
  auto& ot = oreq.topics.emplace_back();
  ot.topic = "t";
  ot.partitions.emplace_back().partition = 1;
  ot.partitions.back().current_leader_epoch = -1;
  EXPECT_EQ(c.call<protocol::offset_for_leader_epoch_response>(oreq, 4).topics.at(0).partitions.at(0).error_code,
            storage);

  protocol::delete_records_request dreq;
  dreq.timeout_ms = 5000;
  auto& dt = dreq.topics.emplace_back();
  dt.name = "t";
  dt.partitions.emplace_back().partition_index = 1;
  dt.partitions.back().offset = 1;
  EXPECT_EQ(c.call<protocol::delete_records_response>(dreq, 2).topics.at(0).partitions.at(0).error_code, storage);

  // The online partition is served.
  EXPECT_EQ(produce(c, "t", 0, make_batch({"c"})).responses[0].partition_responses[0].base_offset, 2);
  EXPECT_TRUE(b.alive());
  EXPECT_EQ(b.stop(), 0);
}
