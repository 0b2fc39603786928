// TLS for remote links (tls.hpp) on CAF's OpenSSL module.
//
// CAF does the TLS (libcaf_openssl: a session per connection, SSL_VERIFY_PEER |
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT on both ends once any openssl.* option is set).
// What this file adds is configure_tls(), which makes the files CAF will load safe to
// load:
//   - CAF reads the PEM files again for every connection (a new SSL_CTX per session,
//     made before the handshake) and throws on its I/O thread if one is missing or
//     broken: a node whose key file is moved away is terminated by the next peer that
//     merely opens a TCP connection (seen with CAF 0.17.6), and a client's middleman
//     wedges. So configure_tls copies each file into an anonymous in-memory file
//     (memfd, kept open for the life of the process) and hands CAF the /proc/self/fd
//     path of the copy. Rotating certificates therefore needs a restart.
//   - It checks the copies with the calls CAF makes (chain, key, passphrase, CA) plus
//     "our certificate verifies against the CA we trust", so what was checked is what
//     every connection loads; a mistake is an exception where the program is configured
//     instead of a throw in CAF's I/O loop, or OpenSSL prompting on the terminal for
//     the passphrase of an encrypted key.
#include "metron/remote/tls.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <stdexcept>
#include <vector>

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

// -- the in-memory copies ------------------------------------------------------------

constexpr std::streamsize max_pem_size = 1 << 20; // far above any certificate bundle

// The memfds of one configure_tls call: closed again if it fails, else kept open for
// the life of the process (CAF opens their paths for every connection).
struct memfds {
  std::vector<int> fds;
  ~memfds() {
    for (int fd : fds)
      ::close(fd);
  }
  void keep() { fds.clear(); }
};

// Copies `path` into a memfd (owned by `out`); the path of the copy.
std::string snapshot(const std::string& path, memfds& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    reject("cannot read " + path + ": " + std::strerror(errno));
  std::string data(static_cast<std::size_t>(max_pem_size) + 1, '\0');
  in.read(data.data(), max_pem_size + 1);
  if (in.bad())
    reject("cannot read " + path);
  if (in.gcount() > max_pem_size)
    reject(path + " is larger than 1 MiB: not a PEM certificate or key");
  data.resize(static_cast<std::size_t>(in.gcount()));
  int fd = memfd_create("metron-tls", MFD_CLOEXEC);
  if (fd < 0)
    reject(std::string{"memfd_create failed: "} + std::strerror(errno));
  out.fds.push_back(fd);
  for (std::size_t done = 0; done < data.size();) {
    auto n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      reject(std::string{"cannot write the in-memory copy of "} + path + ": " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  auto copy = "/proc/self/fd/" + std::to_string(fd);
  if (::access(copy.c_str(), R_OK) != 0)
    reject("cannot open " + copy + " (is /proc mounted?)");
  return copy;
}

// -- the checks ---------------------------------------------------------------------

// `opts` names the user's files (for messages), `copy` the in-memory copies (checked).
void check_files(const tls_options& opts, const tls_options& copy) {
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, ssl_ctx_free> ctx{SSL_CTX_new(TLS_method())};
  if (!ctx)
    reject("cannot create an OpenSSL context: " + ssl_errors());
  SSL_CTX_set_default_passwd_cb(ctx.get(), passphrase_cb);
  SSL_CTX_set_default_passwd_cb_userdata(ctx.get(), const_cast<std::string*>(&opts.passphrase));
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), copy.certificate.c_str()) != 1)
    reject("cannot load the certificate " + opts.certificate + ": " + ssl_errors());
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), copy.private_key.c_str(), SSL_FILETYPE_PEM) != 1)
    reject("cannot load the private key " + opts.private_key
           + (opts.passphrase.empty() ? " (encrypted keys need the passphrase)" : " (wrong passphrase?)")
           + ": " + ssl_errors());
  if (SSL_CTX_check_private_key(ctx.get()) != 1)
    reject("the private key " + opts.private_key + " does not match the certificate " + opts.certificate
           + ": " + ssl_errors());
  if (SSL_CTX_load_verify_locations(ctx.get(), copy.ca_file.c_str(), nullptr) != 1)
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
  if (opts.certificate.empty() || opts.private_key.empty() || opts.ca_file.empty())
    reject("certificate, private_key and ca_file are all required");
  memfds fds;
  tls_options copy;
  copy.certificate = snapshot(opts.certificate, fds);
  copy.private_key = snapshot(opts.private_key, fds);
  copy.passphrase = opts.passphrase;
  copy.ca_file = snapshot(opts.ca_file, fds);
  check_files(opts, copy);
  fds.keep();
  cfg.openssl_certificate = copy.certificate;
  cfg.openssl_key = copy.private_key;
  cfg.openssl_passphrase = copy.passphrase;
  cfg.openssl_cafile = copy.ca_file;
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
