#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstring>
#include <stdexcept>

#include "net/tls_context.h"

namespace strata::net {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's queued reasons, newest last, e.g. "PEM routines::no start line".
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what + ": " + openssl_errors()); }

struct bio_deleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using bio_ptr = std::unique_ptr<BIO, bio_deleter>;

bio_ptr memory_bio(const std::string& text) {
  return bio_ptr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string pem_of(X509* cert) {
  bio_ptr b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), cert);
  return bio_text(b.get());
}

struct x509_deleter {
  void operator()(X509* c) const { X509_free(c); }
};
using x509_ptr = std::unique_ptr<X509, x509_deleter>;

// Every certificate in a PEM text, in order; throws if there is none.
std::vector<x509_ptr> read_certificates(const std::string& pem, const char* what) {
  std::vector<x509_ptr> out;
  bio_ptr b = memory_bio(pem);
  while (X509* c = PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr)) out.emplace_back(c);
  ERR_clear_error();  // the read that ended the loop leaves "no start line"
  if (out.empty()) throw std::runtime_error(std::string(what) + ": no PEM certificate found");
  return out;
}

// The password of an encrypted PEM key, from the settings only. Without a callback
// OpenSSL would ask for it on the terminal, and a broker would wait there.
int key_password(char* buf, int size, int /*rwflag*/, void* user) {
  const auto* password = static_cast<const std::string*>(user);
  if (password->empty() || password->size() > size_t(size)) return -1;
  std::memcpy(buf, password->data(), password->size());
  return static_cast<int>(password->size());
}

int protocol_version(const std::string& name) { return name == "TLSv1.2" ? TLS1_2_VERSION : TLS1_3_VERSION; }

}  // namespace

pkcs12_contents parse_pkcs12(const std::string& der, const std::string& password) {
  bio_ptr b = memory_bio(der);
  PKCS12* p12 = d2i_PKCS12_bio(b.get(), nullptr);
  if (!p12) fail("not a PKCS12 file");
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  STACK_OF(X509)* ca = nullptr;
  const int ok = PKCS12_parse(p12, password.c_str(), &key, &cert, &ca);
  PKCS12_free(p12);
  if (!ok) fail("wrong password or damaged PKCS12 file");
  pkcs12_contents out;
  std::string certs;  // the certificate that goes with the key, then the others
  if (cert) {
    certs = pem_of(cert);
    X509_free(cert);
  }
  for (int i = 0; ca && i < sk_X509_num(ca); ++i) certs += pem_of(sk_X509_value(ca, i));
  if (ca) sk_X509_pop_free(ca, X509_free);
  if (key) {  // a keystore: the key and its chain
    bio_ptr kb(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(kb.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
    out.key_pem = bio_text(kb.get());
    EVP_PKEY_free(key);
    out.chain_pem = std::move(certs);
  } else {  // a truststore: every certificate is a trusted CA
    out.ca_pem = std::move(certs);
  }
  return out;
}

std::shared_ptr<tls_context> make_tls_context(const tls_settings& s) {
  auto t = std::make_shared<tls_context>();
  SSL_CTX* ctx = t->ctx.native_handle();
  int lo = TLS1_3_VERSION, hi = TLS1_2_VERSION;
  for (const auto& p : s.protocols) {
    lo = std::min(lo, protocol_version(p));
    hi = std::max(hi, protocol_version(p));
  }
  if (s.protocols.empty()) throw std::runtime_error("ssl.enabled.protocols is empty");
  SSL_CTX_set_min_proto_version(ctx, lo);
  SSL_CTX_set_max_proto_version(ctx, hi);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);

  if (s.certificate_chain_pem.empty() || s.private_key_pem.empty())
    throw std::runtime_error("an SSL listener needs the broker's key and certificate (ssl.keystore.location, or "
                             "ssl.keystore.key and ssl.keystore.certificate.chain)");
  auto chain = read_certificates(s.certificate_chain_pem, "the broker's certificate chain");
  if (SSL_CTX_use_certificate(ctx, chain[0].get()) != 1) fail("the broker's certificate");
  for (size_t i = 1; i < chain.size(); ++i) {
    if (SSL_CTX_add0_chain_cert(ctx, chain[i].get()) != 1) fail("the broker's certificate chain");
    chain[i].release();  // owned by the context now
  }

  bio_ptr kb = memory_bio(s.private_key_pem);
  std::string password = s.key_password;
  EVP_PKEY* key = PEM_read_bio_PrivateKey(kb.get(), nullptr, key_password, &password);
  if (!key) fail(password.empty() ? "the broker's private key (if it is encrypted, set ssl.key.password)"
                                  : "the broker's private key (is ssl.key.password right?)");
  const int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (used != 1) fail("the broker's private key");
  if (SSL_CTX_check_private_key(ctx) != 1) fail("the private key does not match the certificate");

  if (!s.trusted_ca_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx);
    for (const auto& c : read_certificates(s.trusted_ca_pem, "the truststore")) {
      X509_STORE_add_cert(store, c.get());
      SSL_CTX_add_client_CA(ctx, c.get());  // names the CAs in the certificate request
    }
  }
  switch (s.auth) {
    case client_auth::none: SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr); break;
    case client_auth::requested: SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr); break;
    case client_auth::required:
      if (s.trusted_ca_pem.empty())
        throw std::runtime_error("ssl.client.auth=required needs a truststore (ssl.truststore.location or "
                                 "ssl.truststore.certificates) to verify client certificates against");
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return t;
}

}  // namespace strata::net
