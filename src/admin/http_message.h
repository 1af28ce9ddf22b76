#pragma once
// Private to admin/: HTTP message handling shared by the listener
// (http_server.cc) and respond_to_bytes (http_message.cc): parser limits,
// responses, and the status for a rejected request. Includes Beast's HTTP
// message types, so only those two files include it.
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "admin/http_server.h"
#include "admin/router.h"

namespace strata::admin {

using request_parser = boost::beast::http::request_parser<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;

response make_response(reply r, unsigned version, bool keep_alive);
// 431 (head too large), 413 (body too large) or 400.
reply parse_error_reply(const boost::beast::error_code& ec);
// A malformed request, as opposed to a peer that closed or timed out.
bool is_parse_error(const boost::beast::error_code& ec);
void prepare(request_parser& p, const http_server_options& o);
reply dispatch(router& r, const request_parser& p);

}  // namespace strata::admin
