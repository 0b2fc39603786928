#include "metron/exemplar.hpp"

#include <cstring>

#include "metron/labels.hpp"

namespace metron {

exemplar& exemplar::add(std::string_view name, std::string_view value) noexcept {
  if (!valid_)
    return *this;
  bool repeated = false;
  for (std::size_t i = 0; i < size_; ++i)
    repeated = repeated || this->name(i) == name;
  if (size_ == max_labels || name.size() + value.size() > max_bytes - used_ || repeated
      || !valid_label_key(name) || !valid_utf8(value)) {
    *this = exemplar{};
    valid_ = false;
    return *this;
  }
  std::memcpy(text_ + used_, name.data(), name.size());
  std::memcpy(text_ + used_ + name.size(), value.data(), value.size());
  name_len_[size_] = static_cast<std::uint8_t>(name.size());
  value_len_[size_] = static_cast<std::uint8_t>(value.size());
  used_ = static_cast<std::uint8_t>(used_ + name.size() + value.size());
  ++size_;
  return *this;
}

std::string_view exemplar::trace_id() const noexcept {
  for (std::size_t i = 0; i < size_; ++i)
    if (name(i) == "trace_id")
      return value(i);
  return {};
}

bool operator==(const exemplar& a, const exemplar& b) noexcept {
  if (a.valid_ != b.valid_ || a.size_ != b.size_)
    return false;
  for (std::size_t i = 0; i < a.size_; ++i)
    if (a.name(i) != b.name(i) || a.value(i) != b.value(i))
      return false;
  return true;
}

} // namespace metron
