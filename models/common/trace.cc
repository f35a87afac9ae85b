// SPDX-License-Identifier: Apache-2.0
#include "common/trace.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <ostream>
#include <map>
#include <utility>

#include <nlohmann/json.hpp>

namespace iommusim {

namespace {

constexpr int kPid = 1;

void put_string(std::ostream& os, const char* s) { os << nlohmann::json(std::string(s ? s : "")).dump(); }

// Times in microseconds, the format's unit, on a grid of 2^-20 us (0.95 ps):
// every time is then a double whose sums and differences are exact, so a
// viewer that computes a slice's end as ts + dur, or shifts every time by the
// first (speedscope does both), never sees a slice end after its neighbour
// began, nor a child end after its parent. Exact below 2^33 us (2.4 hours).
double grid_us(int64_t ps) {
  constexpr int kBits = 20;
  const __int128 units = (static_cast<__int128>(ps) * (1 << kBits) + 500000) / 1000000;
  return std::ldexp(static_cast<double>(units), -kBits);
}

void put_hex(std::ostream& os, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"0x%llx\"", static_cast<unsigned long long>(v));
  os << buf;
}

// JSON number in shortest round-trip form; trace viewers reject null/NaN.
void put_number(std::ostream& os, double v) {
  if (!std::isfinite(v)) v = 0.0;
  os << nlohmann::json(v).dump();
}

}  // namespace

void TraceArgs::write_json(std::ostream& os) const {
  const char* sep = "{";
  auto key = [&](const char* k) {
    os << sep << '"' << k << "\":";
    sep = ",";
  };
  if (present_ & kRequester) {
    char bdf[16];  // bus:device.function, as lspci writes it
    std::snprintf(bdf, sizeof bdf, "\"%02x:%02x.%x\"", (rid_ >> 8) & 0xff, (rid_ >> 3) & 0x1f, rid_ & 7);
    key("requester");
    os << bdf;
  }
  if (present_ & kPasid) key("pasid"), os << pasid_;
  if (present_ & kIova) key("iova"), put_hex(os, iova_);
  if (present_ & kPa) key("pa"), put_hex(os, pa_);
  if (present_ & kSize) key("size"), os << size_;
  if (present_ & kLevel) key("level"), os << level_;
  if (present_ & kValue) key("value"), os << value_;
  if (result_) key("result"), put_string(os, result_);
  os << (*sep == '{' ? "{}" : "}");
}

TraceWriter::TraceWriter(size_t max_events) { set_limit(max_events); }

void TraceWriter::set_limit(size_t max_events) {
  max_events_ = max_events;
  if (events_.size() > max_events_) {
    dropped_ += events_.size() - max_events_;
    events_.resize(max_events_);
  }
  // Storage grows with use up to the bound (a run that records little costs little).
  events_.reserve(std::min<size_t>(max_events_, 1 << 16));
}

int TraceWriter::track(const std::string& name) {
  // By an index, not a scan: every endpoint of a large platform asks for its track.
  const auto it = track_ids_.emplace(name, static_cast<int>(tracks_.size() + 1));
  if (it.second) tracks_.push_back(name);
  return it.first->second;
}

struct TraceWriter::Placed {
  const Event* e;
  int tid;  // 0: the process (counters)
};

namespace {

// One lane of a track: the slices still open at the current time, innermost last.
struct Lane {
  std::vector<std::pair<int64_t, int64_t>> open;  // [start, end)
  int id = 0;                                      // in order of first use
  bool idle_at(int64_t t) {
    while (!open.empty() && open.back().second <= t) open.pop_back();
    return open.empty();
  }
  // A slice fits if it starts after everything open ended, or nests in the innermost.
  bool fits(int64_t start, int64_t end) {
    return idle_at(start) || (open.back().first <= start && end <= open.back().second);
  }
};

// The lanes of every track, and which lane each transaction took.
class LaneMap {
public:
  explicit LaneMap(const std::vector<std::string>& tracks) : tracks_(tracks), lanes_(tracks.size() + 1) {}

  // The tid of a slice [start, end) of `txn` on `track`: its transaction's
  // lane when it nests there, else the first idle lane, else a new one.
  int slice(int track, uint64_t txn, int64_t start, int64_t end) {
    std::vector<Lane>& ls = lanes_[track];
    const auto known = txn ? txn_lane_.find({track, txn}) : txn_lane_.end();
    size_t i = known != txn_lane_.end() ? known->second : 0;
    if (known == txn_lane_.end() || !ls[i].fits(start, end)) {
      i = 0;
      while (i < ls.size() && !ls[i].idle_at(start)) ++i;
    }
    const int tid = lane(track, i);
    ls[i].open.emplace_back(start, end);
    if (txn && known == txn_lane_.end()) txn_lane_.emplace(std::make_pair(track, txn), i);
    return tid;
  }
  // The tid of an instant: its transaction's lane, or the track's first.
  int instant(int track, uint64_t txn) {
    const auto known = txn ? txn_lane_.find({track, txn}) : txn_lane_.end();
    return lane(track, known != txn_lane_.end() ? known->second : 0);
  }
  // Lane ids are given in the order lanes are first used; threads are
  // numbered by track (the order components registered), then lane, so that
  // viewers list a component's lanes together. Maps a lane id to its tid and
  // gives tid -> "track name #k", in tid order.
  std::vector<int> number_threads(std::vector<std::pair<int, std::string>>* names) const {
    std::vector<int> tid(lane_count_ + 1, 0);
    int next = 1;
    for (size_t track = 1; track < lanes_.size(); ++track)
      for (size_t i = 0; i < lanes_[track].size(); ++i) {
        tid[lanes_[track][i].id] = next;
        names->emplace_back(next++, tracks_[track - 1] + " #" + std::to_string(i));
      }
    return tid;
  }

private:
  int lane(int track, size_t i) {
    std::vector<Lane>& ls = lanes_[track];
    while (ls.size() <= i) {
      ls.emplace_back();
      ls.back().id = ++lane_count_;
    }
    return ls[i].id;
  }
  const std::vector<std::string>& tracks_;
  std::vector<std::vector<Lane>> lanes_;
  std::map<std::pair<int, uint64_t>, size_t> txn_lane_;
  int lane_count_ = 0;
};

}  // namespace

// Every event with its tid, in the order to write: by time, a slice before the
// slices it contains.
std::vector<TraceWriter::Placed> TraceWriter::place(std::vector<std::pair<int, std::string>>* lane_names) const {
  std::vector<const Event*> order;
  order.reserve(events_.size());
  for (const Event& e : events_) order.push_back(&e);
  std::stable_sort(order.begin(), order.end(), [](const Event* a, const Event* b) {
    if (a->ts_ps != b->ts_ps) return a->ts_ps < b->ts_ps;
    return a->dur_ps > b->dur_ps;  // the enclosing slice first
  });
  LaneMap lanes(tracks_);
  std::vector<Placed> out;
  out.reserve(order.size());
  for (const Event* e : order) {
    if (e->ph == 'C' || e->track <= 0 || static_cast<size_t>(e->track) > tracks_.size())
      out.push_back({e, 0});
    else if (e->ph == 'X')
      out.push_back({e, lanes.slice(e->track, e->txn, e->ts_ps, e->ts_ps + e->dur_ps)});
    else
      out.push_back({e, lanes.instant(e->track, e->txn)});
  }
  const std::vector<int> tid = lanes.number_threads(lane_names);
  for (Placed& p : out) p.tid = tid[p.tid];
  return out;
}

void TraceWriter::write_event(std::ostream& os, const Placed& p) {
  const Event& e = *p.e;
  os << ",\n{\"name\":";
  put_string(os, e.name);
  if (e.category) {
    os << ",\"cat\":";
    put_string(os, e.category);
  }
  os << ",\"ph\":\"" << e.ph << "\",\"pid\":" << kPid << ",\"tid\":" << p.tid << ",\"ts\":";
  put_number(os, grid_us(e.ts_ps));
  if (e.ph == 'X') {
    os << ",\"dur\":";
    put_number(os, grid_us(e.ts_ps + e.dur_ps) - grid_us(e.ts_ps));
  } else if (e.ph == 'i') {
    os << ",\"s\":\"t\"";
  }
  os << ",\"args\":";
  if (e.ph == 'C') {
    os << "{\"value\":";
    put_number(os, e.value);
    os << "}";
  } else {
    e.args.write_json(os);
  }
  os << "}";
}

void TraceWriter::write(std::ostream& os) const {
  std::vector<std::pair<int, std::string>> lane_names;
  const std::vector<Placed> placed = place(&lane_names);
  os << "{\"traceEvents\":[\n";
  os << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << kPid
     << ",\"tid\":0,\"ts\":0,\"args\":{\"name\":\"iommusim\"}}";
  for (const auto& [tid, name] : lane_names) {
    os << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << tid
       << ",\"ts\":0,\"args\":{\"name\":" << nlohmann::json(name).dump() << "}}";
    os << ",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << tid
       << ",\"ts\":0,\"args\":{\"sort_index\":" << tid << "}}";
  }
  for (const Placed& p : placed) write_event(os, p);
  os << "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":" << dropped_ << "}}\n";
}

std::string TraceWriter::write_file(const std::string& path) const {
  std::ofstream f(path, std::ios::out | std::ios::trunc);
  if (!f) return "cannot open trace file '" + path + "' for writing: " + std::strerror(errno);
  write(f);
  f.close();
  if (f.fail()) return "error writing trace file '" + path + "'";
  return "";
}

}  // namespace iommusim
