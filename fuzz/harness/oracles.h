// SPDX-License-Identifier: Apache-2.0
// The oracles the VT-d fuzz targets share, beyond "no crash" (which the
// sanitizers and libFuzzer watch):
//   - isolation of one DMA against the reference translation: every byte of
//     device data the unit wrote lies where the reference puts the DMA's own
//     bytes, in pages it grants for writing; a DMA the unit answered OK is
//     granted by the reference on every page it touches;
//   - an ATS completion and a DMI grant give no more than the reference;
//   - isolation against a set of pages: every byte of device data lies in the
//     pages a target says the device may ever reach.
// A violation is a finding (fuzz/harness/vtd_rig.h).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "fuzz/harness/reference_walker.h"
#include "fuzz/harness/vtd_rig.h"

namespace iommusim::fuzz {

// The reference's view of one DMA's request.
RefRequest ref_request(const DmaExtension& ext, uint64_t addr);

// What the reference grants one DMA, page by page, decided before it is
// issued (a DMA may write the tables it was translated by).
struct DmaPlan {
  struct Page {
    uint64_t at;          // the DMA's address in this page
    RefResult ref;
  };
  bool remapping = true;  // GSTS.TES
  bool decided = true;    // false: the reference cannot tell (nested)
  std::vector<Page> pages;
  std::vector<std::pair<uint64_t, uint64_t>> writable;  // [first, last] it may write
};
DmaPlan plan_dma(VtdRig& rig, const RefUnit& unit, const Dma& d, bool remapping);
// Does the plan let the DMA write into [first, last]?
bool plan_writes_into(const DmaPlan& plan, uint64_t first, uint64_t last);
// After `rig.dma(d, ...)` answered `status` with the write log cleared just
// before: the answer and the data written against the plan. Nothing is
// checked for an undecided plan.
void check_dma(VtdRig& rig, const DmaPlan& plan, const Dma& d, tlm::tlm_response_status status);

// An ATS translation request answered with `ext.ats`: no more than the reference.
void check_ats(VtdRig& rig, const RefUnit& unit, const DmaExtension& ext, uint64_t addr);

// A DMI grant for `addr`: one page, where the reference puts it, with no more
// access than the reference and the request allow.
void check_dmi(VtdRig& rig, const RefUnit& unit, const DmaExtension& ext, uint64_t addr, bool write,
               const tlm::tlm_dmi& dmi, bool remapping);

// Every device byte written since the log was cleared lies in `pages` (4 KiB
// page numbers), or, for an interrupt request or with remapping off, exactly
// where the DMA `d` itself points.
void check_writes_in_pages(VtdRig& rig, const Dma& d, bool remapping, const std::set<uint64_t>& pages,
                           const std::string& what);

// A write of a device without PASID that an interrupt window holds whole: not DMA.
bool interrupt_request(const Dma& d);

std::string hex(uint64_t v);

}  // namespace iommusim::fuzz
