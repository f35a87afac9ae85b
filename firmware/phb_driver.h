// SPDX-License-Identifier: Apache-2.0
// The hypervisor's driver of one PCI host bridge (after Linux
// arch/powerpc/platforms/powernv/pci-ioda.c and skiboot hw/phb4.c): it
// programs the bridge only through its big-endian register window (through
// the hypervisor's CPU port) and tables in the hypervisor's RAM, and is the
// IommuBackend of the hypervisor's IOAS layer with four capabilities:
//
//   paging          a domain is a set of DMA windows, each a TCE table tree;
//                   attaching a PE points its two TVEs at the domain's windows
//                   (and kills the PE's cached TCEs); map/unmap write TCEs and
//                   kill them (one page, or the PE when more than one page or a
//                   page size the kill register cannot name);
//   DMA windows     PAPR DDW per PE: window 0 (the default, at bus address 0)
//                   and window 1 (at 2^59): query, create (a new table set for
//                   the PE's new layout, switched to in one TVT update + kill),
//                   remove, reset (back to the default window);
//   error recovery  PAPR EEH per PE: its state from PESTA/PESTB (and the reset
//                   the driver asserted), thaw MMIO, thaw DMA (after MMIO),
//                   hot/fundamental reset and its release; frozen PEs are found
//                   on the bridge's error interrupt and reported to the IOAS
//                   layer once per device of the PE.
//
// Bring-up (bring_up(), from the hypervisor's thread): RTT, PELT-V (each PE
// in its own row) and PEST in RAM, their BARs, the M32 window with one MDT
// segment per PE, the error interrupt's address and data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/page_allocator.h"
#include "firmware/tce_tables.h"

namespace iommusim::fw {

#define IOMMUSIM_PHB_DRIVER_PARAMS(P)                                                                          \
  P(uint64_t, default_window, "default_window", 2ull << 30, in_range(1ull << 20, 1ull << 40), "bytes",         \
    "size of every PE's default DMA window (window 0 at bus address 0, 4K pages)",                            \
    "2 GiB: the low window of a PAPR PE (\"iommufd: vfio container FD ioctl compatibility\", linux-iommu, "   \
    "April 2022)")                                                                                            \
  P(uint32_t, default_levels, "default_levels", 1, in_range(1, 5), "levels",                                  \
    "TCE table levels of a default window", "one level: a 4 MiB table covers 2 GiB of 4K pages")               \
  P(uint32_t, ddw_levels, "ddw_levels", 2, in_range(1, 5), "levels", "TCE table levels of a dynamic window",   \
    "Linux powernv POWERNV_IOMMU_DEFAULT_LEVELS = 2")                                                         \
  P(uint64_t, largest_block, "ddw.largest_block", 1ull << 31, in_range(1, 1ull << 47), "TCEs",                 \
    "most TCEs a new window may have (ibm,query-pe-dma-window's largest block)",                             \
    "QEMU spapr_rtas_ddw.c reports 0x80000000")                                                               \
  P(double, poll_ns, "poll_ns", 20, in_range(1, 1e9), "ns", "interval of TCE kill polling", "assumption")       \
  P(double, kill_timeout_ns, "kill_timeout_ns", 1e6, in_range(1, 1e12), "ns",                                 \
    "give up on a TCE kill whose bits do not clear (H_HARDWARE)", "assumption")                               \
  P(double, tce_ns, "cpu.tce_ns", 20, in_range(0, 1e9), "ns", "CPU per TCE written or cleared", "assumption")  \
  P(double, switch_ns, "cpu.switch_ns", 1000, in_range(0, 1e9), "ns",                                          \
    "CPU per PE window-layout switch (TVT update and bookkeeping)", "assumption")                            \
  P(double, error_irq_ns, "cpu.error_irq_ns", 2000, in_range(0, 1e9), "ns",                                    \
    "CPU per bridge error interrupt (status read, PE scan, log read)", "assumption")                          \
  P(double, reset_ns, "eeh.reset_ns", 10000, in_range(0, 1e12), "ns",                                         \
    "asserting or releasing a PE's reset (secondary bus reset)", "assumption")                                \
  P(double, unavailable_ns, "eeh.unavailable_ns", 100000, in_range(0, 1e12), "ns",                            \
    "a PE stays unavailable (state 5) this long after its reset is released (link retraining)", "assumption") \
  P(double, configure_ns, "eeh.configure_ns", 50000, in_range(0, 1e12), "ns",                                 \
    "ibm,configure-pe: the PE's bridges and BARs restored", "assumption")

struct PhbDriverParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PHB_DRIVER_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PHB_DRIVER_PARAMS, *this, p); }
};

// Where the bridge sits and what the platform gives it.
struct PhbPlacement {
  unsigned index = 0;          // the hypervisor's PHB number (LIOBNs carry it)
  uint64_t regs = 0;           // CPU address of the register window
  uint64_t m32_base = 0;       // CPU address and size (a power of two) of its MMIO window
  uint64_t m32_size = 0;
  unsigned num_pes = 512;      // the bridge's PEs
  uint64_t error_notify = 0;   // where its error interrupt is written, and the data
  uint32_t error_data = 0;
};

class PhbDriver : public IommuBackend, public IommuPaging, public IommuDmaWindows, public IommuErrorRecovery {
public:
  // `lock`: the hypervisor's lock, taken by the error-interrupt path (the
  // call paths hold it already).
  PhbDriver(const std::string& name, const PhbDriverParams& p, const PhbPlacement& where, CpuPort& cpu,
            PageAllocator& alloc, IoasLayer& ioas, sc_core::sc_mutex& lock, StatGroup* parent);
  ~PhbDriver() override;

  // Before bring-up: a device of `pe`.
  void add_device(const std::string& name, uint16_t rid, uint16_t pe);
  std::string bring_up();
  // Machine reset (the hypervisor's bring-up, before the partition runs):
  // the default windows built meanwhile clear their tables untimed
  // (TceTable::create). The guest's own calls later (DDW create, reset) are
  // timed.
  void set_machine_reset(bool on) { machine_reset_ = on; }
  const PhbPlacement& placement() const { return where_; }

  // The bridge's error interrupt (the platform's interrupt controller calls
  // it); error_thread() serves it (an SC_THREAD the hypervisor spawns).
  void error_interrupt() { error_ev_.notify(sc_core::SC_ZERO_TIME); }
  void error_thread();
  // The PEST log of the PE's last freeze (16 bytes), or empty.
  const std::vector<uint8_t>& error_log(uint16_t pe) const;
  void clear_error_log(uint16_t pe);

  // The LIOBN of a PE's window (TVE 0 or 1), and back.
  uint32_t liobn(uint16_t pe, unsigned tve) const;
  bool window_of(uint32_t liobn, uint16_t* pe, unsigned* tve) const;
  // The window a LIOBN names now (false: none).
  bool window(uint32_t liobn, DmaWindow* out) const;
  // The PEs with devices, and the devices of one.
  std::vector<uint16_t> pes() const;
  const std::vector<std::string>& devices(uint16_t pe) const;
  const std::vector<uint16_t>& rids(uint16_t pe) const;

  // ---- IommuBackend ----
  std::string backend_name() const override { return name_; }
  uint64_t aperture_last() const override { return ~0ull; }
  IommuPaging* as_paging() override { return this; }
  IommuDmaWindows* as_dma_windows() override { return this; }
  IommuErrorRecovery* as_error_recovery() override { return this; }
  // IommuPaging
  std::string domain_alloc(uint32_t* handle) override;
  void domain_free(uint32_t handle) override;
  std::string domain_map(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) override;
  std::string domain_unmap(uint32_t handle, uint64_t iova, uint64_t size) override;
  std::string attach_device(const Requester& pe, uint32_t handle) override;
  // IommuDmaWindows
  std::string query_windows(const Requester& pe, DmaWindowQuery* out) override;
  std::string create_window(const Requester& pe, unsigned page_shift, uint64_t size, DmaWindow* out) override;
  std::string remove_window(const Requester& pe, uint32_t liobn) override;
  std::string reset_windows(const Requester& pe) override;
  // IommuErrorRecovery
  std::string pe_state(const Requester& pe, PeState* out) override;
  std::string recover_pe(const Requester& pe, PeRecovery step) override;

  // TCE writes between these kill once per PE at the end (a hypercall that
  // changes many TCEs, as KVM kills once after H_PUT_TCE_INDIRECT).
  void begin_batch() { batching_ = true; }
  std::string end_batch();

  StatGroup& stats() { return stats_; }
  uint64_t table_pages() const;

private:
  struct Window {
    unsigned tve = 0;
    uint64_t base = 0, size = 0;
    bool is_default = false;
    std::shared_ptr<TceTable> table;  // shared by the layouts that keep the window
  };
  struct Domain {
    std::vector<Window> windows;
    std::set<uint16_t> pes;
  };
  struct Pe {
    std::vector<std::string> devices;
    std::vector<uint16_t> rids;
    uint32_t domain = 0;
    bool reset_asserted = false;
    sc_core::sc_time available_at = sc_core::SC_ZERO_TIME;
    bool reported = false;        // its freeze was reported to the IOAS layer
    std::vector<uint8_t> log;     // the PEST entry of its last freeze
  };

  // Registers and IODA tables.
  void reg_wr(uint64_t offset, uint64_t v);
  uint64_t reg_rd(uint64_t offset);
  void ioda_wr(unsigned table, unsigned index, uint64_t v);
  uint64_t ioda_rd(unsigned table, unsigned index);
  std::string kill(uint64_t value);
  std::string kill_pages(uint16_t pe, uint64_t addr, uint64_t pages, unsigned page_shift);
  std::string program_tables();
  // Windows and layouts.
  std::string new_window(unsigned tve, uint64_t base, uint64_t size, unsigned page_shift, unsigned levels,
                         bool is_default, Window* out);
  std::string switch_layout(uint16_t pe, std::vector<Window> windows);
  std::string program_tves(uint16_t pe, const Domain& d);
  Window* window_at(Domain& d, uint64_t iova, uint64_t size);
  std::string write_tces(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, uint64_t perm_bits);
  std::string pe_of(const Requester& r, Pe** out);
  DmaWindow window_info(uint16_t pe, const Window& w) const;
  PeState state_now(uint16_t pe, const Pe& info);
  void serve_error_interrupt();

  std::string name_;
  PhbDriverParams p_;
  PhbPlacement where_;
  CpuPort& cpu_;
  PageAllocator& alloc_;
  IoasLayer& ioas_;
  sc_core::sc_mutex& lock_;
  sc_core::sc_event error_ev_;
  uint64_t rtt_ = 0, peltv_ = 0, pest_ = 0;
  std::map<uint16_t, Pe> pes_;
  std::map<uint32_t, Domain> domains_;
  uint32_t next_handle_ = 1;
  struct PendingKill {
    uint64_t addr = 0, pages = 0;
    unsigned page_shift = 12;
  };
  bool batching_ = false;
  bool machine_reset_ = false;
  std::map<uint16_t, PendingKill> pending_kills_;
  std::vector<uint8_t> no_log_;
  std::vector<std::string> no_devices_;
  std::vector<uint16_t> no_rids_;

  StatGroup stats_;
  Counter& tces_written_;
  Counter& tces_cleared_;
  Counter& kills_page_;
  Counter& kills_pe_;
  Counter& kill_timeouts_;
  Histogram& kill_wait_;
  Counter& switches_;
  Counter& windows_created_;
  Counter& windows_removed_;
  Counter& error_irqs_;
  Counter& pe_errors_reported_;
  Counter& table_pages_freed_;
};

}  // namespace iommusim::fw
