// SPDX-License-Identifier: Apache-2.0
// Statistics, in the style of gem5 stats groups: every
// component owns a StatGroup, registers its stats once at construction and keeps
// the returned references; recording is then a plain integer add or a bucket
// increment, never a lookup by name (a histogram allocates a bucket page the
// first time a sample falls in a new power-of-two range, at most 74 times).
//
// Names are hierarchical: group paths joined by '.', e.g. "system.vtd0.iotlb.hits".
// Output (JSON, CSV, gem5-like text) is a flat list in a deterministic order:
// a group's own stats in registration order, then its child groups, depth-first,
// in registration order. Histograms and averages expand into sub-stats (see
// collect_stats). Non-finite values (a 0/0 formula) are written as JSON null, an
// empty CSV field and "nan"/"inf" in the text format.
//
// An empty average or histogram has no mean, min, max or percentile: they are
// written as undefined (JSON null), not as 0, so that "nothing measured" cannot
// be read as "took no time". Counts are integers, in the JSON too.
//
// Aliases (a second, architected name for a counter, such as the uncore event
// TLB_MISS for iotlb.misses) are not written as values, so that a glob over a
// group does not count the same thing twice; the metadata (write_stats_meta)
// lists them with their targets.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <iosfwd>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_set>
#include <vector>

namespace iommusim {

class StatGroup;

// Name, description and unit shared by all stat kinds.
class StatInfo {
public:
  StatInfo(std::string name, std::string desc, std::string unit = "")
      : name_(std::move(name)), desc_(std::move(desc)), unit_(std::move(unit)) {}
  const std::string& name() const { return name_; }
  const std::string& desc() const { return desc_; }
  const std::string& unit() const { return unit_; }

private:
  std::string name_, desc_, unit_;
};

class Counter : public StatInfo {
public:
  using StatInfo::StatInfo;
  void operator++() { ++value_; }
  void operator++(int) { ++value_; }
  Counter& operator+=(uint64_t n) { value_ += n; return *this; }
  void set(uint64_t v) { value_ = v; }
  uint64_t value() const { return derive_ ? derive_(derive_ctx_) : value_; }
  void reset() { value_ = 0; }

  // Makes this a derived counter: value() is then f(ctx), computed when read,
  // from stats that are recorded anyway (hits = lookups - misses), so a hot
  // path records one stat fewer. Nothing records into a derived counter.
  using DeriveFn = uint64_t (*)(const void* ctx);
  void derive(DeriveFn f, const void* ctx) {
    derive_ = f;
    derive_ctx_ = ctx;
  }

private:
  uint64_t value_ = 0;
  DeriveFn derive_ = nullptr;
  const void* derive_ctx_ = nullptr;
};

// Running mean of samples.
class Average : public StatInfo {
public:
  using StatInfo::StatInfo;
  void sample(double v) { sum_ += v; ++count_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  void reset() { sum_ = 0.0; count_ = 0; }

private:
  double sum_ = 0.0;
  uint64_t count_ = 0;
};

// Log-linear (HDR-style) histogram over non-negative doubles. Each power-of-two
// range [2^e, 2^(e+1)) for e in [kMinExp, kMaxExp] is split into kSubBuckets
// linear sub-buckets (bucket width <= 1/32 = 3.1% of the value); one bucket holds
// [0, 2^kMinExp) and one holds everything >= 2^(kMaxExp+1). count, sum, min and
// max are exact; percentiles interpolate linearly inside a bucket and are clamped
// to [min, max], so percentile(0) == min() and percentile(100) == max().
// Negative samples are bucketed as 0 (but min/sum stay exact); NaN samples are
// ignored. The buckets are kept in pages of kPageBuckets (one power-of-two
// range each), allocated the first time a sample falls in them: a latency
// histogram touches a few ranges, so thousands of endpoints' histograms cost a
// few KiB each instead of 18 KiB. sample() allocates at most kPages times in a
// histogram's life, and never once its ranges are warm.
class Histogram : public StatInfo {
public:
  static constexpr int kSubBucketBits = 5;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;
  static constexpr int kMinExp = -10;  // values below 2^-10 (~0.001) share bucket 0
  static constexpr int kMaxExp = 62;   // values >= 2^63 share the last bucket
  static constexpr size_t kNumBuckets = 2 + static_cast<size_t>(kMaxExp - kMinExp + 1) * kSubBuckets;
  static constexpr double kMinValue = 1.0 / (1 << -kMinExp);  // 2^kMinExp
  static constexpr size_t kPageBuckets = kSubBuckets;
  static constexpr size_t kPages = (kNumBuckets + kPageBuckets - 1) / kPageBuckets;

  using StatInfo::StatInfo;
  // Inline: it sits on every model's hot path.
  [[gnu::always_inline]] inline void sample(double v) {
    if (v != v) return;  // NaN
    ++bucket(bucket_index(v));
    min_ = std::min(min_, v);  // min_/max_ start at +inf/-inf: the first sample sets both
    max_ = std::max(max_, v);
    ++count_;
    sum_ += v;
  }
  // sample(v) for a caller that computed idx == bucket_index(v) already (and
  // knows v is not NaN): the same update, without the bucket arithmetic.
  [[gnu::always_inline]] inline void sample_in_bucket(double v, size_t idx) {
    ++bucket(idx);
    min_ = std::min(min_, v);
    max_ = std::max(max_, v);
    ++count_;
    sum_ += v;
  }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  double min() const { return count_ ? min_ : 0.0; }
  double max() const { return count_ ? max_ : 0.0; }
  double percentile(double p /*0..100*/) const;
  void reset();

  // Bucket internals, exposed for tests and custom reports.
  static size_t bucket_index(double v) {
    if (!(v >= kMinValue)) return 0;  // also negative values and NaN
    // v is a normal double (or +inf): read its exponent and top mantissa bits.
    uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    const int e = static_cast<int>((bits >> 52) & 0x7ff) - 1023;  // v in [2^e, 2^(e+1))
    if (e > kMaxExp) return kNumBuckets - 1;
    const size_t sub = static_cast<size_t>(bits >> (52 - kSubBucketBits)) & (kSubBuckets - 1);
    return 1 + static_cast<size_t>(e - kMinExp) * kSubBuckets + sub;
  }
  static double bucket_lower(size_t idx);  // inclusive lower bound
  static double bucket_upper(size_t idx);  // exclusive upper bound (inf for the last)
  uint64_t bucket_count(size_t idx) const {
    const Page* page = pages_[idx / kPageBuckets].get();
    return page ? (*page)[idx % kPageBuckets] : 0;
  }

private:
  using Page = std::array<uint64_t, kPageBuckets>;
  [[gnu::always_inline]] inline uint64_t& bucket(size_t idx) {
    std::unique_ptr<Page>& page = pages_[idx / kPageBuckets];
    if (__builtin_expect(!page, 0)) page = std::make_unique<Page>();
    return (*page)[idx % kPageBuckets];
  }

  std::array<std::unique_ptr<Page>, kPages> pages_{};
  uint64_t count_ = 0;
  double sum_ = 0.0;
  double min_ = std::numeric_limits<double>::infinity();   // read only while count_ > 0
  double max_ = -std::numeric_limits<double>::infinity();
};

// A value computed at output time from other stats (hit rates, bandwidths).
class Formula : public StatInfo {
public:
  Formula(std::string name, std::string desc, std::function<double()> f, std::string unit)
      : StatInfo(std::move(name), std::move(desc), std::move(unit)), f_(std::move(f)) {}
  double value() const { return f_ ? f_() : 0.0; }

private:
  std::function<double()> f_;
};

class StatGroup {
public:
  // Registers with parent (parent must outlive child; the child unregisters
  // itself in its destructor). An empty name is allowed for a root group only,
  // and then adds no prefix to the names below it. A child name already used by
  // another child of the same parent => std::invalid_argument.
  explicit StatGroup(std::string name, StatGroup* parent = nullptr);
  ~StatGroup();
  StatGroup(const StatGroup&) = delete;
  StatGroup& operator=(const StatGroup&) = delete;

  const std::string& name() const { return name_; }
  std::string path() const;  // "system.vtd0.iotlb"
  StatGroup* parent() const { return parent_; }

  // Registration (construction time). A stat name used twice in one group =>
  // std::invalid_argument naming the full path. References stay valid for the
  // group's lifetime.
  Counter& counter(const std::string& name, const std::string& desc, const std::string& unit = "count");
  Average& average(const std::string& name, const std::string& desc, const std::string& unit = "");
  Histogram& histogram(const std::string& name, const std::string& desc, const std::string& unit = "ns");
  void formula(const std::string& name, const std::string& desc, std::function<double()> f,
               const std::string& unit = "");
  // hits / lookups, as a formula: undefined (null) while `lookups` is 0.
  // Both counters must outlive this group.
  void hit_rate(const std::string& name, const std::string& desc, const Counter& hits, const Counter& lookups);
  // A count read from the model when written (entries held, pages allocated):
  // an integer like any counter, computed by `f` instead of recorded.
  Counter& gauge(const std::string& name, const std::string& desc, std::function<uint64_t()> f,
                 const std::string& unit = "count");
  // Another name for a counter of this group (an uncore event name such as
  // TLB_MISS for iotlb.misses). Not written as a value of its own: the
  // metadata names it with its target. A target of another group =>
  // std::invalid_argument.
  void alias(const std::string& name, const std::string& desc, const Counter& target);
  struct Alias {
    std::string name, desc, target;  // target: the counter's name in this group
  };
  const std::vector<Alias>& aliases() const { return aliases_; }
  // Owned child group (created once; the same name returns the same one).
  StatGroup& subgroup(const std::string& name);

  void reset_all();  // this group and all child groups

  // Visiting, for output writers.
  enum class Kind { Counter, Average, Histogram, Formula };
  struct Entry {
    Kind kind;
    const void* stat;  // Counter*, Average*, Histogram* or Formula* according to kind
  };
  const std::vector<Entry>& entries() const { return entries_; }
  const std::vector<StatGroup*>& children() const { return children_; }

private:
  void claim_name(const std::string& name);
  void add_child(StatGroup* child);
  void remove_child(StatGroup* child);

  std::string name_;
  StatGroup* parent_;
  // Each stat on the heap of its own, so references stay valid while more are
  // registered; no container that allocates while empty (a std::deque does),
  // since thousands of endpoints each own several groups.
  std::vector<std::unique_ptr<Counter>> counters_;
  std::vector<std::unique_ptr<Average>> averages_;
  std::vector<std::unique_ptr<Histogram>> histograms_;
  std::vector<std::unique_ptr<Formula>> formulas_;
  std::vector<std::unique_ptr<std::function<uint64_t()>>> gauge_fns_;
  std::vector<Alias> aliases_;
  std::vector<Entry> entries_;  // registration order
  std::unordered_set<std::string> names_;
  std::vector<StatGroup*> children_;  // registration order (owned and external)
  std::unordered_set<std::string> child_names_;
  std::vector<std::unique_ptr<StatGroup>> owned_;
};

// One value of the flat list. Its description and unit are views of the
// stat's own texts (StatInfo), not copies: copying them for a large system's
// tens of thousands of values was most of collect_stats' time. So a StatValue
// is valid only while the StatGroup it was collected from lives.
struct StatValue {
  std::string name;  // full hierarchical name
  double value;      // NaN: undefined (an empty histogram's mean, a 0/0 formula)
  bool is_integer;   // then int_value holds the exact value
  std::string_view desc;         // the stat's description ...
  std::string_view desc_suffix;  // ... and what follows it for a sub-stat (": mean"), or ""
  std::string_view unit;
  uint64_t int_value = 0;
  const char* kind = "counter";  // the stat it comes from: counter, average, histogram, formula
  // The whole description: desc followed by desc_suffix.
  std::string description() const;
};

// Flat list of all stats under root (valid while root lives). Expansion:
//   counter   -> <name> (integer; gauges too)
//   average   -> <name> (mean; NaN without samples), <name>.count
//   histogram -> <name>.count, .mean, .min, .max, .p50, .p90, .p99, .p999 (NaN but .count when empty)
//   formula   -> <name> (may be NaN/inf)
std::vector<StatValue> collect_stats(const StatGroup& root);

// Written before the statistics (provenance.h makes them): "key": "text", or
// "key": number when is_number.
struct StatsHeaderField {
  std::string key;
  std::string text;
  bool is_number = false;
};
using StatsHeader = std::vector<StatsHeaderField>;

// One flat JSON object {"system.vtd0.iotlb.hits": 123, ...}: integers as
// integers, doubles in shortest round-trip form, non-finite as null, keys in
// collect_stats order. Byte-identical for identical stat values. A non-empty
// header comes first, as one object under the key "provenance" (the one key
// that is not a statistic).
void write_stats_json(const StatGroup& root, std::ostream& os, const StatsHeader& header = {});
// What a machine needs to read stats.json: for every name its kind, unit,
// description and type (integer or real), and every alias with its target
// (docs/statistics.md, "stats.meta.json").
void write_stats_meta(const StatGroup& root, std::ostream& os);
// Header "name,value,unit,description"; RFC 4180 quoting; non-finite => empty value.
void write_stats_csv(const StatGroup& root, std::ostream& os);
// gem5-like stats.txt between Begin/End Simulation Statistics lines; a header
// goes before them as "# key: text" lines.
void write_stats_txt(const StatGroup& root, std::ostream& os, const StatsHeader& header = {});
// Format by extension (.json, .csv, .txt; case-insensitive). Returns "" on success
// or an error message naming the path; never throws for I/O. A .json file gets
// its metadata beside it: stats.json -> stats.meta.json.
std::string write_stats_file(const StatGroup& root, const std::string& path, const StatsHeader& header = {});
// The metadata path of a JSON stats file: "<dir>/<stem>.meta.json".
std::string stats_meta_path(const std::string& json_path);
// The same writers over stats collected once (collect_stats(root)): a run that
// writes several files collects them once, not once per file (with thousands
// of endpoints, collecting was a third of the writers' time).
void write_stats_json(const std::vector<StatValue>& stats, std::ostream& os, const StatsHeader& header = {});
void write_stats_meta(const StatGroup& root, const std::vector<StatValue>& stats, std::ostream& os);
void write_stats_csv(const std::vector<StatValue>& stats, std::ostream& os);
void write_stats_txt(const std::vector<StatValue>& stats, std::ostream& os, const StatsHeader& header = {});
std::string write_stats_file(const StatGroup& root, const std::vector<StatValue>& stats, const std::string& path,
                             const StatsHeader& header = {});
// "" if write_stats_file() knows the format of `path` by its extension, else why not.
std::string stats_format_error(const std::string& path);

}  // namespace iommusim
