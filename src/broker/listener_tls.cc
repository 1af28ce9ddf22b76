#include "broker/listener_tls.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "config/config_error.h"

namespace strata::broker {
namespace {

// A file's whole contents (PEM text or PKCS12 bytes).
std::string read_text(const std::string& path, const char* setting) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::config_error(fmt::format("{}: cannot read '{}'", setting, path));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

net::pkcs12_contents read_pkcs12(const std::string& path, const std::string& password, const char* setting) {
  const std::string der = read_text(path, setting);
  try {
    return net::parse_pkcs12(der, password);
  } catch (const std::runtime_error& e) {
    throw config::config_error(fmt::format("{}: '{}': {}", setting, path, e.what()));
  }
}

}  // namespace

net::tls_settings tls_settings_from(const config::broker_config& cfg) {
  net::tls_settings s;
  const std::string& keystore = cfg.get("ssl.keystore.location");
  if (!keystore.empty()) {
    if (cfg.get("ssl.keystore.type") == "PKCS12") {
      auto p12 = read_pkcs12(keystore, cfg.get("ssl.keystore.password"), "ssl.keystore.location");
      s.private_key_pem = std::move(p12.key_pem);
      s.certificate_chain_pem = std::move(p12.chain_pem);
    } else {
      // Kafka's PEM keystore: the private key and the certificate chain in one file.
      s.private_key_pem = read_text(keystore, "ssl.keystore.location");
      s.certificate_chain_pem = s.private_key_pem;
    }
  } else {
    s.private_key_pem = cfg.get("ssl.keystore.key");
    s.certificate_chain_pem = cfg.get("ssl.keystore.certificate.chain");
  }
  s.key_password = cfg.get("ssl.key.password");

  const std::string& truststore = cfg.get("ssl.truststore.location");
  if (!truststore.empty()) {
    s.trusted_ca_pem = cfg.get("ssl.truststore.type") == "PKCS12"
                           ? read_pkcs12(truststore, cfg.get("ssl.truststore.password"), "ssl.truststore.location").ca_pem
                           : read_text(truststore, "ssl.truststore.location");
  } else {
    s.trusted_ca_pem = cfg.get("ssl.truststore.certificates");
  }
  const std::string& auth = cfg.get("ssl.client.auth");
  s.auth = auth == "required" ? net::client_auth::required
           : auth == "requested" ? net::client_auth::requested
                                 : net::client_auth::none;
  s.protocols = cfg.get_list("ssl.enabled.protocols");
  return s;
}

}  // namespace strata::broker
