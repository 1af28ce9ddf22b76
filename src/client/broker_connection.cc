#include "client/broker_connection.h"

#include "protocol/generated/api_keys.h"
#include "protocol/generated/api_versions.h"

namespace strata::client {

std::string api_name(int16_t api_key) {
  const auto* info = protocol::find_api(api_key);
  return info ? std::string(info->name) : "API " + std::to_string(api_key);
}

broker_connection::broker_connection(endpoint ep, int32_t node_id, clock::time_point deadline)
    : conn_(std::move(ep), deadline), node_id_(node_id) {
  negotiate(deadline);
}

void broker_connection::negotiate(clock::time_point deadline) {
  // A broker answers an ApiVersions version it does not know with a v0 body
  // carrying UNSUPPORTED_VERSION and its own range (KIP-511), so: try our
  // newest, and on that error retry at the broker's newest.
  const version_range ours = client_versions(protocol::api_versions_request::api_key);
  int16_t version = ours.max;
  for (int attempt = 0; attempt < 2; ++attempt) {
    protocol::api_versions_request req;
    req.client_software_name = "strata-cli";
    req.client_software_version = "0.1.0";
    protocol::writer w;
    protocol::encode_request_frame(w, version, ++correlation_id_, client_id, req);
    std::vector<uint8_t> frame;
    exchange(w.buffer(), req.api_key, version, deadline, frame);
    auto rf = protocol::decode_response_frame(frame, req.api_key, version);
    protocol::reader peek(rf.body);
    const int16_t error = peek.read_int16();
    protocol::api_versions_response resp;
    const int16_t decode_version =
        error == static_cast<int16_t>(protocol::error_code::unsupported_version) ? 0 : version;
    protocol::reader r(rf.body);
    resp.decode(r, decode_version);
    if (!r.ok()) malformed(req.api_key, decode_version);
    if (error == static_cast<int16_t>(protocol::error_code::unsupported_version) && attempt == 0) {
      int16_t theirs = 0;
      for (auto& k : resp.api_keys)
        if (k.api_key == req.api_key) theirs = k.max_version;
      auto v = pick_version(ours, {0, theirs});
      if (!v) break;
      version = *v;
      continue;
    }
    check(error, "ApiVersions to " + peer().to_string());
    for (auto& k : resp.api_keys) broker_versions_[k.api_key] = {k.min_version, k.max_version};
    return;
  }
  throw client_error("the broker at " + peer().to_string() + " does not accept any ApiVersions version this client knows");
}

bool broker_connection::supports(int16_t api_key) const {
  auto it = broker_versions_.find(api_key);
  return it != broker_versions_.end() && pick_version(client_versions(api_key), it->second).has_value();
}

int16_t broker_connection::version_for(int16_t api_key) const {
  auto it = broker_versions_.find(api_key);
  const version_range ours = client_versions(api_key);
  if (it == broker_versions_.end())
    throw client_error("the broker at " + peer().to_string() + " does not support " + api_name(api_key),
                       protocol::error_code::unsupported_version);
  auto v = pick_version(ours, it->second);
  if (!v)
    throw client_error("the broker at " + peer().to_string() + " supports " + api_name(api_key) + " v" +
                           std::to_string(it->second.min) + "-" + std::to_string(it->second.max) +
                           ", this client v" + std::to_string(ours.min) + "-" + std::to_string(ours.max),
                       protocol::error_code::unsupported_version);
  return *v;
}

void broker_connection::exchange(const std::vector<uint8_t>& request, int16_t api_key, int16_t version,
                                 clock::time_point deadline, std::vector<uint8_t>& frame) {
  conn_.send(request, deadline);
  conn_.receive(deadline, frame);
  auto rf = protocol::decode_response_frame(frame, api_key, version);
  if (rf.error != protocol::frame_error::none) malformed(api_key, version);
  if (rf.correlation_id != correlation_id_)
    throw client_error("the broker at " + peer().to_string() + " answered " + api_name(api_key) +
                       " with correlation id " + std::to_string(rf.correlation_id) + ", expected " +
                       std::to_string(correlation_id_));
}

void broker_connection::malformed(int16_t api_key, int16_t version) const {
  throw client_error("the broker at " + peer().to_string() + " sent a " + api_name(api_key) + " v" +
                     std::to_string(version) + " response that does not decode");
}

}  // namespace strata::client
