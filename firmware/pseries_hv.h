// SPDX-License-Identifier: Apache-2.0
// The pSeries hypervisor (firmware): the target of the guest CPU's
// architected calls (PAPR hypercalls and RTAS calls, common/architected_call.h),
// the owner of the PCI host bridges through their drivers (phb_driver.h), and
// an IOAS-layer user (ioas.h), as a VFIO/iommufd user space is:
//
//   - at bring-up every PE with devices gets an IOAS, its devices are attached
//     to it and so to a default domain: window 0 only, 2 GiB of 4K pages;
//   - H_PUT_TCE / H_STUFF_TCE / H_PUT_TCE_INDIRECT become IOAS maps and unmaps
//     of the PE's IOAS (one per TCE; the bridge's kills of a multi-TCE call are
//     batched into one), checked argument by argument with the LoPAPR return
//     codes; H_GET_TCE answers from the TCEs the guest put;
//   - the DDW RTAS calls become IOAS window operations: the PHB driver builds
//     the PE's new layout and switches its TVEs to it in one step;
//   - EEH: the bridge's error interrupt makes the PHB driver report the frozen
//     PE once per device; the IOAS layer folds them into one event with one
//     serial, which the hypervisor passes to the guest once; the EEH RTAS calls
//     become IOAS recovery steps, through any device of the PE.
//
// The guest finds RTAS tokens, its devices' config addresses, BUIDs and
// default windows in the device tree the hypervisor publishes (a struct here).
// Calls serialize on one hypervisor lock; every call's time passes in the
// calling guest thread (the hypervisor waits out the guest's pending time,
// then its own).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/architected_call.h"
#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/page_allocator.h"
#include "firmware/phb_driver.h"

namespace iommusim::fw {

#define IOMMUSIM_HV_PARAMS(P)                                                                                  \
  P(double, hcall_ns, "cpu.hcall_ns", 300, in_range(0, 1e9), "ns",                                            \
    "hypervisor time per hypercall besides its TCE work (trap, dispatch, return)",                            \
    "assumption: a fraction of a microsecond, as KVM's real-mode TCE hcalls")                                 \
  P(double, rtas_ns, "cpu.rtas_ns", 2000, in_range(0, 1e9), "ns",                                             \
    "hypervisor time per RTAS call besides the work it does", "assumption: RTAS calls are slower than hcalls") \
  P(double, tce_check_ns, "cpu.tce_check_ns", 10, in_range(0, 1e9), "ns",                                     \
    "hypervisor time to check one TCE argument", "assumption")                                                \
  P(double, guest_notify_ns, "guest_notify_ns", 5000, in_range(0, 1e12), "ns",                                \
    "an EEH event until the guest's handler runs (virtual interrupt)", "assumption")

struct HvParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_HV_PARAMS)
  PhbDriverParams phb;  // under phb.
  void declare(ParamList& p) {
    IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_HV_PARAMS, *this, p);
    ParamList s = p.scope("phb");
    phb.declare(s);
  }
};

// What the guest learns from the device tree.
struct DeviceTreeDevice {
  std::string name;
  uint64_t buid = 0;          // its PHB (ibm,...-pe-dma-window and EEH calls name it)
  uint32_t config_addr = 0;   // bus << 16 | devfn << 8
  uint16_t rid = 0;
  uint32_t liobn = 0;         // "ibm,dma-window": the default window's LIOBN, base and size
  uint64_t window_base = 0;
  uint64_t window_size = 0;
  unsigned page_shift = 12;
};
struct DeviceTree {
  std::map<std::string, uint32_t> rtas_tokens;  // /rtas: name -> token
  std::vector<DeviceTreeDevice> devices;        // in the order added; add() them
  void add(DeviceTreeDevice d);
  // By name, or nullptr. Indexed: each device's bring-up and EEH look
  // themselves up, which a scan made quadratic in the devices (issue 12).
  const DeviceTreeDevice* device(const std::string& name) const;
  DeviceTreeDevice* device(const std::string& name);

private:
  std::unordered_map<std::string, size_t> by_name_;  // index in devices
};

class PseriesHypervisor : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<PseriesHypervisor> calls;

  SC_HAS_PROCESS(PseriesHypervisor);
  // `cpu`: the hypervisor's own CPU port (RAM and the bridges' registers);
  // `partition`: the guest's logical memory (its addresses are real here).
  PseriesHypervisor(sc_core::sc_module_name name, const HvParams& p, CpuPort& cpu, PageAllocator& alloc,
                    const IovaRange& partition, StatGroup* parent);
  ~PseriesHypervisor() override;

  // Elaboration: a bridge, and a device of PE `pe` on bridge `phb`.
  PhbDriver& add_phb(const PhbPlacement& where);
  void add_device(const std::string& name, unsigned phb, uint16_t rid, uint16_t pe);
  PhbDriver& phb(unsigned i) { return *phbs_.at(i); }
  static uint64_t buid(unsigned phb) { return 0x800000020000000ull + phb; }  // QEMU SPAPR_PCI_BASE_BUID

  bool ready() const { return ready_; }
  const sc_core::sc_event& ready_event() const { return ready_ev_; }
  const std::string& error() const { return error_; }
  const DeviceTree& device_tree() const { return tree_; }
  IoasLayer& ioas() { return ioas_; }
  // Trace: each hcall and RTAS call on track "hv" (its architected name, the
  // return code), the IOAS layer's maps and unmaps on "hv.ioas".
  void set_trace(TraceWriter* writer);
  // The guest's EEH notification: (PE config address, BUID), once per event.
  void on_guest_eeh(std::function<void(uint32_t, uint64_t)> cb) { guest_eeh_ = std::move(cb); }
  StatGroup& stats() { return stats_; }

private:
  // What a LIOBN, or a (config address, BUID) pair, names.
  struct Target {
    PhbDriver* phb = nullptr;
    unsigned phb_index = 0;
    uint16_t pe = 0;
    uint32_t ioas = 0;
    std::string device;         // a device of the PE (recovery goes through it)
    DmaWindow window;           // LIOBN targets only
  };

  void bringup_thread();
  std::string bring_up_pe(unsigned phb, uint16_t pe);
  void notify_thread();
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  void dispatch(ArchitectedCall& call);

  // Hypercalls (pseries_hv_hcalls.cc).
  int64_t hcall(ArchitectedCall& c);
  int64_t h_put_tce(const std::vector<uint64_t>& a);
  int64_t h_get_tce(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets);
  int64_t h_stuff_tce(const std::vector<uint64_t>& a);
  int64_t h_put_tce_indirect(const std::vector<uint64_t>& a);
  bool liobn_target(uint64_t liobn, Target* t);
  int64_t check_range(const Target& t, uint64_t ioba, uint64_t count);
  int64_t check_tce(const Target& t, uint64_t tce);
  std::string apply_tce(const Target& t, uint64_t ioba, uint64_t tce);

  // RTAS (pseries_hv_rtas.cc).
  int64_t rtas(ArchitectedCall& c);
  bool pe_target(const std::vector<uint64_t>& a, Target* t);
  int64_t rtas_query(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets);
  int64_t rtas_create(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets);
  int64_t rtas_remove(const std::vector<uint64_t>& a);
  int64_t rtas_reset_windows(const std::vector<uint64_t>& a);
  int64_t drop_window_tces(const Target& t, const DmaWindow& w);
  int64_t rtas_set_eeh_option(const std::vector<uint64_t>& a);
  int64_t rtas_read_state(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets);
  int64_t rtas_set_slot_reset(const std::vector<uint64_t>& a);
  int64_t rtas_configure_pe(const std::vector<uint64_t>& a);
  int64_t rtas_error_detail(const std::vector<uint64_t>& a);
  int64_t rtas_config_info(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets);
  void guest_event(const std::string& device, const PeErrorEvent& e);
  bool in_partition(uint64_t pa, uint64_t len) const;

  HvParams p_;
  CpuPort& cpu_;
  PageAllocator& alloc_;
  IovaRange partition_;
  IoasLayer ioas_;
  TraceScope trace_;
  sc_core::sc_mutex lock_;
  std::vector<std::unique_ptr<PhbDriver>> phbs_;
  std::map<std::pair<unsigned, uint16_t>, uint32_t> pe_ioas_;   // (phb, pe) -> IOAS
  std::map<std::pair<unsigned, uint16_t>, bool> eeh_enabled_;
  // The TCEs the guest put, by (LIOBN, I/O bus address): what H_GET_TCE returns.
  std::map<uint32_t, std::unordered_map<uint64_t, uint64_t>> shadow_;
  DeviceTree tree_;
  bool ready_ = false;
  std::string error_;
  sc_core::sc_event ready_ev_;
  std::function<void(uint32_t, uint64_t)> guest_eeh_;
  struct Notice {
    sc_core::sc_time at;
    uint32_t pe_config_addr;
    uint64_t buid;
  };
  std::deque<Notice> notices_;
  std::map<std::pair<unsigned, uint16_t>, uint64_t> notified_serial_;
  sc_core::sc_event notice_ev_;

  StatGroup stats_;
  StatGroup& hcalls_;
  StatGroup& rtas_calls_;
  std::map<uint64_t, Counter*> hcall_count_;
  std::map<uint32_t, Counter*> rtas_count_;
  std::map<uint32_t, std::string> rtas_names_;   // token -> name
  Counter& hcall_ok_;
  Counter& hcall_parameter_;
  Counter& hcall_hardware_;
  Counter& hcall_function_;
  Counter& rtas_errors_;
  Counter& tces_put_;
  Counter& guest_notices_;
};

}  // namespace iommusim::fw
