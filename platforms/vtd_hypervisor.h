// SPDX-License-Identifier: Apache-2.0
// The hypervisor's side of a guest-visible VT-d (a vIOMMU), after QEMU's
// intel_iommu.c over VFIO/iommufd and the design of the qemu-devel/kvm thread
// "VT-d shared virtual memory for assigned devices" (September 2016):
//
//  - the guest's accesses to the vIOMMU register window trap (one VM exit
//    each, `vm_exit_ns`) and are emulated by a VtdUnit the hypervisor owns
//    (the emulated unit: caching mode on, its memory accesses in guest
//    physical space, so its tables, queues and status writes are the guest's);
//  - before a write of IQT reaches the emulated unit, the hypervisor parses
//    the guest's new descriptors from guest RAM (the unit's own decoder) and
//    replays them on the host unit through the host kernel's IOAS layer and
//    VT-d driver; only then does the emulated unit process them, so the
//    guest's wait descriptor completes after the host's invalidations did;
//  - two backings: `shadow` mirrors the guest's second-level tables into a
//    host IOAS (guest IOVA -> GPA composed with GPA -> HPA) on every guest
//    invalidation; `nested` copies the guest's first-level table pointer of a
//    PASID entry into a host nested domain (PGTT = 011b, VT-d 9.6) over a
//    host IOAS that maps GPA -> HPA, so the host unit walks the guest's first
//    level over the host's second level; guest second-level entries are
//    shadowed as under `shadow`;
//  - host faults of an assigned device are recorded in the emulated unit's
//    fault recording registers (its fault event is the guest's virtual MSI);
//    host page requests for a guest PASID are sent to the emulated unit as
//    page request messages (its page request event is the virtual MSI), and
//    the guest's page group response (QI type 9) is replayed on the host QI.
//
// Stats (group "virt"): VM exits by kind, replayed descriptors, replay time
// per IQT exit, shadow maps/unmaps, nested binds and flushes, injected
// faults and page requests, forwarded responses.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cpu_port.h"
#include "firmware/ioas.h"
#include "firmware/vtd_driver.h"
#include "iommu_vtd/vtd_qi.h"
#include "iommu_vtd/vtd_unit.h"
#include "platforms/vtd_guest_tables.h"

namespace iommusim::virt {

enum class Backing { None, Shadow, Nested };

#define IOMMUSIM_VIRT_PARAMS(P)                                                                                \
  P(Backing, backing, "backing", Backing::None,                                                                \
    one_of<Backing>({{"none", Backing::None}, {"shadow", Backing::Shadow}, {"nested", Backing::Nested}}), "",  \
    "none: the kernel runs on bare metal; shadow or nested: the endpoints belong to a guest whose vIOMMU the "  \
    "hypervisor backs with the host unit by shadowing its second level or by nesting its first level",        \
    "none: bare metal, as before")                                                                             \
  P(double, vm_exit_ns, "vm_exit_ns", 1500, in_range(0, 1e9), "ns",                                            \
    "one VM exit and re-entry for a trapped guest access to the vIOMMU registers (assumption)",               \
    "assumption: an MMIO exit handled in the host kernel, in the 1-2 us range published for KVM")             \
  P(double, desc_ns, "cpu.desc_ns", 100, in_range(0, 1e9), "ns",                                               \
    "hypervisor CPU time to parse and dispatch one guest invalidation descriptor (assumption)", "assumption") \
  P(double, leaf_ns, "cpu.leaf_ns", 50, in_range(0, 1e9), "ns",                                                \
    "hypervisor CPU time per guest second-level leaf compared while shadowing (assumption)", "assumption")    \
  P(uint64_t, guest_ram_base, "guest_ram_base", 0x100000000ull, address_up_to((1ull << 46) - 1), "address",    \
    "guest physical address of the guest kernel's RAM", "4 GiB: above the guest's PCI hole, as the host's")   \
  P(uint64_t, guest_ram_size, "guest_ram_size", 256ull << 20, in_range(1 << 20, 1ull << 40), "bytes",          \
    "size of the guest's RAM", "assumption: 256 MiB")                                                          \
  P(uint64_t, guest_ram_hpa, "guest_ram_hpa", 0x180000000ull, address_up_to((1ull << 46) - 1), "address",      \
    "host physical address the guest's RAM is backed by (its memslot)",                                       \
    "6 GiB: clear of the host kernel's RAM at its defaults")

struct VirtParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_VIRT_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_VIRT_PARAMS, *this, p); }
  bool enabled() const { return backing != Backing::None; }
};

class VirtualVtd : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<VirtualVtd> guest_mmio;     // the guest's accesses (payload address = offset)
  tlm_utils::simple_initiator_socket<VirtualVtd> unit_mmio;   // to the emulated unit's registers
  tlm_utils::simple_initiator_socket<VirtualVtd> unit_dma;    // page requests into the emulated unit
  tlm_utils::simple_target_socket<VirtualVtd> unit_messages;  // the emulated unit's device messages

  SC_HAS_PROCESS(VirtualVtd);
  // `hv_cpu`: the hypervisor's CPU (guest RAM is read through it, its work charged to it).
  VirtualVtd(sc_core::sc_module_name name, const VirtParams& p, vtd::VtdUnit& guest_unit, fw::CpuPort& hv_cpu,
             fw::IoasLayer& host_ioas, fw::VtdDriver& host_driver, StatGroup* parent_stats);

  // Elaboration: `device` (registered with the host IOAS layer) is assigned to
  // the guest; its host attachment is made once the host unit is up. `ats`:
  // the device takes ATS messages, so the host enables ATS for it (as Linux
  // does at attach for a device that has the capability: drivers/iommu/intel/
  // iommu.c, iommu_enable_pci_caps), whatever the guest later does.
  void assign(const std::string& device, uint16_t rid, bool ats);
  bool ready() const { return ready_; }
  const std::string& error() const { return error_; }
  GuestPhysView& guest_memory() { return guest_; }
  StatGroup& stats() { return stats_; }
  // The host IOAS that shadows `device`'s second level (0: none).
  uint32_t shadow_ioas(const std::string& device) const;
  uint64_t vm_exits() const { return exits_.value(); }

private:
  struct Nested {
    GuestEntry entry;   // the guest PASID entry last bound
    uint32_t hwpt = 0;  // the host nested domain
  };
  struct Assigned {
    std::string name;
    uint16_t rid = 0;
    bool ats = false;
    uint32_t shadow_ioas = 0;
    GuestEntry entry;                        // the guest entry the shadow follows
    std::map<uint64_t, GuestLeaf> shadow;    // by IOVA: what the host IOAS maps
    std::map<uint32_t, Nested> pasids;       // nested: bound guest PASIDs
  };

  void setup_thread();
  std::string attach_host(Assigned& a);
  void guest_access(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void unit_message(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // The guest's descriptors from the current tail up to `new_tail`, replayed.
  void replay_queue(uint64_t new_tail);
  void replay(const vtd::QiDescriptor& d);
  void replay_iotlb(const vtd::QiDescriptor& d);
  void replay_pasid_iotlb(const vtd::QiDescriptor& d);
  // The guest entry that decides `a`'s requests without PASID.
  GuestEntry guest_entry(const Assigned& a, uint32_t pasid);
  // Brings the shadow of [lo, hi] in line with the guest's tables.
  void shadow_sync(Assigned& a, uint64_t lo, uint64_t hi);
  void shadow_drop(Assigned& a, uint64_t lo, uint64_t hi);
  void nested_sync(Assigned& a, uint32_t pasid);
  void host_fault(const fw::FaultEvent& e);
  bool host_page_request(const fw::VtdDriver::PageRequest& pr);
  uint64_t reg(uint64_t offset) const;
  Assigned* assigned(uint16_t rid);

  VirtParams p_;
  vtd::VtdUnit& unit_;
  fw::CpuPort& cpu_;
  GuestPhysView guest_;
  fw::IoasLayer& host_ioas_;
  fw::VtdDriver& host_;
  const bool scalable_;
  vtd::QiCaps caps_;
  std::vector<Assigned> devices_;
  uint32_t s2_ioas_ = 0;  // nested: GPA -> HPA
  std::set<std::tuple<uint16_t, uint32_t, uint16_t>> outstanding_groups_;  // injected (rid, PASID, PRGI) awaiting the guest
  bool ready_ = false;
  std::string error_;
  sc_core::sc_event ready_ev_;
  tlm::tlm_generic_payload inject_;

  StatGroup stats_;
  Counter& exits_;
  Counter& exit_reads_;
  Counter& exit_writes_;
  Counter& exit_iqt_;
  Counter& descriptors_;
  Histogram& replay_ns_;
  Counter& shadow_maps_;
  Counter& shadow_unmaps_;
  Counter& shadow_unbacked_;
  Counter& shadow_errors_;
  Counter& nested_binds_;
  Counter& nested_flushes_;
  Counter& faults_injected_;
  Counter& prq_injected_;
  Counter& prq_responses_;
  Counter& messages_absorbed_;
};

}  // namespace iommusim::virt
