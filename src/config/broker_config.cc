#include "config/broker_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "config/config_def.h"
#include "config/config_error.h"

namespace strata::config {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t c = s.find(',', start);
    std::string item = s.substr(start, c == std::string::npos ? std::string::npos : c - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    if (c == std::string::npos) break;
    start = c + 1;
  }
  return out;
}

const std::string kEmpty;

}  // namespace

listener parse_listener(const std::string& text, const std::string& key) {
  listener l;
  size_t scheme = text.find("://");
  if (scheme == std::string::npos)
    throw config_error(fmt::format("invalid value '{}' for '{}': expected NAME://host:port", text, key));
  l.name = text.substr(0, scheme);
  std::string rest = text.substr(scheme + 3);
  size_t colon = rest.rfind(':');
  if (colon == std::string::npos)
    throw config_error(fmt::format("invalid value '{}' for '{}': missing :port", text, key));
  l.host = rest.substr(0, colon);
  if (l.host.size() >= 2 && l.host.front() == '[' && l.host.back() == ']') l.host = l.host.substr(1, l.host.size() - 2);
  std::string port = rest.substr(colon + 1);
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535)
    throw config_error(fmt::format("invalid value '{}' for '{}': bad port '{}'", text, key, port));
  l.port = static_cast<uint16_t>(p);
  if (l.name.empty()) throw config_error(fmt::format("invalid value '{}' for '{}': the listener has no name", text, key));
  return l;
}

broker_config::broker_config(const properties& props, std::vector<std::string>& warnings) {
  for (const auto& def : broker_config_defs()) values_[std::string(def.name)] = std::string(def.default_value);
  for (const auto& [k, v] : props) {
    const config_def* def = find_broker_def(k);
    if (!def) {
      warnings.push_back(fmt::format("unknown configuration '{}' ignored", k));
      continue;
    }
    if (auto err = validate_value(*def, v)) throw config_error(*err);
    values_[k] = v;
    explicit_[k] = v;
  }
  derive();
}

void broker_config::derive() {
  broker_id_ = static_cast<int32_t>(get_int("broker.id"));
  std::map<std::string, std::string> protocols;  // listener.security.protocol.map
  for (const auto& pair : get_list("listener.security.protocol.map")) {
    size_t colon = pair.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == pair.size())
      throw config_error(fmt::format("invalid entry '{}' in 'listener.security.protocol.map': expected NAME:PROTOCOL", pair));
    protocols[pair.substr(0, colon)] = pair.substr(colon + 1);
  }
  listeners_.clear();
  for (const auto& s : get_list("listeners")) {
    listener l = parse_listener(s, "listeners");
    auto p = protocols.find(l.name);
    if (p == protocols.end())
      throw config_error(fmt::format("listener '{}' has no security protocol in 'listener.security.protocol.map'", l.name));
    l.protocol = p->second;
    if (l.protocol != "PLAINTEXT" && l.protocol != "SSL")
      throw config_error(fmt::format("listener '{}': security protocol {} is not supported (PLAINTEXT and SSL are)",
                                     l.name, l.protocol));
    for (const auto& other : listeners_)
      if (other.name == l.name) throw config_error(fmt::format("'listeners' names '{}' twice", l.name));
    listeners_.push_back(l);
  }
  if (listeners_.empty()) throw config_error("'listeners' must name at least one listener");
  advertised_.clear();
  for (const auto& s : get_list("advertised.listeners")) {
    listener a = parse_listener(s, "advertised.listeners");
    auto bound = std::find_if(listeners_.begin(), listeners_.end(), [&](const listener& l) { return l.name == a.name; });
    if (bound == listeners_.end())
      throw config_error(fmt::format("advertised listener '{}' is not one of 'listeners'", a.name));
    a.protocol = bound->protocol;
    advertised_.push_back(a);
  }
  // A listener missing from advertised.listeners is published as it is bound.
  // Deviation: Kafka answers a client of such a listener with LISTENER_NOT_FOUND.
  for (const auto& l : listeners_) {
    if (std::none_of(advertised_.begin(), advertised_.end(), [&](const listener& a) { return a.name == l.name; }))
      advertised_.push_back(l);
  }
  for (const auto& p : get_list("ssl.enabled.protocols"))
    if (p != "TLSv1.2" && p != "TLSv1.3")
      throw config_error(fmt::format("invalid value '{}' in 'ssl.enabled.protocols': TLSv1.2 and TLSv1.3 are supported", p));
  for (auto& l : advertised_)
    if (l.host.empty() || l.host == "0.0.0.0" || l.host == "::") l.host = "localhost";

  log_dirs_ = get_list("log.dirs");
  if (log_dirs_.empty()) log_dirs_.push_back(get("log.dir"));

  // Kafka's precedence: ms over minutes over hours.
  if (!get("log.retention.ms").empty())
    retention_ms_ = get_int("log.retention.ms");
  else if (!get("log.retention.minutes").empty())
    retention_ms_ = get_int("log.retention.minutes") * 60'000;
  else
    retention_ms_ = get_int("log.retention.hours") * 3'600'000;
  if (retention_ms_ < 0) retention_ms_ = -1;
  roll_ms_ = !get("log.roll.ms").empty() ? get_int("log.roll.ms") : get_int("log.roll.hours") * 3'600'000;
  flush_ms_ = get("log.flush.interval.ms").empty() ? std::numeric_limits<int64_t>::max()
                                                   : get_int("log.flush.interval.ms");
}

const std::string& broker_config::get(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? kEmpty : it->second;
}

std::vector<std::string> broker_config::get_list(const std::string& key) const { return split_list(get(key)); }

int64_t broker_config::get_int(const std::string& key) const {
  const std::string& v = get(key);
  int64_t out = 0;
  std::from_chars(v.data(), v.data() + v.size(), out);
  return out;
}

bool broker_config::get_bool(const std::string& key) const { return get(key) == "true"; }

void broker_config::set_dynamic(const std::string& key, const std::string& value) {
  const config_def* def = find_broker_def(key);
  if (!def) throw config_error(fmt::format("unknown broker configuration '{}'", key));
  if (!def->dynamic) throw config_error(fmt::format("broker configuration '{}' cannot be changed at runtime", key));
  if (auto err = validate_value(*def, value)) throw config_error(*err);
  values_[key] = value;
  explicit_[key] = value;
  derive();
}

std::vector<broker_config::entry> broker_config::describe() const {
  std::vector<entry> out;
  for (const auto& def : broker_config_defs()) {
    std::string name(def.name);
    std::string value = get(name);
    if (name == "log.retention.ms") value = std::to_string(retention_ms_);
    if (name == "log.roll.ms") value = std::to_string(roll_ms_);
    out.push_back({name, value, !is_set(name)});
  }
  return out;
}

}  // namespace strata::config
