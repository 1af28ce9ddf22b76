#pragma once
// The history `strata verify` records: what each producer sent and what its
// delivery reports said, what each consumer read, which offsets a group
// committed, and where reading ended. One event per line of JSON (see
// README.md for the exact keys), so a history can be saved, tampered with in
// a test, and checked again (`strata verify check`).
//
// Plain data, no librdkafka: the checker and its tests link only this.
// Not thread-safe: the runner keeps one vector per thread and merges them.
#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace strata::verify {

enum class event_kind {
  run,            // first line: run id, topic, settings
  produce_start,  // production began (longest_unavailable_ms starts here)
  send,           // a producer handed a value to its client
  ack,            // its delivery report succeeded: partition, offset
  fail,           // its delivery report had an error: indeterminate
  read,           // a consumer read a value of this run at partition/offset
  commit,         // a group commit succeeded: group, partition, offset
  produce_end,    // every delivery report is in
  position,       // where reading ended in a partition, and its high watermark
  end,            // last line: whether reading reached the end
};

// What the "run" event says about the run.
struct run_info {
  std::string run_id;
  std::string topic;
  std::string acks;  // all, 1 or 0
  bool idempotence = false;
};

struct event {
  event_kind kind = event_kind::send;
  std::int64_t time_ms = 0;  // since the start of the run
  // send, ack, fail, read: the value's identity ("strata-verify RUN PRODUCER SEQ").
  std::int32_t producer = -1;
  std::int64_t seq = -1;
  // ack, read, commit, position; send/fail: the partition asked for (-1: any).
  std::int32_t partition = -1;
  // ack (-1: unknown, as with acks=0), read, commit, position.
  std::int64_t offset = -1;
  std::int64_t high_watermark = -1;  // position
  std::int32_t consumer = -1;        // read
  // read: by the final read (a fresh consumer from the beginning once writing
  // ended): the log as it stands, which decides what is lost.
  bool final_read = false;
  std::string error;                 // fail: librdkafka's error name
  std::int32_t error_code = 0;       // fail: librdkafka's error code
  std::string group;                 // commit
  bool read_complete = false;        // end
  // run: shared, so that the many events of a run stay small (a history holds
  // several events per message in memory).
  std::shared_ptr<const run_info> run;
};

// The value a producer sends: "strata-verify RUN PRODUCER SEQ", then
// `padding` bytes of filler after a space (none when padding is 0).
std::string make_value(const std::string& run_id, std::int32_t producer, std::int64_t seq, std::size_t padding);

// Parses a value made by make_value. Returns false for anything else (another
// tool's record). `run_id` receives the run it belongs to.
bool parse_value(const char* data, std::size_t size, std::string& run_id, std::int32_t& producer,
                 std::int64_t& seq);

// One JSON object, no newline.
std::string encode(const event& e);
// Parses one line; nullopt with `err` on malformed input.
std::optional<event> decode(const std::string& line, std::string& err);

void write_history(std::ostream& out, const std::vector<event>& events);
// Reads every non-empty line; false with `err` naming the line on bad input.
bool read_history(std::istream& in, std::vector<event>& events, std::string& err);

const char* kind_name(event_kind k);

}  // namespace strata::verify
