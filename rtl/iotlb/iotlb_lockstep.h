// SPDX-License-Identifier: Apache-2.0
// The IOTLB lockstep checker: an RTL IOTLB (iommu_iotlb.sv Verilated with
// --sc, class Rtl) and the C++ model IOTLB receive the same stream of
// transactions, one after the other, on a SystemC clock. After each one the
// outcomes are compared (hit or miss, way, translation, way filled and
// victim, entries invalidated, occupancy); at the first difference the run
// stops with a report: the cycle, the transaction and both states of the set
// concerned, read from the RTL through its debug port.
//
// The driver samples the RTL's outputs right after a rising edge, before the
// RTL's own outputs of that edge are updated, so what it reads is what the
// RTL presented at the edge (the values its handshakes used).
#pragma once

#include <cstdint>
#include <sstream>
#include <string>

#include <systemc>

#include "rtl/iotlb/iotlb_checker.h"

namespace iommusim::rtl {

// The ports of iommu_iotlb as Verilator's --sc wrapper types them.
#define IOMMUSIM_IOTLB_PORTS(X)                                                                              \
  X(bool, rst_n) X(bool, lk_valid) X(bool, lk_ready) X(uint64_t, lk_vpn) X(uint32_t, lk_pasid)                \
  X(uint32_t, lk_sid) X(uint32_t, lk_size) X(bool, lk_rsp_valid) X(bool, lk_rsp_ready) X(bool, lk_rsp_hit)    \
  X(uint32_t, lk_rsp_way) X(uint32_t, lk_rsp_did) X(uint32_t, lk_rsp_pasid) X(uint64_t, lk_rsp_out_page)      \
  X(uint32_t, lk_rsp_attr) X(bool, fill_valid) X(bool, fill_ready) X(uint64_t, fill_vpn)                      \
  X(uint32_t, fill_pasid) X(uint32_t, fill_sid) X(uint32_t, fill_size) X(uint32_t, fill_did)                  \
  X(uint32_t, fill_entry_pasid) X(uint64_t, fill_out_page) X(uint32_t, fill_attr) X(bool, fill_rsp_valid)     \
  X(bool, fill_rsp_ready) X(uint32_t, fill_rsp_way) X(bool, fill_rsp_evicted) X(uint64_t, fill_rsp_ev_vpn)    \
  X(uint32_t, fill_rsp_ev_pasid) X(uint32_t, fill_rsp_ev_sid) X(uint32_t, fill_rsp_ev_size)                   \
  X(bool, inv_valid) X(bool, inv_ready) X(bool, inv_match_did) X(bool, inv_match_pasid)                       \
  X(bool, inv_match_page) X(uint32_t, inv_did) X(uint32_t, inv_pasid) X(uint64_t, inv_addr)                   \
  X(uint32_t, inv_am) X(bool, inv_rsp_valid) X(bool, inv_rsp_ready) X(uint32_t, inv_rsp_count)                \
  X(uint32_t, occupancy) X(uint32_t, dbg_index) X(bool, dbg_valid) X(uint64_t, dbg_vpn)                       \
  X(uint32_t, dbg_pasid) X(uint32_t, dbg_sid) X(uint32_t, dbg_size) X(uint32_t, dbg_did)

template <class Rtl>
class IotlbLockstep : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(IotlbLockstep);

  // `geometry` must be the one the RTL was Verilated with (its parameters).
  IotlbLockstep(sc_core::sc_module_name name, const CacheGeometry& geometry, uint64_t transactions, uint64_t seed,
                const sc_core::sc_time& clock_period = sc_core::sc_time(1, sc_core::SC_NS))
      : sc_module(name), clk_("clk", clock_period), rtl_("rtl"), model_(geometry), stream_(seed),
        transactions_(transactions) {
    rtl_.clk(clk_);
#define IOMMUSIM_BIND(type, port) rtl_.port(port##_);
    IOMMUSIM_IOTLB_PORTS(IOMMUSIM_BIND)
#undef IOMMUSIM_BIND
    SC_THREAD(run);
  }

  // After sc_start(): "" if every transaction agreed, else the report.
  const std::string& mismatch() const { return mismatch_; }
  uint64_t checked() const { return checked_; }
  uint64_t cycles() const { return cycle_; }
  // How many lookups hit, fills evicted and invalidations removed entries:
  // the stream exercised what it is meant to.
  uint64_t hits() const { return hits_; }
  uint64_t evictions() const { return evictions_; }
  uint64_t invalidated() const { return invalidated_; }

private:
  void edge() {
    sc_core::wait(clk_.posedge_event());
    ++cycle_;
  }

  void run() {
    rst_n_ = false;
    edge();
    edge();
    rst_n_ = true;
    for (checked_ = 0; checked_ < transactions_; ++checked_) {
      const IotlbOp op = stream_.next();
      const IotlbOutcome want = model_.apply(op);
      const IotlbOutcome got = drive(op);
      if (std::string d = first_difference(op, got, want); !d.empty()) {
        report(op, d);
        break;
      }
      hits_ += got.hit;
      evictions_ += got.evicted;
      invalidated_ += got.removed;
    }
    sc_core::sc_stop();
  }

  // One valid/ready request and its answer.
  template <class Valid, class Ready, class RspValid, class RspReady>
  void handshake(Valid& valid, const Ready& ready, const RspValid& rsp_valid, RspReady& rsp_ready) {
    valid = true;
    do edge();
    while (!ready.read());
    valid = false;
    rsp_ready = true;
    do edge();
    while (!rsp_valid.read());
    rsp_ready = false;
  }

  // A key on the four signals of a channel.
  template <class Vpn, class Pasid, class Sid, class Size>
  static void set_key(const vtd::detail::IotlbKey& k, Vpn& vpn, Pasid& pasid, Sid& sid, Size& size) {
    vpn = k.vpn;
    pasid = k.pasid;
    sid = k.sid;
    size = k.size;
  }

  IotlbOutcome drive(const IotlbOp& op) {
    IotlbOutcome o;
    switch (op.kind) {
      case IotlbOp::Lookup:
        set_key(op.key, lk_vpn_, lk_pasid_, lk_sid_, lk_size_);
        handshake(lk_valid_, lk_ready_, lk_rsp_valid_, lk_rsp_ready_);
        o.hit = lk_rsp_hit_.read();
        if (o.hit) {
          o.way = lk_rsp_way_.read();
          o.entry = vtd::detail::IotlbEntryBits{static_cast<uint16_t>(lk_rsp_did_.read()), lk_rsp_pasid_.read(),
                                                lk_rsp_out_page_.read(), lk_rsp_attr_.read()};
        }
        break;
      case IotlbOp::Fill: drive_fill(op, o); break;
      case IotlbOp::Invalidate:
        inv_match_did_ = op.inv.match_did;
        inv_match_pasid_ = op.inv.match_pasid;
        inv_match_page_ = op.inv.match_page;
        inv_did_ = op.inv.did;
        inv_pasid_ = op.inv.pasid;
        inv_addr_ = op.inv.addr;
        inv_am_ = op.inv.am & 0x3f;
        handshake(inv_valid_, inv_ready_, inv_rsp_valid_, inv_rsp_ready_);
        o.removed = inv_rsp_count_.read();
        break;
    }
    o.occupancy = occupancy_.read();
    return o;
  }

  void drive_fill(const IotlbOp& op, IotlbOutcome& o) {
    set_key(op.key, fill_vpn_, fill_pasid_, fill_sid_, fill_size_);
    fill_did_ = op.entry.did;
    fill_entry_pasid_ = op.entry.pasid;
    fill_out_page_ = op.entry.out_page;
    fill_attr_ = op.entry.attr;
    handshake(fill_valid_, fill_ready_, fill_rsp_valid_, fill_rsp_ready_);
    o.way = fill_rsp_way_.read();
    o.evicted = fill_rsp_evicted_.read();
    if (o.evicted)
      o.evicted_key = vtd::detail::IotlbKey{fill_rsp_ev_vpn_.read(), fill_rsp_ev_pasid_.read(),
                                            static_cast<uint16_t>(fill_rsp_ev_sid_.read()),
                                            static_cast<uint8_t>(fill_rsp_ev_size_.read())};
  }

  // The set a report shows: the transaction's, or for an invalidation the
  // first set whose valid ways differ.
  unsigned set_to_show(const IotlbOp& op) {
    const vtd::detail::Iotlb& m = model_.cache();
    if (op.kind != IotlbOp::Invalidate) return m.set_of(op.key);
    for (unsigned s = 0; s < m.sets(); ++s)
      for (unsigned w = 0; w < m.ways(); ++w)
        if (read_rtl_way(s * m.ways() + w).valid != (m.entry_at(s, w).key != nullptr)) return s;
    return 0;
  }

  struct RtlWay {
    bool valid;
    vtd::detail::IotlbKey key;
    uint16_t did;
  };
  // Through the debug port: the index settles in two delta cycles.
  RtlWay read_rtl_way(unsigned index) {
    dbg_index_ = index;
    sc_core::wait(sc_core::SC_ZERO_TIME);
    sc_core::wait(sc_core::SC_ZERO_TIME);
    return RtlWay{dbg_valid_.read(),
                  vtd::detail::IotlbKey{dbg_vpn_.read(), dbg_pasid_.read(), static_cast<uint16_t>(dbg_sid_.read()),
                                        static_cast<uint8_t>(dbg_size_.read())},
                  static_cast<uint16_t>(dbg_did_.read())};
  }

  void report(const IotlbOp& op, const std::string& difference) {
    const vtd::detail::Iotlb& m = model_.cache();
    const unsigned set = set_to_show(op);
    std::ostringstream r;
    r << "IOTLB lockstep mismatch at cycle " << cycle_ << ", transaction #" << checked_ << ": " << op.describe()
      << "\n  " << difference << "\n  set " << set << " after the transaction (way: rtl | model):\n";
    for (unsigned w = 0; w < m.ways(); ++w) {
      const RtlWay rw = read_rtl_way(set * m.ways() + w);
      const auto me = m.entry_at(set, w);
      r << "    " << w << ": " << describe_entry(rw.valid ? &rw.key : nullptr, rw.did) << " | "
        << describe_entry(me.key, me.value ? me.value->did : 0) << "\n";
    }
    r << "  occupancy: rtl " << occupancy_.read() << ", model " << m.occupancy() << "\n";
    mismatch_ = r.str();
  }

  sc_core::sc_clock clk_;
#define IOMMUSIM_SIGNAL(type, port) sc_core::sc_signal<type> port##_{#port};
  IOMMUSIM_IOTLB_PORTS(IOMMUSIM_SIGNAL)
#undef IOMMUSIM_SIGNAL
  Rtl rtl_;
  IotlbModelSide model_;
  IotlbOpStream stream_;
  const uint64_t transactions_;
  uint64_t checked_ = 0, cycle_ = 0, hits_ = 0, evictions_ = 0, invalidated_ = 0;
  std::string mismatch_;
};

}  // namespace iommusim::rtl
