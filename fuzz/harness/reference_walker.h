// SPDX-License-Identifier: Apache-2.0
// A small reference translation for VT-d, written from the spec's structure
// layouts (Intel VT-d 3.x/4.x chapter 9: root, context, scalable-mode context,
// PASID directory and table entries, first- and second-level paging entries)
// and nothing of the model: the fuzz targets compare the unit's answers with
// it.
//
// It is deliberately lenient where the spec leaves room or where the model may
// be stricter (reserved fields of non-leaf structures, privilege and execute
// checks, the interrupt range): a difference that matters is the unit letting
// through what the tables do not grant, so the comparison is one-sided. The
// unit granting an access (a DMA answered OK, an ATS completion, a DMI grant)
// must be granted here too, with the same output address and at least the
// same permission. Nested translation (PGTT = 011b) is not modelled: the
// answer is Unknown and the targets skip the comparison for it.
#pragma once

#include <cstdint>
#include <vector>

#include "common/sparse_memory.h"

namespace iommusim::fuzz {

struct RefUnit {
  bool scalable = false;     // RTADDR.TTM = 01b
  uint64_t rta = 0;          // root table address
  unsigned sagaw = 0x4;      // CAP.SAGAW
  unsigned mgaw = 48;        // CAP.MGAW + 1
  unsigned haw = 46;         // host address width
  unsigned sllps = 0x3;      // CAP.SLLPS: bit 0 2 MiB, bit 1 1 GiB
  bool fl_1g = true;         // CAP.FS1GP
  bool fl_5level = true;     // CAP.FS5LP
  bool pass_through = true;  // ECAP.PT
};

struct RefRequest {
  uint16_t sid = 0;
  bool has_pasid = false;
  uint32_t pasid = 0;
  bool privileged = false;
  bool translated = false;           // ATS translated request: the context decides alone
  bool translation_request = false;  // ATS translation request: needs a device TLB
  uint64_t addr = 0;
};

struct RefResult {
  enum Kind { Fault, Ok, Unknown } kind = Fault;
  uint64_t out = 0;          // translated address of the request's address
  uint64_t page_size = 4096;
  bool read = false, write = false;
  std::vector<uint64_t> entries;  // addresses of the paging entries walked (A/D may be set there)
  const char* why = "";           // the step that faulted, for a finding's message
  bool ok() const { return kind == Ok; }
};

RefResult reference_translate(const SparseMemory& mem, const RefUnit& unit, const RefRequest& req);

}  // namespace iommusim::fuzz
