// The real thing, through the defences: a Prometheus 2.42 server (Debian package
// `prometheus`) scrapes one metron endpoint that speaks only HTTPS and wants basic
// auth, with five jobs: the right CA and credentials (the values must arrive exactly,
// invalid UTF-8 label values included, each as its own series), no credentials, a
// wrong password, a CA that did not sign the server's certificate, and plain HTTP.
// Only the first may be up; the endpoint counts the others' refusals and exports its
// counters in /metrics, where Prometheus reads them too.
#include <gtest/gtest.h>

#include "metron/prometheus/http_server.hpp"
#include "../support/hostile_snapshot.hpp"
#include "prometheus_process.hpp"
#include "tls_files.hpp"

using namespace metron;
namespace prom = metron::prometheus;
namespace t = metron::test;

TEST(prometheus_security, scrapes_through_tls_and_basic_auth_and_nothing_else_gets_in) {
  ASSERT_EQ(::access(t::prometheus_bin, X_OK), 0)
    << t::prometheus_bin << " missing: install the Debian package 'prometheus' (scripts/install-deps.sh does)";
  t::tls_files files;
  ASSERT_TRUE(files.ok()) << files.log();
  auto snap = std::make_shared<const report>(std::make_shared<const snapshot>(t::hostile_snapshot()), 1, 0.0,
                                            std::vector<counter_figures>{}, std::vector<histogram_figures>{});
  prom::server_config cfg;
  cfg.port = 0;
  cfg.tls_cert_file = files.server_cert();
  cfg.tls_key_file = files.server_key();
  cfg.basic_auth_user = "scraper";
  cfg.basic_auth_password = "correct horse";
  cfg.self_metrics = true;
  prom::http_server server{cfg, [&] { return snap; }};

  auto tls = [](const std::string& ca) { return "    scheme: https\n    tls_config:\n      ca_file: " + ca + "\n"; };
  auto auth = [](const std::string& password) {
    return "    basic_auth:\n      username: scraper\n      password: '" + password + "'\n";
  };
  t::prometheus_process prometheus{t::scrape_job("secure", server.port(), tls(files.ca()) + auth("correct horse")) +
                                   t::scrape_job("no_credentials", server.port(), tls(files.ca())) +
                                   t::scrape_job("wrong_password", server.port(), tls(files.ca()) + auth("horse")) +
                                   t::scrape_job("untrusted", server.port(), tls(files.other_ca()) + auth("correct horse")) +
                                   t::scrape_job("plain_http", server.port(), auth("correct horse"))};
  ASSERT_TRUE(prometheus.running()) << prometheus.log();
  auto p = prometheus.port();
  std::string why;

  double up = t::query_until(p, "up{job=\"secure\"}", [](double v) { return v == 1; }, why);
  ASSERT_EQ(up, 1) << "Prometheus never scraped through TLS and basic auth: " << why << "\nlog:\n"
                   << prometheus.log();
  // Every hostile label value arrived as its own series, with its exact value.
  auto n = static_cast<double>(t::hostile_strings.size());
  EXPECT_EQ(t::query_until(p, "count(hostile_value{job=\"secure\"})", [](double) { return true; }, why), n) << why;
  EXPECT_EQ(t::query_until(p, "sum(hostile_value{job=\"secure\"})", [](double) { return true; }, why),
            n * (n - 1) / 2)
    << why;
  EXPECT_EQ(t::query_until(p, "hostile_value{job=\"secure\",k=\"\\xE2\\x9C\\x93\"}", [](double) { return true; }, why),
            n - 1) // the check mark, the last string, passes unchanged
    << why;

  for (const char* job : {"no_credentials", "wrong_password", "untrusted", "plain_http"}) {
    std::string q = std::string{"up{job=\""} + job + "\"}";
    EXPECT_EQ(t::query_until(p, q, [](double) { return true; }, why), 0) << job << ": " << why;
  }
  // The refusals, as counted by the endpoint and as Prometheus read them from it.
  auto s = server.stats();
  EXPECT_GE(s.auth_failures, 2u); // no_credentials and wrong_password, once each at least
  EXPECT_GE(s.tls_failures, 2u);  // untrusted and plain_http
  double unauthorized = t::query_until(
    p, "metron_http_requests_refused_total{job=\"secure\",reason=\"unauthorized\"}", [](double v) { return v > 0; },
    why);
  EXPECT_GT(unauthorized, 0) << why;
  std::printf("prometheus through TLS + basic auth: up=1, %g hostile series; endpoint counted %llu auth failures, "
              "%llu TLS failures\n",
              n, static_cast<unsigned long long>(s.auth_failures), static_cast<unsigned long long>(s.tls_failures));
}
