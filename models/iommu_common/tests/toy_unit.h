// SPDX-License-Identifier: Apache-2.0
// A toy translation unit built from the shared layer alone: what a new unit
// costs. Each requester has a one-level table of its own at table_base +
// requester * 4 KiB: 512 little-endian entries mapping IOVA 0..2 MiB in 4 KiB
// pages (bit 0 R, bit 1 W, bits 63:12 the frame), with a TLB in front. It has
// the shared radix walker, translation slots and latency accounting, faults
// answered as TLM responses, per-page splitting, DMI grants revoked on
// invalidation, and cache statistics.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/dma_extension.h"
#include "iommu_common/cache_stats.h"
#include "iommu_common/dmi_tracker.h"
#include "iommu_common/fault_response.h"
#include "iommu_common/page_splitter.h"
#include "iommu_common/radix_walker.h"
#include "iommu_common/tlm_memory_port.h"
#include "iommu_common/translation_accounting.h"
#include "iommu_common/translation_request.h"

namespace toytest {

using namespace iommusim;
using namespace iommusim::iommu;

// The table format: one level, R and W as the permissions.
struct RequesterTable : TableFormat {
  using TableFormat::TableFormat;
  unsigned top_level() const override { return 1; }
  unsigned input_width() const override { return 21; }
  TableEntry decode(uint64_t raw, unsigned) const override {
    const uint32_t rw = static_cast<uint32_t>(raw & 3);
    return {rw ? TableEntry::Kind::Leaf : TableEntry::Kind::NotPresent, raw & ~0xfffull, rw};
  }
};

struct ToyUnitParams {
  uint64_t table_base = 0x100000;
  CacheGeometry tlb{16, 4, ReplacementPolicy::LRU, 1};
  unsigned slots = 2;
  sc_core::sc_time tlb_latency{2, sc_core::SC_NS};
  WalkerCosts walk{sc_core::sc_time(1, sc_core::SC_NS), sc_core::sc_time(1, sc_core::SC_NS)};
};

class ToyUnit : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<ToyUnit> dma_in;
  tlm_utils::simple_initiator_socket<ToyUnit> mem_out;

  ToyUnit(sc_core::sc_module_name name, const ToyUnitParams& p, StatGroup& parent)
      : sc_module(name), dma_in("dma_in"), mem_out("mem_out"), p_(p), stats_(basename(), &parent),
        reads_(stats_.counter("walk_reads", "table entries read")), port_(mem_out),
        walker_(port_, p.walk, {}, stats_, WalkCounters{reads_, stats_.counter("write_backs", "entries written")}),
        tlb_(p.tlb), accounting_(p.slots, stats_.histogram("latency", "translation time"), nullptr, 0, "toy"),
        dmi_(dma_in.get_base_port(), mem_out, stats_.subgroup("dmi")) {
    bind_cache_stats(stats_.subgroup("tlb"), tlb_, "TLB");
    dma_in.register_b_transport(this, &ToyUnit::b_transport);
    dma_in.register_get_direct_mem_ptr(this, &ToyUnit::get_dmi);
    mem_out.register_invalidate_direct_mem_ptr(this, &ToyUnit::downstream_revoked);
  }
  // Software changed the tables: drop every cached translation and DMI grant.
  void invalidate_all() {
    tlb_.invalidate_all();
    walker_.invalidate_all();
    dmi_.revoke_all();
  }

private:
  struct TlbEntry {
    uint64_t out_page = 0;
    bool read = false, write = false;
  };
  struct Outcome {
    bool ok = false;
    FaultKind fault = FaultKind::Translation;
    PageMapping map;
    TlbEntry perms;
  };

  // The page holding `addr`, for the access `req` asks for.
  Outcome translate(const TranslationRequest& req, uint64_t addr, TimingPolicy& cost) {
    cost.spend(p_.tlb_latency);
    const uint64_t key = (addr >> 12) | (uint64_t(req.requester.id) << 32);
    Outcome o;
    if (const TlbEntry* e = tlb_.lookup(key)) {
      o.perms = *e;
    } else {
      RequesterTable fmt(p_.table_base + uint64_t(req.requester.id) * 0x1000);
      unsigned reads = 0;
      const WalkResult w = walker_.walk(fmt, addr, cost, reads);
      if (!w.ok()) return o;  // nothing maps it: a translation fault
      o.perms = {(w.out & ~0xfffull), (w.attrs & 1) != 0, (w.attrs & 2) != 0};
      tlb_.insert(key, o.perms);
    }
    o.ok = req.access.write ? o.perms.write : o.perms.read;
    o.fault = FaultKind::Permission;
    o.map = {o.perms.out_page | (addr & 0xfff), 4096};
    return o;
  }

  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay) {
    const TranslationRequest req = TranslationRequest::from_dma(dma_attributes(t), t.get_address(), t.is_write());
    // The slot first, then the work (its table reads) while holding it.
    const sc_core::sc_time arrive = sc_core::sc_time_stamp() + delay;
    const sc_core::sc_time start = accounting_.admit(arrive);
    sc_core::sc_time took = sc_core::SC_ZERO_TIME;
    TimingPolicy cost = TimingPolicy::loosely_timed(took, start);
    const Outcome first = translate(req, req.address, cost);
    accounting_.account_queued(arrive, start, took, delay, first.ok, req.address,
                               static_cast<uint16_t>(req.requester.id));
    if (!first.ok) return answer_fault(t, first.fault);
    auto next_page = [&](uint64_t page, PageMapping& m) {
      TimingPolicy more = TimingPolicy::loosely_timed(delay, sc_core::sc_time_stamp() + delay);
      const Outcome o = translate(req, page, more);
      if (!o.ok) answer_fault(t, o.fault);
      m = o.map;
      return o.ok;
    };
    auto send = [this](tlm::tlm_generic_payload& piece, uint64_t out, sc_core::sc_time& d) {
      const uint64_t in = piece.get_address();
      piece.set_address(out);
      mem_out->b_transport(piece, d);
      piece.set_address(in);
    };
    splitter_.forward(t, first.map, next_page, send, delay);
  }

  // A translation in zero time decides the grant: one page, its permissions.
  bool get_dmi(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
    const uint64_t page = t.get_address() & ~0xfffull;
    sc_core::sc_time scratch = sc_core::SC_ZERO_TIME;
    TimingPolicy cost = TimingPolicy::functional(scratch, sc_core::sc_time_stamp());
    const Outcome o = translate(TranslationRequest::from_dma(dma_attributes(t), page, false), page, cost);
    if (!o.perms.read && !o.perms.write) return false;
    return dmi_.grant(t, dmi, {page, o.perms.out_page, 4096, o.perms.read, o.perms.write});
  }
  void downstream_revoked(sc_dt::uint64 start, sc_dt::uint64 end) { dmi_.downstream_revoked(start, end); }

  ToyUnitParams p_;
  StatGroup stats_;
  Counter& reads_;
  TlmMemoryPort port_;
  RadixWalker walker_;
  SetAssocCache<uint64_t, TlbEntry> tlb_;  // key: requester << 32 | page
  TranslationAccounting accounting_;
  DmiTracker dmi_;
  PageSplitter splitter_;
};

}  // namespace toytest
