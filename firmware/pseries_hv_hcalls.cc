// SPDX-License-Identifier: Apache-2.0
// The TCE hypercalls (LoPAPR "TCE management"; the checks and return codes
// of Linux arch/powerpc/kvm/book3s_64_vio.c and QEMU hw/ppc/spapr_iommu.c):
//
//   H_PUT_TCE(liobn, ioba, tce)                 H_PARAMETER: unknown LIOBN, ioba
//   H_GET_TCE(liobn, ioba) -> tce                 not page aligned or outside the
//   H_STUFF_TCE(liobn, ioba, tce, count)          window (count TCEs from it), a
//   H_PUT_TCE_INDIRECT(liobn, ioba, list, count)  TCE with bits set below its page
//                                                 but R and W, or a page outside
//                                                 the partition; for INDIRECT also
//                                                 count > 512, a list not 4 KiB
//                                                 aligned or outside the partition
//   H_HARDWARE: the bridge could not be updated (table memory, kill timeout).
// A TCE with neither R nor W clears the entry. Every TCE of INDIRECT is
// checked before any is written.
#include "firmware/pseries_hv.h"

#include "common/byte_order.h"
#include "firmware/papr_abi.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;
using namespace papr;

int64_t PseriesHypervisor::hcall(ArchitectedCall& c) {
  cpu_.charge(sc_time(p_.hcall_ns, SC_NS));
  auto counter = hcall_count_.find(c.token);
  int64_t rc = H_FUNCTION;
  if (counter != hcall_count_.end()) {
    ++*counter->second;
    switch (c.token) {
      case papr_abi::H_PUT_TCE: rc = h_put_tce(c.args); break;
      case papr_abi::H_GET_TCE: rc = h_get_tce(c.args, &c.rets); break;
      case papr_abi::H_STUFF_TCE: rc = h_stuff_tce(c.args); break;
      case papr_abi::H_PUT_TCE_INDIRECT: rc = h_put_tce_indirect(c.args); break;
    }
  }
  if (rc == H_SUCCESS) ++hcall_ok_;
  else if (rc == H_PARAMETER) ++hcall_parameter_;
  else if (rc == H_HARDWARE) ++hcall_hardware_;
  else ++hcall_function_;
  return rc;
}

bool PseriesHypervisor::liobn_target(uint64_t liobn, Target* t) {
  if (liobn > 0xffffffffull) return false;
  for (unsigned i = 0; i < phbs_.size(); ++i) {
    uint16_t pe = 0;
    unsigned tve = 0;
    PhbDriver& d = *phbs_[i];
    if (!d.window_of(static_cast<uint32_t>(liobn), &pe, &tve) || !d.window(static_cast<uint32_t>(liobn), &t->window))
      continue;
    auto io = pe_ioas_.find({i, pe});
    if (io == pe_ioas_.end()) return false;
    t->phb = &d;
    t->phb_index = i;
    t->pe = pe;
    t->ioas = io->second;
    t->device = d.devices(pe).front();
    return true;
  }
  return false;
}

// `count` pages from `ioba` lie in the window, ioba page aligned, no wrap.
int64_t PseriesHypervisor::check_range(const Target& t, uint64_t ioba, uint64_t count) {
  const uint64_t page = 1ull << t.window.page_shift;
  if (ioba & (page - 1)) return H_PARAMETER;
  if (ioba < t.window.range.start || ioba > t.window.range.last) return H_PARAMETER;
  const uint64_t pages_left = ((t.window.range.last - ioba) >> t.window.page_shift) + 1;
  return count <= pages_left ? H_SUCCESS : H_PARAMETER;
}

int64_t PseriesHypervisor::check_tce(const Target& t, uint64_t tce) {
  cpu_.charge(sc_time(p_.tce_check_ns, SC_NS));
  const uint64_t rw = papr_abi::TCE_PCI_READ | papr_abi::TCE_PCI_WRITE;
  if (!(tce & rw)) return H_SUCCESS;  // a clear
  const uint64_t page = 1ull << t.window.page_shift;
  if (tce & (page - 1) & ~rw) return H_PARAMETER;
  return in_partition(tce & ~(page - 1), page) ? H_SUCCESS : H_PARAMETER;
}

// The TCE becomes the IOAS mapping of its page (a page already mapped is
// unmapped first); the shadow keeps the guest's value for H_GET_TCE.
std::string PseriesHypervisor::apply_tce(const Target& t, uint64_t ioba, uint64_t tce) {
  const uint64_t page = 1ull << t.window.page_shift;
  const uint64_t rw = papr_abi::TCE_PCI_READ | papr_abi::TCE_PCI_WRITE;
  auto& shadow = shadow_[t.window.liobn];
  ++tces_put_;
  if (shadow.count(ioba)) {
    if (std::string err = ioas_.unmap(t.ioas, ioba, page); !err.empty()) return err;
    shadow.erase(ioba);
  }
  if (!(tce & rw)) return "";
  uint64_t iova = ioba;
  const Perm perm{(tce & papr_abi::TCE_PCI_READ) != 0, (tce & papr_abi::TCE_PCI_WRITE) != 0};
  if (std::string err = ioas_.map(t.ioas, &iova, tce & ~(page - 1), page, perm, true); !err.empty()) return err;
  shadow[ioba] = tce;
  return "";
}

int64_t PseriesHypervisor::h_put_tce(const std::vector<uint64_t>& a) {
  Target t;
  if (a.size() < 3 || !liobn_target(a[0], &t)) return H_PARAMETER;
  if (int64_t rc = check_range(t, a[1], 1); rc != H_SUCCESS) return rc;
  if (int64_t rc = check_tce(t, a[2]); rc != H_SUCCESS) return rc;
  return apply_tce(t, a[1], a[2]).empty() ? H_SUCCESS : H_HARDWARE;
}

int64_t PseriesHypervisor::h_get_tce(const std::vector<uint64_t>& a, std::vector<uint64_t>* rets) {
  Target t;
  if (a.size() < 2 || !liobn_target(a[0], &t)) return H_PARAMETER;
  if (int64_t rc = check_range(t, a[1], 1); rc != H_SUCCESS) return rc;
  const auto& shadow = shadow_[t.window.liobn];
  auto it = shadow.find(a[1]);
  rets->assign(1, it == shadow.end() ? 0 : it->second);
  return H_SUCCESS;
}

int64_t PseriesHypervisor::h_stuff_tce(const std::vector<uint64_t>& a) {
  Target t;
  if (a.size() < 4 || !liobn_target(a[0], &t)) return H_PARAMETER;
  if (int64_t rc = check_range(t, a[1], a[3]); rc != H_SUCCESS) return rc;
  if (int64_t rc = check_tce(t, a[2]); rc != H_SUCCESS) return rc;
  const uint64_t page = 1ull << t.window.page_shift;
  t.phb->begin_batch();
  std::string err;
  for (uint64_t i = 0; i < a[3] && err.empty(); ++i) err = apply_tce(t, a[1] + i * page, a[2]);  // the same TCE in each
  const std::string killed = t.phb->end_batch();
  return err.empty() && killed.empty() ? H_SUCCESS : H_HARDWARE;
}

int64_t PseriesHypervisor::h_put_tce_indirect(const std::vector<uint64_t>& a) {
  Target t;
  if (a.size() < 4 || !liobn_target(a[0], &t)) return H_PARAMETER;
  const uint64_t list = a[2], count = a[3];
  if (count > papr_abi::kMaxIndirectTces || (list & (papr_abi::kTceListAlign - 1))) return H_PARAMETER;
  if (int64_t rc = check_range(t, a[1], count); rc != H_SUCCESS) return rc;
  if (count == 0) return H_SUCCESS;
  if (!in_partition(list, count * 8)) return H_PARAMETER;
  std::vector<uint8_t> raw(count * 8);
  if (!cpu_.read(list, raw.data(), static_cast<unsigned>(raw.size()))) return H_HARDWARE;
  std::vector<uint64_t> tces(count);
  for (uint64_t i = 0; i < count; ++i) {
    tces[i] = load_be64(&raw[8 * i]);  // the list is big-endian, as every TCE
    if (int64_t rc = check_tce(t, tces[i]); rc != H_SUCCESS) return rc;
  }
  const uint64_t page = 1ull << t.window.page_shift;
  t.phb->begin_batch();
  std::string err;
  for (uint64_t i = 0; i < count && err.empty(); ++i) err = apply_tce(t, a[1] + i * page, tces[i]);
  const std::string killed = t.phb->end_batch();
  return err.empty() && killed.empty() ? H_SUCCESS : H_HARDWARE;
}

}  // namespace iommusim::fw
