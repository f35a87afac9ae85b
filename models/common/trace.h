// Transaction trace: optional, off by default, bounded.
// Events are kept in a vector reserved up front and written at the end as
// Chrome / Perfetto trace-event JSON:
//   {"traceEvents":[...], "displayTimeUnit":"ns", "otherData":{"dropped_events":N}}
// Times are given in ns and written in microseconds (the trace-event unit).
// Each track (component or thread) becomes a tid named by a "M" thread_name event.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

namespace iommusim {

class TraceWriter {
public:
  explicit TraceWriter(size_t max_events = 0);  // 0 => disabled

  bool enabled() const { return max_events_ != 0; }
  // Sets the bound and reserves storage for it. A bound below the number of
  // events already recorded drops the newest ones (counted in dropped()).
  void set_limit(size_t max_events);
  size_t limit() const { return max_events_; }

  // Returns a stable id (>= 1) for a component/thread; the same name => the same id.
  // Works whether or not the writer is enabled.
  int track(const std::string& name);
  const std::vector<std::string>& track_names() const { return tracks_; }  // id i => tracks_[i-1]

  // name/category are stored as pointers: they must be string literals or
  // otherwise outlive the writer. No allocation per event.
  void complete(int track, const char* name, const char* category, double start_ns, double duration_ns,
                uint64_t arg_addr = 0, uint64_t arg_aux = 0) {
    if (Event* e = slot()) *e = Event{'X', track, name, category, start_ns, duration_ns, arg_addr, arg_aux};
  }
  void instant(int track, const char* name, const char* category, double ts_ns, uint64_t arg_addr = 0) {
    if (Event* e = slot()) *e = Event{'i', track, name, category, ts_ns, 0.0, arg_addr, 0};
  }
  // Counter value: written as args {"value": v}.
  void counter(const char* name, double ts_ns, double value) {
    if (Event* e = slot()) *e = Event{'C', 0, name, nullptr, ts_ns, value, 0, 0};
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
    double ts_ns;
    double dur_or_value;  // 'X': duration in ns; 'C': counter value
    uint64_t addr;
    uint64_t aux;
  };
  Event* slot() {
    if (events_.size() < max_events_) {
      events_.emplace_back();
      return &events_.back();
    }
    if (max_events_ != 0) ++dropped_;
    return nullptr;
  }

  size_t max_events_ = 0;
  size_t dropped_ = 0;
  std::vector<Event> events_;
  std::vector<std::string> tracks_;
};

}  // namespace iommusim
