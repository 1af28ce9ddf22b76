#include "admin/router.h"

#include <vector>

#include "admin/json_writer.h"
#include "admin/metrics_text.h"

namespace strata::admin {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kPrometheus = "text/plain; version=0.0.4; charset=utf-8";

reply json_reply(unsigned status, std::string body) { return {status, std::string(kJson), std::move(body), {}}; }

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void write_topic_summary(json_writer& w, const topic_summary& t, bool count_key) {
  w.key("name").value(t.name);
  w.key("id").value(t.id);
  w.key(count_key ? "partition_count" : "partitions").value(t.partitions);
  w.key("replication_factor").value(t.replication_factor);
  w.key("internal").boolean(t.internal);
}

void write_ints(json_writer& w, const std::vector<int32_t>& v) {
  w.begin_array();
  for (int32_t x : v) w.value(x);
  w.end_array();
}

std::string topics_json(const std::vector<topic_summary>& topics) {
  json_writer w;
  w.begin_object().key("topics").begin_array();
  for (const auto& t : topics) {
    w.begin_object();
    write_topic_summary(w, t, false);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string topic_json(const topic_detail& t) {
  json_writer w;
  w.begin_object();
  write_topic_summary(w, t.summary, true);
  w.key("partitions").begin_array();
  for (const auto& p : t.partitions) {
    w.begin_object();
    w.key("partition").value(p.partition);
    w.key("leader").value(p.leader);
    w.key("replicas");
    write_ints(w, p.replicas);
    w.key("isr");
    write_ints(w, p.isr);
    w.key("log_start_offset").value(p.log_start_offset);
    w.key("log_end_offset").value(p.log_end_offset);
    w.key("high_watermark").value(p.high_watermark);
    w.key("size_bytes").value(p.size_bytes);
    w.end_object();
  }
  w.end_array();
  w.key("configs").begin_array();
  for (const auto& c : t.configs)
    w.begin_object().key("name").value(c.name).key("value").value(c.value).key("source").value(c.source).end_object();
  w.end_array();
  w.end_object();
  return w.take();
}

void write_group_summary(json_writer& w, const group_summary& g) {
  w.key("group_id").value(g.group_id);
  w.key("state").value(g.state);
  w.key("protocol_type").value(g.protocol_type);
  w.key("protocol").value(g.protocol);
}

std::string groups_json(const std::vector<group_summary>& groups) {
  json_writer w;
  w.begin_object().key("groups").begin_array();
  for (const auto& g : groups) {
    w.begin_object();
    write_group_summary(w, g);
    w.key("members").value(g.members);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

std::string group_json(const group_detail& g) {
  json_writer w;
  w.begin_object();
  write_group_summary(w, g.summary);
  w.key("members").begin_array();
  for (const auto& m : g.members) {
    w.begin_object();
    w.key("member_id").value(m.member_id);
    w.key("group_instance_id");
    if (m.group_instance_id)
      w.value(*m.group_instance_id);
    else
      w.null();
    w.key("client_id").value(m.client_id);
    w.key("client_host").value(m.client_host);
    w.end_object();
  }
  w.end_array();
  w.key("offsets").begin_array();
  for (const auto& o : g.offsets) {
    w.begin_object();
    w.key("topic").value(o.topic);
    w.key("partition").value(o.partition);
    w.key("committed_offset").value(o.committed_offset);
    w.key("log_end_offset");
    if (o.log_end_offset)
      w.value(*o.log_end_offset);
    else
      w.null();
    w.key("lag");
    if (o.lag)
      w.value(*o.lag);
    else
      w.null();
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

std::string brokers_json(const std::vector<broker_view>& brokers) {
  json_writer w;
  w.begin_object().key("brokers").begin_array();
  for (const auto& b : brokers) {
    w.begin_object();
    w.key("id").value(b.id);
    w.key("host").value(b.host);
    w.key("port").value(b.port);
    w.key("self").boolean(b.self);
    w.end_object();
  }
  w.end_array().end_object();
  return w.take();
}

}  // namespace

reply error_reply(unsigned status, std::string_view message) {
  json_writer w;
  w.begin_object().key("error").value(message).end_object();
  return json_reply(status, w.take());
}

std::string_view health_name(health h) {
  switch (h) {
    case health::starting: return "starting";
    case health::ready: return "ready";
    case health::shutting_down: return "shutting_down";
  }
  return "unknown";
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    int hi = hex(s[i + 1]), lo = hex(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

void router::set_source(source* s) {
  std::lock_guard lk(mu_);
  source_ = s;
}

reply router::handle(std::string_view method, std::string_view target) {
  try {
    return route(method, target);
  } catch (const std::exception& e) {
    // A source failing (allocation, a filesystem error reading sizes) costs
    // this one request, never the listener.
    return error_reply(500, e.what());
  }
}

reply router::route(std::string_view method, std::string_view target) {
  std::string_view path = target.substr(0, target.find_first_of("?#"));
  if (path.empty() || path.front() != '/') return error_reply(400, "request target must be an absolute path");
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  std::vector<std::string> seg;
  for (size_t i = 1; i <= path.size();) {
    size_t end = path.find('/', i);
    if (end == std::string_view::npos) end = path.size();
    auto decoded = percent_decode(path.substr(i, end - i));
    if (!decoded) return error_reply(400, "malformed percent-encoding in the path");
    seg.push_back(std::move(*decoded));
    i = end + 1;
  }
  // Which route, before the method: a wrong method on a known path is 405.
  enum class route_id { none, health, metrics, topics, topic, groups, group, brokers } id = route_id::none;
  const size_t n = seg.size();
  if (n == 1 && seg[0] == "health") id = route_id::health;
  if (n == 1 && seg[0] == "metrics") id = route_id::metrics;
  if (n >= 2 && n <= 3 && seg[0] == "v1") {
    if (seg[1] == "topics") id = n == 2 ? route_id::topics : route_id::topic;
    if (seg[1] == "groups") id = n == 2 ? route_id::groups : route_id::group;
    if (seg[1] == "brokers" && n == 2) id = route_id::brokers;
    if ((id == route_id::topic || id == route_id::group) && seg[2].empty()) id = route_id::none;
  }
  if (id == route_id::none) return error_reply(404, "not found");
  if (method != "GET") {
    reply r = error_reply(405, "method not allowed");
    r.allow = "GET";
    return r;
  }

  const health h = current_health();
  if (id == route_id::health) {
    json_writer w;
    w.begin_object().key("status").value(health_name(h)).end_object();
    return json_reply(h == health::ready ? 200 : 503, w.take());
  }

  std::lock_guard lk(mu_);
  if (id == route_id::metrics) {
    std::optional<broker_metrics> m;
    if (source_) m = source_->metrics();
    return {200, std::string(kPrometheus), render_metrics(m ? &*m : nullptr, read_process_stats(), h, start_time_seconds_), {}};
  }
  if (!source_) return error_reply(503, std::string("broker is ") + std::string(health_name(h)));
  switch (id) {
    case route_id::topics: return json_reply(200, topics_json(source_->topics()));
    case route_id::topic: {
      auto t = source_->topic(seg[2]);
      if (!t) return error_reply(404, "unknown topic");
      return json_reply(200, topic_json(*t));
    }
    case route_id::groups: return json_reply(200, groups_json(source_->groups()));
    case route_id::group: {
      auto g = source_->group(seg[2]);
      if (!g) return error_reply(404, "unknown group");
      return json_reply(200, group_json(*g));
    }
    case route_id::brokers: return json_reply(200, brokers_json(source_->brokers()));
    default: return error_reply(404, "not found");
  }
}

}  // namespace strata::admin
