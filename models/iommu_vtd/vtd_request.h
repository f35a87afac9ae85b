// SPDX-License-Identifier: Apache-2.0
// The translator's request (XlateRequest) for a unit-level TranslationRequest
// (iommu_common/translation_request.h): the one place the VT-d unit, its page
// request queue and its DMI path turn a request into the translator's terms.
#pragma once

#include <cstdint>

#include "common/trace.h"
#include "iommu_common/translation_request.h"
#include "iommu_vtd/vtd_fault.h"
#include "iommu_vtd/vtd_translator.h"

namespace iommusim::vtd {

inline XlateRequest xlate_request(const iommu::TranslationRequest& t) {
  XlateRequest r;
  r.source_id = static_cast<uint16_t>(t.requester.id);
  r.has_pasid = t.space.has_pasid();
  r.pasid = r.has_pasid ? t.space.id : 0;
  r.privileged = t.access.privileged;
  r.execute = t.access.execute;
  r.read = t.access.read;
  r.write = t.access.write;
  r.addr = t.address;
  r.translation_request = t.address_type == AddressType::TranslationRequest;
  r.translated = t.address_type == AddressType::Translated;
  return r;
}

// A DMA with attributes `a` at `addr`.
inline XlateRequest xlate_request(const DmaExtension& a, uint64_t addr, bool write) {
  return xlate_request(iommu::TranslationRequest::from_dma(a, addr, write));
}

// The trace arguments of a translation: who asked for which address, and how
// it ended (the output address, or the fault reason).
inline TraceArgs translation_trace_args(const XlateRequest& req, const XlateResult& r) {
  TraceArgs args;
  args.requester(req.source_id).iova(req.addr).result(r.ok ? "ok" : fault_reason_name(r.reason));
  if (req.has_pasid) args.pasid(req.pasid);
  if (r.ok) args.pa(r.out_addr);
  return args;
}

}  // namespace iommusim::vtd
