// Fuzzes every response decoder (the broker-to-broker
// client and tests decode responses): the first 4 bytes are (api_key, version),
// big-endian, the rest is the response body.
#include "decode_check.h"
#include "protocol/generated/visit.h"

using namespace strata::protocol;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  reader head(data, size);
  const int16_t api_key = head.read_int16();
  const int16_t version = head.read_int16();
  if (!head.ok()) return 0;
  const bytes_view body(head.current(), head.remaining());
  visit_response_type(api_key, [&]<typename T>(std::type_identity<T>) {
    fuzz::decode_check<T>(version, body);
  });
  return 0;
}
