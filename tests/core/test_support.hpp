// Shared helpers for metron's tests.
#pragma once

#include <cstdint>

namespace metron::test {

/// Iteration counts: full size normally, smaller under sanitizers (which run the
/// same code 5-20x slower); the assertions are the same.
constexpr std::uint64_t scaled(std::uint64_t n) {
#if defined(METRON_TSAN) || defined(METRON_ASAN)
  return n / 10 > 0 ? n / 10 : 1;
#else
  return n;
#endif
}

} // namespace metron::test
