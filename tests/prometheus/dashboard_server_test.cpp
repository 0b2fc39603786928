// The dashboard's half of the HTTP server, without actors: its routes, the /events
// stream's framing and deadlines, the cap on streams, the bounded per-stream queue
// under a reader that never reads, and the per-tick JSON (dashboard_event).
#include <gtest/gtest.h>

#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <vector>

#include "metron/bucket_layout.hpp"
#include "metron/metron.hpp"
#include "metron/prometheus/dashboard.hpp"
#include "metron/prometheus/http_server.hpp"
#include "raw_http.hpp"
#include "server_support.hpp"
#include "tls_files.hpp"

using namespace metron;
using namespace std::chrono_literals;
namespace prom = metron::prometheus;
namespace t = metron::test;

namespace {

// An event feed that records the channels it is given and counts released handles.
// Declared before the server that calls it, so it outlives it.
class test_feed {
public:
  prom::event_feed feed() {
    return [this](std::shared_ptr<prom::event_channel> ch) {
      std::lock_guard guard{mutex_};
      channels_.push_back(ch);
      cv_.notify_all();
      return std::shared_ptr<void>(new int{0}, [this](int* p) {
        delete p;
        std::lock_guard guard{mutex_};
        ++released_;
        cv_.notify_all();
      });
    };
  }

  /// The n-th channel (0-based), waiting for it to open; nullptr after 10 s.
  std::shared_ptr<prom::event_channel> channel(std::size_t n) {
    std::unique_lock lock{mutex_};
    cv_.wait_for(lock, 10s, [&] { return channels_.size() > n; });
    return channels_.size() > n ? channels_[n] : nullptr;
  }

  /// Waits (at most `limit`) until n handles have been released.
  bool released(int n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, limit, [&] { return released_ >= n; });
  }

private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<prom::event_channel>> channels_;
  int released_ = 0;
};

prom::server_config config() {
  auto cfg = t::local_config();
  cfg.max_dashboard_connections = 2;
  return cfg;
}

// Reads from fd until buffer contains `what`; false if the connection ends first.
bool read_until(int fd, std::string& buffer, const std::string& what) {
  while (buffer.find(what) == std::string::npos) {
    char chunk[65536];
    auto n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0)
      return false;
    buffer.append(chunk, static_cast<std::size_t>(n));
  }
  return true;
}

// Opens GET /events on a new connection and reads the response head; the fd (or -1
// and the status in *status).
int open_stream(std::uint16_t port, std::string& buffer, int* status = nullptr) {
  int fd = t::connect_local(port);
  if (fd < 0 || !t::send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"))
    return -1;
  auto head = t::read_response_headers(fd, buffer);
  if (status)
    *status = head.status;
  if (head.status != 200) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Polls stats() until pred holds; bounded.
template <class Pred>
bool stats_until(prom::http_server& server, Pred pred) {
  for (auto deadline = std::chrono::steady_clock::now() + 10s; std::chrono::steady_clock::now() < deadline;) {
    if (pred(server.stats()))
      return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred(server.stats());
}

std::shared_ptr<const std::string> frame(std::string data) {
  return std::make_shared<const std::string>("event: tick\ndata: " + data + "\n\n");
}

struct dashboard : ::testing::Test {
  test_feed events;
  report_ptr snap = t::sample_snapshot();
  prom::http_server server{config(), [this] { return snap; }, events.feed()};
};

} // namespace

TEST_F(dashboard, the_page_and_its_assets_are_served_from_the_binary) {
  auto page = t::get(server.port(), "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_EQ(page.headers["content-security-policy"], "default-src 'self'; img-src 'self' data:");
  EXPECT_NE(page.body.find("<script src=\"dashboard.js\"></script>"), std::string::npos);
  auto js = t::get(server.port(), "/dashboard.js");
  EXPECT_EQ(js.status, 200);
  EXPECT_EQ(js.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_NE(js.body.find("new EventSource(\"events\")"), std::string::npos);
  auto css = t::get(server.port(), "/dashboard.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.headers["content-type"], "text/css; charset=utf-8");
  for (auto* r : {&page, &js, &css}) {
    EXPECT_GT(r->body.size(), 500u);
    for (unsigned char c : r->body) // embed_assets.cmake splits literals at any byte: ASCII only
      ASSERT_LT(c, 0x80);
  }
  // Nothing on the page is fetched from elsewhere.
  for (auto* r : {&page, &js, &css})
    EXPECT_EQ(r->body.find("http"), std::string::npos);
}

TEST_F(dashboard, unknown_paths_are_404_and_metrics_is_unchanged) {
  EXPECT_EQ(t::get(server.port(), "/index.htm").status, 404);
  EXPECT_EQ(t::get(server.port(), "/events/x").status, 404);
  EXPECT_EQ(t::get(server.port(), "/../dashboard.js").status, 404);
  EXPECT_EQ(t::get(server.port(), "/embed_assets.cmake").status, 404);
  EXPECT_EQ(t::get(server.port(), "/metrics").body, prom::render_text(*snap));
  EXPECT_EQ(t::request(server.port(), "POST /events HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").status,
            405);
  auto head = t::request(server.port(), "HEAD /events HTTP/1.1\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], "text/event-stream");
}

TEST(dashboard_off, without_a_feed_or_with_dashboard_off_there_is_no_page) {
  test_feed events;
  auto cfg = config();
  cfg.dashboard = false;
  prom::http_server off{cfg, [] { return t::sample_snapshot(); }, events.feed()};
  EXPECT_EQ(t::get(off.port(), "/").status, 404);
  EXPECT_EQ(t::get(off.port(), "/events").status, 404);
  prom::http_server none{config(), [] { return t::sample_snapshot(); }};
  EXPECT_EQ(t::get(none.port(), "/dashboard.js").status, 404);
  EXPECT_EQ(t::get(none.port(), "/metrics").status, 200);
}

TEST_F(dashboard, a_stream_sends_each_frame_as_queued_and_outlives_the_request_deadlines) {
  auto cfg = config();
  cfg.header_timeout = 100ms;
  cfg.read_timeout = 100ms;
  test_feed feed2;
  prom::http_server quick{cfg, [this] { return snap; }, feed2.feed()};
  std::string buffer;
  int fd = t::connect_local(quick.port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(t::send_all(fd, "GET /events HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = t::read_response_headers(fd, buffer);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers["content-type"], "text/event-stream");
  EXPECT_EQ(head.headers["cache-control"], "no-store");
  EXPECT_EQ(head.headers.count("content-length"), 0u); // the body ends with the connection
  ASSERT_TRUE(read_until(fd, buffer, "retry: 2000\n\n"));
  EXPECT_EQ(buffer, "retry: 2000\n\n");
  buffer.clear();
  auto ch = feed2.channel(0);
  ASSERT_TRUE(ch);
  // Past both request deadlines: a stream is not a slow request.
  std::this_thread::sleep_for(300ms);
  std::atomic<int> written{0};
  EXPECT_TRUE(ch->push(frame("{\"seq\":1}"), [&] { ++written; }));
  EXPECT_TRUE(ch->push(frame("{\"seq\":2}"), [&] { ++written; }));
  ASSERT_TRUE(read_until(fd, buffer, "{\"seq\":2}\n\n"));
  EXPECT_EQ(buffer, "event: tick\ndata: {\"seq\":1}\n\nevent: tick\ndata: {\"seq\":2}\n\n");
  EXPECT_TRUE(stats_until(quick, [](auto s) { return s.stream_frames == 2; }));
  EXPECT_EQ(written.load(), 2);
  auto s = quick.stats();
  EXPECT_EQ(s.header_timeouts, 0u);
  EXPECT_EQ(s.read_timeouts, 0u);
  EXPECT_EQ(s.streams_opened, 1u);
  EXPECT_EQ(s.streams_open, 1u);
  // The client closes: the producer's handle is released, later pushes are refused
  // (and their callback still runs, so a producer never waits for it).
  ::close(fd);
  ASSERT_TRUE(feed2.released(1));
  bool called = false;
  EXPECT_FALSE(ch->push(frame("late"), [&] { called = true; }));
  EXPECT_TRUE(called);
  EXPECT_TRUE(stats_until(quick, [](auto s) { return s.streams_open == 0; }));
}

TEST_F(dashboard, bytes_from_the_client_after_its_request_end_the_stream) {
  std::string buffer;
  int fd = open_stream(server.port(), buffer);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(events.channel(0));
  ASSERT_TRUE(t::send_all(fd, "GET /metrics HTTP/1.1\r\n\r\n"));
  EXPECT_TRUE(events.released(1));
  EXPECT_TRUE(t::closed_by_peer_within(fd, 10s));
  ::close(fd);
}

TEST_F(dashboard, streams_beyond_max_dashboard_connections_get_503_and_a_closed_one_frees_its_slot) {
  std::string b1, b2, b3, b4;
  int a = open_stream(server.port(), b1);
  int b = open_stream(server.port(), b2);
  ASSERT_GE(a, 0);
  ASSERT_GE(b, 0);
  int status = 0;
  EXPECT_EQ(open_stream(server.port(), b3, &status), -1);
  EXPECT_EQ(status, 503);
  EXPECT_EQ(server.stats().refused_stream_cap, 1u);
  EXPECT_EQ(server.stats().streams_open, 2u);
  // Other requests are not affected by the stream cap.
  EXPECT_EQ(t::get(server.port(), "/").status, 200);
  ::close(a);
  ASSERT_TRUE(events.released(1));
  ASSERT_TRUE(stats_until(server, [](auto s) { return s.streams_open == 1; }));
  int c = open_stream(server.port(), b4);
  EXPECT_GE(c, 0);
  ::close(b);
  ::close(c);
}

TEST(dashboard_self_metrics, streams_and_their_drops_appear_in_metrics_once_the_dashboard_is_used) {
  auto cfg = config();
  cfg.self_metrics = true;
  cfg.max_dashboard_connections = 1;
  test_feed events;
  prom::http_server server{cfg, [] { return t::sample_snapshot(); }, events.feed()};
  EXPECT_EQ(t::get(server.port(), "/metrics").body.find("metron_http_dashboard"), std::string::npos);
  std::string b1, b2;
  int fd = open_stream(server.port(), b1);
  ASSERT_GE(fd, 0);
  EXPECT_EQ(open_stream(server.port(), b2), -1); // over the cap: refused
  auto text = t::get(server.port(), "/metrics").body;
  EXPECT_NE(text.find("metron_http_dashboard_streams_total{reason=\"opened\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("metron_http_dashboard_streams_total{reason=\"refused\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("metron_http_dashboard_frames_dropped_total 0\n"), std::string::npos) << text;
  ::close(fd);
}

TEST_F(dashboard, a_reader_that_never_reads_costs_a_bounded_queue_then_its_connection) {
  auto cfg = config();
  cfg.max_dashboard_queued_bytes = 64 * 1024;
  cfg.write_timeout = 500ms;
  test_feed feed2;
  prom::http_server slow{cfg, [this] { return snap; }, feed2.feed()};
  // A client that reads the response head and nothing more.
  std::string buffer;
  int fd = open_stream(slow.port(), buffer);
  ASSERT_GE(fd, 0);
  auto ch = feed2.channel(0);
  ASSERT_TRUE(ch);
  // The producer pushes 16 KiB frames, never blocking, until the server gives up on
  // the connection (write_timeout once the socket buffers are full).
  const auto payload = frame(std::string(16 * 1024, 'x'));
  std::uint64_t accepted_bytes = 0, refused = 0, pushes = 0;
  std::atomic<std::uint64_t> callbacks{0};
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!feed2.released(1, 0ms) && std::chrono::steady_clock::now() < deadline) {
    ++pushes;
    if (ch->push(payload, [&callbacks] { ++callbacks; })) {
      accepted_bytes += payload->size();
    } else {
      ++refused;
      feed2.released(1, 2ms); // queue full: give the writer a moment
    }
  }
  ASSERT_TRUE(feed2.released(1)) << "the stalled connection was not closed";
  auto s = slow.stats();
  EXPECT_EQ(s.write_timeouts, 1u);
  EXPECT_GT(s.stream_frames_dropped, 0u);
  // Every refusal while the stream was open is counted (the last one may have met the close).
  EXPECT_LE(s.stream_frames_dropped, refused);
  EXPECT_LE(refused - s.stream_frames_dropped, 1u);
  // Each frame's callback ran once it was written or refused (queued ones die with the queue).
  EXPECT_EQ(callbacks.load(), s.stream_frames + refused);
  // What was accepted was written, or was in the queue (at most its bound) at the close.
  EXPECT_LE(accepted_bytes, s.stream_bytes + cfg.max_dashboard_queued_bytes);
  EXPECT_GT(s.stream_bytes, 0u);
  ::close(fd);
  std::printf("slow reader: %llu pushes, %llu refused, %llu bytes written before the close\n",
              static_cast<unsigned long long>(pushes), static_cast<unsigned long long>(refused),
              static_cast<unsigned long long>(s.stream_bytes));
}

TEST(dashboard_access, basic_auth_and_tls_apply_to_the_page_and_the_stream) {
  t::tls_files files;
  ASSERT_TRUE(files.ok()) << files.log();
  auto cfg = config();
  cfg.basic_auth_user = "viewer";
  cfg.basic_auth_password = "s3cret";
  cfg.tls_cert_file = files.server_cert();
  cfg.tls_key_file = files.server_key();
  test_feed events;
  prom::http_server server{cfg, [] { return t::sample_snapshot(); }, events.feed()};
  auto curl = [&](const std::string& args) {
    return "curl -s -N --max-time 20 --cacert " + files.ca() + " " + args + " https://127.0.0.1:" +
           std::to_string(server.port());
  };
  // Without credentials: 401 for the page and the stream (checked before routing).
  for (const char* path : {"/", "/events"}) {
    FILE* p = ::popen((curl("-o /dev/null -w '%{http_code}'") + path).c_str(), "r");
    ASSERT_NE(p, nullptr);
    char code[8] = {};
    ASSERT_NE(std::fgets(code, sizeof code, p), nullptr);
    ::pclose(p);
    EXPECT_STREQ(code, "401") << path;
  }
  EXPECT_EQ(server.stats().streams_opened, 0u);
  // With them, over TLS: the stream carries what the producer pushes.
  FILE* p = ::popen((curl("-u viewer:s3cret") + "/events").c_str(), "r");
  ASSERT_NE(p, nullptr);
  auto ch = events.channel(0);
  ASSERT_TRUE(ch);
  ASSERT_TRUE(ch->push(frame("{\"tls\":1}"), {}));
  std::string got;
  char line[256];
  while (got.find("data: {\"tls\":1}") == std::string::npos && std::fgets(line, sizeof line, p))
    got += line;
  EXPECT_EQ(got, "retry: 2000\n\nevent: tick\ndata: {\"tls\":1}\n");
  server.stop(); // ends the stream, so curl exits
  ::pclose(p);
  EXPECT_EQ(server.stats().streams_opened, 1u);
  EXPECT_EQ(server.stats().tls_failures, 0u);
}

// -- dashboard_event ------------------------------------------------------------------

// A raw snapshot as a report without figures (rates 0, no quantiles or windows).
report bare(snapshot s) {
  return report{std::make_shared<const snapshot>(std::move(s)), 0, 0, {}, {}};
}

TEST(dashboard_event, carries_the_ticks_buckets_in_heatmap_groups_and_its_quantiles) {
  registry reg;
  auto& h = reg.histogram("job_seconds", {{"queue", "a\"b"}});
  auto& c = reg.counter("jobs_total");
  h.record(1.0);
  c.add(3);
  auto before = bare(reg.snapshot());
  h.record(1.0);
  h.record(1.0);
  h.record(2.0);
  auto now = bare(reg.snapshot());
  auto json = prom::dashboard_event(now, &before);
  auto group = [](double v) { return std::to_string((static_cast<int>(bucket_layout::index(v)) - 1) >> 3); };
  EXPECT_NE(json.find("{\"n\":\"job_seconds\",\"l\":{\"queue\":\"a\\\"b\"},\"c\":4,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"t\":{\"c\":3,\"s\":4,\"max\":2,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"b\":[" + group(1.0) + ",2," + group(2.0) + ",1]}"), std::string::npos) << json;
  EXPECT_NE(json.find("{\"n\":\"jobs_total\",\"l\":{},\"v\":3,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"layout\":{\"min_exp\":-40,\"per_binade\":8}"), std::string::npos) << json;
  // The tick's p50 is 1.0 within the layout's error.
  auto p50 = json.find("\"q\":[[0.5,", json.find("\"t\":"));
  ASSERT_NE(p50, std::string::npos) << json;
  double v = std::stod(json.substr(p50 + 10));
  EXPECT_NEAR(v, 1.0, bucket_layout::relative_error);
  // Without a previous snapshot there is no interval.
  EXPECT_EQ(prom::dashboard_event(now, nullptr).find("\"t\":"), std::string::npos);
  // A frame is the event on one data line.
  auto f = prom::dashboard_frame(now, &before);
  EXPECT_EQ(f, "event: tick\ndata: " + json + "\n\n");
  EXPECT_EQ(json.find('\n'), std::string::npos);
}

TEST(dashboard_event, a_histogram_new_since_the_previous_snapshot_is_all_interval_and_hostile_names_stay_json) {
  // A snapshot as a remote peer could send it: no registry validated its label value.
  snapshot before, now;
  histogram_sample x;
  x.series = series_ref::make("fresh_seconds", {{"k", std::string{"\xff\n\"", 3}}}, metric_kind::histogram);
  x.data = histogram_snapshot({{bucket_layout::index(0.5), 1}}, 0.5, 0.5, 0.5, 0);
  now.histograms.push_back(x);
  auto prev = bare(before);
  auto json = prom::dashboard_event(bare(now), &prev);
  EXPECT_NE(json.find("\"t\":{\"c\":1,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"l\":{\"k\":\"\xef\xbf\xbd" "ff\\n\\\"\"}"), std::string::npos) << json;
}
