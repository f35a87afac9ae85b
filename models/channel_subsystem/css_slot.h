// SPDX-License-Identifier: Apache-2.0
// ChannelSubsystem's own parts, shared by its two source files (the
// instructions in channel_subsystem.cc, the engine in channel_engine.cc): a
// subchannel slot and a channel program in execution.
#pragma once

#include <string>

#include "channel_subsystem/channel_subsystem.h"

namespace iommusim::css {

using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

inline sc_time ns(double v) { return sc_time(v, SC_NS); }

// One subchannel with its device, path, control unit and engine thread.
struct ChannelSubsystem::Slot {
  Slot(uint32_t sid, uint16_t devno, unsigned chpid, ChannelDevice& d, ChannelPath& p, ControlUnit& u,
       iommu::TlmMemoryPort::Socket& socket, StatGroup& parent)
      : sch(sid, devno, static_cast<uint8_t>(chpid)),
        device(d),
        path(p),
        cu(u),
        port(socket),
        stats("sch" + std::to_string(sid & 0xffff), &parent),
        programs(stats.counter("programs", "channel programs started")),
        latency(stats.histogram("latency_ns", "START SUBCHANNEL to primary status", "ns")) {
    port.attributes().subchannel_id = sid;  // every channel-program access names its subchannel
  }
  Subchannel sch;
  ChannelDevice& device;
  ChannelPath& path;
  ControlUnit& cu;
  iommu::TlmMemoryPort port;
  sc_core::sc_event work;   // a function to perform (start, resume, halt, clear, cancel)
  sc_core::sc_event abort;  // a halt, clear or cancel for the program in progress
  sc_time started;
  bool reset_pending = false;  // an I/O-system reset the engine has not yet taken up
  StatGroup stats;
  Counter& programs;
  Histogram& latency;
  TraceScope trace;  // "<css>.sch<N>" (inactive without a trace)
};

// A channel program in execution.
struct ChannelSubsystem::Program {
  DataAddressing addressing;
  uint32_t ccw = 0;           // address of the CCW in hand
  uint32_t next = 0;          // address of the next CCW
  uint16_t count = 0;         // count of the CCW in hand
  uint8_t cmd = 0;            // command code of the CCW in hand
  uint32_t ccw_moved = 0;     // bytes it has moved
  bool after_tic = false;
  bool refetch = false;       // fetch the CCW in hand again (after a resume)
  bool chained_data = false;  // the CCW in hand continues the previous one's data
  bool device_busy = false;   // a device operation is in progress
  bool immediate = false;
  bool to_memory = false;
  uint64_t offered = 0, moved = 0;  // the device operation: bytes offered, moved so far
  DataStream stream;
};

}  // namespace iommusim::css
