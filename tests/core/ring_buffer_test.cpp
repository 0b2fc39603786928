#include <metron/ring_buffer.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace {

struct sample {
  std::uint64_t writer;
  std::uint64_t seq;
  std::uint64_t check; // f(writer, seq): a torn read breaks it
  static std::uint64_t f(std::uint64_t w, std::uint64_t s) { return (w * 0x9E3779B97F4A7C15ull) ^ (s * 0xC2B2AE3D27D4EB4Full); }
};

TEST(ring_buffer, capacity_must_be_a_power_of_two) {
  EXPECT_THROW(metron::ring_buffer<int>{0}, std::invalid_argument);
  EXPECT_THROW(metron::ring_buffer<int>{1}, std::invalid_argument);
  EXPECT_THROW(metron::ring_buffer<int>{12}, std::invalid_argument);
  EXPECT_EQ(metron::ring_buffer<int>{16}.capacity(), 16u);
}

TEST(ring_buffer, keeps_the_last_capacity_samples_in_order) {
  metron::ring_buffer<int> r{8};
  EXPECT_TRUE(r.last(5).empty());
  for (int i = 0; i < 3; ++i)
    r.push(i);
  EXPECT_EQ(r.last(5), (std::vector<int>{0, 1, 2}));
  for (int i = 3; i < 20; ++i)
    r.push(i);
  EXPECT_EQ(r.last(100), (std::vector<int>{12, 13, 14, 15, 16, 17, 18, 19}));
  EXPECT_EQ(r.last(3), (std::vector<int>{17, 18, 19}));
  EXPECT_EQ(r.pushed(), 20u);
  EXPECT_EQ(r.lost(), 0u);
}

// Writers push (writer, seq, checksum); readers continuously take the last N.
// A reader must never see a torn sample (checksum) nor a writer's samples out of
// order, and once writers stop, the ring holds exactly the newest samples.
TEST(ring_buffer, concurrent_writers_and_readers_never_see_torn_or_reordered_samples) {
  metron::ring_buffer<sample> r{256};
  const int writers = 3;
  const std::uint64_t per_writer = metron::test::scaled(300'000);
  std::atomic<int> running{writers};
  std::atomic<int> readers_started{0};
  std::atomic<std::uint64_t> bad{0}, reads{0};
  std::vector<std::thread> ts;
  for (int w = 0; w < writers; ++w)
    ts.emplace_back([&, w] {
      while (readers_started < 2) // writers start once both readers read
        std::this_thread::yield();
      for (std::uint64_t s = 0; s < per_writer; ++s)
        r.push(sample{static_cast<std::uint64_t>(w), s, sample::f(static_cast<std::uint64_t>(w), s)});
      running--;
    });
  for (int k = 0; k < 2; ++k)
    ts.emplace_back([&] {
      readers_started++;
      do {
        auto got = r.last(64);
        std::vector<std::int64_t> last_seq(writers, -1);
        for (auto& x : got) {
          if (x.writer >= writers || x.check != sample::f(x.writer, x.seq) ||
              static_cast<std::int64_t>(x.seq) <= last_seq[x.writer])
            bad++;
          else
            last_seq[x.writer] = static_cast<std::int64_t>(x.seq);
        }
        reads++;
      } while (running > 0);
    });
  for (auto& t : ts)
    t.join();
  EXPECT_EQ(bad.load(), 0u);
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(r.pushed(), writers * per_writer);
  // Quiescent: every slot is complete, the last 256 tickets minus any lost ones.
  auto tail = r.last(256);
  EXPECT_EQ(tail.size() + r.lost() >= 256, true);
  for (auto& x : tail)
    EXPECT_EQ(x.check, sample::f(x.writer, x.seq));
}

} // namespace
