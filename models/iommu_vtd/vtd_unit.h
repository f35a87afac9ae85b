// SPDX-License-Identifier: Apache-2.0
// VT-d DMA-remapping unit as a reusable SystemC module (Intel VT-d spec rev
// 3.x/4.x). The unit holds the sockets and the DMA path and wires its parts:
//   - the register map (vtd_regs.h) and the command registers: GCMD/GSTS
//     handshakes and register-based invalidation (vtd_commands.h);
//   - the fault recorder (vtd_fault_recorder.h) and three event interrupts,
//     fault, invalidation completion and page request (vtd_event.h), whose
//     MSIs are plain memory writes (iommu_common/msi_writer.h);
//   - the queued-invalidation engine (vtd_qi_engine.h) and the page request
//     queue (vtd_prq.h);
//   - protected memory regions (vtd_pmr.h), DMI grants (iommu_common/
//     dmi_tracker.h), the page splitter (iommu_common/page_splitter.h);
//   - the Translator (vtd_translator.h), which translates;
//   - the interrupt remapper (vtd_ir.h): with GSTS.IRES, interrupt requests
//     go through the IRTE table and its IEC, and the remapped interrupt goes
//     out on mem_out to the platform's interrupt controller.
//
// Sockets:
//   dma_in     (target)    upstream DMA from endpoints: untranslated, ATS
//                          translation requests and translated requests (the
//                          DmaExtension carries the attributes); PRI Page Request
//                          messages (TLM_IGNORE_COMMAND + PcieMessage).
//   mem_out    (initiator) downstream memory: translated DMA, table walks, QI
//                          descriptor fetches, wait-status, fault-free PRQ writes
//                          and MSIs (writes of the data register to the address
//                          registers).
//   mmio       (target)    the register window (payload address = offset).
//   devtlb_out (initiator) ATS Invalidate Requests and PRG Responses to endpoints
//                          (PcieMessage, routed by destination_id). The endpoint
//                          annotates its completion latency; no OK answer, or an
//                          answer later than devtlb_timeout, gives ITE.
//
// Timing: loosely timed. Every latency is a VtdParams field in unit-clock cycles;
// b_transport annotates the delay. Translations reserve one of
// `translation_slots` slots for their duration. The QI engine is an SC_THREAD
// that spends simulated time on every fetch, descriptor and device-TLB round
// trip. dma_in also takes the approximately-timed base protocol
// (nb_transport_fw, iommu_common/at_target.h): one thread per translation slot,
// END_REQ held while every slot is busy, the translation run in the blocking
// timing mode and BEGIN_RESP once the translated access completed downstream.
#pragma once

#include <cstdint>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/dma_extension.h"
#include "common/pcie_messages.h"
#include "common/register_map.h"
#include "common/stats.h"
#include "common/timing.h"
#include "common/trace.h"
#include "iommu_common/dmi_tracker.h"
#include "iommu_common/msi_writer.h"
#include "iommu_common/page_splitter.h"
#include "iommu_common/pcie_message_port.h"
#include "iommu_common/tlm_memory_port.h"
#include "iommu_common/at_target.h"
#include "iommu_common/translation_accounting.h"
#include "iommu_vtd/vtd_commands.h"
#include "iommu_vtd/vtd_event.h"
#include "iommu_vtd/vtd_fault_recorder.h"
#include "iommu_vtd/vtd_invalidation.h"
#include "iommu_vtd/vtd_ir.h"
#include "iommu_vtd/vtd_params.h"
#include "iommu_vtd/vtd_pmr.h"
#include "iommu_vtd/vtd_prq.h"
#include "iommu_vtd/vtd_qi_engine.h"
#include "iommu_vtd/vtd_regs.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

class VtdUnit : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<VtdUnit> dma_in;
  tlm_utils::simple_initiator_socket<VtdUnit> mem_out;
  tlm_utils::simple_target_socket<VtdUnit> mmio;
  tlm_utils::simple_initiator_socket<VtdUnit> devtlb_out;

  SC_HAS_PROCESS(VtdUnit);
  // Throws std::invalid_argument if params.validate() fails. Stats go in a group
  // named after the module (basename) under parent_stats.
  VtdUnit(sc_core::sc_module_name name, const VtdParams& params, StatGroup* parent_stats = nullptr,
          TraceWriter* trace = nullptr);

  const VtdParams& params() const { return params_; }
  const UnitLayout& layout() const { return layout_; }
  const Clock& clock() const { return clock_; }
  RegisterMap& registers() { return regs_; }
  Translator& translator() { return translator_; }
  InterruptRemapper& interrupt_remapper() { return ir_; }
  StatGroup& stats() { return stats_; }

  // Hardware reset: registers to reset values, caches emptied, QI idle, DMI revoked.
  void reset();

private:
  // Socket callbacks.
  void dma_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  tlm::tlm_sync_enum dma_nb_transport_fw(tlm::tlm_generic_payload& trans, tlm::tlm_phase& phase,
                                         sc_core::sc_time& delay) {
    return at_.nb_transport_fw(trans, phase, delay);
  }
  bool dma_get_dmi(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned dma_transport_dbg(tlm::tlm_generic_payload& trans);
  void mmio_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned mmio_transport_dbg(tlm::tlm_generic_payload& trans);
  void mem_invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end) { dmi_.downstream_revoked(start, end); }

  // Processes.
  void qi_thread() { qi_.run(); }
  void deferred_method() { commands_.complete_due(); }

  // DMA paths.
  [[gnu::noinline]] void message(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void ats_translation_request(tlm::tlm_generic_payload& trans, const DmaExtension& a, sc_core::sc_time& delay);
  [[gnu::always_inline]] inline void forward(tlm::tlm_generic_payload& trans, uint64_t addr, sc_core::sc_time& delay);
  [[gnu::always_inline]] inline XlateResult timed_translate(const XlateRequest& req, sc_core::sc_time& delay);
  // timed_translate() with a trace: the translation's slice, its walk and table reads, and its fault.
  [[gnu::noinline]] XlateResult traced_translate(const XlateRequest& req, const sc_core::sc_time& now,
                                                 sc_core::sc_time& delay);
  // The DMA path past the IOTLB-hit fast path (every address type but
  // translation requests).
  [[gnu::noinline]] void dma_translate(tlm::tlm_generic_payload& trans, const DmaExtension& a, bool write,
                                       sc_core::sc_time& delay);
  // Sends an untranslated DMA whose first page `first` maps, one access per
  // page it crosses, each page translated with `req` at its address.
  [[gnu::noinline]] void forward_pages(tlm::tlm_generic_payload& trans, XlateRequest req,
                                       const iommu::PageMapping& first, sc_core::sc_time& delay);
  void fault(tlm::tlm_generic_payload& trans, const XlateRequest& req, const XlateResult& r, AddressType at,
             sc_core::sc_time& delay);
  // The approximately-timed DMA path: one request in a
  // translation slot's thread, returning when its response is ready.
  void at_serve(tlm::tlm_generic_payload& trans);
  void at_translate_and_forward(tlm::tlm_generic_payload& trans, const DmaExtension& a);
  // An interrupt request (a write to the interrupt window) while IRES is set.
  void interrupt_request(tlm::tlm_generic_payload& trans, const DmaExtension& a, sc_core::sc_time& delay);

  VtdParams params_;
  UnitLayout layout_;
  CapFields cap_;
  EcapFields ecap_;
  Clock clock_;

  // The unit's own stats and the groups its parts fill, registered once in
  // report order; recording is an add.
  struct Stats {
    explicit Stats(StatGroup& unit);
    Counter& translations;
    Histogram& translation_latency;
    Counter& passthrough;
    Counter& pmr_blocked;
    Counter& interrupt_requests;
    StatGroup& faults;
    StatGroup& qi;
    Histogram& invalidation_latency;
    Counter& reg_invalidations;
    Counter& page_requests;
    Counter& prq_overflows;
    Counter& prq_auto_responses;
    Counter& ats_translation_requests;
    Counter& ats_failures;
    Counter& ats_translated;
    StatGroup& dmi;
    Counter& msis;
    StatGroup& ir;
  };
  StatGroup stats_;
  Stats counters_;

  sc_core::sc_time mmio_delay_;  // delay of the MMIO access being processed

  // The parts. Each process that reaches memory has its own port.
  VtdRegisterMap regs_;
  iommu::TlmMemoryPort walk_port_, qi_port_, prq_port_, msi_port_, ir_port_;
  iommu::PcieMessagePort messages_;
  iommu::MsiWriter msi_;
  EventInterrupt fault_event_, completion_event_, page_request_event_;
  FaultRecorder faults_;
  iommu::DmiTracker dmi_;
  Translator translator_;
  InterruptRemapper ir_;
  CacheInvalidator caches_;
  QiEngine qi_;
  PageRequestQueue prq_;
  ProtectedMemory pmr_;
  CommandRegisters commands_;
  // translation_slots, the latency histogram and the trace, per translation.
  iommu::TranslationAccounting accounting_;
  iommu::PageSplitter splitter_;
  const sc_core::sc_time pipeline_;
  const sc_core::sc_time fault_record_latency_;
  // dma_in's nb_transport_fw: END_REQ held while every translation slot is busy.
  iommu::AtTarget at_;
};

}  // namespace iommusim::vtd
