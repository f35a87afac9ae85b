// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/channel_path.h"

#include <algorithm>

namespace iommusim::css {

namespace {
double to_ns(const sc_core::sc_time& t) { return t.to_seconds() * 1e9; }
}  // namespace

ChannelPath::ChannelPath(const std::string& name, double bytes_per_ns, uint32_t frame_payload,
                         uint32_t frame_overhead, StatGroup& parent)
    : in_(bytes_per_ns),
      out_(bytes_per_ns),
      payload_(std::max(1u, frame_payload)),
      overhead_(frame_overhead),
      stats_(name, &parent),
      bytes_in_(stats_.counter("bytes_in", "data bytes toward memory (reads)", "bytes")),
      bytes_out_(stats_.counter("bytes_out", "data bytes toward devices (writes)", "bytes")),
      frames_(stats_.counter("frames", "frames carrying data", "frames")),
      busy_ns_(stats_.counter("busy_ns", "link time occupied by data frames, both directions", "ns")) {
  const Counter* busy = &busy_ns_;
  stats_.formula(
      "utilization", "busy time of the busier direction over the simulated time (approximately: both summed, halved)",
      [busy] {
        const double now = sc_core::sc_time_stamp().to_seconds() * 1e9;
        return now > 0 ? static_cast<double>(busy->value()) / (2.0 * now) : 0.0;
      },
      "ratio");
}

sc_core::sc_time ChannelPath::transfer(const sc_core::sc_time& now, uint64_t bytes, bool inbound) {
  if (bytes == 0) return now;
  const uint64_t frames = frames_for(bytes);
  const double wire = static_cast<double>(bytes + frames * overhead_);
  BandwidthCalendar& link = inbound ? in_ : out_;
  const double start = to_ns(now > origin_ ? now - origin_ : sc_core::SC_ZERO_TIME);
  const double end = link.unlimited() ? start : link.reserve(start, wire);
  (inbound ? bytes_in_ : bytes_out_) += bytes;
  frames_ += frames;
  if (!link.unlimited()) busy_ns_ += static_cast<uint64_t>(wire / link.bandwidth());
  return origin_ + sc_core::sc_time(end, sc_core::SC_NS);
}

void ChannelPath::reset(const sc_core::sc_time& now) {
  in_ = BandwidthCalendar(in_.bandwidth());
  out_ = BandwidthCalendar(out_.bandwidth());
  origin_ = now;
}

ControlUnit::ControlUnit(const std::string& name, unsigned slots, StatGroup& parent)
    : slots_(slots),
      stats_(name, &parent),
      commands_(stats_.counter("commands", "commands the control unit accepted")),
      busy_waits_(stats_.counter("busy_waits", "commands that found the control unit busy")),
      busy_wait_ns_(stats_.counter("busy_wait_ns", "time commands waited for the control unit", "ns")) {}

sc_core::sc_time ControlUnit::command(const sc_core::sc_time& now, const sc_core::sc_time& busy) {
  const sc_core::sc_time start = slots_.reserve(now, busy);
  ++commands_;
  if (start > now) {
    ++busy_waits_;
    busy_wait_ns_ += static_cast<uint64_t>(to_ns(start - now));
  }
  return start - now;
}

}  // namespace iommusim::css
