#include "metron/remote/stats.hpp"

namespace metron::remote {

const char* to_string(refusal r) noexcept {
  switch (r) {
    case refusal::bad_frame:
      return "bad_frame";
    case refusal::handshake_timeout:
      return "handshake_timeout";
    case refusal::idle_timeout:
      return "idle_timeout";
    case refusal::connection_limit:
      return "connection_limit";
    case refusal::memory_budget:
      return "memory_budget";
    case refusal::backlog:
      return "backlog";
    case refusal::subscription_limit:
      return "subscription_limit";
    case refusal::control:
      return "control";
    case refusal::wire_frame:
      return "wire_frame";
  }
  return "unknown";
}

remote_stats::remote_stats(registry& metrics) {
  for (std::size_t i = 0; i < refusal_kinds; ++i)
    metrics_[i] = &metrics.counter("metron_remote_refusals_total",
                                   {{"reason", to_string(static_cast<refusal>(i))}},
                                   "Connections, frames and requests the remote guards refused");
}

void remote_stats::count(refusal r) noexcept {
  auto i = static_cast<std::size_t>(r);
  counts_[i].fetch_add(1, std::memory_order_relaxed); // relaxed: a pure count
  if (metrics_[i])
    metrics_[i]->add();
}

std::uint64_t remote_stats::refused(refusal r) const noexcept {
  return counts_[static_cast<std::size_t>(r)].load(std::memory_order_relaxed); // relaxed: a pure count
}

std::uint64_t remote_stats::refused_total() const noexcept {
  std::uint64_t sum = 0;
  for (auto& c : counts_)
    sum += c.load(std::memory_order_relaxed); // relaxed: a pure count
  return sum;
}

} // namespace metron::remote
