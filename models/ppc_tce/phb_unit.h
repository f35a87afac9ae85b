// SPDX-License-Identifier: Apache-2.0
// A POWER PCI host bridge (after the PHB4) as a reusable SystemC module: TCE
// translation of inbound DMA per partitionable endpoint (PE), TCE kills, and
// EEH freezing of PEs, programmed through its big-endian register window
// (phb_regs.h) and its in-memory tables (RTT, PELT-V, PEST, TCE tables).
//
// Sockets:
//   dma_in   (target)    inbound DMA from the endpoints (DmaExtension: requester
//                        id); writes to the 64-bit MSI region (address bits
//                        63:60 = 1) are interrupts, passed through untranslated
//   mem_out  (initiator) system memory: translated DMA, RTT / PELT-V / TCE
//                        reads, PEST writes, MSIs and the error interrupt
//   regs     (target)    the register window (payload address = offset)
//   mmio_in  (target)    outbound MMIO from the CPU to the PEs' BARs, at CPU
//                        addresses (map it non-relative): the M32 window
//                        (PHB_M32_BASE_ADDR / MASK) split into num_pes segments,
//                        each owned by the PE its MDT entry names
//   mmio_out (initiator) the same accesses on to the endpoints
//
// EEH: a DMA that names no window, meets an invalid TCE or one that denies it
// freezes its PE and every PE of its PELT-V row: their PESTA.MMIO_FROZEN and
// PESTB.DMA_STOPPED bits are set, the cause is logged in the PE's PEST entry
// in memory, and the error interrupt is written (PHB_INT_NOTIFY_INDEX to
// PHB_INT_NOTIFY_ADDR, a plain MSI write). While DMA is stopped, DMA writes
// (and MSIs) are dropped and DMA reads are refused; while MMIO is frozen,
// loads from the PE's segment read all ones and stores are dropped. Software
// thaws MMIO and DMA separately by clearing the bits through PHB_IODA_DATA0.
//
// TCE kill: the cached TCEs are dropped when PHB_TCE_KILL is written, and
// its kill bits read back as set for kill_latency (queued behind a kill still
// running), so a DMA that starts after the kill has completed can never use a
// killed TCE (one that starts during the kill does not either).
#pragma once

#include <cstdint>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/register_map.h"
#include "common/stats.h"
#include "common/timing.h"
#include "common/trace.h"
#include "iommu_common/dmi_tracker.h"
#include "iommu_common/msi_writer.h"
#include "iommu_common/page_splitter.h"
#include "iommu_common/tlm_memory_port.h"
#include "iommu_common/translation_accounting.h"
#include "ppc_tce/phb_params.h"
#include "ppc_tce/phb_regs.h"
#include "ppc_tce/phb_translator.h"

namespace iommusim::ppc {

class PhbUnit : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<PhbUnit> dma_in;
  tlm_utils::simple_initiator_socket<PhbUnit> mem_out;
  tlm_utils::simple_target_socket<PhbUnit> regs;
  tlm_utils::simple_target_socket<PhbUnit> mmio_in;
  tlm_utils::simple_initiator_socket<PhbUnit> mmio_out;

  // Throws std::invalid_argument if params.validate() fails. Stats in a group
  // named after the module under parent_stats.
  PhbUnit(sc_core::sc_module_name name, const PhbParams& params, StatGroup* parent_stats = nullptr,
          TraceWriter* trace = nullptr);

  const PhbParams& params() const { return params_; }
  RegisterMap& registers() { return regs_; }
  PhbTranslator& translator() { return xlate_; }
  StatGroup& stats() { return stats_; }
  uint8_t pe_state(uint16_t pe) const { return xlate_.pe_state(pe); }
  uint64_t freezes() const { return counters_.freezes.value(); }

  // Hardware reset: registers, tables and caches cleared, every PE thawed, DMI revoked.
  void reset();

private:
  struct Stats {
    explicit Stats(StatGroup& unit);
    Histogram& translation_latency;
    Counter& msis;
    Counter& unsupported;        // ATS, PASID-tagged or message requests
    StatGroup& faults;
    Counter* by_status[8];       // per DmaStatus (Ok unused)
    StatGroup& eeh;
    Counter& freezes;
    Counter& dma_writes_dropped;
    Counter& dma_reads_refused;
    Counter& msis_dropped;
    Counter& mmio_loads_all_ones;
    Counter& mmio_stores_dropped;
    Counter& pest_writes;
    Counter& error_interrupts;
    Histogram& frozen_ns;
    StatGroup& kill;
    Counter& kills_all;
    Counter& kills_pe;
    Counter& kills_one;
    Counter& killed_entries;
    Histogram& kill_latency;
    Counter& mmio_accesses;
    Counter& mmio_unmapped;
    Counter& ioda_errors;
    StatGroup& dmi;
  };

  // DMA.
  void dma_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  bool dma_get_dmi(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi);
  void msi(tlm::tlm_generic_payload& t, uint16_t rid, sc_core::sc_time& delay);
  DmaTranslation timed_translate(uint16_t rid, uint64_t addr, bool write, sc_core::sc_time& delay);
  // The same with a trace: one slice named for how the TCE cache answered, the walk inside it.
  DmaTranslation traced_translate(uint16_t rid, uint64_t addr, bool write, const sc_core::sc_time& arrive,
                                  const sc_core::sc_time& start, iommu::TimingPolicy& cost, sc_core::sc_time& took,
                                  sc_core::sc_time& delay);
  // Answers a refused access (and freezes the PE when the cause is an error of its own).
  void refuse(tlm::tlm_generic_payload& t, const DmaTranslation& r, uint16_t rid, bool write, sc_core::sc_time& delay);
  void forward(tlm::tlm_generic_payload& t, uint64_t out, sc_core::sc_time& delay);
  // Forwards an access whose first I/O page is translated (`first`), page by page.
  void forward_pages(tlm::tlm_generic_payload& t, uint16_t rid, bool write, const iommu::PageMapping& first,
                     sc_core::sc_time& delay);
  void freeze(const DmaTranslation& r, uint16_t rid, uint64_t addr, bool write, sc_core::sc_time& delay);
  std::vector<uint16_t> freeze_group(uint16_t pe, iommu::TimingPolicy& cost);
  void log_error(const DmaTranslation& r, uint16_t rid, uint64_t addr, bool write, iommu::TimingPolicy& cost);
  void set_state(uint16_t pe, uint8_t state, const sc_core::sc_time& now);

  // Registers.
  void regs_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void hook_registers();
  void kill(uint64_t value);
  uint64_t kill_status() const;
  uint64_t ioda_read();
  void ioda_write(uint64_t value);
  void ioda_step();

  // Outbound MMIO.
  void mmio_b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  bool mmio_pe(uint64_t addr, uint16_t* pe) const;

  void downstream_revoked(sc_dt::uint64 start, sc_dt::uint64 end) { dmi_.downstream_revoked(start, end); }

  PhbParams params_;
  Clock clock_;
  StatGroup stats_;
  Stats counters_;
  RegisterMap regs_;
  Register& ioda_addr_;
  iommu::TlmMemoryPort walk_port_, msi_port_;
  iommu::MsiWriter error_irq_;
  PhbTranslator xlate_;
  iommu::DmiTracker dmi_;
  iommu::TranslationAccounting accounting_;
  TraceScope eeh_trace_;                     // "<phb>.eeh": freezes and the time each PE stayed frozen
  iommu::PageSplitter splitter_;
  std::vector<uint64_t> mdt_;
  std::vector<sc_core::sc_time> frozen_since_;
  sc_core::sc_time reg_now_;                 // local time of the register access being processed
  sc_core::sc_time kill_done_ = sc_core::SC_ZERO_TIME;
  uint64_t kill_bits_ = 0;                   // kill bits of the last kill, set until kill_done_
  const sc_core::sc_time pipeline_, kill_latency_, mmio_latency_, freeze_latency_;
};

}  // namespace iommusim::ppc
