// Certificates for the TLS tests, made with the openssl command line (Debian package
// `openssl`) in a fresh temp dir that the destructor removes: a CA, a server
// certificate for IP 127.0.0.1 and a client certificate, both signed by it, and a
// second, unrelated CA whose trust must not be enough. EC P-256 keys: fast to make.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace metron::test {

class tls_files {
public:
  tls_files() {
    char tmpl[] = "/tmp/metron_tls_XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    std::ofstream(dir_ / "server.ext") << "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    std::ofstream(dir_ / "client.ext") << "extendedKeyUsage=clientAuth\n";
    ok_ = make_ca("ca") && make_ca("other_ca") && make_signed("server") && make_signed("client");
  }
  ~tls_files() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  tls_files(const tls_files&) = delete;
  tls_files& operator=(const tls_files&) = delete;

  /// True if every file was made; otherwise log() says why.
  bool ok() const { return ok_; }
  std::string log() const {
    std::ifstream in(dir_ / "openssl.log");
    return {std::istreambuf_iterator<char>(in), {}};
  }

  std::string ca() const { return path("ca.pem"); }
  std::string other_ca() const { return path("other_ca.pem"); }
  std::string server_cert() const { return path("server.pem"); }
  std::string server_key() const { return path("server.key"); }
  std::string client_cert() const { return path("client.pem"); }
  std::string client_key() const { return path("client.key"); }
  std::filesystem::path dir() const { return dir_; }

private:
  std::string path(const char* name) const { return (dir_ / name).string(); }

  bool run(const std::string& args) {
    std::string cmd = "cd '" + dir_.string() + "' && openssl " + args + " >>openssl.log 2>&1";
    return std::system(cmd.c_str()) == 0;
  }

  bool make_ca(const std::string& name) {
    return run("req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -keyout " + name +
               ".key -out " + name + ".pem -subj /CN=metron-test-" + name);
  }

  bool make_signed(const std::string& name) {
    return run("req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout " + name + ".key -out " + name +
               ".csr -subj /CN=metron-test-" + name) &&
           run("x509 -req -in " + name + ".csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out " + name +
               ".pem -extfile " + name + ".ext");
  }

  std::filesystem::path dir_;
  bool ok_ = false;
};

} // namespace metron::test
