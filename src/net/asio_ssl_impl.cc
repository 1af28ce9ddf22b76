// The one translation unit that compiles Boost.Asio's SSL implementation (see
// asio_impl.cc).
#include <boost/asio/ssl/impl/src.hpp>
