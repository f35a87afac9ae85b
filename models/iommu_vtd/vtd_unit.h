// VT-d DMA-remapping unit as a reusable SystemC module (Intel VT-d spec rev
// 3.x/4.x): the register file, GCMD/GSTS handshakes, register-based and queued
// invalidation, primary fault logging, the page request queue, ATS, optional
// DMI, and the MSIs (plain memory writes). Translation itself is done by the
// Translator (vtd_translator.h), which this unit owns and calls.
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
// trip.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>
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
#include "iommu_common/translation_slots.h"
#include "iommu_vtd/vtd_params.h"
#include "iommu_vtd/vtd_qi.h"
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
  ~VtdUnit() override;

  const VtdParams& params() const { return params_; }
  const UnitLayout& layout() const { return layout_; }
  const Clock& clock() const { return clock_; }
  RegisterMap& registers() { return regs_; }
  Translator& translator() { return *translator_; }
  StatGroup& stats() { return stats_; }

  // Hardware reset: registers to reset values, caches emptied, QI idle, DMI revoked.
  void reset();

private:
  class MemPort;
  // A register operation that completes after a latency (GCMD handshakes,
  // CCMD/IOTLB register invalidations).
  struct Deferred {
    enum class Kind : uint8_t { Te, Srtp, Sfl, Wbf, Qie, Ire, Sirtp, Cfi, Ccmd, Iotlb };
    sc_core::sc_time due;
    Kind kind;
    bool on;
    uint64_t a, b;
    sc_core::sc_time issued;
  };

  // Socket callbacks.
  void dma_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  bool dma_get_dmi(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  unsigned dma_transport_dbg(tlm::tlm_generic_payload& trans);
  void mmio_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  unsigned mmio_transport_dbg(tlm::tlm_generic_payload& trans);
  void mem_invalidate_dmi(sc_dt::uint64 start, sc_dt::uint64 end);

  // DMA paths.
  void ats_translation_request(tlm::tlm_generic_payload& trans, const DmaExtension& a,
                               sc_core::sc_time& delay);
  void page_request(tlm::tlm_generic_payload& trans, const PcieMessage& msg, sc_core::sc_time& delay);
  [[gnu::always_inline]] inline void forward(tlm::tlm_generic_payload& trans, uint64_t addr, sc_core::sc_time& delay);
  [[gnu::always_inline]] bool pmr_blocks(uint64_t addr, uint64_t len) const {
    if (!pmr_enabled_ || len == 0) return false;
    return pmr_blocks_slow(addr, len);
  }
  [[gnu::noinline]] bool pmr_blocks_slow(uint64_t addr, uint64_t len) const;
  [[gnu::always_inline]] inline XlateResult timed_translate(const XlateRequest& req, sc_core::sc_time& delay);
  // Slot reservation, delay, stats and trace of one translation that took `xd`
  // from local time `now`.
  [[gnu::always_inline]] inline void account_translation(const sc_core::sc_time& now, const sc_core::sc_time& xd,
                                                         sc_core::sc_time& delay, bool ok, uint64_t addr,
                                                         uint16_t sid);
  // The DMA path past the IOTLB-hit fast path (every address type but
  // translation requests). hit: the first page was translated already, to
  // hit_out in a page of hit_psize (the access crosses that page).
  [[gnu::noinline]] void dma_translate(tlm::tlm_generic_payload& trans, const DmaExtension& a, bool write,
                                       sc_core::sc_time& delay, bool hit = false, uint64_t hit_out = 0,
                                       uint64_t hit_psize = 0);
  void fault(tlm::tlm_generic_payload& trans, const XlateRequest& req, const XlateResult& r,
             AddressType at, sc_core::sc_time& delay);

  // Registers.
  void define_hooks();
  void on_gcmd(uint32_t written);
  void schedule(const Deferred& d);
  void deferred_method();
  void complete(const Deferred& d);
  void register_context_invalidation(uint64_t ccmd);
  void register_iotlb_invalidation(uint64_t cmd, uint64_t iva);

  // Events and MSIs (status register, control register, data, address, upper address).
  void raise_event(Register& ctl, Register& data, Register& addr, Register& uaddr);
  void event_control_written(Register& ctl, uint64_t old, Register& data, Register& addr,
                             Register& uaddr);
  void send_msi(Register& data, Register& addr, Register& uaddr);
  void fault_event();
  void update_fault_status();
  void record_fault(uint16_t sid, bool has_pasid, uint32_t pasid, bool priv, bool exe, bool write,
                    AddressType at, uint64_t addr, FaultReason reason, bool page_request = false);

  // Queued invalidation.
  void qi_thread();
  bool qi_runnable() const;
  void qi_error(uint32_t fsts_bit, Iqei iqei, uint16_t sid);
  void qi_process(const QiDescriptor& d, sc_core::sc_time fetch_start);
  bool devtlb_invalidate(const QiDescriptor& d);
  // The translation request for a DMA with these attributes.
  static XlateRequest request_for(const DmaExtension& a, uint64_t addr, bool write);
  // Sends msg_ext_ on devtlb_out (TLM_IGNORE_COMMAND, no data); returns the
  // endpoint's answer and adds its annotated time to `delay`.
  tlm::tlm_response_status send_message(uint64_t address, sc_core::sc_time& delay);
  void send_prg_response(uint16_t rid, bool has_pasid, uint32_t pasid, uint16_t prgi,
                         PrgResponseCode rc, sc_core::sc_time& delay);
  uint64_t qi_queue_bytes() const;

  // DMI.
  void invalidate_dmi(uint64_t start = 0, uint64_t end = ~0ull);

  // Memory helper on a given payload (no allocation); adds the access time to delay.
  bool mem_access(tlm::tlm_generic_payload& t, tlm::tlm_command cmd, uint64_t addr, void* buf,
                  unsigned len, sc_core::sc_time& delay);

  VtdParams params_;
  UnitLayout layout_;
  CapFields cap_;
  EcapFields ecap_;
  Clock clock_;
  StatGroup stats_;
  TraceWriter* trace_;
  int trace_track_ = 0;
  RegisterMap regs_;
  std::unique_ptr<MemPort> memport_;
  std::unique_ptr<Translator> translator_;
  iommu::TranslationSlots slots_;  // translation_slots: translations in flight
  // sc_time -> ns exactly as t.to_seconds() * 1e9, without the library call
  // (the time resolution, in fs, read once); falls back to to_seconds() if the
  // resolution could not be read back exactly.
  double ns(const sc_core::sc_time& t) const {
    if (res_fs_ > 0) return static_cast<double>(t.value()) * res_fs_ * 1e-15 * 1e9;
    return t.to_seconds() * 1e9;
  }
  double res_fs_ = 0;
  // The last translation latency sampled (raw sc_time value), in ns, and its
  // histogram bucket: IOTLB hits repeat one latency, so the conversion and the
  // bucket arithmetic run only when it changes.
  uint64_t lat_memo_raw_ = 0;
  double lat_memo_ns_ = 0;
  size_t lat_memo_bucket_ = 0;
  sc_core::sc_time pipeline_;
  sc_core::sc_time mmio_delay_;  // delay of the MMIO access being processed

  // Hot registers.
  Register* gsts_;
  Register* rtaddr_;
  Register* ccmd_;
  Register* fsts_;
  Register* fectl_;
  Register* fedata_;
  Register* feaddr_;
  Register* feuaddr_;
  Register* pmen_;
  Register* plmbase_;
  Register* plmlimit_;
  Register* phmbase_;
  Register* phmlimit_;
  Register* iqh_;
  Register* iqt_;
  Register* iqa_;
  Register* ics_;
  Register* iectl_;
  Register* iedata_;
  Register* ieaddr_;
  Register* ieuaddr_;
  Register* iqercd_;
  Register* pqh_;
  Register* pqt_;
  Register* pqa_;
  Register* prs_;
  Register* pectl_;
  Register* pedata_;
  Register* peaddr_;
  Register* peuaddr_;
  Register* iva_;
  Register* iotlb_;
  std::vector<Register*> frcd_lo_, frcd_hi_;

  bool te_ = false;          // GSTS.TES, cached for the hot path
  bool pmr_enabled_ = false; // PMEN.EPM, cached
  unsigned fault_next_ = 0;  // next FRCD slot hardware writes

  // Deferred register operations (handshakes, register invalidations).
  std::vector<Deferred> deferred_;
  sc_core::sc_event_queue deferred_eq_;

  // QI engine.
  sc_core::sc_event qi_kick_;
  sc_core::sc_time devtlb_done_at_;  // completion of the outstanding device-TLB invalidations

  // DMI bookkeeping.
  bool dmi_granted_ = false;

  // Payloads owned by the unit (never allocated per transaction).
  tlm::tlm_generic_payload walk_trans_, qi_trans_, msi_trans_, prq_trans_, msg_trans_;
  PcieMessage msg_ext_;

  // Stats (registered once; recording is an add).
  Counter& translations_;
  Histogram& translation_latency_;
  Counter& passthrough_;
  Counter& pmr_blocked_;
  Counter& interrupt_requests_;
  StatGroup& fault_stats_;
  Counter& faults_total_;
  Counter& faults_suppressed_;
  Counter& faults_overflow_;
  std::array<Counter*, 256> faults_by_reason_{};
  StatGroup& qi_stats_;
  std::array<Counter*, kQiTypeCount> qi_by_type_{};
  Counter& qi_iqe_;
  Counter& qi_ite_;
  Counter& qi_ice_;
  Histogram& inval_latency_;
  Counter& reg_invalidations_;
  Counter& page_requests_;
  Counter& prq_overflows_;
  Counter& prq_auto_responses_;
  Counter& ats_translation_requests_;
  Counter& ats_failures_;
  Counter& ats_translated_;
  Counter& dmi_grants_;
  Counter& dmi_invalidations_;
  Counter& msis_;
};

}  // namespace iommusim::vtd
