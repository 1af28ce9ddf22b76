#pragma once
// Private to net/: the Asio SSL context behind the opaque net::tls_context.
#include <boost/asio/ssl/context.hpp>

#include "net/tls.h"

namespace strata::net {

class tls_context {
 public:
  tls_context() : ctx(boost::asio::ssl::context::tls_server) {}
  boost::asio::ssl::context ctx;
};

}  // namespace strata::net
