// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_commands.h"

#include <algorithm>

namespace iommusim::vtd {

using sc_core::sc_time;

CommandRegisters::CommandRegisters(RegisterMap& regs, const CapFields& cap, const EcapFields& ecap,
                                   const Latencies& latencies, Translator& translator, CacheInvalidator& caches,
                                   iommu::DmiTracker& dmi, QiEngine& qi, InterruptRemapper& ir,
                                   Counter& reg_invalidations, Histogram& latency, const sc_time& mmio_delay)
    : gsts_(regs.get("GSTS")),
      rtaddr_(regs.get("RTADDR")),
      irta_(regs.get("IRTA")),
      ccmd_(regs.get("CCMD")),
      iva_(regs.get("IVA")),
      iotlb_(regs.get("IOTLB")),
      cap_(cap),
      ecap_(ecap),
      latencies_(latencies),
      translator_(translator),
      caches_(caches),
      dmi_(dmi),
      ir_(ir),
      qi_(qi),
      reg_invalidations_(reg_invalidations),
      latency_(latency),
      mmio_delay_(mmio_delay),
      pending_eq_("deferred_eq") {
  constexpr uint64_t kCommands = gcmd::TE | gcmd::SRTP | gcmd::SFL | gcmd::EAFL | gcmd::WBF | gcmd::QIE |
                                 gcmd::IRE | gcmd::SIRTP | gcmd::CFI;
  regs.get("GCMD").on_write = [this](Register&, uint64_t, uint64_t w) {
    gcmd_written(static_cast<uint32_t>(w & kCommands));
  };
  // A write of the upper half (bit 63) starts the invalidation.
  ccmd_.on_write = [this](Register& reg, uint64_t, uint64_t w) {
    if ((w & ccmd::ICC) && (reg.last_write_mask() & ccmd::ICC))
      schedule({now() + latencies_.reg_inval, Pending::Kind::Ccmd, true, reg.value(), 0, now()});
  };
  iotlb_.on_write = [this](Register& reg, uint64_t, uint64_t w) {
    if ((w & iotlb_reg::IVT) && (reg.last_write_mask() & iotlb_reg::IVT))
      schedule({now() + latencies_.reg_inval, Pending::Kind::Iotlb, true, reg.value(), iva_.value(), now()});
  };
}

void CommandRegisters::reset() {
  te_ = false;
  pending_.clear();
}

void CommandRegisters::schedule(const Pending& p) {
  auto it = std::upper_bound(pending_.begin(), pending_.end(), p,
                             [](const Pending& a, const Pending& b) { return a.due < b.due; });
  pending_.insert(it, p);
  pending_eq_.notify(p.due - sc_core::sc_time_stamp());
}

void CommandRegisters::complete_due() {
  while (!pending_.empty() && pending_.front().due <= sc_core::sc_time_stamp()) {
    const Pending p = pending_.front();
    pending_.erase(pending_.begin());
    complete(p);
  }
}

void CommandRegisters::gcmd_written(uint32_t w) {
  // Software writes the current state bits with the one command it issues
  // (the spec's GCMD programming rule): a state command acts when it differs
  // from GSTS, a one-shot command whenever its bit is written.
  const uint32_t st = static_cast<uint32_t>(gsts_.value());
  const sc_time issued = now(), due = issued + latencies_.gcmd;
  auto sched = [&](Pending::Kind k, bool on, uint64_t a = 0) { schedule({due, k, on, a, 0, issued}); };
  auto differs = [&](Bit cmd, Bit status) { return bool(w & cmd) != bool(st & status); };
  auto one_shot = [&](Bit cmd, Bit status, Pending::Kind k, uint64_t a = 0) {
    if (!(w & cmd)) return;
    gsts_.clear_bits(status);
    sched(k, true, a);
  };
  if (differs(gcmd::TE, gsts::TES)) sched(Pending::Kind::Te, w & gcmd::TE);
  one_shot(gcmd::SRTP, gsts::RTPS, Pending::Kind::Srtp, rtaddr_.value());
  one_shot(gcmd::SFL, gsts::FLS, Pending::Kind::Sfl);
  if (w & gcmd::WBF) {
    gsts_.set_bits(gsts::WBFS);
    sched(Pending::Kind::Wbf, true);
  }
  if (ecap_.qi && differs(gcmd::QIE, gsts::QIES)) sched(Pending::Kind::Qie, w & gcmd::QIE);
  if (!ecap_.ir) return;
  if (differs(gcmd::IRE, gsts::IRES)) sched(Pending::Kind::Ire, w & gcmd::IRE);
  one_shot(gcmd::SIRTP, gsts::IRTPS, Pending::Kind::Sirtp, irta_.value());
  if (differs(gcmd::CFI, gsts::CFIS)) sched(Pending::Kind::Cfi, w & gcmd::CFI);
}

void CommandRegisters::set_status(Bit gsts_bit, bool on) {
  if (on) gsts_.set_bits(gsts_bit);
  else gsts_.clear_bits(gsts_bit);
}

void CommandRegisters::complete(const Pending& p) {
  using Kind = Pending::Kind;
  switch (p.kind) {
    case Kind::Te:
      set_status(gsts::TES, p.on);
      te_ = p.on;
      translator_.invalidate_all();
      dmi_.revoke_all();
      break;
    case Kind::Srtp: {
      const unsigned ttm = static_cast<unsigned>(rtaddr::TTM.extract(p.a));
      translator_.set_root_table(p.a & rtaddr::RTA.mask(), ttm == 1, ttm >= 2);
      set_status(gsts::RTPS, true);
      dmi_.revoke_all();
      break;
    }
    case Kind::Sfl: set_status(gsts::FLS, true); break;
    case Kind::Wbf: set_status(gsts::WBFS, false); break;
    case Kind::Qie:
      set_status(gsts::QIES, p.on);
      qi_.enabled(p.on);
      break;
    case Kind::Ire:
      set_status(gsts::IRES, p.on);
      ir_.set_enabled(p.on);
      break;
    case Kind::Sirtp:
      ir_.set_table(p.a);
      set_status(gsts::IRTPS, true);
      break;
    case Kind::Cfi:
      set_status(gsts::CFIS, p.on);
      ir_.set_compatibility_passthrough(p.on);
      break;
    case Kind::Ccmd:
      context_invalidation(p.a);
      latency_.sample((sc_core::sc_time_stamp() - p.issued).to_seconds() * 1e9);
      break;
    case Kind::Iotlb:
      iotlb_invalidation(p.a, p.b);
      latency_.sample((sc_core::sc_time_stamp() - p.issued).to_seconds() * 1e9);
      break;
  }
}

void CommandRegisters::context_invalidation(uint64_t v) {
  const unsigned cirg = static_cast<unsigned>(ccmd::CIRG.extract(v));
  // Every granularity (1 global, 2 domain, 3 device) is performed as asked;
  // 0 is reserved: rejected, CAIG = 0.
  if (cirg != 0)
    caches_.context_cache(cirg, static_cast<uint16_t>(ccmd::DID.extract(v)),
                          static_cast<uint16_t>(ccmd::SID.extract(v)), static_cast<uint8_t>(ccmd::FM.extract(v)));
  ++reg_invalidations_;
  ccmd_.set(ccmd::CAIG.deposit(ccmd_.value() & ~ccmd::ICC, cirg));
}

void CommandRegisters::iotlb_invalidation(uint64_t v, uint64_t iva_value) {
  const unsigned iirg = static_cast<unsigned>(iotlb_reg::IIRG.extract(v));
  const uint16_t did = static_cast<uint16_t>(iotlb_reg::DID.extract(v));
  const unsigned am = static_cast<unsigned>(iva::AM.extract(iva_value));
  unsigned iaig = iirg;
  if (iirg == 1 || iirg == 2) {
    caches_.iotlb(iirg, did, 0, 0, false);
  } else if (iirg == 3 && !cap_.psi) {  // no page-selective support: performed as domain-selective
    iaig = 2;
    caches_.iotlb(2, did, 0, 0, false);
  } else if (iirg == 3 && am <= cap_.mamv) {
    caches_.iotlb(3, did, iva_value & iva::ADDR.mask(), am, iva_value & iva::IH);
  } else {  // reserved granularity, or a mask beyond MAMV: rejected
    iaig = 0;
  }
  ++reg_invalidations_;
  iotlb_.set(iotlb_reg::IAIG.deposit(iotlb_.value() & ~iotlb_reg::IVT, iaig));
}

}  // namespace iommusim::vtd
