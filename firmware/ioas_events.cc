// Fault events of the IOAS layer.
#include "firmware/ioas.h"

namespace iommusim::fw {

std::map<uint32_t, std::vector<std::string>> IoasLayer::fault_owners(const IommuBackend* backend,
                                                                     const HwFault& f) const {
  // Owners: the objects the requester (and PASID) was attached to, through
  // every device that uses this requester on this unit (aliases).
  std::map<uint32_t, std::vector<std::string>> owners;
  for (auto& d : devices_) {
    if (d->backend != backend || d->requester != f.requester) continue;
    uint32_t obj = d->object;
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

void IoasLayer::report_fault(IommuBackend* backend, HwFault f) {
  f.unit = backend->backend_name();
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
}

std::vector<FaultEvent> IoasLayer::fault_events(uint32_t owner) const {
  std::vector<FaultEvent> out;
  for (auto& p : pending_)
    if (log_[p.second].owner == owner) out.push_back(log_[p.second]);
  return out;
}

void IoasLayer::ack_fault(uint64_t serial) { pending_.erase(serial); }

}  // namespace iommusim::fw
