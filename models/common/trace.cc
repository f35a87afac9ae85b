#include "common/trace.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <ostream>

#include <nlohmann/json.hpp>

namespace iommusim {

namespace {

constexpr int kPid = 1;

// JSON number in shortest round-trip form; trace viewers reject null/NaN, so
// non-finite values are written as 0.
void put_number(std::ostream& os, double v) {
  if (!std::isfinite(v)) v = 0.0;
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  os.write(buf, r.ptr - buf);
}

void put_string(std::ostream& os, const char* s) {
  os << nlohmann::json(std::string(s ? s : "")).dump();
}

void put_hex(std::ostream& os, uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"0x%llx\"", static_cast<unsigned long long>(v));
  os << buf;
}

}  // namespace

TraceWriter::TraceWriter(size_t max_events) { set_limit(max_events); }

void TraceWriter::set_limit(size_t max_events) {
  max_events_ = max_events;
  if (events_.size() > max_events_) {
    dropped_ += events_.size() - max_events_;
    events_.resize(max_events_);
  }
  events_.reserve(max_events_);
}

int TraceWriter::track(const std::string& name) {
  for (size_t i = 0; i < tracks_.size(); ++i)
    if (tracks_[i] == name) return static_cast<int>(i + 1);
  tracks_.push_back(name);
  return static_cast<int>(tracks_.size());
}

void TraceWriter::write(std::ostream& os) const {
  os << "{\"traceEvents\":[\n";
  os << "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":" << kPid
     << ",\"tid\":0,\"ts\":0,\"args\":{\"name\":\"iommusim\"}}";
  for (size_t i = 0; i < tracks_.size(); ++i) {
    os << ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":" << kPid << ",\"tid\":" << (i + 1)
       << ",\"ts\":0,\"args\":{\"name\":";
    os << nlohmann::json(tracks_[i]).dump() << "}}";
  }
  for (const Event& e : events_) {
    os << ",\n{\"name\":";
    put_string(os, e.name);
    if (e.category) {
      os << ",\"cat\":";
      put_string(os, e.category);
    }
    os << ",\"ph\":\"" << e.ph << "\",\"pid\":" << kPid << ",\"tid\":" << e.track << ",\"ts\":";
    put_number(os, e.ts_ns / 1000.0);
    switch (e.ph) {
      case 'X':
        os << ",\"dur\":";
        put_number(os, e.dur_or_value / 1000.0);
        os << ",\"args\":{\"addr\":";
        put_hex(os, e.addr);
        os << ",\"aux\":" << e.aux << "}";
        break;
      case 'i':
        os << ",\"s\":\"t\",\"args\":{\"addr\":";
        put_hex(os, e.addr);
        os << "}";
        break;
      case 'C':
        os << ",\"args\":{\"value\":";
        put_number(os, e.dur_or_value);
        os << "}";
        break;
      default:
        break;
    }
    os << "}";
  }
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
