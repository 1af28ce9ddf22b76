#pragma once
// Definitions of the settings Strata understands, under Kafka's names.
// One table for broker settings (server.properties) and one for topic
// settings (CreateTopics / AlterConfigs), each with type, default, range and
// documentation; DescribeConfigs and `strata serve --help-config` read them.
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace strata::config {

enum class value_type { boolean, int32, int64, double_, string, list, password };

struct config_def {
  std::string_view name;
  value_type type;
  std::string_view default_value;  // as text; "" for none
  std::string_view doc;
  int64_t min = std::numeric_limits<int64_t>::min();
  int64_t max = std::numeric_limits<int64_t>::max();
  // For enumerations: '|'-separated allowed values ("" = any).
  std::string_view one_of = {};
  // Topic settings: the broker setting that supplies the default.
  std::string_view broker_default = {};
  // Kafka treats this broker setting as changeable at runtime (DescribeConfigs
  // read_only=false).
  bool dynamic = false;
};

std::span<const config_def> broker_config_defs();
std::span<const config_def> topic_config_defs();
const config_def* find_broker_def(std::string_view name);
const config_def* find_topic_def(std::string_view name);

// Checks `value` against `def`; returns an error message naming the key, or
// nullopt when the value is valid.
std::optional<std::string> validate_value(const config_def& def, std::string_view value);

std::string_view type_name(value_type t);

// IncrementalAlterConfigs' APPEND and SUBTRACT on a list setting
// ("a,b,c"): whole items are compared (appending "a" to "ab" adds it),
// appending an item already present changes nothing, and subtracting removes
// every copy. Blanks around items are dropped.
std::string list_append(std::string_view list, std::string_view item);
std::string list_subtract(std::string_view list, std::string_view item);

}  // namespace strata::config
