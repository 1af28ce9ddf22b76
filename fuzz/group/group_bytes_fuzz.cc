// libFuzzer target: the group blobs the broker decodes. ConsumerProtocolSubscription
// comes from any client in JoinGroup and is decoded for OffsetDelete;
// ConsumerProtocolAssignment comes from the group leader in SyncGroup (and is decoded
// by `strata group describe`); `__consumer_offsets` keys and values are read back from
// the log at start-up, where a damaged disk can put anything.
//
// The first byte picks the decoder. Checked beyond "no crash": an accepted
// subscription or assignment re-encodes at the version it was read at to bytes that
// decode to the same value, and an accepted offset commit survives encode/decode.
#include <cstddef>
#include <cstdint>

#include "group/offsets_topic.h"
#include "protocol/generated/consumer_protocol.h"
#include "protocol/versioned_bytes.h"

namespace {

using namespace strata;

#define FUZZ_CHECK(cond)             \
  do {                               \
    if (!(cond)) __builtin_trap();   \
  } while (0)

template <typename T>
void versioned_round_trip(protocol::bytes_view in) {
  auto v = protocol::decode_versioned<T>(in);
  if (!v) return;
  protocol::reader head(in);
  int16_t version = std::min<int16_t>(head.read_int16(), T::max_version);
  protocol::writer w;
  w.write_int16(version);
  v->encode(w, version);
  auto again = protocol::decode_versioned<T>(w.buffer());
  FUZZ_CHECK(again && *again == *v);
}

// The rest of the input: a 2-byte key length, the key, then the value (absent when
// the flag byte is odd: a tombstone).
void offsets_record(protocol::bytes_view in) {
  if (in.size() < 3) return;
  const bool tombstone = in[0] & 1;
  size_t key_len = (size_t(in[1]) << 8) | in[2];
  in = in.subspan(3);
  if (key_len > in.size()) return;
  auto key = in.first(key_len);
  std::optional<protocol::bytes_view> value;
  if (!tombstone) value = in.subspan(key_len);
  auto r = group::decode_record(key, value);
  if (!r || !r->value) return;
  const auto* k = std::get_if<group::offset_key>(&r->key);
  const auto* v = std::get_if<group::committed_offset>(&*r->value);
  if (!k || !v) return;
  auto k2 = group::encode_offset_key(k->group, k->topic, k->partition);
  auto v2 = group::encode_offset_value(*v);
  auto again = group::decode_record(k2, protocol::bytes_view(v2));
  FUZZ_CHECK(again && again->value);
  const auto* ak = std::get_if<group::offset_key>(&again->key);
  const auto* av = std::get_if<group::committed_offset>(&*again->value);
  FUZZ_CHECK(ak && av && ak->group == k->group && ak->topic == k->topic && ak->partition == k->partition);
  FUZZ_CHECK(av->offset == v->offset && av->metadata == v->metadata);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  protocol::bytes_view in(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: versioned_round_trip<protocol::consumer_protocol_subscription>(in); break;
    case 1: versioned_round_trip<protocol::consumer_protocol_assignment>(in); break;
    default: offsets_record(in); break;
  }
  return 0;
}
