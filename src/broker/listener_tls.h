#pragma once
// The TLS settings of SSL listeners, from the ssl.* broker settings: key and
// certificate chain from ssl.keystore.location (PEM or PKCS12) or inline PEM
// (ssl.keystore.key, ssl.keystore.certificate.chain); client CAs from the
// truststore likewise; ssl.client.auth; ssl.enabled.protocols.
#include "config/broker_config.h"
#include "net/tls.h"

namespace strata::broker {

// Throws config::config_error naming the setting when a file cannot be read or a
// required setting is missing.
net::tls_settings tls_settings_from(const config::broker_config& cfg);

}  // namespace strata::broker
