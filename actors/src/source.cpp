#include "metron/actors/source.hpp"

#include "metron/registry_anchor.hpp"

#include <stdexcept>
#include <utility>

namespace metron {
namespace {

// Reads through the registry's anchor: the registry may be destroyed at any time
// (its destructor waits for a take() in progress), and take() then says so.
class borrowed_registry final : public snapshot_source {
public:
  explicit borrowed_registry(registry& reg) : anchor_(reg.anchor()) {}
  std::optional<snapshot> take() override {
    std::optional<snapshot> out;
    anchor_->with([&](registry& r) { out = r.snapshot(); });
    return out;
  }

private:
  std::shared_ptr<registry_anchor> anchor_;
};

class shared_registry final : public snapshot_source {
public:
  explicit shared_registry(std::shared_ptr<registry> reg) : reg_(std::move(reg)) {}
  std::optional<snapshot> take() override { return reg_->snapshot(); }

private:
  std::shared_ptr<registry> reg_;
};

} // namespace

source_ptr registry_source(registry& reg) {
  return std::make_shared<borrowed_registry>(reg);
}

source_ptr registry_source(std::shared_ptr<registry> reg) {
  if (!reg)
    throw std::invalid_argument("metron: registry_source needs a registry");
  return std::make_shared<shared_registry>(std::move(reg));
}

} // namespace metron
