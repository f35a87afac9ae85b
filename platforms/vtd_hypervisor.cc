// SPDX-License-Identifier: Apache-2.0
#include "platforms/vtd_hypervisor.h"

#include <cstring>

#include "common/byte_order.h"
#include "common/pcie_messages.h"
#include "iommu_vtd/vtd_regs.h"

namespace iommusim::virt {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint64_t kAllIovas = ~0ull;
// Guest leaves shadowed per sync at most: tables that alias each other could
// name billions; what is beyond stays unmapped (its DMA faults). Assumption:
// 4 GiB of 4 KiB pages.
constexpr size_t kMaxShadowLeaves = 1u << 20;
constexpr uint32_t kRidPasid = 0;  // the PASID the guest driver gives requests without one (context RID_PASID)
// PASID-based IOTLB invalidation granularity 11b: page-selective within a PASID (VT-d 6.5.2.4).
constexpr unsigned kPasidIotlbPage = 3, kPasidCacheSelective = 1;
// IOTLB invalidation granularity (VT-d 6.5.2.3): 01b global, 11b page-selective within a domain.
constexpr unsigned kIotlbGlobal = 1, kIotlbPage = 3;
}  // namespace

VirtualVtd::VirtualVtd(sc_core::sc_module_name name, const VirtParams& p, vtd::VtdUnit& guest_unit,
                       fw::CpuPort& hv_cpu, fw::IoasLayer& host_ioas, fw::VtdDriver& host_driver,
                       StatGroup* parent_stats)
    : sc_module(name),
      p_(p),
      unit_(guest_unit),
      cpu_(hv_cpu),
      guest_(hv_cpu, p.guest_ram_base, p.guest_ram_size, p.guest_ram_hpa),
      host_ioas_(host_ioas),
      host_(host_driver),
      scalable_(guest_unit.params().scalable()),
      caps_(vtd::QiCaps::of(guest_unit.layout().cap_fields(), guest_unit.layout().ecap_fields())),
      stats_("virt", parent_stats),
      exits_(stats_.counter("vm_exits", "VM exits: guest accesses to the vIOMMU registers, each trapped")),
      exit_reads_(stats_.counter("vm_exits.reads", "of those, register reads")),
      exit_writes_(stats_.counter("vm_exits.writes", "of those, register writes (IQT writes included)")),
      exit_iqt_(stats_.counter("vm_exits.iqt", "of those, writes of IQT (descriptors replayed on the host)")),
      descriptors_(stats_.counter("replay.descriptors", "guest invalidation descriptors parsed and replayed")),
      replay_ns_(stats_.histogram("replay.ns", "per IQT exit: time the hypervisor spent replaying before the "
                                                "emulated unit saw the new tail", "ns")),
      shadow_maps_(stats_.counter("shadow.maps", "guest second-level leaves mapped into the host shadow")),
      shadow_unmaps_(stats_.counter("shadow.unmaps", "shadow leaves unmapped (host invalidation included)")),
      shadow_unbacked_(stats_.counter("shadow.unbacked", "guest leaves pointing outside guest RAM, left unmapped")),
      shadow_errors_(stats_.counter("shadow.errors", "shadow maps the host IOAS layer refused")),
      nested_binds_(stats_.counter("nested.binds", "guest first-level PASID entries bound as host nested domains")),
      nested_flushes_(stats_.counter("nested.flushes", "guest PASID-based IOTLB invalidations replayed on the host")),
      faults_injected_(stats_.counter("faults.injected", "host faults of assigned devices recorded in the vIOMMU")),
      prq_injected_(stats_.counter("prq.injected", "host page requests injected into the vIOMMU's queue")),
      prq_responses_(stats_.counter("prq.responses", "guest page group responses replayed on the host QI")),
      messages_absorbed_(stats_.counter("messages_absorbed", "device messages of the emulated unit, absorbed")) {
  guest_mmio.register_b_transport(this, &VirtualVtd::guest_access);
  unit_messages.register_b_transport(this, &VirtualVtd::unit_message);
  host_ioas_.on_fault([this](const fw::FaultEvent& e) { host_fault(e); });
  host_.on_unbound_page_request([this](const fw::VtdDriver::PageRequest& pr) { return host_page_request(pr); });
  SC_THREAD(setup_thread);
}

void VirtualVtd::assign(const std::string& device, uint16_t rid, bool ats) {
  Assigned a;
  a.name = device;
  a.rid = rid;
  a.ats = ats;
  devices_.push_back(a);
}

uint32_t VirtualVtd::shadow_ioas(const std::string& device) const {
  for (const Assigned& a : devices_)
    if (a.name == device) return a.shadow_ioas;
  return 0;
}

VirtualVtd::Assigned* VirtualVtd::assigned(uint16_t rid) {
  for (Assigned& a : devices_)
    if (a.rid == rid) return &a;
  return nullptr;
}

uint64_t VirtualVtd::reg(uint64_t offset) const {
  const Register* r = unit_.registers().find(offset);
  return r ? r->value() : 0;
}

// Once the host unit is up: the GPA -> HPA IOAS (nested) and each assigned
// device's shadow IOAS, attached as VFIO attaches a device to its IOAS.
void VirtualVtd::setup_thread() {
  if (!host_.ready()) wait(host_.ready_event());
  if (!host_.error().empty()) {
    error_ = "the host unit did not come up: " + host_.error();
    return;
  }
  if (p_.backing == Backing::Nested) {
    s2_ioas_ = host_ioas_.ioas_alloc();
    uint64_t gpa = p_.guest_ram_base;
    error_ = host_ioas_.map(s2_ioas_, &gpa, p_.guest_ram_hpa, p_.guest_ram_size, fw::Perm{true, true, false, true}, true);
  }
  for (size_t i = 0; error_.empty() && i < devices_.size(); ++i) error_ = attach_host(devices_[i]);
  if (!error_.empty()) return;
  ready_ = true;
  ready_ev_.notify(sc_core::SC_ZERO_TIME);
}

std::string VirtualVtd::attach_host(Assigned& a) {
  if (a.ats) host_.set_ats(a.rid, true);
  a.shadow_ioas = host_ioas_.ioas_alloc();
  std::string err = host_ioas_.attach(a.name, a.shadow_ioas);
  return err.empty() ? "" : a.name + ": host attach: " + err;
}

// ---------------------------------------------------------------------------
// Traps

void VirtualVtd::guest_access(tlm::tlm_generic_payload& trans, sc_time& delay) {
  ++exits_;
  delay += sc_time(p_.vm_exit_ns, SC_NS);
  const bool write = trans.get_command() == tlm::TLM_WRITE_COMMAND;
  if (!write) ++exit_reads_;
  else ++exit_writes_;
  if (write && trans.get_address() == vtd::reg::IQT && trans.get_data_length() >= 4) {
    ++exit_iqt_;
    uint8_t bytes[8] = {};
    std::memcpy(bytes, trans.get_data_ptr(), std::min<unsigned>(8, trans.get_data_length()));
    wait(delay);  // the hypervisor runs now, in the guest CPU's exit
    delay = sc_core::SC_ZERO_TIME;
    replay_queue(load_le64(bytes));
  }
  unit_mmio->b_transport(trans, delay);
}

void VirtualVtd::unit_message(tlm::tlm_generic_payload& trans, sc_time&) {
  // The emulated unit's own device-TLB invalidations and page group responses
  // reach no device: the host's (replayed) ones do.
  ++messages_absorbed_;
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

// The descriptors between the emulated unit's tail and the new one, in
// queue order, as the emulated unit will fetch them (IQA: base 63:12, DW 11,
// QS 2:0; IQT.QT 18:4, VT-d 11.4.9).
void VirtualVtd::replay_queue(uint64_t new_tail) {
  if (!ready_) {
    if (!error_.empty()) return;
    wait(ready_ev_);
  }
  const sc_time start = sc_core::sc_time_stamp();
  const uint64_t iqa = reg(vtd::reg::IQA);
  const bool dw256 = (iqa & vtd::iqa::DW) != 0;
  const uint64_t base = vtd::iqa::IQA.extract(iqa) << 12, size = 4096ull << vtd::iqa::QS.extract(iqa);
  const uint64_t step = dw256 ? 32 : 16;
  const uint64_t tail = vtd::iqt::QT.extract(new_tail) << 4;
  uint64_t head = vtd::iqt::QT.extract(reg(vtd::reg::IQT)) << 4;
  if (tail >= size || tail % step || head % step) return;  // the emulated unit reports the IQE
  for (; head != tail; head = (head + step) % size) {
    uint8_t bytes[32] = {};
    uint64_t qw[4] = {0, 0, 0, 0};
    if (!guest_.read(base + head, bytes, static_cast<unsigned>(step))) return;
    for (unsigned i = 0; i < step / 8; ++i) qw[i] = load_le64(bytes + 8 * i);
    const vtd::QiDecodeResult d = vtd::decode_descriptor(qw, dw256, caps_);
    if (!d.ok) return;  // the emulated unit stops there too and reports it
    ++descriptors_;
    cpu_.charge_ns(p_.desc_ns);
    replay(d.desc);
  }
  cpu_.sync();
  replay_ns_.sample((sc_core::sc_time_stamp() - start).to_seconds() * 1e9);
}

void VirtualVtd::replay(const vtd::QiDescriptor& d) {
  switch (d.type) {
    case vtd::QiType::ContextCache:
      for (Assigned& a : devices_) shadow_sync(a, 0, kAllIovas);
      break;
    case vtd::QiType::Iotlb:
      replay_iotlb(d);
      break;
    case vtd::QiType::PasidCache:
      for (Assigned& a : devices_) {
        shadow_sync(a, 0, kAllIovas);
        if (p_.backing == Backing::Nested) {
          if (d.granularity == kPasidCacheSelective) nested_sync(a, d.pasid);
          else for (auto& kv : std::map<uint32_t, Nested>(a.pasids)) nested_sync(a, kv.first);
        }
      }
      break;
    case vtd::QiType::PasidIotlb:
      replay_pasid_iotlb(d);
      break;
    case vtd::QiType::PageGroupResponse:
      // Only a group the hypervisor injected is answered on the host: the
      // guest cannot make the device see a response it never asked for.
      if (outstanding_groups_.erase({d.sid, d.pasid, d.prgi})) {
        ++prq_responses_;
        host_.page_group_response(d.sid, d.pasid_present, d.pasid, d.prgi, d.response_code);
      }
      break;
    default:  // wait (the emulated unit writes its status), IEC, device TLB (the host's own invalidations cover them)
      break;
  }
}

void VirtualVtd::replay_iotlb(const vtd::QiDescriptor& d) {
  const uint64_t span = 4096ull << d.am;
  const uint64_t lo = d.granularity == kIotlbPage ? (d.addr & ~(span - 1)) : 0;
  const uint64_t hi = d.granularity == kIotlbPage ? lo + span - 1 : kAllIovas;
  for (Assigned& a : devices_)
    if (d.granularity == kIotlbGlobal || a.entry.did == d.did) shadow_sync(a, lo, hi);
}

void VirtualVtd::replay_pasid_iotlb(const vtd::QiDescriptor& d) {
  for (Assigned& a : devices_)
    for (auto& kv : a.pasids) {
      if (kv.second.entry.did != d.did || kv.first != d.pasid) continue;
      host_.invalidate_pasid(a.rid, kv.first, d.granularity == kPasidIotlbPage, d.addr, d.am);
      ++nested_flushes_;
    }
}

// ---------------------------------------------------------------------------
// Backings

GuestEntry VirtualVtd::guest_entry(const Assigned& a, uint32_t pasid) {
  const uint64_t rtaddr = reg(vtd::reg::RTADDR);
  return scalable_ ? read_pasid_entry(guest_, rtaddr, a.rid, pasid) : read_legacy_entry(guest_, rtaddr, a.rid);
}

// The guest entry changed: the old shadow goes; then every guest leaf in
// [lo, hi] is compared with the shadow, stale ones unmapped (the host driver
// invalidates and waits), new ones mapped at the host address of their GPA.
void VirtualVtd::shadow_sync(Assigned& a, uint64_t lo, uint64_t hi) {
  const GuestEntry e = guest_entry(a, kRidPasid);
  if (e != a.entry) {
    shadow_drop(a, 0, kAllIovas);
    a.entry = e;
    lo = 0;
    hi = kAllIovas;
  }
  // Shadowed: a legacy entry with TT 00b/01b, or a scalable PASID entry with PGTT 010b (second level).
  const bool second_level = e.present && (scalable_ ? e.pgtt == 2 : e.tt <= 1);
  std::map<uint64_t, GuestLeaf> want;
  bool truncated = false;
  if (second_level)
    for (const GuestLeaf& l : collect_sl_leaves(guest_, e.slptptr, e.sl_levels, lo, hi, kMaxShadowLeaves, &truncated))
      want[l.iova] = l;
  if (truncated) ++shadow_errors_;
  cpu_.charge_ns(p_.leaf_ns * static_cast<double>(want.size()));
  auto it = a.shadow.upper_bound(lo);
  if (it != a.shadow.begin()) --it;
  while (it != a.shadow.end() && it->first <= hi) {
    const GuestLeaf& s = it->second;
    auto w = want.find(s.iova);
    if (s.iova + s.size - 1 < lo) { ++it; continue; }
    if (w != want.end() && w->second == s) { want.erase(w); ++it; continue; }
    host_ioas_.unmap(a.shadow_ioas, s.iova, s.size);
    ++shadow_unmaps_;
    it = a.shadow.erase(it);
  }
  for (const auto& kv : want) {
    uint64_t hpa = 0, iova = kv.first;
    if (!guest_.to_host(kv.second.gpa, kv.second.size, &hpa)) { ++shadow_unbacked_; continue; }
    if (!host_ioas_.map(a.shadow_ioas, &iova, hpa, kv.second.size, kv.second.perm, true).empty()) {
      ++shadow_errors_;
      continue;
    }
    ++shadow_maps_;
    a.shadow[kv.first] = kv.second;
  }
}

void VirtualVtd::shadow_drop(Assigned& a, uint64_t lo, uint64_t hi) {
  for (auto it = a.shadow.begin(); it != a.shadow.end();) {
    if (it->first + it->second.size - 1 < lo || it->first > hi) { ++it; continue; }
    host_ioas_.unmap(a.shadow_ioas, it->first, it->second.size);
    ++shadow_unmaps_;
    it = a.shadow.erase(it);
  }
}

// The guest's PASID entry of `pasid`: a first-level entry (PGTT 001b) becomes
// a host nested domain over the GPA -> HPA IOAS, its FLPTPTR copied as it is
// (guest physical: the host unit translates it through its second level).
// PASID 0 (RID_PASID) decides requests without PASID: the device itself is
// attached to the nested domain, and back to its shadow when the entry stops
// being first-level.
void VirtualVtd::nested_sync(Assigned& a, uint32_t pasid) {
  const GuestEntry e = guest_entry(a, pasid);
  auto it = a.pasids.find(pasid);
  if (it != a.pasids.end() && it->second.entry == e) return;
  if (it != a.pasids.end()) {
    if (pasid == kRidPasid) host_ioas_.attach(a.name, a.shadow_ioas);
    else host_ioas_.detach_pasid(a.name, pasid);
    host_ioas_.hwpt_free(it->second.hwpt);
    a.pasids.erase(it);
  }
  if (!e.present || e.pgtt != 1) return;
  Nested n;
  n.entry = e;
  if (!host_ioas_.hwpt_alloc_nested(s2_ioas_, a.name, e.flptptr, &n.hwpt).empty()) { ++shadow_errors_; return; }
  const std::string err = pasid == kRidPasid ? host_ioas_.attach(a.name, n.hwpt)
                                             : host_ioas_.attach_pasid(a.name, pasid, n.hwpt);
  if (!err.empty()) {
    host_ioas_.hwpt_free(n.hwpt);
    ++shadow_errors_;
    return;
  }
  a.pasids[pasid] = n;
  ++nested_binds_;
}

// ---------------------------------------------------------------------------
// Faults and page requests

// A host fault of an assigned device, as the guest would have seen it: same
// requester, PASID, address (guest IOVA or GVA) and reason.
void VirtualVtd::host_fault(const fw::FaultEvent& e) {
  const fw::HwFault& f = e.fault;
  if (f.requester.kind != fw::Requester::Kind::PciRid || !assigned(static_cast<uint16_t>(f.requester.id))) return;
  vtd::XlateRequest req;
  req.source_id = static_cast<uint16_t>(f.requester.id);
  req.has_pasid = f.has_pasid;
  req.pasid = f.pasid;
  req.write = f.write;
  req.read = !f.write;
  req.addr = f.addr;
  if (unit_.record_fault(req, static_cast<vtd::FaultReason>(f.reason.code & 0xff))) ++faults_injected_;
  host_ioas_.ack_fault(e.serial);  // the guest handles it; a repeat is a new event
}

// A host page request for a PASID the guest bound: a Page Request message
// into the emulated unit, which queues it in the guest's PRQ and raises its
// page request event. The guest answers through its own QI (replay()).
bool VirtualVtd::host_page_request(const fw::VtdDriver::PageRequest& pr) {
  Assigned* a = assigned(pr.rid);
  if (!a || !pr.has_pasid || !a->pasids.count(pr.pasid)) return false;
  PcieMessage m;
  m.type = PcieMessageType::PageRequest;
  m.requester_id = pr.rid;
  m.has_pasid = true;
  m.pasid = pr.pasid;
  m.address = pr.addr;
  m.read = pr.read;
  m.write = pr.write;
  m.last = pr.last;
  m.prg_index = pr.prgi;
  if (pr.last) outstanding_groups_.insert({pr.rid, pr.pasid, pr.prgi});
  inject_.set_command(tlm::TLM_IGNORE_COMMAND);
  inject_.set_address(pr.addr);
  inject_.set_data_ptr(nullptr);
  inject_.set_data_length(0);
  inject_.set_extension(&m);
  sc_time delay = sc_core::SC_ZERO_TIME;
  unit_dma->b_transport(inject_, delay);
  inject_.clear_extension(&m);
  ++prq_injected_;
  wait(delay);
  return true;
}

}  // namespace iommusim::virt
