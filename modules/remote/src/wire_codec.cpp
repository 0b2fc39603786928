// The delta wire's encoder and decoder (format and model: wire_codec.hpp).
#include "wire_codec.hpp"

#include <algorithm>
#include <bit>
#include <memory>
#include <numeric>
#include <string_view>
#include <utility>

#include "metron/bucket_layout.hpp"
#include "metron/labels.hpp"

namespace metron::remote::wire {

const char* to_string(error e) noexcept {
  switch (e) {
    case error::none:
      return "none";
    case error::truncated:
      return "truncated";
    case error::bad_header:
      return "bad_header";
    case error::base:
      return "base";
    case error::limit:
      return "limit";
    case error::bad_id:
      return "bad_id";
    case error::bad_identity:
      return "bad_identity";
    case error::duplicate:
      return "duplicate";
    case error::bad_change:
      return "bad_change";
    case error::trailing:
      return "trailing";
  }
  return "unknown";
}

namespace {

constexpr std::size_t kinds = 4;
constexpr std::uint32_t bucket_count = static_cast<std::uint32_t>(bucket_layout::size);

// -- histogram fields --------------------------------------------------------------

// Every field of a histogram snapshot by reference, through its serialization hook
// (inspect): the codec carries the stored min/max/count exactly, also of an empty one.
struct hist_fields {
  std::vector<histogram_snapshot::bucket>* buckets;
  std::uint64_t* count;
  double* sum;
  double* min;
  double* max;
  std::uint64_t* rejected;
};

hist_fields fields_of(histogram_snapshot& h) {
  hist_fields r{};
  auto take = [&r](auto& b, auto& c, auto& s, auto& lo, auto& hi, auto& rej) { r = {&b, &c, &s, &lo, &hi, &rej}; };
  inspect(take, h);
  return r;
}

hist_fields fields_of(const histogram_snapshot& h) {
  return fields_of(const_cast<histogram_snapshot&>(h)); // only read through by the encoder
}

// -- writing -----------------------------------------------------------------------

void put(bytes& out, std::uint64_t x) {
  while (x >= 0x80) {
    out.push_back(static_cast<std::uint8_t>(x) | 0x80);
    x >>= 7;
  }
  out.push_back(static_cast<std::uint8_t>(x));
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t u) {
  return static_cast<std::int64_t>(u >> 1) ^ -static_cast<std::int64_t>(u & 1);
}

// b - a modulo 2^64, as a signed change.
std::int64_t change(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a));
}

void put_str(bytes& out, std::string_view s) {
  put(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

std::uint64_t bits(double d) {
  return std::bit_cast<std::uint64_t>(d);
}

// Trailing zero bytes of a non-zero xor (what gets shifted out before the varint).
unsigned zero_bytes(std::uint64_t x) {
  return x == 0 ? 0u : static_cast<unsigned>(std::countr_zero(x)) / 8;
}

// -- changes, per kind (false: unchanged, nothing written) --------------------------

bool put_change(bytes& out, const counter_sample& a, const counter_sample& b) {
  auto d = b.total - a.total; // modulo 2^64
  if (d == 0)
    return false;
  put(out, d);
  return true;
}

bool put_change(bytes& out, const updown_sample& a, const updown_sample& b) {
  auto d = change(a.total, b.total);
  if (d == 0)
    return false;
  put(out, zigzag(d));
  return true;
}

bool put_change(bytes& out, const gauge_sample& a, const gauge_sample& b) {
  auto x = bits(a.current) ^ bits(b.current);
  auto r = b.rejected - a.rejected;
  if (x == 0 && r == 0)
    return false;
  auto t = zero_bytes(x);
  out.push_back(static_cast<std::uint8_t>((x != 0 ? 1u : 0u) | (r != 0 ? 2u : 0u) | (t << 2)));
  if (x != 0)
    put(out, x >> (8 * t));
  if (r != 0)
    put(out, r);
  return true;
}

bool put_change(bytes& out, const histogram_sample& a, const histogram_sample& b) {
  auto fa = fields_of(a.data);
  auto fb = fields_of(b.data);
  thread_local std::vector<std::pair<std::uint32_t, std::uint64_t>> diff; // (index, zigzag change)
  diff.clear();
  auto& ba = *fa.buckets;
  auto& bb = *fb.buckets;
  if (ba != bb) {
    std::size_t i = 0, j = 0;
    while (i < ba.size() || j < bb.size()) {
      if (j == bb.size() || (i < ba.size() && ba[i].first < bb[j].first)) {
        diff.emplace_back(ba[i].first, zigzag(change(static_cast<std::int64_t>(ba[i].second), 0)));
        ++i;
      } else if (i == ba.size() || bb[j].first < ba[i].first) {
        diff.emplace_back(bb[j].first, zigzag(static_cast<std::int64_t>(bb[j].second)));
        ++j;
      } else {
        if (ba[i].second != bb[j].second)
          diff.emplace_back(bb[j].first, zigzag(change(static_cast<std::int64_t>(ba[i].second),
                                                       static_cast<std::int64_t>(bb[j].second))));
        ++i;
        ++j;
      }
    }
  }
  std::uint64_t xs[3] = {bits(*fa.sum) ^ bits(*fb.sum), bits(*fa.min) ^ bits(*fb.min), bits(*fa.max) ^ bits(*fb.max)};
  auto r = *fb.rejected - *fa.rejected;
  std::uint64_t flags = diff.empty() ? 0 : 1;
  for (unsigned k = 0; k < 3; ++k)
    if (xs[k] != 0)
      flags |= (std::uint64_t{2} << k) | (std::uint64_t{zero_bytes(xs[k])} << (5 + 3 * k));
  if (r != 0)
    flags |= 16;
  if (flags == 0)
    return false;
  put(out, flags);
  if (!diff.empty()) {
    put(out, diff.size());
    std::uint32_t next = 0;
    for (auto& [index, dz] : diff) {
      put(out, index - next);
      put(out, dz);
      next = index + 1;
    }
  }
  for (unsigned k = 0; k < 3; ++k)
    if (xs[k] != 0)
      put(out, xs[k] >> (8 * zero_bytes(xs[k])));
  if (r != 0)
    put(out, r);
  return true;
}

// -- the encoder's walk ---------------------------------------------------------------

std::uint32_t take_id(std::uint32_t& next, std::vector<std::uint32_t>& free) {
  if (free.empty())
    return next++;
  auto id = free.back();
  free.pop_back();
  return id;
}

// A section: entries counted while written, emitted as count + entries.
struct section {
  std::size_t n = 0;
  bytes body;
  void emit(bytes& out) const {
    put(out, n);
    out.insert(out.end(), body.begin(), body.end());
  }
};

struct change_ref {
  std::uint32_t id;
  std::uint32_t offset, length; // in the scratch buffer
};

struct walk_context {
  encoder::state& next;
  section removed, described;
  bytes scratch;
  std::vector<change_ref> changes;
};

template <class Sample>
void describe(section& out, std::uint32_t id, metric_kind kind, const Sample& s) {
  ++out.n;
  put(out.body, id);
  out.body.push_back(static_cast<std::uint8_t>(kind));
  put_str(out.body, s.name());
  put(out.body, s.labels().size());
  for (auto& [k, v] : s.labels()) {
    put_str(out.body, k);
    put_str(out.body, v);
  }
}

template <class Sample>
void record_change(walk_context& cx, std::uint32_t id, const Sample& before, const Sample& after) {
  auto offset = cx.scratch.size();
  if (put_change(cx.scratch, before, after))
    cx.changes.push_back({id, static_cast<std::uint32_t>(offset), static_cast<std::uint32_t>(cx.scratch.size() - offset)});
}

// Merge-walks the base's samples of one kind and the new ones (both sorted).
template <class Sample>
void walk(walk_context& cx, const std::vector<Sample>* base, const std::vector<std::uint32_t>* base_ids,
          const std::vector<Sample>& now, std::vector<std::uint32_t>& ids, metric_kind kind) {
  static const Sample zero{};
  static const std::vector<Sample> none;
  static const std::vector<std::uint32_t> no_ids;
  auto& b = base ? *base : none;
  auto& bid = base_ids ? *base_ids : no_ids;
  ids.clear();
  ids.reserve(now.size());
  std::size_t i = 0;
  for (auto& s : now) {
    while (i < b.size() && b[i].series < s.series) { // gone
      ++cx.removed.n;
      put(cx.removed.body, bid[i]);
      cx.next.free_series.push_back(bid[i]);
      ++i;
    }
    if (i < b.size() && b[i].series == s.series) {
      ids.push_back(bid[i]);
      record_change(cx, bid[i], b[i], s);
      ++i;
      continue;
    }
    auto id = take_id(cx.next.next_series, cx.next.free_series);
    ids.push_back(id);
    describe(cx.described, id, kind, s);
    record_change(cx, id, zero, s);
  }
  for (; i < b.size(); ++i) {
    ++cx.removed.n;
    put(cx.removed.body, bid[i]);
    cx.next.free_series.push_back(bid[i]);
  }
}

// -- reading -------------------------------------------------------------------------

struct reader {
  const std::uint8_t* p;
  const std::uint8_t* end;
  error err = error::none;

  bool fail(error e) {
    if (err == error::none)
      err = e;
    p = end;
    return false;
  }
  bool ok() const { return err == error::none; }

  std::uint8_t byte() {
    if (p == end)
      return fail(error::truncated), 0;
    return *p++;
  }

  // LEB128, at most 10 bytes, no bits beyond 64.
  std::uint64_t var() {
    std::uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      if (p == end)
        return fail(error::truncated), 0;
      std::uint8_t b = *p++;
      if (shift == 63 && b > 1)
        return fail(error::bad_change), 0;
      x |= std::uint64_t{b & 0x7Fu} << shift;
      if ((b & 0x80) == 0)
        return x;
    }
    return fail(error::bad_change), 0;
  }

  // A count or length, refused above `max`.
  std::size_t count(std::size_t max) {
    auto v = var();
    if (v > max)
      return fail(error::limit), 0;
    return static_cast<std::size_t>(v);
  }

  std::string_view str(std::size_t max) {
    auto n = count(max);
    if (n > static_cast<std::size_t>(end - p))
      return fail(error::truncated), std::string_view{};
    std::string_view s{reinterpret_cast<const char*>(p), n};
    p += n;
    return s;
  }
};

// Sorts samples (and their parallel ids) by series; false if two are equal.
template <class T, class Less>
bool sort_parallel(std::vector<T>& v, std::vector<std::uint32_t>& ids, Less less) {
  if (std::is_sorted(v.begin(), v.end(), less)) {
    for (std::size_t i = 1; i < v.size(); ++i)
      if (!less(v[i - 1], v[i]))
        return false;
    return true;
  }
  std::vector<std::uint32_t> perm(v.size());
  std::iota(perm.begin(), perm.end(), 0u);
  std::sort(perm.begin(), perm.end(), [&](auto a, auto b) { return less(v[a], v[b]); });
  std::vector<T> sorted;
  std::vector<std::uint32_t> sorted_ids;
  sorted.reserve(v.size());
  sorted_ids.reserve(v.size());
  for (auto k : perm) {
    if (!sorted.empty() && !less(sorted.back(), v[k]))
      return false;
    sorted.push_back(std::move(v[k]));
    sorted_ids.push_back(ids[k]);
  }
  v = std::move(sorted);
  ids = std::move(sorted_ids);
  return true;
}

// Keeps the entries whose id `keep` says.
template <class T, class Keep>
void compact(std::vector<T>& v, std::vector<std::uint32_t>& ids, Keep keep) {
  std::size_t w = 0;
  for (std::size_t r = 0; r < v.size(); ++r)
    if (keep(ids[r])) {
      if (w != r) {
        v[w] = std::move(v[r]);
        ids[w] = ids[r];
      }
      ++w;
    }
  v.resize(w);
  ids.resize(w);
}

template <class F>
void for_each_kind(snapshot& s, F f) {
  f(s.counters, metric_kind::counter);
  f(s.updowns, metric_kind::updown_counter);
  f(s.gauges, metric_kind::gauge);
  f(s.histograms, metric_kind::histogram);
}

} // namespace

// -- encoder -------------------------------------------------------------------------

bytes encoder::encode(snapshot_ptr s) {
  if (!s)
    s = std::make_shared<const snapshot>();
  const state* b = base_ ? &*base_ : nullptr;
  state n;
  n.seq = ++seq_;
  n.snap = s;
  if (b) {
    n.next_family = b->next_family;
    n.next_series = b->next_series;
    n.free_families = b->free_families;
    n.free_series = b->free_series;
  }
  const snapshot* bs = b ? b->snap.get() : nullptr;

  bytes out;
  out.push_back(magic);
  out.push_back(version);
  out.push_back(b ? 0 : 1);
  put(out, n.seq);
  put(out, b ? b->seq : 0);
  put(out, zigzag(change(bs ? bs->wall_ns : 0, s->wall_ns)));
  put(out, zigzag(change(bs ? bs->mono_ns : 0, s->mono_ns)));

  // Families, by name: same name and contents keep their id; otherwise gone / new.
  section fam_removed, fam_described;
  {
    static const std::vector<family_ref> none;
    auto& bf = bs ? bs->families : none;
    auto gone = [&](std::size_t i) {
      ++fam_removed.n;
      put(fam_removed.body, b->family_ids[i]);
      n.free_families.push_back(b->family_ids[i]);
    };
    std::size_t i = 0;
    n.family_ids.reserve(s->families.size());
    for (auto& f : s->families) {
      while (i < bf.size() && bf[i]->name < f->name)
        gone(i++);
      if (i < bf.size() && bf[i] == f) {
        n.family_ids.push_back(b->family_ids[i++]);
        continue;
      }
      if (i < bf.size() && bf[i]->name == f->name) // same name, other kind or help
        gone(i++);
      auto id = take_id(n.next_family, n.free_families);
      n.family_ids.push_back(id);
      ++fam_described.n;
      put(fam_described.body, id);
      fam_described.body.push_back(static_cast<std::uint8_t>(f->kind));
      put_str(fam_described.body, f->name);
      put_str(fam_described.body, f->help);
    }
    while (i < bf.size())
      gone(i++);
  }

  walk_context cx{n, {}, {}, {}, {}};
  walk(cx, bs ? &bs->counters : nullptr, b ? &b->ids[0] : nullptr, s->counters, n.ids[0], metric_kind::counter);
  walk(cx, bs ? &bs->updowns : nullptr, b ? &b->ids[1] : nullptr, s->updowns, n.ids[1], metric_kind::updown_counter);
  walk(cx, bs ? &bs->gauges : nullptr, b ? &b->ids[2] : nullptr, s->gauges, n.ids[2], metric_kind::gauge);
  walk(cx, bs ? &bs->histograms : nullptr, b ? &b->ids[3] : nullptr, s->histograms, n.ids[3], metric_kind::histogram);

  fam_removed.emit(out);
  fam_described.emit(out);
  cx.removed.emit(out);
  cx.described.emit(out);
  std::sort(cx.changes.begin(), cx.changes.end(), [](auto& x, auto& y) { return x.id < y.id; });
  put(out, cx.changes.size());
  std::uint32_t next = 0;
  for (auto& c : cx.changes) {
    put(out, c.id - next);
    next = c.id + 1;
    out.insert(out.end(), cx.scratch.begin() + c.offset, cx.scratch.begin() + c.offset + c.length);
  }
  flight_ = std::move(n);
  return out;
}

void encoder::acknowledged(std::uint64_t held) {
  if (flight_ && held == flight_->seq)
    base_ = std::move(flight_);
  else
    base_.reset();
  flight_.reset();
}

void encoder::reset() {
  base_.reset();
  flight_.reset();
}

// -- decoder -------------------------------------------------------------------------

void decoder::reset() {
  held_ = 0;
  cur_ = snapshot{};
  family_ids_.clear();
  for (auto& v : ids_)
    v.clear();
  families_.clear();
  series_.clear();
  live_series_ = live_families_ = identity_bytes_ = buckets_ = 0;
}

snapshot_ptr decoder::apply(std::span<const std::uint8_t> frame, error* why) {
  auto e = apply_body(frame);
  if (why)
    *why = e;
  if (e != error::none) {
    reset();
    return nullptr;
  }
  return std::make_shared<const snapshot>(cur_);
}

bool decoder::release(std::vector<slot>& slots, std::uint64_t id, std::size_t& live) {
  if (id >= slots.size() || !slots[id].live)
    return false;
  slots[id].live = false;
  identity_bytes_ -= slots[id].bytes;
  --live;
  return true;
}

error decoder::claim(std::vector<slot>& slots, std::uint64_t id, std::size_t max, std::size_t& live,
                     std::uint8_t kind, std::size_t cost) {
  if (id >= max || live >= max || identity_bytes_ + cost > lim_.max_identity_bytes)
    return error::limit;
  if (id < slots.size() && slots[id].live)
    return error::bad_id;
  if (id >= slots.size())
    slots.resize(id + 1);
  slots[id] = {true, static_cast<metric_kind>(kind), 0, cost};
  identity_bytes_ += cost;
  ++live;
  return error::none;
}

error decoder::apply_body(std::span<const std::uint8_t> frame) {
  if (frame.size() > lim_.max_frame_bytes)
    return error::limit;
  reader in{frame.data(), frame.data() + frame.size()};
  if (in.byte() != magic || in.byte() != version)
    return in.ok() ? error::bad_header : in.err;
  auto flags = in.byte();
  auto seq = in.var();
  auto base = in.var();
  if (!in.ok())
    return in.err;
  bool full = flags == 1;
  if ((flags & ~1u) != 0 || seq == 0 || (full && base != 0))
    return error::bad_header;
  if (full)
    reset();
  else if (held_ == 0 || base != held_)
    return error::base;
  // Modulo 2^64, as encoded.
  cur_.wall_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(cur_.wall_ns)
                                           + static_cast<std::uint64_t>(unzigzag(in.var())));
  cur_.mono_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(cur_.mono_ns)
                                           + static_cast<std::uint64_t>(unzigzag(in.var())));

  // Families removed, then described.
  auto n = in.count(lim_.max_families);
  bool families_changed = n > 0;
  for (std::size_t k = 0; k < n && in.ok(); ++k)
    if (!release(families_, in.var(), live_families_))
      return in.ok() ? error::bad_id : in.err;
  if (!in.ok())
    return in.err;
  if (families_changed)
    compact(cur_.families, family_ids_, [&](std::uint32_t id) { return families_[id].live; });
  n = in.count(lim_.max_families);
  families_changed = families_changed || n > 0;
  for (std::size_t k = 0; k < n && in.ok(); ++k) {
    auto id = in.var();
    auto kind = in.byte();
    auto name = in.str(lim_.max_name_bytes);
    auto help = in.str(lim_.max_help_bytes);
    if (!in.ok())
      return in.err;
    if (kind >= kinds || !valid_metric_name(name) || !valid_utf8(help))
      return error::bad_identity;
    if (auto e = claim(families_, id, lim_.max_families, live_families_, kind, name.size() + help.size());
        e != error::none)
      return e;
    cur_.families.push_back(family_ref::make(std::string{name}, static_cast<metric_kind>(kind), std::string{help}));
    family_ids_.push_back(static_cast<std::uint32_t>(id));
  }
  if (!in.ok())
    return in.err;
  if (families_changed
      && !sort_parallel(cur_.families, family_ids_, [](auto& a, auto& b) { return a->name < b->name; }))
    return error::duplicate;

  // Series removed, then described.
  bool touched[kinds] = {};
  n = in.count(lim_.max_series);
  for (std::size_t k = 0; k < n && in.ok(); ++k) {
    auto id = in.var();
    if (!release(series_, id, live_series_))
      return in.ok() ? error::bad_id : in.err;
    auto& sl = series_[id];
    if (sl.kind == metric_kind::histogram)
      buckets_ -= cur_.histograms[sl.index].data.buckets().size();
    touched[static_cast<std::size_t>(sl.kind)] = true;
  }
  if (!in.ok())
    return in.err;
  auto live = [&](std::uint32_t id) { return series_[id].live; };
  for_each_kind(cur_, [&](auto& v, metric_kind k) {
    if (touched[static_cast<std::size_t>(k)])
      compact(v, ids_[static_cast<std::size_t>(k)], live);
  });
  n = in.count(lim_.max_series);
  for (std::size_t k = 0; k < n && in.ok(); ++k) {
    auto id = in.var();
    auto kind = in.byte();
    auto name = in.str(lim_.max_name_bytes);
    auto nl = in.count(lim_.max_labels);
    if (!in.ok())
      return in.err;
    if (kind >= kinds || !valid_metric_name(name))
      return error::bad_identity;
    std::size_t cost = name.size();
    labels ls;
    ls.reserve(nl);
    for (std::size_t j = 0; j < nl; ++j) {
      auto key = in.str(lim_.max_name_bytes);
      auto value = in.str(lim_.max_label_value_bytes);
      if (!in.ok())
        return in.err;
      if (!valid_label_key(key) || !valid_utf8(value) || (!ls.empty() && !(ls.back().first < key)))
        return error::bad_identity;
      cost += key.size() + value.size();
      ls.emplace_back(std::string{key}, std::string{value});
    }
    if (auto e = claim(series_, id, lim_.max_series, live_series_, kind, cost); e != error::none)
      return e;
    auto ref = series_ref::make(std::string{name}, std::move(ls), static_cast<metric_kind>(kind));
    touched[kind] = true;
    ids_[kind].push_back(static_cast<std::uint32_t>(id));
    auto append = [&ref](auto& v) {
      v.emplace_back();
      v.back().series = std::move(ref); // every value zero
    };
    switch (static_cast<metric_kind>(kind)) {
      case metric_kind::counter:
        append(cur_.counters);
        break;
      case metric_kind::updown_counter:
        append(cur_.updowns);
        break;
      case metric_kind::gauge:
        append(cur_.gauges);
        break;
      case metric_kind::histogram:
        append(cur_.histograms);
        break;
    }
  }
  if (!in.ok())
    return in.err;
  bool unique = true;
  for_each_kind(cur_, [&](auto& v, metric_kind k) {
    auto ki = static_cast<std::size_t>(k);
    if (!touched[ki])
      return;
    unique = unique && sort_parallel(v, ids_[ki], [](auto& a, auto& b) { return a.series < b.series; });
    for (std::size_t i = 0; i < ids_[ki].size(); ++i)
      series_[ids_[ki][i]].index = static_cast<std::uint32_t>(i);
  });
  if (!unique)
    return error::duplicate;

  // Changes, ids ascending.
  n = in.count(lim_.max_series);
  std::uint64_t next = 0;
  std::vector<histogram_snapshot::bucket> merged;
  for (std::size_t k = 0; k < n && in.ok(); ++k) {
    auto gap = in.var();
    if (!in.ok())
      return in.err;
    if (gap >= series_.size() || next + gap >= series_.size() || !series_[next + gap].live)
      return error::bad_id;
    auto& sl = series_[next + gap];
    next += gap + 1;
    switch (sl.kind) {
      case metric_kind::counter:
        cur_.counters[sl.index].total += in.var(); // modulo 2^64
        break;
      case metric_kind::updown_counter: {
        auto& t = cur_.updowns[sl.index].total;
        t = static_cast<std::int64_t>(static_cast<std::uint64_t>(t) + static_cast<std::uint64_t>(unzigzag(in.var())));
        break;
      }
      case metric_kind::gauge: {
        auto& g = cur_.gauges[sl.index];
        auto mask = in.byte();
        if ((mask & ~0x1Fu) != 0)
          return in.ok() ? error::bad_change : in.err;
        if (mask & 1)
          g.current = std::bit_cast<double>(bits(g.current) ^ (in.var() << (8 * ((mask >> 2) & 7))));
        if (mask & 2)
          g.rejected += in.var();
        break;
      }
      case metric_kind::histogram: {
        auto f = fields_of(cur_.histograms[sl.index].data);
        auto fl = in.var();
        if ((fl >> 14) != 0)
          return in.ok() ? error::bad_change : in.err;
        if (fl & 1) {
          auto& old = *f.buckets;
          auto nb = in.count(bucket_count);
          merged.clear();
          std::size_t i = 0;
          std::uint64_t at = 0;
          for (std::size_t j = 0; j < nb && in.ok(); ++j) {
            auto g = in.var();
            auto dz = unzigzag(in.var());
            if (!in.ok())
              return in.err;
            if (g >= bucket_count || at + g >= bucket_count)
              return error::bad_change;
            auto index = static_cast<std::uint32_t>(at + g);
            at = index + std::uint64_t{1};
            while (i < old.size() && old[i].first < index)
              merged.push_back(old[i++]);
            std::uint64_t c = static_cast<std::uint64_t>(dz);
            if (i < old.size() && old[i].first == index)
              c += old[i++].second; // modulo 2^64
            if (c != 0)
              merged.emplace_back(index, c);
          }
          if (!in.ok())
            return in.err;
          merged.insert(merged.end(), old.begin() + static_cast<std::ptrdiff_t>(i), old.end());
          buckets_ = buckets_ - old.size() + merged.size();
          if (buckets_ > lim_.max_buckets)
            return error::limit;
          old.swap(merged);
          std::uint64_t total = 0;
          for (auto& bk : old)
            total += bk.second; // modulo 2^64
          *f.count = total;
        }
        double* xs[3] = {f.sum, f.min, f.max};
        for (unsigned j = 0; j < 3; ++j)
          if (fl & (2u << j))
            *xs[j] = std::bit_cast<double>(bits(*xs[j]) ^ (in.var() << (8 * ((fl >> (5 + 3 * j)) & 7))));
        if (fl & 16)
          *f.rejected += in.var();
        break;
      }
    }
  }
  if (!in.ok())
    return in.err;
  if (in.p != in.end)
    return error::trailing;
  held_ = seq;
  return error::none;
}

} // namespace metron::remote::wire
