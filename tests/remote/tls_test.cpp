// TLS links with mutual certificate authentication (metron::remote_tls), on 127.0.0.1.
// The suite makes a throwaway cluster CA, node and collector certificates, an expired
// one, and a rogue CA with its own certificate, with the openssl command-line tool, in
// a temporary directory. Every peer is its own actor system in this process (CAF's TLS
// settings are per actor system): a certified peer subscribes and receives snapshots;
// a peer without a certificate, one from the rogue CA, an expired one and a plain BASP
// peer are refused by a node (openssl s_client hears the node's alert for each); a
// node with a rogue certificate is refused by a certified collector; the node keeps
// serving certified peers after each refusal.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>

#include <metron/remote/tls.hpp>

#include "remote_fixture.hpp"

namespace {

using namespace metron_test;
using metron::remote::tls_options;

constexpr std::uint64_t node_total = 4242;

// The commands of docs/remote-tls.md, with one-day certificates.
constexpr const char* make_certs = R"(set -e
ossl="$1"
cat > leaf.ext <<'EOF'
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth, clientAuth
EOF
ca() {
  "$ossl" req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -days 1 \
    -subj "/CN=$1" -keyout "$1.key" -out "$1.pem" 2>/dev/null
}
leaf() {
  "$ossl" req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=$1" \
    -keyout "$1.key" -out "$1.csr" 2>/dev/null
  "$ossl" x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 1 \
    -extfile leaf.ext -out "$1.pem" 2>/dev/null
}
ca cluster-ca
leaf node cluster-ca
leaf collector cluster-ca
ca rogue-ca
leaf rogue rogue-ca
# The rogue peer trusts the cluster CA (so it would accept our nodes) and its own.
cat rogue-ca.pem cluster-ca.pem > rogue-trust.pem
# A cluster certificate that expired long ago (openssl ca can set past dates).
cat > ca.cnf <<'EOF'
[ca]
default_ca = dated
[dated]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
: > index.txt
echo 01 > serial
"$ossl" req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -subj "/CN=expired" \
  -keyout expired.key -out expired.csr 2>/dev/null
"$ossl" ca -batch -notext -config ca.cnf -cert cluster-ca.pem -keyfile cluster-ca.key \
  -startdate 20200101000000Z -enddate 20200102000000Z -extfile leaf.ext \
  -in expired.csr -out expired.pem 2>/dev/null
# The node's key again, encrypted.
"$ossl" pkey -in node.key -aes256 -passout pass:s3cret -out node-enc.key
)";

std::string cert_dir;

std::string file(const std::string& name) { return cert_dir + "/" + name; }

tls_options identity(const std::string& name, const std::string& trust = "cluster-ca.pem") {
  return {file(name + ".pem"), file(name + ".key"), "", file(trust)};
}

/// How a peer speaks to the network.
enum class link { tls, unchecked_tls, anonymous_tls, plain };

/// One process's worth of CAF: an actor system configured for `how`.
struct peer {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;

  explicit peer(link how, const std::optional<tls_options>& id = std::nullopt) {
    metron::remote::configure(cfg);
    if (how == link::tls) {
      metron::remote::configure_tls(cfg, *id);
    } else if (how == link::unchecked_tls) { // an attacker's: CAF's options set directly
      cfg.openssl_certificate = id->certificate;
      cfg.openssl_key = id->private_key;
      cfg.openssl_cafile = id->ca_file;
      cfg.load<caf::openssl::manager>();
    } else if (how == link::anonymous_tls) {
      cfg.load<caf::openssl::manager>(); // CAF's TLS without any certificate
    }
    sys = std::make_unique<caf::actor_system>(cfg);
  }

  /// Asks `mm` (a middleman actor) to connect; the remote handle or the error.
  caf::expected<caf::strong_actor_ptr> dial(const caf::io::middleman_actor& mm, std::uint16_t port,
                                            std::chrono::milliseconds timeout = 10s) {
    caf::expected<caf::strong_actor_ptr> out{caf::sec::request_timeout};
    caf::scoped_actor self{*sys};
    self->request(mm, timeout, caf::connect_atom::value, std::string{"127.0.0.1"}, port)
      .receive([&](caf::node_id&, caf::strong_actor_ptr& p, std::set<std::string>&) { out = std::move(p); },
               [&](caf::error& err) { out = std::move(err); });
    return out;
  }
};

/// A node: a monitor over a registry with one counter, published over TLS.
struct tls_node : peer {
  metron::registry reg;
  metron::monitor_actor mon;
  std::uint16_t port = 0;

  explicit tls_node(const tls_options& id) : peer(link::tls, id) {
    reg.counter("tls_test_total").add(node_total);
    metron::monitor_config mc;
    mc.interval = std::chrono::milliseconds{50};
    mon = metron::spawn_monitor(*sys, reg, mc);
    port = metron::remote::publish_tls(*sys, mon, 0);
  }

  ~tls_node() { caf::anon_send_exit(mon, caf::exit_reason::user_shutdown); }
};

std::uint64_t total(const metron::report_ptr& s) {
  auto* c = s ? s->find_counter("tls_test_total") : nullptr;
  return c ? c->value() : 0;
}

/// The remote monitor's latest snapshot (get), or nullptr.
metron::report_ptr fetch(peer& p, const metron::monitor_actor& mon) {
  metron::report_ptr out;
  caf::scoped_actor self{*p.sys};
  self->request(mon, 10s, metron::get_atom::value)
    .receive([&](metron::report_ptr x) { out = std::move(x); },
             [&](caf::error& e) { ADD_FAILURE() << p.sys->render(e); });
  return out;
}

/// What `openssl s_client` (trusting the cluster CA, plus `args`) hears from the port
/// before it closes: a witness for why a node refuses a peer (its TLS alert).
std::string s_client(std::uint16_t port, const std::string& args) {
  auto cmd = "cd '" + cert_dir + "' && timeout 20 '" METRON_OPENSSL "' s_client -connect 127.0.0.1:"
             + std::to_string(port) + " -CAfile cluster-ca.pem -ign_eof " + args + " </dev/null 2>&1";
  std::string out;
  if (auto* f = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (auto n = std::fread(buf, 1, sizeof(buf), f))
      out.append(buf, n);
    pclose(f);
  }
  return out;
}

/// A certified collector-side peer subscribes to the node and receives a snapshot.
void expect_served(tls_node& node) {
  peer col{link::tls, identity("collector")};
  auto mon = metron::remote::connect_tls(*col.sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << col.sys->render(mon.error());
  auto log = std::make_shared<received_log>();
  auto sub = spawn_subscriber(*col.sys, log);
  caf::anon_send(*mon, metron::subscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  EXPECT_TRUE(eventually([&] { return log->size() >= 2; }, 20s)) << "no snapshot over TLS";
  EXPECT_EQ(total(log->last()), node_total);
  caf::anon_send(*mon, metron::unsubscribe_atom::value, caf::actor_cast<metron::subscriber_actor>(sub));
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

class tls : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    auto tmpl = (std::filesystem::temp_directory_path() / "metron-tls-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    cert_dir = tmpl;
    std::ofstream{file("make-certs.sh")} << make_certs;
    auto cmd = "cd '" + cert_dir + "' && sh make-certs.sh '" METRON_OPENSSL "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "making the test CA and certificates failed";
  }

  static void TearDownTestSuite() { std::filesystem::remove_all(cert_dir); }
};

TEST_F(tls, a_certified_peer_subscribes_and_receives_snapshots) {
  tls_node node{identity("node")};
  expect_served(node);
  // get works too: the proxy is a monitor like a local one.
  peer col{link::tls, identity("collector")};
  auto mon = metron::remote::connect_tls(*col.sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << col.sys->render(mon.error());
  EXPECT_EQ(total(fetch(col, *mon)), node_total);
}

TEST_F(tls, a_peer_without_a_certificate_is_refused) {
  tls_node node{identity("node")};
  peer anon{link::anonymous_tls};
  auto res = anon.dial(anon.sys->openssl_manager().actor_handle(), node.port);
  EXPECT_FALSE(res) << "a peer without a certificate got a handle";
  // Why: the node requires a client certificate (TLS 1.3 alert 116).
  auto heard = s_client(node.port, "");
  EXPECT_NE(heard.find("alert certificate required"), std::string::npos) << heard;
  // A plain BASP peer never gets past the TLS handshake either (it waits for the
  // server's BASP greeting, the node for a TLS ClientHello: bounded by the timeout).
  peer plain{link::plain};
  res = plain.dial(plain.sys->middleman().actor_handle(), node.port, 1s);
  EXPECT_FALSE(res) << "a plain BASP peer got a handle";
  expect_served(node); // the node keeps serving certified peers
}

TEST_F(tls, a_peer_with_a_certificate_from_another_ca_is_refused) {
  tls_node node{identity("node")};
  peer rogue{link::tls, identity("rogue", "rogue-trust.pem")};
  auto res = rogue.dial(metron::remote::tls_connector(*rogue.sys), node.port);
  EXPECT_FALSE(res) << "a peer certified by another CA got a handle";
  EXPECT_FALSE(metron::remote::connect_tls(*rogue.sys, "127.0.0.1", node.port));
  // Why: the node does not know the issuer (TLS alert 48).
  auto heard = s_client(node.port, "-cert rogue.pem -key rogue.key");
  EXPECT_NE(heard.find("alert unknown ca"), std::string::npos) << heard;
  expect_served(node);
}

TEST_F(tls, a_peer_with_an_expired_certificate_from_the_cluster_ca_is_refused) {
  tls_node node{identity("node")};
  peer late{link::unchecked_tls, identity("expired")};
  EXPECT_FALSE(metron::remote::connect_tls(*late.sys, "127.0.0.1", node.port))
    << "a peer with an expired certificate got a handle";
  // Why: the node checks the validity dates (TLS alert 45).
  auto heard = s_client(node.port, "-cert expired.pem -key expired.key");
  EXPECT_NE(heard.find("alert certificate expired"), std::string::npos) << heard;
  expect_served(node);
}

TEST_F(tls, a_node_with_a_certificate_from_another_ca_is_refused_by_the_collector) {
  tls_node rogue{identity("rogue", "rogue-trust.pem")};
  peer col{link::tls, identity("collector")};
  auto mon = metron::remote::connect_tls(*col.sys, "127.0.0.1", rogue.port);
  EXPECT_FALSE(mon) << "the collector accepted a node certified by another CA";
  // Control: the rogue node does serve a peer that trusts its CA, so the refusal
  // above is the collector's verification of the node's certificate.
  peer accomplice{link::tls, identity("rogue", "rogue-trust.pem")};
  auto other = metron::remote::connect_tls(*accomplice.sys, "127.0.0.1", rogue.port);
  EXPECT_TRUE(other) << accomplice.sys->render(other.error());
}

TEST_F(tls, a_collector_over_tls_merges_certified_nodes_and_refuses_a_rogue_one) {
  tls_node good{identity("node")};
  tls_node rogue{identity("rogue", "rogue-trust.pem")};
  peer col{link::tls, identity("collector")};
  metron::remote::collector_config cc;
  cc.nodes = {{"127.0.0.1", good.port}, {"127.0.0.1", rogue.port}};
  cc.monitor.interval = std::chrono::milliseconds{50};
  cc.reconnect_min = std::chrono::milliseconds{50};
  cc.reconnect_max = std::chrono::milliseconds{200};
  // Staleness is not what this test is about: under ThreadSanitizer, with the rogue's
  // handshakes failing every 50-200 ms, a report of the good node once came more than
  // the default 2 s apart, and the node read as down for a moment.
  cc.down_timeout = std::chrono::milliseconds{10000};
  cc.connector = metron::remote::tls_connector(*col.sys);
  auto collector = metron::remote::spawn_collector(*col.sys, cc);
  auto nodes = [&] {
    std::vector<metron::remote::node_status> out;
    caf::scoped_actor self{*col.sys};
    self->request(collector, 5s, metron::remote::nodes_atom::value)
      .receive([&](std::vector<metron::remote::node_status> xs) { out = std::move(xs); }, [](caf::error&) {});
    return out;
  };
  std::vector<metron::remote::node_status> ns;
  EXPECT_TRUE(eventually([&] {
    ns = nodes();
    return ns.size() == 2 && ns[0].up && ns[1].connect_failures >= 2;
  }, 30s));
  ASSERT_EQ(ns.size(), 2u);
  EXPECT_TRUE(ns[0].up);
  EXPECT_EQ(ns[1].connects, 0u) << "the rogue node was connected";
  EXPECT_FALSE(ns[1].up);
  metron::report_ptr merged;
  EXPECT_TRUE(eventually([&] {
    caf::scoped_actor self{*col.sys};
    self->request(collector, 5s, metron::get_atom::value)
      .receive([&](metron::report_ptr s) { merged = std::move(s); }, [](caf::error&) {});
    return total(merged) == node_total;
  }, 30s));
  EXPECT_EQ(total(merged), node_total) << "only the certified node counts";
  caf::anon_send_exit(collector, caf::exit_reason::user_shutdown);
}

TEST_F(tls, an_encrypted_key_works_with_its_passphrase) {
  auto id = identity("node");
  id.private_key = file("node-enc.key");
  id.passphrase = "s3cret";
  tls_node node{id};
  expect_served(node);
}

TEST_F(tls, files_removed_after_configure_tls_change_nothing) {
  // CAF loads the files for every connection; configure_tls gave it in-memory copies,
  // so a node whose files are gone keeps serving (CAF itself would terminate the
  // process at the next connection) and a peer whose files are gone still connects.
  for (auto name : {"node", "collector"})
    for (auto ext : {".pem", ".key"})
      std::filesystem::copy_file(file(name + std::string{ext}), file(std::string{"gone-"} + name + ext));
  tls_node node{identity("gone-node")};
  peer col{link::tls, identity("gone-collector")};
  for (auto name : {"node", "collector"})
    for (auto ext : {".pem", ".key"})
      std::filesystem::remove(file(std::string{"gone-"} + name + ext));
  auto mon = metron::remote::connect_tls(*col.sys, "127.0.0.1", node.port);
  ASSERT_TRUE(mon) << col.sys->render(mon.error());
  EXPECT_EQ(total(fetch(col, *mon)), node_total);
  expect_served(node);
}

TEST_F(tls, configure_tls_refuses_unusable_files_before_the_system_starts) {
  auto refused = [](tls_options o) {
    caf::actor_system_config cfg;
    metron::remote::configure(cfg);
    try {
      metron::remote::configure_tls(cfg, o);
    } catch (const std::invalid_argument& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  auto ok = identity("node");
  auto o = ok;
  o.certificate = file("missing.pem");
  EXPECT_NE(refused(o).find("cannot read"), std::string::npos) << refused(o);
  o.certificate = file("leaf.ext"); // readable, not a certificate
  EXPECT_NE(refused(o).find("cannot load the certificate"), std::string::npos) << refused(o);
  o = ok;
  o.private_key = file("collector.key");
  EXPECT_NE(refused(o).find("mismatch"), std::string::npos) << refused(o);
  o = ok;
  o.private_key = file("node-enc.key"); // encrypted, no passphrase: no terminal prompt
  EXPECT_NE(refused(o).find("cannot load the private key"), std::string::npos);
  o.passphrase = "wrong";
  EXPECT_NE(refused(o).find("cannot load the private key"), std::string::npos);
  o = ok;
  o.ca_file = file("rogue-ca.pem"); // our own certificate is not from the CA we trust
  EXPECT_NE(refused(o).find("does not verify"), std::string::npos) << refused(o);
  o = ok;
  o = identity("expired");
  EXPECT_NE(refused(o).find("certificate has expired"), std::string::npos) << refused(o);
  o = ok;
  o.ca_file.clear();
  EXPECT_NE(refused(o).find("required"), std::string::npos);
  EXPECT_EQ(refused(ok), "");
}

} // namespace
