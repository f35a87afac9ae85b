// SPDX-License-Identifier: Apache-2.0
// Transaction trace: optional, off by default, bounded (docs/tracing.md).
// Events are kept in memory and written at the end as Chrome / Perfetto
// trace-event JSON (the "Trace Event Format" document of the Chromium
// project):
//   {"traceEvents":[...], "displayTimeUnit":"ns", "otherData":{...}}
// Times are recorded in ns and written in microseconds (the format's unit),
// on a binary grid of 2^-20 us (under a picosecond) that keeps every sum a
// viewer makes exact.
//
// Tracks. A component (sc_module) names one track; the events on it become
// complete ("X") slices. Slices on one track of a viewer must nest, but a
// component has many transactions in flight at once, so the writer spreads a
// component's slices over lanes ("tg0 #0", "tg0 #1", ...): each lane is one
// thread of the trace, on which every slice either nests inside the one below
// it or starts after it ended. The slices of one transaction (a translation
// and the walk and table reads inside it) share a transaction id and stay in
// one lane. Events are written in timestamp order.
//
// Arguments are named (TraceArgs): requester, pasid, iova, pa, size, level,
// result, value; only those set are written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iommusim {

// The named arguments of one event. Recording one is a few stores: no
// allocation, strings are literals (or outlive the writer).
class TraceArgs {
public:
  TraceArgs& requester(uint32_t rid) { return set(kRequester, rid_, rid); }  // PCI bus << 8 | dev << 3 | fn
  TraceArgs& pasid(uint32_t v) { return set(kPasid, pasid_, v); }
  TraceArgs& iova(uint64_t v) { return set(kIova, iova_, v); }  // the input (device) address
  TraceArgs& pa(uint64_t v) { return set(kPa, pa_, v); }        // a physical address (a table entry, a buffer)
  TraceArgs& size(uint64_t v) { return set(kSize, size_, v); }  // bytes
  TraceArgs& level(uint32_t v) { return set(kLevel, level_, v); }  // a page-table level
  TraceArgs& value(uint64_t v) { return set(kValue, value_, v); }  // a count, a vector number
  TraceArgs& result(const char* r) {  // "ok", a fault reason, "hit", ...
    result_ = r;
    return *this;
  }
  bool empty() const { return present_ == 0 && !result_; }
  void write_json(std::ostream& os) const;  // {"requester":"00:01.0","iova":"0x5000",...}

private:
  enum : uint8_t { kRequester = 1, kPasid = 2, kIova = 4, kPa = 8, kSize = 16, kLevel = 32, kValue = 64 };
  template <typename T, typename V>
  TraceArgs& set(uint8_t bit, T& field, V v) {
    field = static_cast<T>(v);
    present_ |= bit;
    return *this;
  }
  uint8_t present_ = 0;
  uint32_t rid_ = 0, pasid_ = 0, level_ = 0;
  uint64_t iova_ = 0, pa_ = 0, size_ = 0, value_ = 0;
  const char* result_ = nullptr;
};

class TraceWriter {
public:
  explicit TraceWriter(size_t max_events = 0);  // 0 => disabled

  bool enabled() const { return max_events_ != 0; }
  // Sets the bound. A bound below the number of events already recorded drops
  // the newest ones (counted in dropped()).
  void set_limit(size_t max_events);
  size_t limit() const { return max_events_; }

  // Returns a stable id (>= 1) for a component; the same name => the same id.
  // Works whether or not the writer is enabled.
  int track(const std::string& name);
  const std::vector<std::string>& track_names() const { return tracks_; }  // id i => tracks_[i-1]

  // A new transaction id (>= 1): the slices recorded with it on one track stay
  // in one lane. 0 means "no transaction": the slice takes any free lane.
  uint64_t new_transaction() { return ++last_txn_; }

  // name/category are stored as pointers: they must be string literals or
  // otherwise outlive the writer.
  void complete(int track, const char* name, const char* category, double start_ns, double duration_ns,
                const TraceArgs& args = TraceArgs(), uint64_t txn = 0) {
    if (Event* e = slot()) *e = Event{'X', track, name, category, ps(start_ns), ps(duration_ns), txn, 0.0, args};
  }
  void instant(int track, const char* name, const char* category, double ts_ns, const TraceArgs& args = TraceArgs(),
               uint64_t txn = 0) {
    if (Event* e = slot()) *e = Event{'i', track, name, category, ps(ts_ns), 0, txn, 0.0, args};
  }
  // Counter value: written as args {"value": v}, on the process.
  void counter(const char* name, double ts_ns, double value) {
    if (Event* e = slot()) *e = Event{'C', 0, name, nullptr, ps(ts_ns), 0, 0, value, TraceArgs()};
  }

  size_t recorded() const { return events_.size(); }
  size_t dropped() const { return dropped_; }
  void clear() { events_.clear(); dropped_ = 0; }

  void write(std::ostream& os) const;
  std::string write_file(const std::string& path) const;  // "" on success or an error message

private:
  struct Event {
    char ph;
    int track;
    const char* name;
    const char* category;
    int64_t ts_ps;
    int64_t dur_ps;  // 'X'
    uint64_t txn;
    double value;    // 'C'
    TraceArgs args;
  };
  struct Placed;  // an event with its lane, for writing
  static int64_t ps(double ns) { return ns > 0 ? static_cast<int64_t>(ns * 1000.0 + 0.5) : 0; }
  Event* slot() {
    if (events_.size() < max_events_) {
      events_.emplace_back();
      return &events_.back();
    }
    if (max_events_ != 0) ++dropped_;
    return nullptr;
  }
  std::vector<Placed> place(std::vector<std::pair<int, std::string>>* lane_names) const;
  static void write_event(std::ostream& os, const Placed& p);

  size_t max_events_ = 0;
  size_t dropped_ = 0;
  uint64_t last_txn_ = 0;
  std::vector<Event> events_;
  std::vector<std::string> tracks_;
  std::unordered_map<std::string, int> track_ids_;  // name -> its id in tracks_
};

// Where the events of one transaction go: the writer, the component's track
// and the transaction. Handed down to the parts that do the work (a table
// walk through its TimingPolicy), so that their slices nest in the
// transaction's.
struct TraceScope {
  TraceWriter* writer = nullptr;
  int track = 0;
  uint64_t txn = 0;
  const char* category = "";

  // A component's scope: its own track, no transaction (null `writer`: none).
  static TraceScope of(TraceWriter* writer, const std::string& track_name, const char* category) {
    return writer ? TraceScope{writer, writer->track(track_name), 0, category} : TraceScope{};
  }
  bool active() const { return writer && writer->enabled(); }
  void slice(const char* name, double start_ns, double duration_ns, const TraceArgs& args) const {
    writer->complete(track, name, category, start_ns, duration_ns, args, txn);
  }
  void instant(const char* name, double ts_ns, const TraceArgs& args) const {
    writer->instant(track, name, category, ts_ns, args, txn);
  }
};

}  // namespace iommusim
