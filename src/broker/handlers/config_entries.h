#pragma once
// Mapping Strata's config model to DescribeConfigs' wire values.
#include <cstdint>

#include "config/config_def.h"
#include "config/topic_config.h"

namespace strata::broker {

// Kafka's ConfigSource ids.
enum config_source : int8_t {
  dynamic_topic_config = 1,
  dynamic_broker_config = 2,
  dynamic_default_broker_config = 3,
  static_broker_config = 4,
  default_config = 5,
};

// Kafka's ConfigResource.Type ids.
enum resource_type : int8_t { resource_topic = 2, resource_broker = 4, resource_broker_logger = 8 };

inline int8_t topic_config_source(config::topic_config::source s) {
  switch (s) {
    case config::topic_config::source::topic: return dynamic_topic_config;
    case config::topic_config::source::static_broker: return static_broker_config;
    case config::topic_config::source::default_: return default_config;
  }
  return default_config;
}

// DescribeConfigs v3+ ConfigType.
inline int8_t config_type_id(config::value_type t) {
  switch (t) {
    case config::value_type::boolean: return 1;
    case config::value_type::string: return 2;
    case config::value_type::int32: return 3;
    case config::value_type::int64: return 5;
    case config::value_type::double_: return 6;
    case config::value_type::list: return 7;
    case config::value_type::password: return 9;
  }
  return 0;
}

}  // namespace strata::broker
