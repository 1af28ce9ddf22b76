// The one translation unit that compiles Boost.Asio's implementation
// (BOOST_ASIO_SEPARATE_COMPILATION keeps it out of every other file). Its SSL layer
// is in asio_ssl_impl.cc, so that users of this file alone (the admin fuzz target)
// need no OpenSSL.
#include <boost/asio/impl/src.hpp>
