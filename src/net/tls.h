#pragma once
// TLS for SSL listeners (Kafka's security.protocol=SSL): a server context made from
// PEM text, shared by every connection of the listener. Asio's and OpenSSL's headers
// stay in net/: callers see only this opaque handle.
#include <memory>
#include <string>
#include <vector>

namespace strata::net {

enum class client_auth { none, requested, required };  // ssl.client.auth

struct tls_settings {
  std::string certificate_chain_pem;  // the broker's certificate first, then its chain
  std::string private_key_pem;
  std::string key_password;          // for an encrypted private key; "" = not encrypted
  std::string trusted_ca_pem;        // CAs client certificates must chain to
  client_auth auth = client_auth::none;
  std::vector<std::string> protocols = {"TLSv1.2", "TLSv1.3"};  // ssl.enabled.protocols
};

// The key and certificates of PKCS12 bytes (a file's contents) as PEM text, for
// tls_settings. The CA certificates of a truststore come back in `ca_pem`. Throws
// std::runtime_error with OpenSSL's reason.
struct pkcs12_contents {
  std::string key_pem, chain_pem, ca_pem;
};
pkcs12_contents parse_pkcs12(const std::string& der, const std::string& password);

class tls_context;
// Throws std::runtime_error with OpenSSL's reason when the key or a certificate does
// not load or the key does not match the certificate.
std::shared_ptr<tls_context> make_tls_context(const tls_settings& s);

}  // namespace strata::net
