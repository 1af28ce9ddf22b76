// ApiVersions (key 18): the version ranges of every API we answer.
#include "broker/api_table.h"
#include "broker/handlers/common.h"
#include "broker/handlers/handlers.h"
#include "protocol/generated/messages.h"

namespace strata::broker::handlers {
namespace {

protocol::api_versions_response build(protocol::error_code err) {
  protocol::api_versions_response resp;
  resp.error_code = ec(err);
  for (const auto& api : supported_apis()) {
    protocol::api_versions_response::api_version v;
    v.api_key = api.key;
    v.min_version = api.min_version;
    v.max_version = api.max_version;
    resp.api_keys.push_back(v);
  }
  return resp;
}

}  // namespace

void api_versions(request_context&& ctx) {
  protocol::api_versions_request req;
  if (!ctx.decode(req)) return;
  ctx.respond(build(protocol::error_code::none));
}

void api_versions_unsupported(request_context&& ctx) {
  // The body of a version we don't know cannot be decoded; answer v0.
  ctx.api_version = 0;
  ctx.respond(build(protocol::error_code::unsupported_version));
}

}  // namespace strata::broker::handlers
