// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the register file. The harness places a domain (16 IOVA pages
// over 16 data pages) in legacy or scalable tables; the input then issues
// register accesses of every offset, size, alignment and byte enable,
// interleaved with driver steps (SRTP, TE, QIE, register invalidations, event
// unmasking), DMAs (untranslated, with PASID, translated), ATS translation
// requests, page requests, DMI requests and time.
//
// Software may point the unit's structures anywhere; a harness that let it
// point them at memory a device writes would make any escape legitimate. So
// after every register write the harness keeps the pointers where software
// would: RTADDR at the domain's root in the rig's mode, IQA and PQA in their
// own (zeroed) regions, the event addresses in the interrupt window. Everything
// else the input writes stands.
//
// Oracles: with remapping on, device data lands only in the domain's data
// pages (or, for an interrupt request, where it pointed); with it off, or for a
// translated request (placed in the data pages by the harness), exactly where
// the DMA pointed; a DMI grant is one data page (or, with remapping off, the
// page asked for); the unit goes idle within 1 ms after the input.
#include <fuzzer/FuzzedDataProvider.h>

#include <set>
#include <vector>

#include "fuzz/harness/oracles.h"
#include "fuzz/harness/vtd_rig.h"
#include "iommu_vtd/vtd_regs.h"

using namespace iommusim;
using namespace iommusim::fuzz;
using namespace iommusim::vtd;
using sc_core::sc_time;
using sc_core::SC_NS;

namespace {

constexpr uint64_t kRoot = kRootTable, kSl = kSecondLevel;
constexpr uint64_t kQueue = 0x800000, kPrq = 0x900000;
constexpr uint64_t kIova = 0x40000000, kData = 0x1000000, kPage = 4096;
constexpr unsigned kPages = 16;
constexpr uint16_t kSids[] = {0x0010, 0x0018, 0x0100};
constexpr unsigned kSizes[] = {1, 2, 3, 4, 5, 6, 7, 8, 12, 16};

void build_domain(VtdRig& rig) {
  SparseMemory& m = rig.ram();
  m.write_le(kSl + 8, (kSl + kPage) | 3, 8);
  m.write_le(kSl + kPage, (kSl + 2 * kPage) | 3, 8);
  m.write_le(kSl + 2 * kPage, (kSl + 3 * kPage) | 3, 8);
  for (unsigned k = 0; k < kPages; ++k) m.write_le(kSl + 3 * kPage + 8 * k, (kData + kPage * k) | 3, 8);
  write_context_tables(rig, 0x0010, 1, true);
}

class MmioSession {
public:
  MmioSession(VtdRig& rig, FuzzedDataProvider& in) : rig_(rig), in_(in), window_(rig.unit().layout().window_size()) {
    for (unsigned k = 0; k < kPages; ++k) data_pages_.insert(kData / kPage + k);
  }

  void step() {
    switch (in_.ConsumeIntegralInRange(0, 8)) {
      case 0:
      case 1: return register_access(tlm::TLM_WRITE_COMMAND);
      case 2: return register_access(tlm::TLM_READ_COMMAND);
      case 3: return driver_step();
      case 4:
      case 5: return dma();
      case 6: return page_request();
      case 7: return dmi();
      default: return rig_.advance(sc_time(in_.ConsumeIntegralInRange(1, 2000), SC_NS));
    }
  }

private:
  bool remapping() { return rig_.peek_register(reg::GSTS, 4) & gsts::TES; }

  void register_access(tlm::tlm_command cmd) {
    const uint64_t offset = in_.ConsumeBool() ? in_.ConsumeIntegralInRange<uint64_t>(0, window_ + 64)
                                              : 8 * in_.ConsumeIntegralInRange<uint64_t>(0, 0x60);
    const unsigned len = in_.PickValueInArray(kSizes);
    std::vector<uint8_t> data = in_.ConsumeBytes<uint8_t>(len);
    data.resize(len);
    std::vector<uint8_t> be;
    if (in_.ConsumeIntegralInRange(0, 3) == 0) be = in_.ConsumeBytes<uint8_t>(in_.ConsumeIntegralInRange(1, 8));
    rig_.mmio_access(cmd, offset, data.data(), len, be.empty() ? nullptr : be.data(), static_cast<unsigned>(be.size()));
    if (cmd == tlm::TLM_WRITE_COMMAND) keep_pointers();
  }

  // The structure pointers where software keeps them (see the file comment).
  void keep_pointers() {
    const uint64_t ttm = rig_.params().scalable() ? 1ull << 10 : 0;
    if (rig_.peek_register(reg::RTADDR, 8) != (kRoot | ttm)) rig_.mmio_write(reg::RTADDR, kRoot | ttm, 8);
    const uint64_t iqa = rig_.peek_register(reg::IQA, 8);
    if ((iqa & ~0xfffull) != kQueue) rig_.mmio_write(reg::IQA, kQueue | (iqa & 0xfff), 8);
    const uint64_t pqa = rig_.peek_register(reg::PQA, 8);
    if ((pqa & ~0xfffull) != kPrq) rig_.mmio_write(reg::PQA, kPrq | (pqa & 0xfff), 8);
    for (uint64_t addr : {reg::FEADDR, reg::IEADDR, reg::PEADDR}) {
      if ((rig_.peek_register(addr, 4) >> 20) != 0xfee) rig_.mmio_write(addr, 0xfee00000, 4);
      if (rig_.peek_register(addr + 4, 4) != 0) rig_.mmio_write(addr + 4, 0, 4);
    }
  }

  // Steps a driver takes, to reach the states behind them quickly.
  void driver_step() {
    switch (in_.ConsumeIntegralInRange(0, 6)) {
      case 0: rig_.command(gcmd::SRTP, 0, gsts::RTPS, gsts::RTPS); break;
      case 1: rig_.command(gcmd::TE, 0, gsts::TES, gsts::TES); break;
      case 2: rig_.command(0, gcmd::TE, gsts::TES, 0); break;
      case 3:
        rig_.mmio_write(reg::IQT, 0, 8);
        rig_.command(gcmd::QIE, 0, gsts::QIES, gsts::QIES);
        break;
      case 4: rig_.mmio_write(reg::CCMD, ccmd::ICC | (1ull << ccmd::CIRG.pos), 8); break;
      case 5: rig_.mmio_write(rig_.unit().layout().iotlb_offset(), iotlb_reg::IVT | (1ull << iotlb_reg::IIRG.pos), 8); break;
      default: rig_.mmio_write(reg::FECTL, 0, 4); break;
    }
  }

  Dma request() {
    Dma d;
    d.ext = DmaExtension(in_.PickValueInArray(kSids));
    if (in_.ConsumeBool()) {
      d.ext.has_pasid = true;
      d.ext.pasid = in_.ConsumeIntegralInRange(0, 2);
      d.ext.privileged = in_.ConsumeBool();
    }
    const unsigned where = in_.ConsumeIntegralInRange(0, 3);
    d.addr = where == 0   ? in_.ConsumeIntegral<uint64_t>()
             : where == 1 ? 0xfeeffff0 + in_.ConsumeIntegralInRange(0, 0x20)
                          : kIova + kPage * in_.ConsumeIntegralInRange(0u, kPages) + in_.ConsumeIntegralInRange(0u, 4095u);
    d.len = in_.ConsumeIntegralInRange(1u, in_.ConsumeBool() ? 16u : 8192u);
    if (in_.ConsumeIntegralInRange(0, 3) == 0) d.streaming_width = in_.ConsumeIntegralInRange<unsigned>(1, d.len);
    if (in_.ConsumeIntegralInRange(0, 3) == 0) d.byte_enables = in_.ConsumeBytes<uint8_t>(in_.ConsumeIntegralInRange(1, 16));
    d.command = in_.ConsumeBool() ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
    return d;
  }

  // A device's DMA. Where nothing translates it (remapping off, or an ATS
  // translated request) the harness keeps its writes in the data pages, as a
  // device given only those pages would.
  void dma() {
    Dma d = request();
    const unsigned at = in_.ConsumeIntegralInRange(0, 3);
    if (at == 1) d.ext.address_type = AddressType::TranslationRequest;
    if (at == 2) d.ext.address_type = AddressType::Translated;
    const bool te = remapping();
    if ((!te || at == 2) && !interrupt_request(d)) {
      d.addr = kData + d.addr % (kPages * kPage);
      d.len = std::min<unsigned>(d.len, static_cast<unsigned>(kData + kPages * kPage - d.addr));
    }
    std::vector<uint8_t> data(d.len, 0x3c);
    rig_.log().clear();
    rig_.dma(d, data.data());
    check_writes_in_pages(rig_, d, te && at != 2, data_pages_, "the domain's data pages");
  }

  void page_request() {
    PcieMessage m;
    m.type = PcieMessageType::PageRequest;
    m.requester_id = in_.PickValueInArray(kSids);
    m.has_pasid = in_.ConsumeBool();
    m.pasid = in_.ConsumeIntegralInRange(0, 0xfffff);
    m.address = in_.ConsumeIntegral<uint64_t>() & ~(kPage - 1);
    m.read = in_.ConsumeBool();
    m.write = in_.ConsumeBool();
    m.last = in_.ConsumeBool();
    m.prg_index = in_.ConsumeIntegralInRange(0, 0x1ff);
    rig_.page_request(m);
  }

  void dmi() {
    Dma d = request();
    tlm::tlm_dmi grant;
    const bool te = remapping();
    if (!rig_.dmi(d.command, d.addr, d.ext, grant)) return;
    const uint64_t start = grant.get_start_address(), end = grant.get_end_address();
    if (start > d.addr || end < d.addr || end - start != kPage - 1)
      finding("a DMI grant for " + hex(d.addr) + " covers [" + hex(start) + ", " + hex(end) + "]");
    if (!te) {
      if (grant.get_dmi_ptr() != rig_.ram().page_for(d.addr)) finding("a pass-through DMI grant points elsewhere");
      return;
    }
    for (uint64_t p : data_pages_)
      if (grant.get_dmi_ptr() == rig_.ram().page_for(p * kPage)) return;
    finding("a DMI grant for " + hex(d.addr) + " of requester " + hex(d.ext.requester_id) +
            " points outside the domain's data pages");
  }

  VtdRig& rig_;
  FuzzedDataProvider& in_;
  const uint64_t window_;
  std::set<uint64_t> data_pages_;
};

void one_input(VtdRig& rig, FuzzedDataProvider& in) {
  build_domain(rig);
  MmioSession session(rig, in);
  for (unsigned n = 0; n < 96 && in.remaining_bytes(); ++n) session.step();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return init_rigs(); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return run_vtd_input(bytes, size, one_input);
}
