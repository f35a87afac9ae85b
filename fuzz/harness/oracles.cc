// SPDX-License-Identifier: Apache-2.0
#include "fuzz/harness/oracles.h"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace iommusim::fuzz {

std::string hex(uint64_t v) {
  char s[24];
  std::snprintf(s, sizeof s, "0x%llx", static_cast<unsigned long long>(v));
  return s;
}

namespace {

constexpr uint64_t kPage = 4096;

// Bytes of address space a DMA touches from its address.
uint64_t span(const Dma& d) { return d.streaming_width && d.streaming_width < d.len ? d.streaming_width : d.len; }

struct Range {
  uint64_t first, last;  // inclusive
};

// Whether every byte of [first, last] lies in the ranges. A write may span
// several pages' ranges when their translations are contiguous (one large
// page): adjacent and overlapping ranges are taken together.
bool inside(std::vector<Range> ranges, uint64_t first, uint64_t last) {
  std::sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) { return a.first < b.first; });
  uint64_t next = first;  // the first byte not yet covered
  for (const Range& r : ranges) {
    if (r.first > next) break;
    if (r.last >= next) {
      if (r.last >= last) return true;
      next = r.last + 1;
    }
  }
  return false;
}

std::string describe(const Dma& d) {
  return std::string(d.command == tlm::TLM_WRITE_COMMAND ? "write" : "read") + " of " + std::to_string(d.len) +
         " bytes at " + hex(d.addr) + " (streaming width " + std::to_string(d.streaming_width) + ", " +
         std::to_string(d.byte_enables.size()) + " byte enables) from requester " + hex(d.ext.requester_id) +
         (d.ext.has_pasid ? " PASID " + hex(d.ext.pasid) : "") + " AT " +
         std::to_string(static_cast<int>(d.ext.address_type));
}

void check_writes_in(VtdRig& rig, const std::vector<Range>& allowed, const Dma& d, const std::string& what) {
  for (const DataWrite& w : rig.log().data_writes())
    if (w.len && !inside(allowed, w.addr, w.addr + w.len - 1))
      finding("a " + describe(d) + " wrote " + std::to_string(w.len) + " bytes at " + hex(w.addr) + ", outside " +
              what);
}

}  // namespace

RefRequest ref_request(const DmaExtension& ext, uint64_t addr) {
  RefRequest r;
  r.sid = ext.requester_id;
  r.has_pasid = ext.has_pasid;
  r.pasid = ext.pasid;
  r.privileged = ext.privileged;
  r.translated = ext.address_type == AddressType::Translated;
  r.translation_request = ext.address_type == AddressType::TranslationRequest;
  r.addr = addr;
  return r;
}

bool interrupt_request(const Dma& d) {
  const uint64_t last = d.addr + span(d) - 1;
  return d.command == tlm::TLM_WRITE_COMMAND && !d.ext.has_pasid &&
         d.ext.address_type == AddressType::Untranslated && (d.addr >> 20) == 0xfee && (last >> 20) == 0xfee &&
         last >= d.addr;
}

DmaPlan plan_dma(VtdRig& rig, const RefUnit& unit, const Dma& d, bool remapping) {
  DmaPlan plan;
  plan.remapping = remapping;
  const bool write = d.command == tlm::TLM_WRITE_COMMAND;
  const uint64_t n = span(d);
  if (!remapping || interrupt_request(d)) {
    plan.remapping = false;
    if (write && n) plan.writable.emplace_back(d.addr, d.addr + n - 1);
    return plan;
  }
  for (uint64_t at = d.addr; at < d.addr + n;) {
    const uint64_t in_page = std::min<uint64_t>(kPage - (at & (kPage - 1)), d.addr + n - at);
    DmaPlan::Page p{at, reference_translate(rig.ram(), unit, ref_request(d.ext, at))};
    if (p.ref.kind == RefResult::Unknown) plan.decided = false;
    if (p.ref.ok() && write && p.ref.write) plan.writable.emplace_back(p.ref.out, p.ref.out + in_page - 1);
    plan.pages.push_back(std::move(p));
    at += in_page;
  }
  return plan;
}

bool plan_writes_into(const DmaPlan& plan, uint64_t first, uint64_t last) {
  if (!plan.decided) return true;
  for (const auto& w : plan.writable)
    if (w.first <= last && first <= w.second) return true;
  return false;
}

void check_dma(VtdRig& rig, const DmaPlan& plan, const Dma& d, tlm::tlm_response_status status) {
  if (!plan.decided) return;
  const bool write = d.command == tlm::TLM_WRITE_COMMAND;
  for (const DmaPlan::Page& p : plan.pages)
    if (status == tlm::TLM_OK_RESPONSE && !(p.ref.ok() && (write ? p.ref.write : p.ref.read)))
      finding("a " + describe(d) + " was answered OK, but the tables do not grant " + (write ? "writing" : "reading") +
              " its page at " + hex(p.at) + " (" + (p.ref.ok() ? "read-only or write-only" : p.ref.why) + ")");
  std::vector<Range> allowed;
  for (const auto& w : plan.writable) allowed.push_back({w.first, w.second});
  check_writes_in(rig, allowed, d, plan.remapping ? "the pages its translation grants" : "the addresses it named");
}

void check_ats(VtdRig& rig, const RefUnit& unit, const DmaExtension& ext, uint64_t addr) {
  if (!ext.ats.valid) return;
  const RefResult r = reference_translate(rig.ram(), unit, ref_request(ext, addr));
  if (r.kind == RefResult::Unknown) return;
  const uint64_t page = r.out & ~(ext.ats.size - 1);
  if (!r.ok() || (ext.ats.read && !r.read) || (ext.ats.write && !r.write) || ext.ats.size > r.page_size ||
      ext.ats.translated_addr != page)
    finding("an ATS translation of " + hex(addr) + " for requester " + hex(ext.requester_id) + " gave " +
            hex(ext.ats.translated_addr) + " size " + hex(ext.ats.size) + (ext.ats.read ? " R" : "") +
            (ext.ats.write ? " W" : "") + "; the tables give " + (r.ok() ? hex(r.out) : std::string("a fault")));
}

void check_dmi(VtdRig& rig, const RefUnit& unit, const DmaExtension& ext, uint64_t addr, bool write,
               const tlm::tlm_dmi& dmi, bool remapping) {
  const uint64_t start = dmi.get_start_address(), end = dmi.get_end_address();
  if (start > addr || end < addr || (start & (kPage - 1)) || end - start != kPage - 1)
    finding("a DMI grant for " + hex(addr) + " covers [" + hex(start) + ", " + hex(end) + "], not its one page");
  uint64_t out = addr & ~(kPage - 1);
  bool may_read = true, may_write = true;
  if (remapping) {
    const RefResult r = reference_translate(rig.ram(), unit, ref_request(ext, addr));
    if (r.kind == RefResult::Unknown) return;
    if (!r.ok())
      finding("a DMI grant for " + hex(addr) + " of requester " + hex(ext.requester_id) + ": the tables grant nothing");
    out = r.out & ~(kPage - 1);
    may_read = r.read;
    may_write = r.write && write;
  }
  if (dmi.get_dmi_ptr() != rig.ram().page_for(out))
    finding("a DMI grant for " + hex(addr) + " points at another page than " + hex(out));
  if ((dmi.is_read_allowed() && !may_read) || (dmi.is_write_allowed() && !may_write))
    finding("a DMI grant for " + hex(addr) + " allows more than its translation and request");
}

void check_writes_in_pages(VtdRig& rig, const Dma& d, bool remapping, const std::set<uint64_t>& pages,
                           const std::string& what) {
  const uint64_t n = span(d);
  for (const DataWrite& w : rig.log().data_writes()) {
    if (!w.len) continue;
    if (!remapping || interrupt_request(d)) {
      if (w.addr < d.addr || w.addr + w.len > d.addr + n)
        finding("a " + describe(d) + " wrote at " + hex(w.addr) + ", not where it pointed (no translation)");
      continue;
    }
    for (uint64_t p = w.addr / kPage; p <= (w.addr + w.len - 1) / kPage; ++p)
      if (!pages.count(p))
        finding("a " + describe(d) + " wrote " + std::to_string(w.len) + " bytes at " + hex(w.addr) + ", outside " +
                what);
  }
}

}  // namespace iommusim::fuzz
