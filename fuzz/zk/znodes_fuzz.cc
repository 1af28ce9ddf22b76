// Every decoder of a znode value (src/zk/znodes.h) on arbitrary bytes: each must
// return a value or an error, never crash, hang or throw. The first byte picks the
// decoder, so the corpus can specialise.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "zk/znodes.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  using namespace strata::zk;
  switch (data[0] % 12) {
    case 0: (void)decode_cluster_id(json); break;
    case 1: (void)decode_controller(json); break;
    case 2: (void)decode_controller_epoch(json); break;
    case 3: (void)decode_broker(json); break;
    case 4: (void)decode_topic(json); break;
    case 5: (void)decode_partition_state(json); break;
    case 6: (void)decode_isr_change(json); break;
    case 7: (void)decode_entity_config(json); break;
    case 8: (void)decode_config_change(json); break;
    case 9: (void)decode_producer_id_block(json); break;
    case 10: (void)decode_log_dir_event(json); break;
    default: {
      // A round trip of what decodes: encoding a decoded value must not fail either.
      if (auto t = decode_topic(json)) (void)encode_topic(t.value());
      if (auto s = decode_partition_state(json)) (void)encode_partition_state(s.value());
      break;
    }
  }
  return 0;
}
