// SPDX-License-Identifier: Apache-2.0
#include "common/stats.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <limits>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string_view>

#include <nlohmann/json.hpp>

namespace iommusim {

// ---------------------------------------------------------------- Histogram

double Histogram::bucket_lower(size_t idx) {
  if (idx == 0) return 0.0;
  if (idx >= kNumBuckets - 1) return std::ldexp(1.0, kMaxExp + 1);
  const size_t i = idx - 1;
  const int e = kMinExp + static_cast<int>(i / kSubBuckets);
  const int sub = static_cast<int>(i % kSubBuckets);
  return std::ldexp(1.0 + static_cast<double>(sub) / kSubBuckets, e);
}

double Histogram::bucket_upper(size_t idx) {
  if (idx >= kNumBuckets - 1) return std::numeric_limits<double>::infinity();
  if (idx == 0) return std::ldexp(1.0, kMinExp);
  return bucket_lower(idx + 1);
}

double Histogram::percentile(double p) const {
  if (count_ == 0) return 0.0;
  if (!(p > 0.0)) return min_;
  if (p >= 100.0) return max_;
  // Rank of the wanted sample, 1-based (nearest-rank definition).
  const double rank = std::max(1.0, std::ceil(p / 100.0 * static_cast<double>(count_)));
  uint64_t cum = 0;
  for (size_t i = 0; i < kNumBuckets; ++i) {
    const Page* page = pages_[i / kPageBuckets].get();
    if (!page) {
      i += kPageBuckets - 1 - i % kPageBuckets;  // to the next page
      continue;
    }
    const uint64_t n = (*page)[i % kPageBuckets];
    if (n == 0) continue;
    if (static_cast<double>(cum + n) >= rank) {
      // Interpolate inside the bucket, treating its samples as evenly spread;
      // the bucket's range is narrowed to [min, max] where they overlap it.
      const double lo = std::max(bucket_lower(i), min_);
      const double hi = std::min(bucket_upper(i), max_);
      const double frac = (rank - static_cast<double>(cum) - 0.5) / static_cast<double>(n);
      const double v = (hi > lo) ? lo + (hi - lo) * frac : lo;
      return std::clamp(v, min_, max_);
    }
    cum += n;
  }
  return max_;
}

void Histogram::reset() {
  for (auto& page : pages_)
    if (page) page->fill(0);
  count_ = 0;
  sum_ = 0.0;
  min_ = std::numeric_limits<double>::infinity();
  max_ = -std::numeric_limits<double>::infinity();
}

// ---------------------------------------------------------------- StatGroup

StatGroup::StatGroup(std::string name, StatGroup* parent) : name_(std::move(name)), parent_(parent) {
  if (parent_) {
    if (name_.empty()) throw std::invalid_argument("stats: child group of '" + parent_->path() + "' has an empty name");
    parent_->add_child(this);
  }
}

StatGroup::~StatGroup() {
  // Owned children are destroyed with owned_ and unregister themselves; detach
  // any external child still registered so it does not reach a dead parent.
  for (StatGroup* c : children_) c->parent_ = nullptr;
  children_.clear();
  child_names_.clear();
  owned_.clear();
  if (parent_) parent_->remove_child(this);
}

std::string StatGroup::path() const {
  if (!parent_) return name_;
  std::string p = parent_->path();
  return p.empty() ? name_ : p + "." + name_;
}

void StatGroup::add_child(StatGroup* child) {
  // By a set, not a scan of the children: a platform of thousands of endpoints
  // registers thousands of children under "system".
  if (!child_names_.insert(child->name_).second) {
    const std::string p = path();
    throw std::invalid_argument("stats: duplicate group '" + (p.empty() ? child->name_ : p + "." + child->name_) +
                                "'");
  }
  children_.push_back(child);
}

void StatGroup::remove_child(StatGroup* child) {
  // From the back: children usually go in the reverse order they came.
  const auto it = std::find(children_.rbegin(), children_.rend(), child);
  if (it == children_.rend()) return;
  child_names_.erase(child->name_);
  children_.erase(std::next(it).base());
}

// The group's path only for an error's message: building it for every stat
// registered was a sizeable part of a large system's construction.
void StatGroup::claim_name(const std::string& name) {
  if (name.empty()) throw std::invalid_argument("stats: empty stat name in group '" + path() + "'");
  if (!names_.insert(name).second) {
    const std::string p = path();
    throw std::invalid_argument("stats: duplicate stat '" + (p.empty() ? name : p + "." + name) + "'");
  }
}

Counter& StatGroup::counter(const std::string& name, const std::string& desc, const std::string& unit) {
  claim_name(name);
  Counter& s = *counters_.emplace_back(std::make_unique<Counter>(name, desc, unit));
  entries_.push_back({Kind::Counter, &s});
  return s;
}

Average& StatGroup::average(const std::string& name, const std::string& desc, const std::string& unit) {
  claim_name(name);
  Average& s = *averages_.emplace_back(std::make_unique<Average>(name, desc, unit));
  entries_.push_back({Kind::Average, &s});
  return s;
}

Histogram& StatGroup::histogram(const std::string& name, const std::string& desc, const std::string& unit) {
  claim_name(name);
  Histogram& s = *histograms_.emplace_back(std::make_unique<Histogram>(name, desc, unit));
  entries_.push_back({Kind::Histogram, &s});
  return s;
}

void StatGroup::formula(const std::string& name, const std::string& desc, std::function<double()> f,
                        const std::string& unit) {
  claim_name(name);
  Formula& s = *formulas_.emplace_back(std::make_unique<Formula>(name, desc, std::move(f), unit));
  entries_.push_back({Kind::Formula, &s});
}

void StatGroup::hit_rate(const std::string& name, const std::string& desc, const Counter& hits,
                         const Counter& lookups) {
  formula(name, desc, [&hits, &lookups] {
    const uint64_t n = lookups.value();
    return n ? static_cast<double>(hits.value()) / static_cast<double>(n) : std::numeric_limits<double>::quiet_NaN();
  }, "ratio");
}

Counter& StatGroup::gauge(const std::string& name, const std::string& desc, std::function<uint64_t()> f,
                          const std::string& unit) {
  Counter& c = counter(name, desc, unit);
  const std::function<uint64_t()>& fn =
      *gauge_fns_.emplace_back(std::make_unique<std::function<uint64_t()>>(std::move(f)));
  c.derive([](const void* p) { return (*static_cast<const std::function<uint64_t()>*>(p))(); }, &fn);
  return c;
}

void StatGroup::alias(const std::string& name, const std::string& desc, const Counter& target) {
  const auto own = std::find_if(counters_.begin(), counters_.end(), [&](const auto& c) { return c.get() == &target; });
  if (own == counters_.end())
    throw std::invalid_argument("stats: alias '" + name + "' in '" + path() + "' names a counter of another group");
  claim_name(name);
  aliases_.push_back(Alias{name, desc, target.name()});
}

StatGroup& StatGroup::subgroup(const std::string& name) {
  if (child_names_.count(name))
    for (const auto& g : owned_)
      if (g->name_ == name) return *g;
  // The constructor registers with this group (and rejects a clash with an external child).
  owned_.push_back(std::make_unique<StatGroup>(name, this));
  return *owned_.back();
}

void StatGroup::reset_all() {
  for (auto& s : counters_) s->reset();
  for (auto& s : averages_) s->reset();
  for (auto& s : histograms_) s->reset();
  for (StatGroup* c : children_) c->reset_all();
}

// ---------------------------------------------------------------- collection

namespace {

// "<prefix>.<name><suffix>" ("<name><suffix>" under an empty prefix), built
// in one allocation.
std::string joined_name(std::string_view prefix, std::string_view name, std::string_view suffix = {}) {
  std::string n;
  n.reserve(prefix.size() + 1 + name.size() + suffix.size());
  if (!prefix.empty()) {
    n += prefix;
    n += '.';
  }
  n += name;
  n += suffix;
  return n;
}

// How many values collect() below adds for one entry of each kind, so that
// collect_stats() holds them in one allocation of their size: with thousands
// of endpoints the values are hundreds of thousands, and a vector grown by
// doubling held up to twice that at the outputs' peak memory (issue 12).
size_t values_of(StatGroup::Kind kind) {
  switch (kind) {
    case StatGroup::Kind::Average: return 2;     // the mean and .count
    case StatGroup::Kind::Histogram: return 8;   // .count, .mean, .min, .max and four percentiles
    case StatGroup::Kind::Counter:
    case StatGroup::Kind::Formula: break;
  }
  return 1;
}

size_t count_values(const StatGroup& g) {
  size_t n = 0;
  for (const auto& e : g.entries()) n += values_of(e.kind);
  for (const StatGroup* c : g.children()) n += count_values(*c);
  return n;
}

// The sub-stats of one histogram; undefined (NaN) but the count when empty.
void collect_histogram(const Histogram& s, const std::string& prefix, std::vector<StatValue>& out) {
  constexpr double kUndefined = std::numeric_limits<double>::quiet_NaN();
  const bool any = s.count() != 0;
  out.push_back(StatValue{joined_name(prefix, s.name(), ".count"), static_cast<double>(s.count()), true, s.desc(),
                          ": sample count", "count", s.count(), "histogram"});
  auto add = [&](const char* suffix, double v, const char* what) {
    out.push_back(StatValue{joined_name(prefix, s.name(), suffix), any ? v : kUndefined, false, s.desc(), what,
                            s.unit(), 0, "histogram"});
  };
  add(".mean", s.mean(), ": mean");
  add(".min", s.min(), ": min");
  add(".max", s.max(), ": max");
  add(".p50", s.percentile(50), ": 50th percentile");
  add(".p90", s.percentile(90), ": 90th percentile");
  add(".p99", s.percentile(99), ": 99th percentile");
  add(".p999", s.percentile(99.9), ": 99.9th percentile");
}

void collect(const StatGroup& g, const std::string& prefix, std::vector<StatValue>& out) {
  for (const auto& e : g.entries()) {
    switch (e.kind) {
      case StatGroup::Kind::Counter: {
        const auto& s = *static_cast<const Counter*>(e.stat);
        const uint64_t v = s.value();
        out.push_back(StatValue{joined_name(prefix, s.name()), static_cast<double>(v), true, s.desc(), {}, s.unit(),
                                v, "counter"});
        break;
      }
      case StatGroup::Kind::Average: {
        const auto& s = *static_cast<const Average*>(e.stat);
        const double mean = s.count() ? s.mean() : std::numeric_limits<double>::quiet_NaN();
        out.push_back(StatValue{joined_name(prefix, s.name()), mean, false, s.desc(), {}, s.unit(), 0, "average"});
        out.push_back(StatValue{joined_name(prefix, s.name(), ".count"), static_cast<double>(s.count()), true,
                                s.desc(), ": sample count", "count", s.count(), "average"});
        break;
      }
      case StatGroup::Kind::Histogram:
        collect_histogram(*static_cast<const Histogram*>(e.stat), prefix, out);
        break;
      case StatGroup::Kind::Formula: {
        const auto& s = *static_cast<const Formula*>(e.stat);
        out.push_back(StatValue{joined_name(prefix, s.name()), s.value(), false, s.desc(), {}, s.unit(), 0,
                                "formula"});
        break;
      }
    }
  }
  for (const StatGroup* c : g.children()) collect(*c, joined_name(prefix, c->name()), out);
}

// Shortest representation that round-trips; "nan"/"inf"/"-inf" for non-finite.
std::string format_double(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Whether a text holds a byte a writer must treat specially, tested eight
// bytes at a time (-O2 does not vectorize a byte loop): the word tests of
// "Bit Twiddling Hacks" (S. E. Anderson, graphics.stanford.edu/~seander),
// "determine if a word has a byte less than n / greater than n / equal to n";
// each is exact as a yes/no for the whole word.
constexpr uint64_t kByteOnes = ~0ull / 255, kByteHighs = kByteOnes * 0x80;
constexpr uint64_t byte_below(uint64_t x, unsigned n) { return (x - kByteOnes * n) & ~x & kByteHighs; }  // n <= 128
constexpr uint64_t byte_above(uint64_t x, unsigned n) { return ((x + kByteOnes * (127 - n)) | x) & kByteHighs; }  // n <= 127
constexpr uint64_t byte_equal(uint64_t x, unsigned char b) { return byte_below(x ^ (kByteOnes * b), 1); }

template <typename Test>
bool any_word(std::string_view text, Test test) {
  size_t i = 0;
  for (uint64_t w; i + 8 <= text.size(); i += 8) {
    std::memcpy(&w, text.data() + i, 8);
    if (test(w)) return true;
  }
  if (i == text.size()) return false;
  uint64_t tail = 0;
  std::memcpy(&tail, text.data() + i, text.size() - i);
  // The bytes past the end repeat the tail's first byte, which the same test
  // sees anyway: they add no verdict of their own.
  const uint64_t fill = static_cast<unsigned char>(text[i]);
  for (size_t k = text.size() - i; k < 8; ++k) tail |= fill << (8 * k);
  return test(tail);
}

// JSON: anything but printable ASCII, '"' and '\\' needs nlohmann's escaping.
bool needs_json_escape(std::string_view text) {
  return any_word(text, [](uint64_t w) {
    return byte_below(w, 0x20) | byte_above(w, 0x7e) | byte_equal(w, '"') | byte_equal(w, '\\');
  });
}
// CSV (RFC 4180): a comma, a quote or a line break needs quoting.
bool needs_csv_quotes(std::string_view text) {
  return any_word(text, [](uint64_t w) {
    return byte_equal(w, ',') | byte_equal(w, '"') | byte_equal(w, '\r') | byte_equal(w, '\n');
  });
}

// A stat's value as the CSV and text files write it: an integer's digits (as
// std::to_string writes them), else format_double.
void append_value(std::string& out, const StatValue& s) {
  if (!s.is_integer) {
    out += format_double(s.value);
    return;
  }
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, s.int_value).ptr);
}

// One field, `head` followed by `tail`, quoted as RFC 4180 asks when it holds
// a comma, a quote or a line break (libstdc++'s find_first_of calls memchr
// over the set once per character, several hundred instructions a field).
void append_csv_field(std::string& out, std::string_view head, std::string_view tail = {}) {
  if (!needs_csv_quotes(head) && !needs_csv_quotes(tail)) {
    out += head;
    if (!tail.empty()) out += tail;
    return;
  }
  out += '"';
  for (std::string_view part : {head, tail})
    for (char c : part) {
      if (c == '"') out += '"';
      out += c;
    }
  out += '"';
}

}  // namespace

std::string StatValue::description() const {
  std::string d;
  d.reserve(desc.size() + desc_suffix.size());
  d += desc;
  d += desc_suffix;
  return d;
}

std::vector<StatValue> collect_stats(const StatGroup& root) {
  std::vector<StatValue> out;
  out.reserve(count_values(root));
  collect(root, root.path(), out);
  return out;
}

namespace {

// The JSON files are written member by member, exactly as nlohmann's
// dump(2) of an ordered_json would write them, without building the tree:
// with thousands of endpoints the tree took most of the writer's time and
// memory. nlohmann still writes every scalar (string escapes, the shortest
// round-trip double), so the bytes do not change.
// A finite double as dump() writes it: nlohmann's serializer calls its
// to_chars (Grisu2, the shortest form that round-trips) into a 64-byte
// buffer (detail/output/serializer.hpp, dump_float); called here directly,
// without a json value and a string per number.
void append_json_number(std::string& out, double value) {
  char buf[64];
  out.append(buf, nlohmann::detail::to_chars(buf, buf + sizeof buf, value));
}
// A string with nothing to escape (printable ASCII but '"' and '\\', which is
// what stat names, units and descriptions are) is written as it is; anything
// else goes through nlohmann's escaping and UTF-8 check.
// `head` followed by `tail` as one JSON string.
void append_json(std::string& out, std::string_view head, std::string_view tail = {}) {
  if (needs_json_escape(head) || needs_json_escape(tail)) {
    std::string whole(head);
    whole += tail;
    out += nlohmann::ordered_json(whole).dump();
    return;
  }
  out += '"';
  out += head;
  if (!tail.empty()) out += tail;
  out += '"';
}

// One object of dump(2), its members at `indent` + 2 spaces. A key given
// twice keeps its first place and its last value, as ordered_json's
// operator[] did; the caller passes the members in order, deduplicated by
// last_of_each_key().
class JsonObjectWriter {
public:
  JsonObjectWriter(std::string& out, size_t indent) : out_(out), indent_(indent) {}
  // Starts a member: writes its key; the caller appends its value.
  void key(std::string_view k) {
    out_ += empty_ ? "{\n" : ",\n";
    empty_ = false;
    out_.append(indent_ + 2, ' ');
    append_json(out_, k);
    out_ += ": ";
  }
  void close() {
    if (empty_) {
      out_ += "{}";
      return;
    }
    out_ += '\n';
    out_.append(indent_, ' ');
    out_ += '}';
  }
  size_t member_indent() const { return indent_ + 2; }

private:
  std::string& out_;
  size_t indent_;
  bool empty_ = true;
};

// For keys in order: the index of each distinct key's last occurrence, in the
// order of their first occurrences. An open-addressed table of places in
// `order` (linear probing, at most half full), allocated once: a node-based
// map allocated a node per key, most of this for tens of thousands of stats.
std::vector<size_t> last_of_each_key(const std::vector<std::string_view>& keys) {
  size_t capacity = 16;
  while (capacity < 2 * keys.size()) capacity <<= 1;
  const size_t mask = capacity - 1;
  constexpr size_t kEmpty = ~size_t{0};
  std::vector<size_t> table(capacity, kEmpty);  // a place in `order`, or kEmpty
  std::vector<size_t> order;
  order.reserve(keys.size());
  const std::hash<std::string_view> hash;
  for (size_t i = 0; i < keys.size(); ++i) {
    size_t at = hash(keys[i]) & mask;
    while (table[at] != kEmpty && keys[order[table[at]]] != keys[i]) at = (at + 1) & mask;
    if (table[at] == kEmpty) {
      table[at] = order.size();
      order.push_back(i);
    } else {
      order[table[at]] = i;
    }
  }
  return order;
}

// Hands what is written so far to the stream once it is large, so that the
// text of a large system's stats is never held whole.
void flush_if_large(std::string& out, std::ostream& os) {
  constexpr size_t kFlushBytes = 1 << 16;
  if (out.size() < kFlushBytes) return;
  os << out;
  out.clear();
}

std::vector<std::string_view> names_of(const std::vector<StatValue>& stats) {
  std::vector<std::string_view> names;
  names.reserve(stats.size());
  for (const StatValue& s : stats) names.push_back(s.name);
  return names;
}

void append_provenance(std::string& out, JsonObjectWriter& root, const StatsHeader& header) {
  std::vector<std::string_view> keys;
  for (const StatsHeaderField& f : header) keys.push_back(f.key);
  root.key("provenance");
  JsonObjectWriter h(out, root.member_indent());
  for (size_t i : last_of_each_key(keys)) {
    const StatsHeaderField& f = header[i];
    h.key(f.key);
    if (f.is_number)
      out += nlohmann::ordered_json::parse(f.text).dump();
    else
      append_json(out, f.text);
  }
  h.close();
}

}  // namespace

void write_stats_json(const StatGroup& root, std::ostream& os, const StatsHeader& header) {
  write_stats_json(collect_stats(root), os, header);
}

void write_stats_json(const std::vector<StatValue>& stats, std::ostream& os, const StatsHeader& header) {
  std::string out;
  JsonObjectWriter j(out, 0);
  if (!header.empty()) append_provenance(out, j, header);
  for (size_t i : last_of_each_key(names_of(stats))) {
    const StatValue& s = stats[i];
    j.key(s.name);
    if (s.is_integer)
      append_value(out, s);
    else if (std::isfinite(s.value))
      append_json_number(out, s.value);
    else
      out += "null";
    flush_if_large(out, os);
  }
  j.close();
  os << out << '\n';
}

namespace {

// {"a": "x", "b": "y"} of dump(2) at `indent`, from (key, string value) pairs.
void append_string_object(std::string& out, size_t indent,
                          std::initializer_list<std::pair<std::string_view, std::string_view>> members) {
  JsonObjectWriter o(out, indent);
  for (const auto& m : members) {
    o.key(m.first);
    append_json(out, m.second);
  }
  o.close();
}

struct AliasEntry {
  std::string name, target, desc;
};

void collect_aliases(const StatGroup& g, const std::string& prefix, std::vector<AliasEntry>& out) {
  for (const StatGroup::Alias& a : g.aliases())
    out.push_back(AliasEntry{joined_name(prefix, a.name), joined_name(prefix, a.target), a.desc});
  for (const StatGroup* c : g.children()) collect_aliases(*c, joined_name(prefix, c->name()), out);
}

// One stat's {"kind", "type", "unit", "description"} object of dump(2), at
// indent 4 (a member of "stats"), as append_string_object would write it: the
// keys, the kind and the type are fixed words that need no escaping, so they
// go in as literals (this object is written tens of thousands of times).
void append_stat_meta(std::string& out, const StatValue& s) {
  out += "{\n      \"kind\": \"";
  out += s.kind;
  out += s.is_integer ? "\",\n      \"type\": \"integer\",\n      \"unit\": "
                      : "\",\n      \"type\": \"real\",\n      \"unit\": ";
  append_json(out, s.unit);
  out += ",\n      \"description\": ";
  append_json(out, s.desc, s.desc_suffix);
  out += "\n    }";
}

void append_stats_meta(std::string& out, std::ostream& os, JsonObjectWriter& root, const std::vector<StatValue>& stats) {
  root.key("stats");
  JsonObjectWriter stats_object(out, root.member_indent());
  for (size_t i : last_of_each_key(names_of(stats))) {
    const StatValue& s = stats[i];
    stats_object.key(s.name);
    append_stat_meta(out, s);
    flush_if_large(out, os);
  }
  stats_object.close();
}

void append_aliases_meta(std::string& out, JsonObjectWriter& root, const StatGroup& group) {
  root.key("aliases");
  JsonObjectWriter aliases_object(out, root.member_indent());
  std::vector<AliasEntry> aliases;
  collect_aliases(group, group.path(), aliases);
  std::vector<std::string_view> names;
  for (const AliasEntry& a : aliases) names.push_back(a.name);
  for (size_t i : last_of_each_key(names)) {
    aliases_object.key(aliases[i].name);
    append_string_object(out, aliases_object.member_indent(),
                         {{"target", aliases[i].target}, {"description", aliases[i].desc}});
  }
  aliases_object.close();
}

}  // namespace

void write_stats_meta(const StatGroup& root, std::ostream& os) { write_stats_meta(root, collect_stats(root), os); }

void write_stats_meta(const StatGroup& root, const std::vector<StatValue>& stats, std::ostream& os) {
  std::string out;
  JsonObjectWriter j(out, 0);
  j.key("format");
  append_json(out, "iommusim-stats-meta/1");
  append_stats_meta(out, os, j, stats);
  append_aliases_meta(out, j, root);
  j.close();
  os << out << '\n';
}

// Where `path`'s extension starts (its last '.' after the last '/'), or npos.
static size_t extension_start(const std::string& path) {
  const auto dot = path.find_last_of('.');
  const auto slash = path.find_last_of('/');
  return dot != std::string::npos && (slash == std::string::npos || dot > slash) ? dot : std::string::npos;
}

std::string stats_meta_path(const std::string& json_path) {
  return json_path.substr(0, extension_start(json_path)) + ".meta.json";
}

void write_stats_csv(const StatGroup& root, std::ostream& os) { write_stats_csv(collect_stats(root), os); }

// Built in a string handed to the stream in pieces (flush_if_large): one
// stream call per 64 KiB instead of eight per stat.
void write_stats_csv(const std::vector<StatValue>& stats, std::ostream& os) {
  std::string out = "name,value,unit,description\n";
  for (const auto& s : stats) {
    append_csv_field(out, s.name);
    out += ',';
    if (s.is_integer || std::isfinite(s.value)) append_value(out, s);  // a number never needs quoting
    out += ',';
    append_csv_field(out, s.unit);
    out += ',';
    append_csv_field(out, s.desc, s.desc_suffix);
    out += '\n';
    flush_if_large(out, os);
  }
  os << out;
}

void write_stats_txt(const StatGroup& root, std::ostream& os, const StatsHeader& header) {
  write_stats_txt(collect_stats(root), os, header);
}

void write_stats_txt(const std::vector<StatValue>& stats, std::ostream& os, const StatsHeader& header) {
  size_t width = 40;
  for (const auto& s : stats) width = std::max(width, s.name.size() + 1);
  for (const StatsHeaderField& f : header) os << "# " << f.key << ": " << f.text << "\n";
  std::string out = "\n---------- Begin Simulation Statistics ----------\n";
  for (const auto& s : stats) {
    out += s.name;
    out.append(width - s.name.size(), ' ');
    const size_t value_at = out.size();
    append_value(out, s);
    const size_t value_size = out.size() - value_at;
    if (value_size < 20) out.insert(value_at, 20 - value_size, ' ');  // right-aligned in 20 columns
    out += "   # ";
    out += s.desc;
    if (!s.desc_suffix.empty()) out += s.desc_suffix;
    if (!s.unit.empty()) {
      out += " (";
      out += s.unit;
      out += ')';
    }
    out += '\n';
    flush_if_large(out, os);
  }
  os << out << "\n---------- End Simulation Statistics   ----------\n";
}

namespace {
std::string lowercase_extension(const std::string& path) {
  const auto dot = extension_start(path);
  std::string ext = dot == std::string::npos ? std::string() : path.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// One stats file of format `ext`; "" or the error.
std::string write_one_stats_file(const StatGroup& root, const std::vector<StatValue>& stats, const std::string& path,
                                 const std::string& ext, const StatsHeader& header) {
  std::ofstream f(path, std::ios::out | std::ios::trunc);
  if (!f) return "cannot open stats file '" + path + "' for writing: " + std::strerror(errno);
  try {
    if (ext == ".json")
      write_stats_json(stats, f, header);
    else if (ext == ".meta.json")
      write_stats_meta(root, stats, f);
    else if (ext == ".csv")
      write_stats_csv(stats, f);
    else
      write_stats_txt(stats, f, header);
  } catch (const std::exception& e) {
    return "error writing stats file '" + path + "': " + e.what();
  }
  f.close();
  if (f.fail()) return "error writing stats file '" + path + "'";
  return "";
}

}  // namespace

std::string stats_format_error(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  if (ext == ".json" || ext == ".csv" || ext == ".txt") return "";
  return "stats file '" + path + "': unknown extension '" + ext + "' (expected .json, .csv or .txt)";
}

std::string write_stats_file(const StatGroup& root, const std::string& path, const StatsHeader& header) {
  if (std::string err = stats_format_error(path); !err.empty()) return err;
  return write_stats_file(root, collect_stats(root), path, header);
}

std::string write_stats_file(const StatGroup& root, const std::vector<StatValue>& stats, const std::string& path,
                             const StatsHeader& header) {
  if (std::string err = stats_format_error(path); !err.empty()) return err;
  const std::string ext = lowercase_extension(path);
  if (std::string err = write_one_stats_file(root, stats, path, ext, header); !err.empty()) return err;
  if (ext == ".json") return write_one_stats_file(root, stats, stats_meta_path(path), ".meta.json", header);
  return "";
}

}  // namespace iommusim
