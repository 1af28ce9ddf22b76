// `strata group reset-offsets`: kafka-consumer-groups.sh --reset-offsets.
// Computes new committed offsets for partitions of an inactive group; prints
// the plan (the default, --dry-run) or commits it (--execute) with an
// OffsetCommit from outside the group, which Kafka accepts only while the
// group has no members.
#include <CLI/CLI.hpp>

#include <boost/json.hpp>
#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <ctime>
#include <iostream>

#include "cli/admin_common.h"
#include "cli/group_offsets.h"
#include "cli/output.h"
#include "client/errors.h"
#include "client/groups.h"
#include "client/offsets.h"

namespace strata::cli {

namespace json = boost::json;

namespace {

struct reset_args {
  std::string group;
  std::vector<std::string> topics;  // "name" or "name:0,1,2"
  bool all_topics = false;
  bool to_earliest = false;
  bool to_latest = false;
  std::optional<int64_t> to_offset;
  std::optional<std::string> to_datetime;
  std::optional<int64_t> shift_by;
  std::optional<std::string> by_duration;
  bool dry_run = false;
  bool execute = false;
};

// Reads exactly `n` digits from s at pos.
std::optional<int> digits(std::string_view s, size_t& pos, size_t n) {
  if (pos + n > s.size()) return std::nullopt;
  int v = 0;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + n, v);
  if (ec != std::errc() || end != s.data() + pos + n) return std::nullopt;
  pos += n;
  return v;
}

// ISO-8601 date-time in ms since the epoch: YYYY-MM-DDTHH:MM[:SS[.sss]] with
// an optional zone (Z, +HH:MM, -HHMM). Without a zone the local time zone
// applies, as in kafka-consumer-groups.sh.
int64_t parse_datetime(const std::string& text) {
  auto bad = [&] {
    usage_error("--to-datetime '" + text + "': expected YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM]");
  };
  std::string_view s = text;
  size_t pos = 0;
  std::tm tm{};
  auto expect = [&](char ch) { if (pos >= s.size() || s[pos] != ch) bad(); ++pos; };
  auto year = digits(s, pos, 4); expect('-');
  auto month = digits(s, pos, 2); expect('-');
  auto day = digits(s, pos, 2); expect('T');
  auto hour = digits(s, pos, 2); expect(':');
  auto minute = digits(s, pos, 2);
  std::optional<int> second = 0;
  int64_t millis = 0;
  if (pos < s.size() && s[pos] == ':') {
    ++pos;
    second = digits(s, pos, 2);
    if (pos < s.size() && s[pos] == '.') {
      ++pos;
      size_t start = pos;
      while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) ++pos;
      std::string frac(s.substr(start, pos - start));
      if (frac.empty()) bad();
      frac = (frac + "000").substr(0, 3);
      millis = std::stoi(frac);
    }
  }
  if (!year || !month || !day || !hour || !minute || !second || *month < 1 || *month > 12 || *day < 1 ||
      *day > 31 || *hour > 23 || *minute > 59 || *second > 60)
    bad();
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second;
  int64_t seconds;
  if (pos == s.size()) {
    tm.tm_isdst = -1;
    seconds = static_cast<int64_t>(std::mktime(&tm));
  } else {
    seconds = static_cast<int64_t>(::timegm(&tm));
    if (s[pos] == 'Z' && pos + 1 == s.size()) {
      // UTC
    } else if (s[pos] == '+' || s[pos] == '-') {
      const int sign = s[pos] == '+' ? 1 : -1;
      ++pos;
      auto zh = digits(s, pos, 2);
      if (pos < s.size() && s[pos] == ':') ++pos;
      auto zm = digits(s, pos, 2);
      if (!zh || !zm || pos != s.size() || *zh > 23 || *zm > 59) bad();
      seconds -= sign * (*zh * 3600 + *zm * 60);
    } else {
      bad();
    }
  }
  return seconds * 1000 + millis;
}

// ISO-8601 duration, as Java's Duration.parse takes it: P[nD][T[nH][nM][nS]],
// e.g. PT30M, P1DT12H. Returns milliseconds.
int64_t parse_duration(const std::string& text) {
  auto bad = [&] { usage_error("--by-duration '" + text + "': expected an ISO-8601 duration such as PT30M or P1DT2H"); };
  std::string_view s = text;
  if (s.size() < 3 || (s[0] != 'P' && s[0] != 'p')) bad();
  size_t pos = 1;
  bool in_time = false, any = false;
  int64_t ms = 0;
  while (pos < s.size()) {
    if (s[pos] == 'T' || s[pos] == 't') {
      if (in_time) bad();
      in_time = true;
      ++pos;
      continue;
    }
    int64_t n = 0;
    auto [end, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
    if (ec != std::errc() || end == s.data() + s.size() || n < 0) bad();
    pos = static_cast<size_t>(end - s.data());
    const char unit = static_cast<char>(std::toupper(static_cast<unsigned char>(s[pos++])));
    if (!in_time && unit == 'D') ms += n * 86'400'000;
    else if (in_time && unit == 'H') ms += n * 3'600'000;
    else if (in_time && unit == 'M') ms += n * 60'000;
    else if (in_time && unit == 'S') ms += n * 1'000;
    else bad();
    any = true;
  }
  if (!any) bad();
  return ms;
}

// "orders" or "orders:0,2".
std::pair<std::string, std::vector<int32_t>> parse_topic_spec(const std::string& spec) {
  auto colon = spec.find(':');
  if (colon == 0 || spec.empty()) usage_error("--topic '" + spec + "': expected TOPIC or TOPIC:PARTITION,...");
  if (colon == std::string::npos) return {spec, {}};
  std::vector<int32_t> parts;
  std::string_view rest = std::string_view(spec).substr(colon + 1);
  while (true) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    int32_t p = -1;
    auto [end, ec] = std::from_chars(item.data(), item.data() + item.size(), p);
    if (ec != std::errc() || end != item.data() + item.size() || p < 0)
      usage_error("--topic '" + spec + "': '" + std::string(item) + "' is not a partition number");
    parts.push_back(p);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return {spec.substr(0, colon), parts};
}

void run_reset(client::cluster_client& c, const reset_args& a, const admin_options& opts) {
  // Arguments first, so a typo is reported before anything is sent.
  const int scenarios = a.to_earliest + a.to_latest + a.to_offset.has_value() + a.to_datetime.has_value() +
                        a.shift_by.has_value() + a.by_duration.has_value();
  if (scenarios != 1)
    usage_error("give exactly one of --to-earliest, --to-latest, --to-offset, --to-datetime, --shift-by, --by-duration");
  if (a.all_topics == !a.topics.empty()) usage_error("give either --topic (repeatable) or --all-topics");
  if (a.dry_run && a.execute) usage_error("--dry-run and --execute exclude each other");
  std::optional<int64_t> timestamp;
  if (a.to_datetime) timestamp = parse_datetime(*a.to_datetime);
  if (a.by_duration) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
    timestamp = now - parse_duration(*a.by_duration);
  }
  std::vector<std::pair<std::string, std::vector<int32_t>>> specs;
  for (auto& t : a.topics) specs.push_back(parse_topic_spec(t));

  auto g = client::describe_group(c, a.group);
  // Kafka's rule (ConsumerGroupCommand): offsets of a group with members
  // would be overwritten by their next commit, so only inactive groups.
  if (g.state != "Empty" && g.state != "Dead")
    throw client::client_error("cannot reset offsets of group '" + a.group + "': it is active (state " + g.state +
                                   ", " + std::to_string(g.members.size()) +
                                   " member(s)); stop its consumers first");
  auto committed = client::committed_offsets(c, a.group);

  std::set<client::topic_partition> targets;
  if (a.all_topics) {
    for (auto& [tp, off] : committed) targets.insert(tp);
    if (targets.empty())
      throw client::client_error("group '" + a.group + "' has no committed offsets: name the topics with --topic");
    // Partitions of topics deleted since they were committed cannot be reset.
    std::set<std::string> names;
    for (auto& tp : targets) names.insert(tp.topic);
    auto md = c.metadata(std::vector<std::string>(names.begin(), names.end()));
    std::set<client::topic_partition> existing;
    for (auto& t : md.topics)
      if (t.error_code == 0)
        for (auto& p : t.partitions) existing.insert({t.name.value_or(""), p.partition_index});
    std::erase_if(targets, [&](auto& tp) { return !existing.count(tp); });
  } else {
    std::set<std::string> names;
    for (auto& [t, parts] : specs) names.insert(t);
    auto all = partitions_of(c, names);
    for (auto& [t, parts] : specs) {
      if (parts.empty()) {
        for (auto& tp : all)
          if (tp.topic == t) targets.insert(tp);
        continue;
      }
      for (int32_t p : parts) {
        if (!all.count({t, p}))
          throw client::client_error("partition " + t + "-" + std::to_string(p) + " does not exist",
                                     protocol::error_code::unknown_topic_or_partition);
        targets.insert({t, p});
      }
    }
  }

  auto ask = [&](int64_t ts) {
    std::map<client::topic_partition, int64_t> req;
    for (auto& tp : targets) req[tp] = ts;
    return client::list_offsets(c, req);
  };
  const auto earliest = ask(client::earliest_timestamp);
  const auto latest = ask(client::latest_timestamp);
  std::map<client::topic_partition, int64_t> by_time;
  if (timestamp) by_time = ask(*timestamp);

  std::map<client::topic_partition, int64_t> plan;
  for (auto& tp : targets) {
    const int64_t lo = earliest.at(tp), hi = latest.at(tp);
    int64_t target;
    if (a.to_earliest) {
      target = lo;
    } else if (a.to_latest) {
      target = hi;
    } else if (a.to_offset) {
      target = *a.to_offset;
    } else if (a.shift_by) {
      auto it = committed.find(tp);
      if (it == committed.end())
        throw client::client_error("cannot shift partition " + tp.topic + "-" + std::to_string(tp.partition) +
                                   ": group '" + a.group + "' has no committed offset for it");
      target = it->second + *a.shift_by;
    } else {
      // No record at or after the time: the end, as Kafka does.
      target = by_time.at(tp) < 0 ? hi : by_time.at(tp);
    }
    // Out-of-range targets are moved to the nearest valid offset, as Kafka does.
    plan[tp] = std::clamp(target, lo, hi);
  }

  if (a.execute) client::commit_offsets(c, a.group, plan);

  auto current = [&](const client::topic_partition& tp) -> std::optional<int64_t> {
    auto it = committed.find(tp);
    return it == committed.end() ? std::nullopt : std::optional<int64_t>(it->second);
  };
  if (opts.json()) {
    json::array rows;
    for (auto& [tp, off] : plan) {
      auto cur = current(tp);
      rows.push_back(json::object{{"topic", tp.topic},
                                  {"partition", tp.partition},
                                  {"current_offset", cur ? json::value(*cur) : json::value(nullptr)},
                                  {"new_offset", off}});
    }
    print_json(std::cout, json::object{{"group", a.group}, {"executed", a.execute}, {"partitions", std::move(rows)}});
    return;
  }
  table t({"GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"});
  for (auto& [tp, off] : plan)
    t.add({a.group, tp.topic, std::to_string(tp.partition), or_dash(current(tp)), std::to_string(off)});
  t.print(std::cout);
  std::cout << (a.execute ? "Committed the new offsets of " + std::to_string(plan.size()) + " partition(s).\n"
                          : std::string("Dry run: nothing was changed. Add --execute to commit these offsets.\n"));
}

}  // namespace

void register_group_reset_offsets(CLI::App* group) {
  auto opts = std::make_shared<admin_options>();
  auto a = std::make_shared<reset_args>();
  auto* cmd = add_admin_command(
      group, "reset-offsets",
      "Move an inactive group's committed offsets (prints the plan; --execute commits it)", opts,
      [opts, a](client::cluster_client& c) { run_reset(c, *a, *opts); });
  cmd->add_option("group", a->group, "Group id")->required();
  cmd->add_option("--topic", a->topics, "Topic, or TOPIC:PARTITION,... (repeatable)")->allow_extra_args(false)->take_all();
  cmd->add_flag("--all-topics", a->all_topics, "Every topic the group has committed offsets for");
  cmd->add_flag("--to-earliest", a->to_earliest, "To the log-start offset");
  cmd->add_flag("--to-latest", a->to_latest, "To the log-end offset");
  cmd->add_option("--to-offset", a->to_offset, "To this offset (clamped to the partition's range)");
  cmd->add_option("--to-datetime", a->to_datetime,
                  "To the first offset at or after this time: YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM] (local time without a zone)");
  cmd->add_option("--shift-by", a->shift_by, "Move the committed offset by N (negative: back)");
  cmd->add_option("--by-duration", a->by_duration, "To the first offset this long ago, ISO-8601: PT30M, P1DT2H");
  cmd->add_flag("--dry-run", a->dry_run, "Only print the plan (the default)");
  cmd->add_flag("--execute", a->execute, "Commit the new offsets");
}

}  // namespace strata::cli
