// Snapshot -> JSON, parsed back with a small strict parser (RFC 8259 subset that the
// renderer must stay inside): every metric, labels, quantiles, windows, rates, escaping,
// invalid UTF-8, non-finite numbers as null.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <memory>
#include <stdexcept>
#include <variant>
#include <vector>

#include "metron/json.hpp"
#include "metron/json/utf8.hpp"
#include "metron/metron.hpp"
#include "../support/hostile_snapshot.hpp"

using namespace metron;
using metron::test::hostile_strings;
using metron::test::prefixed;

namespace {

struct value;
using object = std::map<std::string, value>;
using array = std::vector<value>;
struct value {
  std::variant<std::nullptr_t, bool, double, std::string, std::shared_ptr<array>, std::shared_ptr<object>> v;
  bool is_null() const { return std::holds_alternative<std::nullptr_t>(v); }
  double num() const { return std::get<double>(v); }
  const std::string& str() const { return std::get<std::string>(v); }
  const array& arr() const { return *std::get<std::shared_ptr<array>>(v); }
  const object& obj() const { return *std::get<std::shared_ptr<object>>(v); }
  const value& operator[](const std::string& k) const {
    auto& o = obj();
    auto it = o.find(k);
    if (it == o.end())
      throw std::out_of_range("no key " + k);
    return it->second;
  }
  const value& operator[](std::size_t i) const { return arr().at(i); }
};

// Strict: throws on anything RFC 8259 does not allow (raw control characters in
// strings, bad escapes, trailing garbage, NaN literals...).
class parser {
public:
  explicit parser(std::string_view s) : s_(s) {}
  value parse() {
    auto v = parse_value();
    ws();
    if (i_ != s_.size())
      fail("trailing characters");
    return v;
  }

private:
  [[noreturn]] void fail(const std::string& why) { throw std::runtime_error(why + " at " + std::to_string(i_)); }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r'))
      ++i_;
  }
  bool lit(std::string_view w) {
    if (s_.substr(i_, w.size()) == w) {
      i_ += w.size();
      return true;
    }
    return false;
  }
  value parse_value() {
    ws();
    if (i_ >= s_.size())
      fail("end of input");
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      auto o = std::make_shared<object>();
      ws();
      if (lit("}"))
        return {o};
      for (;;) {
        ws();
        if (s_[i_] != '"')
          fail("key expected");
        auto k = parse_string();
        ws();
        if (!lit(":"))
          fail(": expected");
        (*o)[k] = parse_value();
        ws();
        if (lit("}"))
          return {o};
        if (!lit(","))
          fail(", expected");
      }
    }
    if (c == '[') {
      ++i_;
      auto a = std::make_shared<array>();
      ws();
      if (lit("]"))
        return {a};
      for (;;) {
        a->push_back(parse_value());
        ws();
        if (lit("]"))
          return {a};
        if (!lit(","))
          fail(", expected");
      }
    }
    if (c == '"')
      return {parse_string()};
    if (lit("null"))
      return {nullptr};
    if (lit("true"))
      return {true};
    if (lit("false"))
      return {false};
    std::size_t start = i_;
    if (s_[i_] == '-')
      ++i_;
    if (i_ >= s_.size() || !std::isdigit(static_cast<unsigned char>(s_[i_])))
      fail("bad number");
    while (i_ < s_.size() && (std::isdigit(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' || s_[i_] == 'e' ||
                              s_[i_] == 'E' || s_[i_] == '+' || s_[i_] == '-'))
      ++i_;
    return {std::stod(std::string{s_.substr(start, i_ - start)})};
  }
  std::string parse_string() {
    ++i_; // "
    std::string out;
    for (;;) {
      if (i_ >= s_.size())
        fail("unterminated string");
      auto c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"')
        return out;
      if (c < 0x20)
        fail("raw control character in string");
      if (c != '\\') {
        out += static_cast<char>(c);
        continue;
      }
      char e = s_[i_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          auto cp = std::stoul(std::string{s_.substr(i_, 4)}, nullptr, 16);
          i_ += 4;
          if (cp >= 0x80)
            fail("test parser: only \\u00XX expected from the renderer");
          out += static_cast<char>(cp);
          break;
        }
        default: fail("bad escape");
      }
    }
  }
  std::string_view s_;
  std::size_t i_ = 0;
};

value parse(const std::string& s) { return parser{s}.parse(); }

const value& find(const value& list, const std::string& name) {
  for (auto& x : list.arr())
    if (x["name"].str() == name)
      return x;
  throw std::out_of_range("no metric " + name);
}

} // namespace

TEST(json, every_metric_kind_round_trips_with_labels_and_help) {
  registry reg;
  reg.counter("requests_total", {{"method", "GET"}, {"path", "/a\"b\\c\nd\te\x01"}}, "Requests \"served\".").add(7);
  reg.updown_counter("in_flight").add(-4);
  reg.gauge("temperature_celsius", {{"room", "größe ✓"}}).set(-12.25);
  auto& h = reg.histogram("latency_seconds", {}, "Latency.");
  for (double v : {0.001, 0.002, 0.004, 1.5})
    h.record(v);
  h.record(-1); // rejected
  reg.histogram("empty_seconds");
  auto snap = reg.snapshot();
  auto doc = parse(json::render(snap));

  EXPECT_EQ(doc["wall_ns"].num(), static_cast<double>(snap.wall_ns));
  EXPECT_EQ(doc["sequence"].num(), 0);
  auto& c = find(doc["counters"], "requests_total");
  EXPECT_EQ(c["value"].num(), 7);
  EXPECT_EQ(c["help"].str(), "Requests \"served\".");
  EXPECT_EQ(c["labels"]["method"].str(), "GET");
  EXPECT_EQ(c["labels"]["path"].str(), "/a\"b\\c\nd\te\x01");
  EXPECT_EQ(c["rate"].num(), 0);
  EXPECT_TRUE(c["windows"].arr().empty());
  EXPECT_EQ(find(doc["updown_counters"], "in_flight")["value"].num(), -4);
  auto& g = find(doc["gauges"], "temperature_celsius");
  EXPECT_EQ(g["value"].num(), -12.25);
  EXPECT_EQ(g["labels"]["room"].str(), "größe ✓");
  EXPECT_EQ(g["help"].str(), "");
  auto& hj = find(doc["histograms"], "latency_seconds");
  auto* hs = snap.find_histogram("latency_seconds");
  EXPECT_EQ(hj["count"].num(), 4);
  EXPECT_EQ(hj["sum"].num(), hs->sum());
  EXPECT_EQ(hj["min"].num(), 0.001);
  EXPECT_EQ(hj["max"].num(), 1.5);
  EXPECT_EQ(hj["mean"].num(), hs->mean());
  EXPECT_EQ(hj["rejected"].num(), 1);
  EXPECT_EQ(hj.obj().count("buckets"), 0u);
  EXPECT_EQ(find(doc["histograms"], "empty_seconds")["count"].num(), 0);
}

TEST(json, quantiles_windows_and_rates_of_an_aggregated_snapshot) {
  registry reg;
  reg.counter("jobs").add(10);
  reg.histogram("work_seconds").record(0.5);
  reg.histogram("idle_seconds");
  auto s = std::make_shared<const snapshot>(reg.snapshot());
  std::vector<counter_figures> cf(1);
  cf[0].rate = 12.5;
  cf[0].windows = {{60'000'000'000, 59.5, 600, 10.0, {}, 0}};
  std::vector<histogram_figures> hf(2);
  ASSERT_EQ(s->histograms[1].name(), "work_seconds");
  hf[1].rate = 3;
  hf[1].quantiles = {{0.5, 0.5}, {0.99, 0.5}};
  hf[1].windows = {{300'000'000'000, 300, 900, 3, {{0.99, 0.49}}, 0.5}};
  hf[0].quantiles = {{0.5, std::numeric_limits<double>::quiet_NaN()}}; // idle: empty
  auto doc = parse(json::render(report{s, 42, 0.1, std::move(cf), std::move(hf)}));
  EXPECT_EQ(doc["sequence"].num(), 42);
  EXPECT_EQ(doc["interval_seconds"].num(), 0.1);
  auto& c = find(doc["counters"], "jobs");
  EXPECT_EQ(c["rate"].num(), 12.5);
  EXPECT_EQ(c["windows"][0]["length_seconds"].num(), 60);
  EXPECT_EQ(c["windows"][0]["seconds"].num(), 59.5);
  EXPECT_EQ(c["windows"][0]["increase"].num(), 600);
  EXPECT_EQ(c["windows"][0]["rate"].num(), 10);
  EXPECT_EQ(c["windows"][0].obj().count("quantiles"), 0u);
  auto& h = find(doc["histograms"], "work_seconds");
  EXPECT_EQ(h["rate"].num(), 3);
  EXPECT_EQ(h["quantiles"][1]["q"].num(), 0.99);
  EXPECT_EQ(h["quantiles"][1]["value"].num(), 0.5);
  EXPECT_EQ(h["windows"][0]["length_seconds"].num(), 300);
  EXPECT_EQ(h["windows"][0]["quantiles"][0]["value"].num(), 0.49);
  EXPECT_EQ(h["windows"][0]["max"].num(), 0.5);
  EXPECT_TRUE(find(doc["histograms"], "idle_seconds")["quantiles"][0]["value"].is_null()); // NaN -> null
}

TEST(json, buckets_are_emitted_on_request_and_sum_to_the_count) {
  registry reg;
  auto& h = reg.histogram("h");
  for (int i = 1; i <= 1000; ++i)
    h.record(i * 0.37);
  json::options opts;
  opts.buckets = true;
  auto doc = parse(json::render(reg.snapshot(), opts));
  double total = 0;
  for (auto& b : doc["histograms"][0]["buckets"].arr()) {
    EXPECT_LT(b[0].num(), b[1].num());
    total += b[2].num();
  }
  EXPECT_EQ(total, 1000);
}

TEST(json, strings_are_always_valid_json_and_utf8) {
  EXPECT_EQ(json::quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json::quote("\x01\x1f\r\n\t"), "\"\\u0001\\u001f\\r\\n\\t\"");
  EXPECT_EQ(json::quote("ok ✓"), "\"ok ✓\"");
  // Invalid bytes: U+FFFD and the byte's two hex digits (metron/json/utf8.hpp).
  EXPECT_EQ(json::quote("bad \xff\xfe end"), "\"bad \xEF\xBF\xBD" "ff\xEF\xBF\xBD" "fe end\"");
  EXPECT_EQ(json::quote("\xC0\xAF"), "\"\xEF\xBF\xBD" "c0\xEF\xBF\xBD" "af\"");    // overlong '/'
  EXPECT_EQ(json::quote("cut \xE2\x9C"), "\"cut \xEF\xBF\xBD" "e2\xEF\xBF\xBD" "9c\""); // truncated
  // A real U+FFFD is written the same way, byte by byte, so it cannot be confused.
  EXPECT_EQ(json::quote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD" "ef\xEF\xBF\xBD" "bf\xEF\xBF\xBD" "bd\"");
  registry reg;
  EXPECT_THROW(reg.gauge("g", {{"k", "\xff"}}), std::invalid_argument); // refused at creation
  reg.gauge("g", {{"k", "v"}}).set(1);
  auto s = reg.snapshot();
  test::set_series(s.gauges[0], "g", {{"k", "\xff"}}, metric_kind::gauge); // a peer's snapshot may carry it
  EXPECT_NO_THROW(parse(json::render(s)));
}

TEST(json, an_empty_snapshot_is_a_valid_document) {
  auto doc = parse(json::render(snapshot{}));
  EXPECT_TRUE(doc["counters"].arr().empty());
  EXPECT_TRUE(doc["histograms"].arr().empty());
}

TEST(json, distinct_strings_stay_distinct_and_decode_back) {
  std::set<std::string> seen;
  for (auto& in : hostile_strings) {
    auto repaired = utf8::repair(in);
    EXPECT_TRUE(utf8::valid(repaired)) << in;
    EXPECT_EQ(utf8::unrepair(repaired), in);
    EXPECT_TRUE(seen.insert(repaired).second) << "two inputs map to " << repaired;
  }
  EXPECT_EQ(utf8::repair("plain ascii and \xE2\x9C\x93"), "plain ascii and \xE2\x9C\x93");
}

TEST(json, a_document_with_hostile_strings_everywhere_parses_and_keeps_them_apart) {
  // As a snapshot from a remote peer may arrive: nothing validated it.
  registry reg;
  for (std::size_t i = 0; i < hostile_strings.size(); ++i)
    reg.gauge("g", {{"k", prefixed("v", std::to_string(i))}}).set(static_cast<double>(i));
  auto s = reg.snapshot();
  ASSERT_EQ(s.gauges.size(), hostile_strings.size());
  for (std::size_t i = 0; i < s.gauges.size(); ++i) {
    auto& g = s.gauges[i];
    test::set_series(g, prefixed("g", hostile_strings[i]), {{prefixed("k", hostile_strings[i]), hostile_strings[i]}},
                     metric_kind::gauge);
    g.current = static_cast<double>(i);
  }
  auto text = json::render(s);
  ASSERT_TRUE(utf8::valid(text));
  auto doc = parse(text); // strict
  auto& gs = doc["gauges"].arr();
  ASSERT_EQ(gs.size(), hostile_strings.size());
  std::set<std::string> values;
  for (auto& g : gs) {
    auto i = static_cast<std::size_t>(g["value"].num());
    ASSERT_LT(i, hostile_strings.size());
    EXPECT_EQ(utf8::unrepair(g["name"].str()), prefixed("g", hostile_strings[i]));
    ASSERT_EQ(g["labels"].obj().size(), 1u);
    auto& [k, v] = *g["labels"].obj().begin();
    EXPECT_EQ(utf8::unrepair(k), prefixed("k", hostile_strings[i]));
    EXPECT_EQ(utf8::unrepair(v.str()), hostile_strings[i]);
    values.insert(v.str());
  }
  EXPECT_EQ(values.size(), hostile_strings.size());
}

TEST(json, the_shared_hostile_snapshot_renders_as_valid_json) {
  auto text = json::render(test::hostile_snapshot());
  EXPECT_TRUE(utf8::valid(text));
  auto doc = parse(text);
  EXPECT_EQ(doc["gauges"].arr().size(), 4u + hostile_strings.size()); // nothing is dropped
}
