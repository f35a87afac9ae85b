// SPDX-License-Identifier: Apache-2.0
// The pSeries guest kernel's I/O side (after Linux arch/powerpc/platforms/
// pseries/iommu.c and eeh_pseries.c / kernel/eeh_driver.c): the TCE driver,
// which is the DMA API of the guest's PCI drivers (firmware/dma_api.h), and
// the EEH handler. It reaches the hypervisor only through hypercalls and RTAS
// calls on its CPU port, and learns tokens, BUIDs, config addresses and
// default windows from the device tree.
//
// TCE driver, per PE (the devices of a PE share its windows):
//   default  every map writes TCEs in window 0 (an IOVA allocator over its
//            TCEs, next fit): H_PUT_TCE for one page, H_PUT_TCE_INDIRECT
//            (up to 512 TCEs from a list page) for more; every unmap clears
//            them: H_PUT_TCE(0), or H_STUFF_TCE(0, n); the hypervisor kills;
//   ddw      at the first attach of a device of the PE (Linux enable_ddw, at
//            the driver's probe): ibm,query-pe-dma-window, ibm,create-pe-dma-window of the
//            largest I/O page the mask offers that fits the guest's RAM (or
//            the one tce.ddw_page_shift names) and a window covering RAM, and
//            all of RAM mapped once through it (H_PUT_TCE_INDIRECT); a map is
//            then base + physical address, with no hypercall. Fixed-address
//            maps still go to window 0.
//   A "reboot" (tce.reboot_after_maps): at the first map after that many maps
//   with no mapping outstanding, the driver resets its windows
//   (ibm,reset-pe-dma-window) and sets up DDW again with another page size,
//   as a new kernel with another layout would. Drivers keep running.
// EEH handler: a thread that takes the hypervisor's EEH events (and MMIO
// loads that read all ones), and recovers the PE: read-slot-reset-state2,
// slot-error-detail, thaw MMIO, thaw DMA, hot reset (hold, release, settle),
// configure-pe.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>
#include <systemc>

#include "common/architected_call.h"
#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/dma_api.h"
#include "firmware/page_allocator.h"
#include "firmware/pseries_hv.h"

namespace iommusim::fw {

#define IOMMUSIM_GUEST_TCE_PARAMS(P)                                                                           \
  P(std::string, mode, "tce.mode", "default", one_of({"default", "ddw"}), "",                                 \
    "default: map and unmap TCEs per I/O in window 0; ddw: one dynamic window mapping all RAM at boot",      \
    "default: the per-I/O path every pSeries guest has")                                                      \
  P(uint32_t, ddw_page_shift, "tce.ddw_page_shift", 0, in_range(0, 34), "",                                   \
    "ddw: log2 of the window's I/O page size (0: the largest the mask offers that fits RAM)",                 \
    "Linux iommu_get_page_shift: the largest page size the query offers")                                    \
  P(bool, batch, "tce.batch", true, boolean(), "",                                                            \
    "map several pages with H_PUT_TCE_INDIRECT and clear them with H_STUFF_TCE (else one H_PUT_TCE each)",     \
    "on: Linux tce_buildmulti_pSeriesLP / tce_freemulti_pSeriesLP")                                          \
  P(uint64_t, reboot_after_maps, "tce.reboot_after_maps", 0, in_range(0, 1ull << 40), "maps",                 \
    "reboot into another layout after this many maps, at the first map with none outstanding (0: never)",   \
    "never")                                                                                                  \
  P(uint32_t, reboot_page_shift, "tce.reboot_page_shift", 21, in_range(12, 34), "",                           \
    "the rebooted kernel's DDW I/O page size (log2)", "2M: another layout than the first kernel's")          \
  P(double, map_ns, "cpu.map_ns", 150, in_range(0, 1e9), "ns",                                                \
    "guest CPU per DMA map call besides its hypercalls (assumption)", "assumption: as the VT-d driver's")     \
  P(double, unmap_ns, "cpu.unmap_ns", 150, in_range(0, 1e9), "ns",                                           \
    "guest CPU per DMA unmap call besides its hypercalls (assumption)", "assumption: as the VT-d driver's")   \
  P(double, hcall_ns, "cpu.hcall_ns", 50, in_range(0, 1e9), "ns",                                             \
    "guest CPU per hypercall issued (arguments, sc 1) (assumption)", "assumption")                            \
  P(double, rtas_ns, "cpu.rtas_ns", 500, in_range(0, 1e9), "ns",                                              \
    "guest CPU per RTAS call issued (argument buffer, RTAS lock) (assumption)", "assumption")                  \
  P(double, eeh_step_ns, "eeh.step_ns", 1000, in_range(0, 1e9), "ns",                                         \
    "guest CPU per EEH recovery step besides its RTAS call (driver callbacks) (assumption)", "assumption")    \
  P(double, reset_hold_ns, "eeh.reset_hold_ns", 250e6, in_range(0, 1e12), "ns",                              \
    "EEH: how long the guest holds a PE reset", "Linux EEH_PE_RST_HOLD_TIME = 250 ms")                        \
  P(double, reset_settle_ns, "eeh.reset_settle_ns", 1800e6, in_range(0, 1e12), "ns",                          \
    "EEH: how long the guest waits after releasing a PE reset", "Linux EEH_PE_RST_SETTLE_TIME = 1800 ms")     \
  P(uint32_t, error_log_bytes, "eeh.error_log_bytes", 2048, in_range(16, 1u << 20), "bytes",                  \
    "EEH: the buffer given to ibm,slot-error-detail", "Linux RTAS_ERROR_LOG_MAX = 2048")

struct GuestParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_GUEST_TCE_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_GUEST_TCE_PARAMS, *this, p); }
};

class PseriesGuest : public sc_core::sc_module {
public:
  SC_HAS_PROCESS(PseriesGuest);
  // `ram`: the guest's memory (logical = real here); `tree`: the device tree
  // the hypervisor publishes, read once the firmware is up (`firmware_ready`).
  PseriesGuest(sc_core::sc_module_name name, const GuestParams& p, CpuPort& cpu, PageAllocator& alloc,
               const PseriesHypervisor& firmware, const IovaRange& ram, StatGroup* parent);
  ~PseriesGuest() override;

  // The DMA API of one device of the device tree (elaboration).
  DmaApi& dma_api(const std::string& device);
  bool ready() const { return ready_; }
  const sc_core::sc_event& ready_event() const { return ready_ev_; }
  const std::string& error() const { return error_; }

  // EEH: the hypervisor's event for a PE (its PE config address and BUID),
  // and a driver's MMIO load that read `value` (all ones: maybe frozen).
  void eeh_event(uint32_t pe_config_addr, uint64_t buid);
  void check_mmio(const std::string& device, uint64_t value, unsigned bytes);
  uint64_t recoveries() const { return recoveries_.value(); }
  StatGroup& stats() { return stats_; }

private:
  class TceApi;
  struct Window {
    uint32_t liobn = 0;
    uint64_t base = 0, size = 0;
    unsigned page_shift = 12;
    bool present() const { return size != 0; }
    bool contains(uint64_t iova, uint64_t bytes) const {
      return present() && iova >= base && bytes <= size && iova - base <= size - bytes;
    }
  };
  struct PeTce {
    uint64_t buid = 0;
    uint32_t config_addr = 0;  // of its first device
    Window def, ddw;
    std::vector<bool> used;    // TCEs of window 0 in use
    uint64_t cursor = 0;       // next-fit position
    uint64_t outstanding = 0;  // maps not yet unmapped
    bool ddw_tried = false;    // ddw mode: set up at the first attach
  };

  void boot_thread();
  std::string boot_pe(PeTce& pe);
  std::string setup_ddw(PeTce& pe, unsigned forced_shift);
  std::string direct_map(PeTce& pe);
  std::string reboot(PeTce& pe);
  // Calls (charged to the guest CPU; "" or what the status was).
  int64_t hcall(uint64_t opcode, std::vector<uint64_t> args, std::vector<uint64_t>* rets = nullptr);
  int64_t rtas(const char* name, std::vector<uint64_t> args, std::vector<uint64_t>* rets = nullptr);
  std::vector<uint64_t> pe_args(const PeTce& pe, std::vector<uint64_t> more = {}) const;
  std::string put_tces(const Window& w, uint64_t ioba, uint64_t first_tce, uint64_t pages);
  std::string clear_tces(const Window& w, uint64_t ioba, uint64_t pages);
  // The TCE driver's DMA API calls.
  std::string attach(PeTce& pe);
  std::string map(PeTce& pe, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed);
  std::string unmap(PeTce& pe, uint64_t iova, uint64_t size);
  bool alloc_iova(PeTce& pe, uint64_t pages, bool fixed, uint64_t* index);
  // EEH (pseries_guest_eeh.cc).
  void eeh_thread();
  std::string recover(uint32_t pe_config_addr, uint64_t buid);
  std::string wait_normal(const std::vector<uint64_t>& pe);

  GuestParams p_;
  CpuPort& cpu_;
  PageAllocator& alloc_;
  const PseriesHypervisor& firmware_;
  IovaRange ram_;
  std::map<uint32_t, std::unique_ptr<PeTce>> pes_;            // by default-window LIOBN
  std::map<std::string, std::unique_ptr<TceApi>> apis_;
  uint64_t list_page_ = 0;   // the TCE list of H_PUT_TCE_INDIRECT
  uint64_t log_buffer_ = 0;  // the ibm,slot-error-detail buffer
  uint64_t maps_ = 0;
  bool rebooted_ = false;
  bool ready_ = false;
  std::string error_;
  sc_core::sc_event ready_ev_;
  std::deque<std::pair<uint32_t, uint64_t>> eeh_queue_;
  sc_core::sc_event eeh_ev_;
  bool recovering_ = false;

  StatGroup stats_;
  Counter& hcalls_;
  Counter& hcall_failures_;
  Counter& rtas_calls_;
  Counter& rtas_failures_;
  Counter& direct_maps_;
  Counter& reboots_;
  Counter& eeh_events_;
  Counter& mmio_detections_;
  Counter& recoveries_;
  Counter& recovery_failures_;
  Histogram& recovery_ns_;
};

}  // namespace iommusim::fw
