// HTTP message handling without sockets or coroutines: the listener uses it,
// and respond_to_bytes (the fuzz target's entry) runs a request through it.
#include "admin/http_message.h"

#include <boost/beast/http/write.hpp>

#include <sstream>

namespace strata::admin {

namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace


response make_response(reply r, unsigned version, bool keep_alive) {
  response res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "strata");
  res.set(http::field::content_type, r.content_type);
  res.set(http::field::cache_control, "no-store");
  if (!r.allow.empty()) res.set(http::field::allow, r.allow);
  res.keep_alive(keep_alive);
  res.body() = std::move(r.body);
  res.prepare_payload();
  return res;
}

// The answer to a request the parser rejected.
reply parse_error_reply(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return error_reply(431, "request header too large");
  if (ec == http::error::body_limit) return error_reply(413, "request body too large");
  return error_reply(400, "bad request: " + ec.message());
}

bool is_parse_error(const beast::error_code& ec) {
  // end_of_stream (peer closed between requests) and partial_message (closed
  // mid-request) share the category but are disconnects, not bad requests.
  return ec.category() == beast::error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
         ec != http::error::partial_message;
}

void prepare(request_parser& p, const http_server_options& o) {
  p.header_limit(o.max_header_bytes);
  p.body_limit(o.max_body_bytes);
}

reply dispatch(router& r, const request_parser& p) {
  const auto& req = p.get();
  return r.handle(sv(req.method_string()), sv(req.target()));
}

std::string respond_to_bytes(std::string_view bytes, router& r, const http_server_options& opts) {
  request_parser parser;
  prepare(parser, opts);
  parser.eager(true);
  beast::error_code ec;
  size_t pos = 0;
  while (!parser.is_done() && pos < bytes.size()) {
    size_t used = parser.put(boost::asio::buffer(bytes.data() + pos, bytes.size() - pos), ec);
    pos += used;
    if (ec == http::error::need_more) {
      ec = {};
      if (used == 0) break;
      continue;
    }
    if (ec || used == 0) break;
  }
  reply rep;
  bool keep_alive = false;
  unsigned version = 11;
  if (ec) {
    rep = parse_error_reply(ec);
  } else if (!parser.is_done()) {
    return {};  // the server would wait for more bytes (bounded by its timeout)
  } else {
    rep = dispatch(r, parser);
    keep_alive = parser.get().keep_alive();
    version = parser.get().version();
  }
  std::ostringstream os;
  os << make_response(std::move(rep), version, keep_alive);
  return os.str();
}

}  // namespace strata::admin
