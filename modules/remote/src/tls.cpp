// TLS for remote links (tls.hpp) on CAF's OpenSSL module.
//
// CAF does the TLS (libcaf_openssl: a session per connection, SSL_VERIFY_PEER |
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT on both ends once any openssl.* option is set).
// What this file adds: configure_tls() checks the files up front with the same
// OpenSSL calls CAF makes per connection. Without that check a bad path, a key that
// does not match or an encrypted key without its passphrase surface inside CAF's I/O
// loop — a throw on the multiplexer thread, or OpenSSL prompting on the terminal for a
// passphrase — instead of as an error where the program is configured.
#include "metron/remote/tls.hpp"

#include <memory>
#include <stdexcept>

#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>
#include <caf/scoped_actor.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

namespace metron::remote {

namespace {

// -- checking the files -----------------------------------------------------------

struct ssl_ctx_free {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};

struct store_ctx_free {
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
};

// OpenSSL's queued errors as one line (and the queue emptied).
std::string ssl_errors() {
  std::string out;
  while (auto e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    out += out.empty() ? "" : "; ";
    out += buf;
  }
  return out.empty() ? "no detail from OpenSSL" : out;
}

[[noreturn]] void reject(const std::string& what) {
  throw std::invalid_argument("metron: configure_tls: " + what);
}

// Hands OpenSSL the passphrase; never falls back to prompting on a terminal (an empty
// passphrase makes decrypting an encrypted key fail instead).
int passphrase_cb(char* buf, int size, int, void* user) {
  auto& pass = *static_cast<const std::string*>(user);
  if (pass.empty() || size <= 0 || pass.size() >= static_cast<std::size_t>(size))
    return 0;
  pass.copy(buf, pass.size());
  return static_cast<int>(pass.size());
}

void check_files(const tls_options& opts) {
  if (opts.certificate.empty() || opts.private_key.empty() || opts.ca_file.empty())
    reject("certificate, private_key and ca_file are all required");
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx{SSL_CTX_new(TLS_method())};
  if (!ctx)
    reject("cannot create an OpenSSL context: " + ssl_errors());
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&opts.passphrase));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), opts.certificate.c_str()) != 1)
    reject("cannot load the certificate " + opts.certificate + ": " + ssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), opts.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    reject("cannot load the private key " + opts.private_key
           + (opts.passphrase.empty() ? " (encrypted keys need the passphrase)" : " (wrong passphrase?)")
           + ": " + ssl_errors());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    reject("the private key " + opts.private_key + " does not match the certificate " + opts.certificate
           + ": " + ssl_errors());
  if (SSL_CTX_load_verify_locations(ctx.get(), opts.ca_file.c_str(), nullptr) != 1)
    reject("cannot load the CA certificates " + opts.ca_file + ": " + ssl_errors());
  // Our own certificate must verify against the CA we trust: peers use the same CA.
  STACK_OF(X509)* chain = nullptr;
  SSL_CTX_get0_chain_certs(ctx.get(), &chain);
  std::unique_ptr<X509_STORE_CTX, store_ctx_free> vctx{X509_STORE_CTX_new()};
  if (!vctx
      || X509_STORE_CTX_init(vctx.get(), SSL_CTX_get_cert_store(ctx.get()), SSL_CTX_get0_certificate(ctx.get()),
                             chain) != 1)
    reject("cannot set up verifying the certificate: " + ssl_errors());
  if (X509_verify_cert(vctx.get()) != 1)
    reject("the certificate " + opts.certificate + " does not verify against " + opts.ca_file + ": "
           + X509_verify_cert_error_string(X509_STORE_CTX_get_error(vctx.get())));
  ERR_clear_error();
}

} // namespace

// -- configuration ------------------------------------------------------------------

caf::actor_system_config& configure_tls(caf::actor_system_config& cfg, const tls_options& opts) {
  check_files(opts);
  cfg.openssl_certificate = opts.certificate;
  cfg.openssl_key = opts.private_key;
  cfg.openssl_passphrase = opts.passphrase;
  cfg.openssl_cafile = opts.ca_file;
  cfg.openssl_capath.clear();
  cfg.load<caf::openssl::manager>();
  return cfg;
}

// -- links --------------------------------------------------------------------------

caf::io::middleman_actor tls_connector(caf::actor_system& sys) {
  if (!sys.has_openssl_manager())
    throw std::invalid_argument("metron: TLS needs the OpenSSL module (metron::remote::configure_tls)");
  return sys.openssl_manager().actor_handle();
}

std::uint16_t publish_tls(caf::actor_system& sys, const monitor_actor& mon, std::uint16_t port,
                          const char* addr, bool reuse) {
  tls_connector(sys); // the same check: the module is loaded
  auto res = caf::openssl::publish(mon, port, addr, reuse);
  if (!res)
    throw std::runtime_error("metron: cannot publish the monitor over TLS on "
                             + std::string{addr ? addr : "*"} + ":" + std::to_string(port) + ": "
                             + sys.render(res.error()));
  return *res;
}

caf::expected<monitor_actor> connect_tls(caf::actor_system& sys, const std::string& host,
                                         std::uint16_t port, std::chrono::milliseconds timeout) {
  auto mm = tls_connector(sys);
  caf::expected<monitor_actor> out{caf::sec::request_timeout};
  caf::scoped_actor self{sys};
  self->request(mm, timeout, caf::connect_atom::value, host, port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr, std::set<std::string>& ifs) {
        if (!ptr)
          out = caf::make_error(caf::sec::no_actor_published_at_port);
        else if (!sys.assignable<monitor_actor>(ifs))
          out = caf::make_error(caf::sec::unexpected_actor_messaging_interface);
        else
          out = caf::actor_cast<monitor_actor>(std::move(ptr));
      },
      [&](caf::error& err) { out = std::move(err); });
  return out;
}

} // namespace metron::remote
