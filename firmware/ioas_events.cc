// SPDX-License-Identifier: Apache-2.0
// Fault events and PE error-recovery events of the IOAS layer.
#include "firmware/ioas.h"

namespace iommusim::fw {

std::map<uint32_t, std::vector<std::string>> IoasLayer::fault_owners(const IommuBackend* backend,
                                                                     const HwFault& f) const {
  // Owners: the objects the requester (and PASID) was attached to, through
  // every device that uses this requester on this unit (aliases).
  std::map<uint32_t, std::vector<std::string>> owners;
  for (auto& [index, d] : pe_devices(backend, f.requester)) {
    uint32_t obj = d->object;
    for (auto& r : d->ranges)  // attached by range: the IOAS whose range holds the address
      if (r.range.contains(f.addr, f.addr)) obj = r.ioas;
    if (f.has_pasid) {
      auto p = d->pasids.find(f.pasid);
      obj = p == d->pasids.end() ? 0 : p->second;
    }
    if (obj) owners[obj].push_back(d->name);
  }
  return owners;
}

bool IoasLayer::fold_fault(uint32_t owner, const HwFault& f) {
  for (auto& p : pending_) {
    FaultEvent& e = log_[p.second];
    if (e.owner == owner && e.fault.unit == f.unit && e.fault.requester == f.requester &&
        e.fault.has_pasid == f.has_pasid && e.fault.pasid == f.pasid && (e.fault.addr >> 12) == (f.addr >> 12) &&
        e.fault.reason == f.reason && e.fault.write == f.write) {
      ++e.occurrences;
      ++folded_;
      return true;
    }
  }
  return false;
}

std::string IoasLayer::report_fault(IommuBackend* backend, HwFault f) {
  if (!backend) return "a fault report needs the IOMMU that recorded it";
  f.unit = backend->backend_name();
  if (frozen_pe_takes_fault(backend, f)) return "";
  auto owners = fault_owners(backend, f);
  if (owners.empty()) { ++unowned_; owners[0] = {}; }
  for (auto& o : owners) {
    if (fold_fault(o.first, f)) continue;
    FaultEvent e;
    e.serial = next_serial_++;
    e.owner = o.first;
    e.devices = o.second;
    e.fault = f;
    log_.push_back(e);
    pending_[e.serial] = log_.size() - 1;
    if (fault_cb_) fault_cb_(e);
  }
  return "";
}

std::vector<FaultEvent> IoasLayer::fault_events(uint32_t owner) const {
  std::vector<FaultEvent> out;
  for (auto& p : pending_)
    if (log_[p.second].owner == owner) out.push_back(log_[p.second]);
  return out;
}

void IoasLayer::ack_fault(uint64_t serial) { pending_.erase(serial); }

// A frozen PE stops all its DMA (LoPAPR EEH), so a fault a unit records for it
// is that freeze, not an event of its own: it opens the PE's error event, or
// folds into the one already open.
bool IoasLayer::frozen_pe_takes_fault(IommuBackend* backend, const HwFault& f) {
  IommuErrorRecovery* recovery = backend->as_error_recovery();
  if (!recovery) return false;
  if (fold_into_open_pe(backend, f.requester)) return true;
  PeState state = PeState::Normal;
  if (!recovery->pe_state(f.requester, &state).empty() || state == PeState::Normal) return false;
  open_pe_event(backend, f.requester, state);
  return true;
}

bool IoasLayer::fold_into_open_pe(const IommuBackend* backend, const Requester& pe) {
  auto open = open_pe_.find({backend, pe});
  if (open == open_pe_.end()) return false;
  ++pe_log_[open->second].occurrences;
  ++folded_;
  return true;
}

void IoasLayer::open_pe_event(IommuBackend* backend, const Requester& pe, PeState state) {
  PeErrorEvent e;
  e.serial = next_serial_++;
  e.unit = backend->backend_name();
  e.pe = pe;
  e.state = state;
  for (auto& [index, d] : pe_devices(backend, pe)) e.devices.push_back(d->name);
  pe_log_.push_back(e);
  open_pe_[{backend, pe}] = pe_log_.size() - 1;
  if (pe_cb_)
    for (auto& name : e.devices) pe_cb_(name, e);
}

std::string IoasLayer::report_pe_error(IommuBackend* backend, const Requester& pe) {
  if (!backend) return "a PE error report needs the IOMMU that saw it";
  IommuErrorRecovery* recovery = backend->as_error_recovery();
  if (!recovery)
    return "IOMMU '" + backend->backend_name() + "' has no error recovery (EEH) capability; it cannot report a PE error";
  if (fold_into_open_pe(backend, pe)) return "";
  PeState state = PeState::Stopped;
  std::string err = recovery->pe_state(pe, &state);
  if (!err.empty()) return err;
  open_pe_event(backend, pe, state);
  return "";
}

std::string IoasLayer::pe_state(const std::string& name, PeState* out) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  IommuErrorRecovery* recovery = d->backend->as_error_recovery();
  return recovery ? recovery->pe_state(d->requester, out) : lacks(*d, "error recovery (EEH)");
}

std::string IoasLayer::recover_pe(const std::string& name, PeRecovery step) {
  Device* d = device(name);
  if (!d) return "no device '" + name + "'";
  IommuErrorRecovery* recovery = d->backend->as_error_recovery();
  if (!recovery) return lacks(*d, "error recovery (EEH)");
  std::string err = recovery->recover_pe(d->requester, step);
  PeState state = PeState::Stopped;
  if (err.empty()) err = recovery->pe_state(d->requester, &state);
  if (!err.empty()) return err;
  auto open = open_pe_.find({d->backend, d->requester});
  if (state == PeState::Normal && open != open_pe_.end()) {
    pe_log_[open->second].recovered = true;
    open_pe_.erase(open);
  }
  return "";
}

}  // namespace iommusim::fw
