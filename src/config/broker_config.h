#pragma once
// The broker's settings: server.properties plus command-line overrides,
// validated against config_def's table. Construction throws config_error
// naming the first bad key; unknown keys are collected as warnings.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/properties.h"

namespace strata::config {

struct listener {
  std::string name = "PLAINTEXT";      // the listener name
  std::string protocol = "PLAINTEXT";  // its security protocol: PLAINTEXT or SSL
  std::string host;                    // "" = every interface
  uint16_t port = 9092;
};

// Parses "NAME://host:port" (host may be empty or [v6]); the protocol is left to the
// caller (listener.security.protocol.map).
listener parse_listener(const std::string& text, const std::string& key);

class broker_config {
 public:
  // Every key in `props` is validated; `warnings` receives one line per
  // unknown key.
  broker_config(const properties& props, std::vector<std::string>& warnings);
  broker_config() : broker_config(properties{}, discard_) {}

  // Raw effective value (default when unset); "" when the key has no value.
  const std::string& get(const std::string& key) const;
  bool is_set(const std::string& key) const { return explicit_.count(key) != 0; }
  int64_t get_int(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  // A list setting's items, blanks around them dropped, empty items skipped.
  std::vector<std::string> get_list(const std::string& key) const;

  int32_t broker_id() const { return broker_id_; }
  const std::vector<listener>& listeners() const { return listeners_; }
  const std::vector<listener>& advertised_listeners() const { return advertised_; }
  const std::vector<std::string>& log_dirs() const { return log_dirs_; }
  int64_t log_retention_ms() const { return retention_ms_; }
  int64_t log_roll_ms() const { return roll_ms_; }
  int64_t log_flush_interval_ms() const { return flush_ms_; }

  // Applies a dynamic broker-config change (IncrementalAlterConfigs on the
  // broker resource). Throws config_error if invalid or not dynamic.
  void set_dynamic(const std::string& key, const std::string& value);

  // Every known key with its effective value, for DescribeConfigs.
  struct entry {
    std::string name, value;
    bool is_default;
  };
  std::vector<entry> describe() const;

 private:
  void derive();

  static inline std::vector<std::string> discard_;
  std::map<std::string, std::string> values_;
  std::map<std::string, std::string> explicit_;
  int32_t broker_id_ = 0;
  std::vector<listener> listeners_, advertised_;
  std::vector<std::string> log_dirs_;
  int64_t retention_ms_ = 0, roll_ms_ = 0, flush_ms_ = 0;
};

}  // namespace strata::config
