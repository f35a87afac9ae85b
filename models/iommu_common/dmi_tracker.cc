// SPDX-License-Identifier: Apache-2.0
#include "iommu_common/dmi_tracker.h"

namespace iommusim::iommu {

DmiTracker::DmiTracker(Upstream& upstream, Downstream& downstream, StatGroup& group)
    : upstream_(upstream),
      downstream_(downstream),
      grants_(group.counter("grants", "DMI pointers granted upstream")),
      invalidations_(group.counter("invalidations", "DMI invalidations sent upstream")) {}

bool DmiTracker::grant(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi, const Page& page) {
  tlm::tlm_dmi down;
  const uint64_t in = trans.get_address();
  trans.set_address(page.out_page);
  const bool ok = downstream_->get_direct_mem_ptr(trans, down);
  trans.set_address(in);
  const uint64_t out_last = page.out_page + page.size - 1;
  if (!ok || down.get_start_address() > page.out_page || down.get_end_address() < out_last) return false;
  const bool rd = page.read && down.is_read_allowed();
  const bool wr = page.write && down.is_write_allowed();
  if (!rd && !wr) return false;
  dmi.set_dmi_ptr(down.get_dmi_ptr() + (page.out_page - down.get_start_address()));
  dmi.set_start_address(page.in_page);
  dmi.set_end_address(page.in_page + page.size - 1);
  dmi.set_granted_access(rd && wr ? tlm::tlm_dmi::DMI_ACCESS_READ_WRITE
                                  : (rd ? tlm::tlm_dmi::DMI_ACCESS_READ : tlm::tlm_dmi::DMI_ACCESS_WRITE));
  dmi.set_read_latency(down.get_read_latency() + page.extra_latency);
  dmi.set_write_latency(down.get_write_latency() + page.extra_latency);
  granted_ = true;
  ++grants_;
  return true;
}

void DmiTracker::revoke(uint64_t start, uint64_t end) {
  if (!granted_) return;
  ++invalidations_;
  upstream_->invalidate_direct_mem_ptr(start, end);
  if (start == 0 && end == ~0ull) granted_ = false;
}

}  // namespace iommusim::iommu
