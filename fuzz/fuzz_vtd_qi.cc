// SPDX-License-Identifier: Apache-2.0
// Fuzz target: queued invalidation. A domain of 16 IOVA pages is mapped and
// the unit brought up with QI (legacy 128-bit, or scalable 256-bit descriptors
// over a second-level PASID entry). The input then interleaves descriptors of
// any content at IQT, raw IQT values (beyond the queue, misaligned), IQA
// changes, QIE toggles, FSTS/ICS writes, unmaps and remaps of pages, DMAs,
// endpoint answers (delays, errors) and time, with the harness's own
// invalidation + wait as software issues it.
//
// Oracles:
//   - after the harness's covering invalidation and a completed wait (its
//     status written), a DMA to a page unmapped before it faults and writes
//     nothing (a descriptor of the input's never counts as that wait: its
//     status address is moved to a scratch page);
//   - device data lands only in pages the domain ever mapped;
//   - the unit goes idle within 1 ms after the input, once each descriptor
//     still pending in the queue has had 1 us (a queue that reads empty:
//     each of its slots, see let_queue_drain).
// The claim is dropped when software broke the queue's rules under it (IQA
// changed, or its slots rewritten, while its descriptors were pending).
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <set>

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
constexpr uint64_t kQueue = 0x180000, kStatus = 0x1c0000, kScratch = 0x1c1000, kPrq = 0x1c2000;
constexpr uint64_t kIova = 0x40000000, kData = 0x1000000, kPage = 4096;
constexpr unsigned kPages = 16;
constexpr uint16_t kSid = 0x0010, kDid = 1;

// The domain: one 4-level second-level table, leaves for IOVA pages 0..15.
struct Domain {
  explicit Domain(VtdRig& r) : rig(r) {}
  VtdRig& rig;
  uint64_t next_table = kSl;
  std::array<uint64_t, kPages> target{};  // data page of each IOVA page, 0: unmapped
  std::set<uint64_t> ever;                // every data page (4 KiB number) ever mapped
  std::set<unsigned> stale;               // unmapped, no covering invalidation completed since
  std::set<unsigned> must_fault;          // unmapped and covered by a completed invalidation

  uint64_t leaf_addr(unsigned k) const { return kSl + 3 * kPage + 8 * k; }
  void build() {
    // PML4[1] -> PDPT, PDPT[0] -> PD, PD[0] -> PT at kSl + 3 pages (IOVA 0x40000000 = 1 GiB).
    rig.ram().write_le(kSl + 8 * 1, (kSl + kPage) | 3, 8);
    rig.ram().write_le(kSl + kPage, (kSl + 2 * kPage) | 3, 8);
    rig.ram().write_le(kSl + 2 * kPage, (kSl + 3 * kPage) | 3, 8);
    for (unsigned k = 0; k < kPages; ++k) map(k, kData + kPage * k);
  }
  void map(unsigned k, uint64_t pa) {
    rig.ram().write_le(leaf_addr(k), pa | 3, 8);
    target[k] = pa;
    ever.insert(pa / kPage);
    must_fault.erase(k);
    stale.erase(k);
  }
  void unmap(unsigned k) {
    rig.ram().write_le(leaf_addr(k), 0, 8);
    target[k] = 0;
    stale.insert(k);
  }
};

class QiSession {
public:
  QiSession(VtdRig& rig, FuzzedDataProvider& in) : rig_(rig), in_(in), domain_(rig) {}

  void start() {
    write_context_tables(rig_, kSid, kDid, false);
    domain_.build();
    dw_ = rig_.params().scalable();
    rig_.mmio_write(reg::IQT, 0, 8);
    rig_.mmio_write(reg::IQA, kQueue | (dw_ ? iqa::DW.mask() : 0) | in_.ConsumeIntegralInRange(0, 1), 8);
    rig_.mmio_write(reg::PQA, kPrq, 8);
    rig_.mmio_write(reg::RTADDR, kRoot | (dw_ ? 1ull << 10 : 0), 8);
    if (!rig_.command(gcmd::QIE, 0, gsts::QIES, gsts::QIES) || !rig_.command(gcmd::SRTP, 0, gsts::RTPS, gsts::RTPS) ||
        !rig_.command(gcmd::TE, 0, gsts::TES, gsts::TES))
      finding("the unit did not come up (QIE, SRTP, TE)");
    dma(0, false);  // fills the IOTLB
  }

  void step() {
    switch (in_.ConsumeIntegralInRange(0, 12)) {
      case 0: return submit_input_descriptors();
      case 12: return fill_queue();
      case 1: return rig_.mmio_write(reg::IQT, in_.ConsumeIntegral<uint64_t>() & 0x7fff0, 8);
      case 2: return change_iqa();
      case 3: return toggle_qie();
      case 4: return rig_.mmio_write(reg::FSTS, in_.ConsumeIntegral<uint8_t>(), 4);
      case 5: return rig_.mmio_write(reg::ICS, 1, 4);
      case 6: return domain_.unmap(page());
      case 7: return domain_.map(page(), kData + kPage * in_.ConsumeIntegralInRange(0, 31));
      case 8: return invalidate_and_wait();
      case 9: return dma(page(), in_.ConsumeBool());
      case 10: return rig_.advance(sc_time(in_.ConsumeIntegralInRange(1, 5000), SC_NS));
      default: return endpoint();
    }
  }

private:
  unsigned page() { return in_.ConsumeIntegralInRange<unsigned>(0, kPages - 1); }
  unsigned desc_bytes() const { return dw_ ? 32 : 16; }
  uint64_t queue_size() { return 4096ull << (rig_.peek_register(reg::IQA, 8) & 7); }
  uint64_t queue_base() { return rig_.peek_register(reg::IQA, 8) & ~0xfffull; }

  // Writes descriptors at IQT and moves IQT past them, as software does.
  void post(const std::vector<std::array<uint64_t, 4>>& descs, bool harness) {
    uint64_t tail = rig_.peek_register(reg::IQT, 8) & 0x7fff0;
    const uint64_t base = queue_base(), size = queue_size();
    for (const auto& d : descs) {
      const uint64_t at = base + tail % size;
      for (unsigned i = 0; i < desc_bytes() / 8; ++i) rig_.ram().write_le(at + 8 * i, d[i], 8);
      if (harness) claim_slots_.insert(at);
      else if (claim_slots_.count(at)) claim_void_ = true;  // software overwrote the harness's pending slots
      tail = (tail + desc_bytes()) % size;
    }
    rig_.mmio_write(reg::IQT, tail, 8);
  }

  // The input's descriptors; a wait's status goes to the scratch page, never
  // where the harness looks for its own.
  void submit_input_descriptors() {
    std::vector<std::array<uint64_t, 4>> descs(in_.ConsumeIntegralInRange(1, 4));
    for (auto& d : descs) {
      for (auto& q : d) q = in_.ConsumeIntegral<uint64_t>();
      if ((d[0] & 0xf) == 5 && !(d[0] & 0xe00)) d[1] = kScratch + (d[1] & 0xffc);  // type 5: bits 3:0 and 11:9
    }
    post(descs, false);
  }

  // One descriptor of the input in every slot of the queue (a queue software
  // filled with waits, say), IQT left where it was.
  void fill_queue() {
    std::array<uint64_t, 4> d{};
    for (auto& q : d) q = in_.ConsumeIntegral<uint64_t>();
    if (in_.ConsumeBool()) d[0] = (d[0] & ~0xe0full) | 5;  // a wait
    if ((d[0] & 0xf) == 5 && !(d[0] & 0xe00)) d[1] = kScratch + (d[1] & 0xffc);
    const uint64_t base = queue_base(), size = queue_size();
    for (uint64_t at = 0; at < size; at += desc_bytes()) {
      for (unsigned i = 0; i < desc_bytes() / 8; ++i) rig_.ram().write_le(base + at + 8 * i, d[i], 8);
      if (claim_slots_.count(base + at)) claim_void_ = true;
    }
  }

  void change_iqa() {
    const uint64_t dw = in_.ConsumeBool() ? iqa::DW.mask() : 0;
    rig_.mmio_write(reg::IQA, kQueue + kPage * in_.ConsumeIntegralInRange(0, 1) | dw | in_.ConsumeIntegralInRange(0, 7), 8);
    claim_void_ = true;  // descriptors pending under a changed IQA (software must not, VT-d 11.4.9.3)
  }

  void toggle_qie() {
    rig_.command(0, gcmd::QIE, gsts::QIES, 0);
    if (in_.ConsumeBool()) rig_.mmio_write(reg::IQT, 0, 8);
    rig_.command(gcmd::QIE, 0, gsts::QIES, gsts::QIES);
  }

  void endpoint() {
    rig_.endpoint().latency = sc_time(in_.ConsumeIntegralInRange(0, 20000), SC_NS);
    const tlm::tlm_response_status answers[] = {tlm::TLM_OK_RESPONSE, tlm::TLM_INCOMPLETE_RESPONSE,
                                                tlm::TLM_GENERIC_ERROR_RESPONSE};
    rig_.endpoint().status = in_.PickValueInArray(answers);
  }

  // The harness's IOTLB invalidation (VT-d 6.5.2.3: type 2; G 01b global, 10b
  // domain, 11b page with AM) and a wait (6.5.2.9: type 5, SW) with a fresh token.
  void invalidate_and_wait() {
    const unsigned g = in_.ConsumeIntegralInRange(1, 3), am = in_.ConsumeIntegralInRange(0, 4), k = page();
    const uint64_t addr = (kIova + kPage * k) & ~((kPage << am) - 1);
    const uint32_t token = ++token_;
    claim_slots_.clear();
    claim_void_ = false;
    const std::set<unsigned> covered = covered_pages(g, addr, am);
    post({{2 | uint64_t(g) << 4 | uint64_t(kDid) << 16, g == 3 ? addr | am : 0, 0, 0},
          {5 | 1u << 5 | uint64_t(token) << 32, kStatus, 0, 0}},
         true);
    const sc_time end = sc_core::sc_time_stamp() + sc_time(20, sc_core::SC_US);
    while (rig_.ram().read_le(kStatus, 4) != token && sc_core::sc_time_stamp() < end) rig_.advance(sc_time(50, SC_NS));
    if (rig_.ram().read_le(kStatus, 4) != token || claim_void_) return;
    for (unsigned p : covered) domain_.must_fault.insert(p);
    for (unsigned p : covered) dma(p, true);
  }

  std::set<unsigned> covered_pages(unsigned g, uint64_t addr, unsigned am) const {
    std::set<unsigned> out;
    for (unsigned p : domain_.stale)
      if (g != 3 || ((kIova + kPage * p) & ~((kPage << am) - 1)) == addr) out.insert(p);
    return out;
  }

  void dma(unsigned k, bool write) {
    Dma d;
    d.ext = DmaExtension(kSid);
    if (dw_ && in_.ConsumeBool()) {
      d.ext.has_pasid = true;
      d.ext.pasid = 1;
    }
    d.command = write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
    d.addr = kIova + kPage * k + in_.ConsumeIntegralInRange<uint64_t>(0, kPage - 1);
    d.len = in_.ConsumeIntegralInRange(1, 64);
    if (domain_.must_fault.count(k)) d.addr &= ~(kPage - 1);  // the whole DMA inside the page that must fault
    std::vector<uint8_t> data(d.len, 0xa5);
    rig_.log().clear();
    const bool te = rig_.peek_register(reg::GSTS, 4) & gsts::TES;
    const tlm::tlm_response_status st = rig_.dma(d, data.data());
    check_writes_in_pages(rig_, d, te, domain_.ever, "every page the domain ever mapped");
    if (domain_.must_fault.count(k) && (st == tlm::TLM_OK_RESPONSE || !rig_.log().data_writes().empty()))
      finding("a DMA to IOVA " + hex(d.addr) + ", unmapped before an IOTLB invalidation whose wait completed, was " +
              (st == tlm::TLM_OK_RESPONSE ? "answered OK" : "answered with an error but wrote data"));
  }

  VtdRig& rig_;
  FuzzedDataProvider& in_;
  Domain domain_;
  bool dw_ = false;
  uint32_t token_ = 0x51000000;
  std::set<uint64_t> claim_slots_;
  bool claim_void_ = false;
};

// Time for the descriptors still between IQH and IQT: a queue of 2^7 pages
// (IQA.QS 7, VT-d 10.4.23) holds up to 32,768 descriptors, all of which the
// input may have made valid (a queue of waits takes the unit about 1.4 ms),
// so the 1 ms idle rule runs after each pending descriptor has had 1 us. An
// engine that never stops still fails it.
//
// A queue whose registers read empty gets a whole queue's time: software may
// have written IQT onto IQH while the descriptor at IQH was being processed
// (a QIE toggle resets IQH to 0 under a tail beyond it, and the input writes
// IQT back to 0), and once that descriptor completes IQH is one past IQT, so
// the engine goes once round the queue, as the hardware would: it processes
// from IQH until IQH equals IQT (VT-d 6.5.2). An idle unit drains at once.
void let_queue_drain(VtdRig& rig) {
  const uint64_t iqa = rig.peek_register(reg::IQA, 8);
  const uint64_t size = 4096ull << (iqa & 7), desc = (iqa & iqa::DW.mask()) ? 32 : 16;
  const uint64_t head = rig.peek_register(reg::IQH, 8) & 0x7fff0, tail = rig.peek_register(reg::IQT, 8) & 0x7fff0;
  const uint64_t between = ((tail + size - head % size) % size) / desc;
  const uint64_t pending = between ? between : size / desc;
  rig.drain(sc_time(static_cast<double>(pending), sc_core::SC_US));
}

void one_input(VtdRig& rig, FuzzedDataProvider& in) {
  QiSession session(rig, in);
  session.start();
  for (unsigned n = 0; n < 64 && in.remaining_bytes(); ++n) session.step();
  let_queue_drain(rig);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return init_rigs(); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return run_vtd_input(bytes, size, one_input);
}
