#include "verify/history.h"

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <charconv>
#include <cstring>
#include <string_view>

namespace strata::verify {

namespace {

constexpr std::string_view k_prefix = "strata-verify ";

struct kind_entry {
  event_kind kind;
  const char* name;
};
constexpr kind_entry k_kinds[] = {
    {event_kind::run, "run"},         {event_kind::produce_start, "produce_start"},
    {event_kind::send, "send"},       {event_kind::ack, "ack"},
    {event_kind::fail, "fail"},       {event_kind::read, "read"},
    {event_kind::commit, "commit"},   {event_kind::produce_end, "produce_end"},
    {event_kind::position, "position"}, {event_kind::end, "end"},
};

bool parse_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

const char* kind_name(event_kind k) {
  for (const auto& e : k_kinds)
    if (e.kind == k) return e.name;
  return "?";
}

std::string make_value(const std::string& run_id, std::int32_t producer, std::int64_t seq, std::size_t padding) {
  std::string v;
  v.reserve(k_prefix.size() + run_id.size() + 32 + padding);
  v += k_prefix;
  v += run_id;
  v += ' ';
  v += std::to_string(producer);
  v += ' ';
  v += std::to_string(seq);
  if (padding > 0) {
    v += ' ';
    v.append(padding, 'x');
  }
  return v;
}

bool parse_value(const char* data, std::size_t size, std::string& run_id, std::int32_t& producer, std::int64_t& seq) {
  std::string_view v(data, size);
  if (!v.starts_with(k_prefix)) return false;
  v.remove_prefix(k_prefix.size());
  std::string_view fields[3];
  for (int i = 0; i < 3; ++i) {
    auto sp = v.find(' ');
    fields[i] = v.substr(0, sp);
    v = sp == std::string_view::npos ? std::string_view() : v.substr(sp + 1);
    if (fields[i].empty()) return false;
  }
  std::int64_t p = 0;
  if (!parse_int(fields[1], p) || p < 0 || p > INT32_MAX || !parse_int(fields[2], seq) || seq < 0) return false;
  run_id.assign(fields[0]);
  producer = static_cast<std::int32_t>(p);
  return true;
}

std::string encode(const event& e) {
  boost::json::object o;
  o["type"] = kind_name(e.kind);
  o["time"] = e.time_ms;
  switch (e.kind) {
    case event_kind::run:
      if (e.run) {
        o["run_id"] = e.run->run_id;
        o["topic"] = e.run->topic;
        o["acks"] = e.run->acks;
        o["idempotence"] = e.run->idempotence ? 1 : 0;
      }
      break;
    case event_kind::produce_start:
    case event_kind::produce_end:
      break;
    case event_kind::send:
      o["producer"] = e.producer;
      o["seq"] = e.seq;
      o["partition"] = e.partition;
      break;
    case event_kind::ack:
      o["producer"] = e.producer;
      o["seq"] = e.seq;
      o["partition"] = e.partition;
      o["offset"] = e.offset;
      break;
    case event_kind::fail:
      o["producer"] = e.producer;
      o["seq"] = e.seq;
      o["partition"] = e.partition;
      o["error"] = e.error;
      o["code"] = e.error_code;
      break;
    case event_kind::read:
      o["consumer"] = e.consumer;
      if (e.final_read) o["final"] = 1;
      o["partition"] = e.partition;
      o["offset"] = e.offset;
      o["producer"] = e.producer;
      o["seq"] = e.seq;
      break;
    case event_kind::commit:
      o["group"] = e.group;
      o["partition"] = e.partition;
      o["offset"] = e.offset;
      break;
    case event_kind::position:
      o["partition"] = e.partition;
      o["offset"] = e.offset;
      o["high_watermark"] = e.high_watermark;
      break;
    case event_kind::end:
      o["read_complete"] = e.read_complete ? 1 : 0;
      break;
  }
  return boost::json::serialize(o);
}

namespace {

// Field readers: a missing field keeps the default; a field of the wrong type
// is an error (a tampered history must not be read as something else).
bool get_int(const boost::json::object& o, const char* key, std::int64_t& out, std::string& err) {
  auto* v = o.if_contains(key);
  if (!v) return true;
  if (v->is_int64()) {
    out = v->as_int64();
    return true;
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    out = static_cast<std::int64_t>(v->as_uint64());
    return true;
  }
  err = std::string("\"") + key + "\" is not an integer";
  return false;
}

bool get_int32(const boost::json::object& o, const char* key, std::int32_t& out, std::string& err) {
  std::int64_t v = out;
  if (!get_int(o, key, v, err)) return false;
  if (v < INT32_MIN || v > INT32_MAX) {
    err = std::string("\"") + key + "\" is out of range";
    return false;
  }
  out = static_cast<std::int32_t>(v);
  return true;
}

bool get_string(const boost::json::object& o, const char* key, std::string& out, std::string& err) {
  auto* v = o.if_contains(key);
  if (!v) return true;
  if (!v->is_string()) {
    err = std::string("\"") + key + "\" is not a string";
    return false;
  }
  out.assign(v->as_string().data(), v->as_string().size());
  return true;
}

}  // namespace

std::optional<event> decode(const std::string& line, std::string& err) {
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(line, ec);
  if (ec || !v.is_object()) {
    err = "not a JSON object";
    return std::nullopt;
  }
  const auto& o = v.as_object();
  std::string type;
  if (!get_string(o, "type", type, err)) return std::nullopt;
  event e;
  bool known = false;
  for (const auto& k : k_kinds)
    if (type == k.name) {
      e.kind = k.kind;
      known = true;
    }
  if (!known) {
    err = "unknown event type \"" + type + "\"";
    return std::nullopt;
  }
  std::int64_t idem = 0, complete = 0, final_read = 0;
  if (!get_int(o, "time", e.time_ms, err) || !get_int32(o, "producer", e.producer, err) ||
      !get_int(o, "seq", e.seq, err) || !get_int32(o, "partition", e.partition, err) ||
      !get_int(o, "offset", e.offset, err) || !get_int(o, "high_watermark", e.high_watermark, err) ||
      !get_int32(o, "consumer", e.consumer, err) || !get_string(o, "error", e.error, err) ||
      !get_int32(o, "code", e.error_code, err) || !get_string(o, "group", e.group, err) ||
      !get_int(o, "read_complete", complete, err) || !get_int(o, "final", final_read, err))
    return std::nullopt;
  e.final_read = final_read != 0;
  if (e.kind == event_kind::run) {
    auto run = std::make_shared<run_info>();
    if (!get_string(o, "run_id", run->run_id, err) || !get_string(o, "topic", run->topic, err) ||
        !get_string(o, "acks", run->acks, err) || !get_int(o, "idempotence", idem, err))
      return std::nullopt;
    run->idempotence = idem != 0;
    e.run = std::move(run);
  }
  e.read_complete = complete != 0;
  return e;
}

void write_history(std::ostream& out, const std::vector<event>& events) {
  for (const auto& e : events) out << encode(e) << '\n';
}

bool read_history(std::istream& in, std::vector<event>& events, std::string& err) {
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string why;
    auto e = decode(line, why);
    if (!e) {
      err = "line " + std::to_string(n) + ": " + why;
      return false;
    }
    events.push_back(std::move(*e));
  }
  return true;
}

}  // namespace strata::verify
