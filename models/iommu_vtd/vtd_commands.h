// SPDX-License-Identifier: Apache-2.0
// The unit's command registers: GCMD with its GSTS handshakes, and the
// register-based invalidations, CCMD and the IOTLB register (VT-d 3.x/4.x
// section 6.5.1, "Register-based Invalidation Interface"; chapter 11). Each
// command completes after its latency in simulated time:
//   - TE, QIE, IRE and CFI are states: GSTS follows GCMD on completion;
//   - SRTP, SIRTP and SFL clear RTPS/IRTPS/FLS at once and set them on
//     completion; WBF sets WBFS at once and clears it on completion;
//   - SRTP latches RTADDR into the translator; TE and SRTP empty what was
//     cached under the old setting and revoke DMI;
//   - SIRTP latches IRTA into the interrupt remapper (its IEC is kept: software
//     invalidates it, 10.4.4 GCMD.SIRTP); IRE and CFI switch it;
//   - CCMD.ICC and IOTLB.IVT clear on completion, with CAIG/IAIG reporting
//     the granularity performed (0: the request was rejected).
// Completions run in an SC_METHOD of the unit sensitive to pending_event().
#pragma once

#include <cstdint>
#include <vector>
#include <systemc>

#include "common/register_map.h"
#include "common/stats.h"
#include "iommu_common/dmi_tracker.h"
#include "iommu_vtd/vtd_invalidation.h"
#include "iommu_vtd/vtd_ir.h"
#include "iommu_vtd/vtd_qi_engine.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

class CommandRegisters {
public:
  struct Latencies {
    sc_core::sc_time gcmd;       // GCMD command until GSTS reflects it
    sc_core::sc_time reg_inval;  // CCMD/IOTLB register invalidation until ICC/IVT clears
  };
  // `reg_invalidations` counts register-based invalidations; `latency` takes
  // each one's write-to-completion time (the unit's invalidation_latency).
  // `mmio_delay`: the local time offset of the register access being processed.
  CommandRegisters(RegisterMap& regs, const CapFields& cap, const EcapFields& ecap, const Latencies& latencies,
                   Translator& translator, CacheInvalidator& caches, iommu::DmiTracker& dmi, QiEngine& qi,
                   InterruptRemapper& ir, Counter& reg_invalidations, Histogram& latency,
                   const sc_core::sc_time& mmio_delay);
  CommandRegisters(const CommandRegisters&) = delete;
  CommandRegisters& operator=(const CommandRegisters&) = delete;

  // GSTS.TES, read on every DMA.
  bool remapping_enabled() const { return te_; }
  // Notified when the next command is due.
  sc_core::sc_event_queue& pending_event() { return pending_eq_; }
  // Completes every command due by now.
  void complete_due();
  // Hardware reset: remapping off, nothing pending.
  void reset();

private:
  struct Pending {
    enum class Kind : uint8_t { Te, Srtp, Sfl, Wbf, Qie, Ire, Sirtp, Cfi, Ccmd, Iotlb };
    sc_core::sc_time due;
    Kind kind;
    bool on;
    uint64_t a, b;           // the registers latched at the write
    sc_core::sc_time issued;
  };
  sc_core::sc_time now() const { return sc_core::sc_time_stamp() + mmio_delay_; }
  void gcmd_written(uint32_t commands);
  void schedule(const Pending& p);
  void complete(const Pending& p);
  void set_status(Bit gsts_bit, bool on);
  void context_invalidation(uint64_t ccmd_value);
  void iotlb_invalidation(uint64_t iotlb_value, uint64_t iva_value);

  Register& gsts_;
  Register& rtaddr_;
  Register& irta_;
  Register& ccmd_;
  Register& iva_;
  Register& iotlb_;
  const CapFields cap_;
  const EcapFields ecap_;
  const Latencies latencies_;
  Translator& translator_;
  CacheInvalidator& caches_;
  iommu::DmiTracker& dmi_;
  InterruptRemapper& ir_;
  QiEngine& qi_;
  Counter& reg_invalidations_;
  Histogram& latency_;
  const sc_core::sc_time& mmio_delay_;
  bool te_ = false;
  std::vector<Pending> pending_;  // by due time
  sc_core::sc_event_queue pending_eq_;
};

}  // namespace iommusim::vtd
