#include "group/offsets_topic.h"

#include <cstdlib>

#include "protocol/generated/group_metadata_record.h"
#include "protocol/generated/offset_commit_record.h"

namespace strata::group {

int32_t java_string_hash(std::string_view utf8) {
  // Java hashes UTF-16 code units: decode UTF-8 to code points, and split
  // supplementary ones into surrogate pairs. Invalid bytes hash as U+FFFD,
  // as Java's decoder would replace them.
  uint32_t h = 0;
  auto add = [&h](uint32_t unit) { h = h * 31u + unit; };
  size_t i = 0;
  while (i < utf8.size()) {
    auto c = static_cast<uint8_t>(utf8[i]);
    uint32_t cp;
    size_t len;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c >> 5) == 0x6) {
      cp = c & 0x1f;
      len = 2;
    } else if ((c >> 4) == 0xe) {
      cp = c & 0x0f;
      len = 3;
    } else if ((c >> 3) == 0x1e) {
      cp = c & 0x07;
      len = 4;
    } else {
      add(0xfffd);
      ++i;
      continue;
    }
    if (i + len > utf8.size()) {
      add(0xfffd);
      break;
    }
    bool ok = true;
    for (size_t k = 1; k < len; ++k) {
      auto cc = static_cast<uint8_t>(utf8[i + k]);
      if ((cc >> 6) != 0x2) ok = false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if (!ok) {
      add(0xfffd);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xd800 + (cp >> 10));
      add(0xdc00 + (cp & 0x3ff));
    } else {
      add(cp);
    }
    i += len;
  }
  return static_cast<int32_t>(h);
}

int32_t partition_for(std::string_view group, int32_t partitions) {
  int32_t h = java_string_hash(group);
  // Kafka's Utils.abs: INT32_MIN maps to 0.
  int32_t a = h == INT32_MIN ? 0 : std::abs(h);
  return a % partitions;
}

namespace {

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;

template <class Msg>
protocol::bytes encode_versioned(int16_t version, const Msg& m) {
  protocol::writer w;
  w.write_int16(version);
  m.encode(w, version);
  return std::move(w.buffer());
}

}  // namespace

protocol::bytes encode_offset_key(const std::string& group, const std::string& topic, int32_t partition) {
  protocol::offset_commit_key k;
  k.group = group;
  k.topic = topic;
  k.partition = partition;
  return encode_versioned(kOffsetKeyVersion, k);
}

protocol::bytes encode_offset_value(const committed_offset& v) {
  protocol::offset_commit_value m;
  m.offset = v.offset;
  m.leader_epoch = v.leader_epoch;
  m.metadata = v.metadata;
  m.commit_timestamp = v.commit_timestamp;
  return encode_versioned(kOffsetValueVersion, m);
}

protocol::bytes encode_group_key(const std::string& group) {
  protocol::group_metadata_key k;
  k.group = group;
  return encode_versioned(kGroupKeyVersion, k);
}

protocol::bytes encode_group_value(const group_record& g) {
  protocol::group_metadata_value m;
  m.protocol_type = g.protocol_type;
  m.generation = g.generation;
  m.protocol = g.protocol;
  m.leader = g.leader;
  m.current_state_timestamp = g.current_state_timestamp;
  for (const auto& mr : g.members) {
    protocol::group_metadata_value::member_metadata mm;
    mm.member_id = mr.member_id;
    mm.group_instance_id = mr.group_instance_id;
    mm.client_id = mr.client_id;
    mm.client_host = mr.client_host;
    mm.rebalance_timeout = mr.rebalance_timeout_ms;
    mm.session_timeout = mr.session_timeout_ms;
    mm.subscription = mr.subscription;
    mm.assignment = mr.assignment;
    m.members.push_back(std::move(mm));
  }
  return encode_versioned(kGroupValueVersion, m);
}

std::optional<decoded_record> decode_record(protocol::bytes_view key, std::optional<protocol::bytes_view> value) {
  protocol::reader kr(key);
  int16_t kv = kr.read_int16();
  if (!kr.ok()) return std::nullopt;
  decoded_record out;
  if (kv == 0 || kv == 1) {
    protocol::offset_commit_key k;
    k.decode(kr, kv);
    if (!kr.ok()) return std::nullopt;
    out.key = offset_key{k.group, k.topic, k.partition};
    if (value) {
      protocol::reader vr(*value);
      int16_t vv = vr.read_int16();
      if (!vr.ok() || vv < protocol::offset_commit_value::min_version || vv > protocol::offset_commit_value::max_version)
        return std::nullopt;
      protocol::offset_commit_value v;
      v.decode(vr, vv);
      if (!vr.ok()) return std::nullopt;
      out.value = committed_offset{v.offset, v.leader_epoch, v.metadata, v.commit_timestamp};
    }
    return out;
  }
  if (kv == 2) {
    protocol::group_metadata_key k;
    k.decode(kr, kv);
    if (!kr.ok()) return std::nullopt;
    out.key = group_key{k.group};
    if (value) {
      protocol::reader vr(*value);
      int16_t vv = vr.read_int16();
      if (!vr.ok() || vv < protocol::group_metadata_value::min_version || vv > protocol::group_metadata_value::max_version)
        return std::nullopt;
      protocol::group_metadata_value v;
      v.decode(vr, vv);
      if (!vr.ok()) return std::nullopt;
      group_record g;
      g.protocol_type = v.protocol_type;
      g.generation = v.generation;
      g.protocol = v.protocol;
      g.leader = v.leader;
      g.current_state_timestamp = v.current_state_timestamp;
      for (auto& mm : v.members)
        g.members.push_back({mm.member_id, mm.group_instance_id, mm.client_id, mm.client_host, mm.rebalance_timeout,
                             mm.session_timeout, std::move(mm.subscription), std::move(mm.assignment)});
      out.value = std::move(g);
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace strata::group
