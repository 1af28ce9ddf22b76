#pragma once
// A connection to one broker that has negotiated API versions: typed
// request/response calls on the generated codec.
//
// On construction it connects and sends ApiVersions; every later call picks
// the highest version of its request that both sides support (versions.h) and
// fails with a readable error when there is none. Not thread-safe; calls are
// sequential (one request in flight).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "client/connection.h"
#include "client/errors.h"
#include "client/versions.h"
#include "protocol/frame.h"
#include "protocol/wire.h"

namespace strata::client {

class broker_connection {
 public:
  // node_id: the broker's id from metadata, -1 for a bootstrap server whose id
  // is not known yet.
  broker_connection(endpoint ep, int32_t node_id, clock::time_point deadline);

  const endpoint& peer() const { return conn_.peer(); }
  int32_t node_id() const { return node_id_; }
  void set_node_id(int32_t id) { node_id_ = id; }

  // The broker's advertised range per API key (from ApiVersions).
  const std::map<int16_t, version_range>& broker_versions() const { return broker_versions_; }
  bool supports(int16_t api_key) const;
  // The version to send; throws client_error when the broker and this client
  // share none.
  int16_t version_for(int16_t api_key) const;

  // Sends req at the negotiated version and decodes the response.
  template <class Resp, class Req>
  Resp call(const Req& req, clock::time_point deadline, int16_t* used_version = nullptr) {
    static_assert(Req::api_key == Resp::api_key, "request and response of different APIs");
    const int16_t v = version_for(Req::api_key);
    if (used_version) *used_version = v;
    return call_at<Resp>(req, v, deadline);
  }

  template <class Resp, class Req>
  Resp call_at(const Req& req, int16_t version, clock::time_point deadline) {
    std::vector<uint8_t> frame;
    return call_at<Resp>(req, version, deadline, frame);
  }

  // The same, handing over the response frame: a decoded `records` field (Fetch)
  // points into it, so the caller keeps `frame` alive while it uses them. The
  // frame is the only copy of the bytes (and the caller may write into it). The
  // frame's capacity is reused: pass the same vector to every call to avoid an
  // allocation per response.
  template <class Resp, class Req>
  Resp call_at(const Req& req, int16_t version, clock::time_point deadline, std::vector<uint8_t>& frame) {
    protocol::writer w;
    protocol::encode_request_frame(w, version, ++correlation_id_, client_id, req);
    exchange(w.buffer(), Req::api_key, version, deadline, frame);
    auto rf = protocol::decode_response_frame(frame, Req::api_key, version);
    protocol::reader r(rf.body);
    Resp resp;
    resp.decode(r, version);
    if (!r.ok()) malformed(Req::api_key, version);
    return resp;
  }

  // See connection::interrupt: the one call another thread may make.
  void interrupt() { conn_.interrupt(); }

  static constexpr const char* client_id = "strata-cli";

 private:
  // Sends a request frame and reads the response frame (without its size) into
  // `frame`, checked for a sane header and the matching correlation id.
  void exchange(const std::vector<uint8_t>& request, int16_t api_key, int16_t version, clock::time_point deadline,
                std::vector<uint8_t>& frame);
  [[noreturn]] void malformed(int16_t api_key, int16_t version) const;
  void negotiate(clock::time_point deadline);

  connection conn_;
  int32_t node_id_;
  int32_t correlation_id_ = 0;
  std::map<int16_t, version_range> broker_versions_;
};

// Kafka's name of an API ("CreateTopics"), or "API <key>".
std::string api_name(int16_t api_key);

}  // namespace strata::client
