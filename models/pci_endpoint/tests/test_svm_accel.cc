// SPDX-License-Identifier: Apache-2.0
// SVM accelerator against a small fake IOMMU written here: ATC hit/miss and
// translated requests, untranslated PASID requests, device-TLB invalidation,
// PRI flow control by the Outstanding Page Request Allocation, synchronous
// and asynchronous PRG responses, failures, MSI-X on completion.
#include "pci_endpoint/svm_accel.h"

#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <tuple>

#include <gtest/gtest.h>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>
#include <tlm_utils/tlm_quantumkeeper.h>

using namespace iommusim;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr uint64_t kPage = 4096;
constexpr uint64_t kMsiAddr = 0xfee00000;

// A fake IOMMU with a flat per-PASID page table and 1 MiB of "physical" memory.
struct FakeIommu : sc_core::sc_module {
  tlm_utils::simple_target_socket<FakeIommu> in;
  tlm_utils::simple_initiator_socket<FakeIommu> to_dev;

  struct Pte {
    uint64_t ppage;
    bool r, w;
  };
  std::map<std::pair<uint32_t, uint64_t>, Pte> pt;  // (pasid, vpage) -> pte
  std::vector<uint8_t> mem = std::vector<uint8_t>(1 << 20, 0);
  uint64_t next_free_ppage = 0x80;
  bool sync_prg = false;            // answer inside the page request (like VT-d's auto response)
  bool map_on_fault = true;         // service maps the page, else answers Invalid Request
  double service_ns = 1000.0;
  double translate_ns = 200.0;
  // Observations.
  unsigned translation_requests = 0, translated = 0, untranslated = 0, page_requests = 0;
  unsigned outstanding = 0, max_outstanding = 0;
  std::vector<uint32_t> untranslated_pasids;
  std::vector<std::pair<uint64_t, uint32_t>> msi;  // (address, data)
  std::deque<PcieMessage> queue;
  sc_core::sc_event queued;

  SC_HAS_PROCESS(FakeIommu);
  explicit FakeIommu(sc_core::sc_module_name n) : sc_module(n), in("in"), to_dev("to_dev") {
    in.register_b_transport(this, &FakeIommu::b_transport);
    SC_THREAD(service);
  }

  void map(uint32_t pasid, uint64_t va, uint64_t len, bool w = true) {
    for (uint64_t p = va / kPage; p <= (va + len - 1) / kPage; ++p)
      if (!pt.count({pasid, p})) pt[{pasid, p}] = Pte{next_free_ppage++, true, w};
  }
  uint64_t pa_of(uint32_t pasid, uint64_t va) { return pt.at({pasid, va / kPage}).ppage * kPage + va % kPage; }

  void access(tlm::tlm_generic_payload& t, uint64_t pa) {
    if (pa == kMsiAddr && t.is_write()) {
      uint32_t d = 0;
      std::memcpy(&d, t.get_data_ptr(), 4);
      msi.push_back({pa, d});
      t.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    if (pa + t.get_data_length() > mem.size()) {
      t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
      return;
    }
    if (t.is_write()) std::memcpy(&mem[pa], t.get_data_ptr(), t.get_data_length());
    else std::memcpy(t.get_data_ptr(), &mem[pa], t.get_data_length());
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }

  void respond(const PcieMessage& req, sc_time& delay) {
    PcieMessage rsp;
    rsp.type = PcieMessageType::PrgResponse;
    rsp.destination_id = req.requester_id;
    rsp.has_pasid = req.has_pasid;
    rsp.pasid = req.pasid;
    rsp.prg_index = req.prg_index;
    if (map_on_fault) {
      map(req.pasid, req.address, 1);
      rsp.response_code = PrgResponseCode::Success;
    } else {
      rsp.response_code = PrgResponseCode::InvalidRequest;
    }
    --outstanding;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_IGNORE_COMMAND);
    t.set_data_length(0);
    t.set_extension(&rsp);
    to_dev->b_transport(t, delay);
    t.clear_extension(&rsp);
  }

  void service() {
    for (;;) {
      while (queue.empty()) wait(queued);
      PcieMessage m = queue.front();
      queue.pop_front();
      wait(sc_time(service_ns, SC_NS));
      sc_time d = SC_ZERO_TIME;
      respond(m, d);
    }
  }

  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    if (t.get_command() == tlm::TLM_IGNORE_COMMAND) {
      PcieMessage* m = t.get_extension<PcieMessage>();
      ASSERT_NE(m, nullptr);
      EXPECT_EQ(m->type, PcieMessageType::PageRequest);
      EXPECT_TRUE(m->last);
      ++page_requests;
      max_outstanding = std::max(max_outstanding, ++outstanding);
      t.set_response_status(tlm::TLM_OK_RESPONSE);
      if (sync_prg) {
        sc_time d = delay + sc_time(service_ns, SC_NS);
        respond(*m, d);
      } else {
        queue.push_back(*m);
        queued.notify(delay);
      }
      return;
    }
    DmaExtension* e = t.get_extension<DmaExtension>();
    const DmaExtension a = e ? *e : DmaExtension{};
    delay += sc_time(50, SC_NS);
    switch (a.address_type) {
      case AddressType::TranslationRequest: {
        ++translation_requests;
        delay += sc_time(translate_ns, SC_NS);
        e->ats = AtsTranslation{};
        auto it = pt.find({a.pasid, t.get_address() / kPage});
        if (it != pt.end()) {
          e->ats.valid = true;
          e->ats.translated_addr = it->second.ppage * kPage;
          e->ats.size = kPage;
          e->ats.read = it->second.r;
          e->ats.write = it->second.w && !a.no_write;
        }
        t.set_response_status(tlm::TLM_OK_RESPONSE);
        return;
      }
      case AddressType::Translated:
        ++translated;
        access(t, t.get_address());
        return;
      case AddressType::Untranslated: {
        if (!a.has_pasid) {  // requests without PASID: identity (MSI)
          access(t, t.get_address());
          return;
        }
        ++untranslated;
        untranslated_pasids.push_back(a.pasid);
        auto it = pt.find({a.pasid, t.get_address() / kPage});
        if (it == pt.end() || (t.is_write() && !it->second.w)) {
          t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
          return;
        }
        access(t, it->second.ppage * kPage + t.get_address() % kPage);
        return;
      }
    }
  }

  // Sends an Invalidate Request; returns the annotated completion time.
  sc_time invalidate(uint32_t pasid, uint64_t addr, uint64_t size, bool global = false) {
    PcieMessage m;
    m.type = PcieMessageType::InvalidateRequest;
    m.has_pasid = !global;
    m.pasid = pasid;
    m.global = global;
    m.address = addr;
    m.size = size;
    tlm::tlm_generic_payload t;
    t.set_command(tlm::TLM_IGNORE_COMMAND);
    t.set_data_length(0);
    t.set_extension(&m);
    sc_time d = SC_ZERO_TIME;
    to_dev->b_transport(t, d);
    t.clear_extension(&m);
    EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE);
    return d;
  }
};

// The host side: config and BAR accesses.
struct Host : sc_core::sc_module {
  tlm_utils::simple_initiator_socket<Host> cfg, mmio;
  explicit Host(sc_core::sc_module_name n) : sc_module(n), cfg("cfg"), mmio("mmio") {}
  void access(tlm_utils::simple_initiator_socket<Host>& s, bool write, uint64_t off, uint32_t* v, unsigned len) {
    tlm::tlm_generic_payload t;
    uint8_t buf[4];
    for (unsigned i = 0; i < 4; ++i) buf[i] = static_cast<uint8_t>(*v >> (8 * i));
    t.set_command(write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND);
    t.set_address(off);
    t.set_data_ptr(buf);
    t.set_data_length(len);
    t.set_streaming_width(len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
    sc_time d = SC_ZERO_TIME;
    s->b_transport(t, d);
    EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE) << std::hex << off;
    wait(d);
    *v = 0;
    for (unsigned i = 0; i < len; ++i) *v |= static_cast<uint32_t>(buf[i]) << (8 * i);
  }
  void cfg_write(uint64_t off, uint32_t v, unsigned len) { access(cfg, true, off, &v, len); }
  uint32_t cfg_read(uint64_t off, unsigned len) {
    uint32_t v = 0;
    access(cfg, false, off, &v, len);
    return v;
  }
  void write(uint64_t off, uint32_t v) { access(mmio, true, off, &v, 4); }
  uint32_t read(uint64_t off) {
    uint32_t v = 0;
    access(mmio, false, off, &v, 4);
    return v;
  }
};

struct Bench {
  FakeIommu iommu{"iommu"};
  Host host{"host"};
  std::unique_ptr<SvmAccelerator> acc;
  explicit Bench(const SvmAccelParams& p) {
    acc = std::make_unique<SvmAccelerator>("acc", p);
    acc->dma.bind(iommu.in);
    iommu.to_dev.bind(acc->msg);
    host.cfg.bind(acc->cfg);
    host.mmio.bind(acc->mmio);
  }
  // Enable memory, bus master, PASID (+priv), and optionally ATS and PRI.
  void enable(bool ats, bool pri, uint32_t pri_alloc = 32) {
    using namespace pcicfg;
    host.cfg_write(COMMAND, CMD_MEMORY | CMD_BUS_MASTER, 2);
    host.cfg_write(PASID_CAP + PASID_CONTROL, PASID_CTL_ENABLE | PASID_CTL_PRIV, 2);
    if (ats) host.cfg_write(ATS_CAP + ATS_CONTROL, ATS_CTL_ENABLE, 2);
    if (pri) {
      host.cfg_write(PRI_CAP + PRI_ALLOCATION, pri_alloc, 4);
      host.cfg_write(PRI_CAP + PRI_CONTROL, PRI_CTL_ENABLE, 2);
    }
  }
  void enable_msix() {
    using namespace pcicfg;
    host.write(accreg::MSIX_TABLE + MSIX_ENTRY_ADDR_LO, static_cast<uint32_t>(kMsiAddr));
    host.write(accreg::MSIX_TABLE + MSIX_ENTRY_DATA, 0x41);
    host.write(accreg::MSIX_TABLE + MSIX_ENTRY_VECTOR_CTL, 0);
    host.cfg_write(MSIX_CAP + MSIX_CTL, MSIX_CTL_ENABLE, 2);
  }
  // Runs a job and waits for it; returns STATUS.
  uint32_t job(uint32_t op, uint32_t pasid, uint64_t src, uint64_t dst, uint32_t len) {
    using namespace accreg;
    host.write(JOB_OP, op);
    host.write(JOB_PASID, PASID_VALID | pasid);
    host.write(JOB_SRC_LO, static_cast<uint32_t>(src));
    host.write(JOB_SRC_HI, static_cast<uint32_t>(src >> 32));
    host.write(JOB_DST_LO, static_cast<uint32_t>(dst));
    host.write(JOB_DST_HI, static_cast<uint32_t>(dst >> 32));
    host.write(JOB_LEN, len);
    host.write(CTRL, CTRL_START);
    while (acc->busy()) sc_core::wait(acc->job_done_event());
    wait(SC_ZERO_TIME);
    const uint32_t s = host.read(STATUS);
    host.write(STATUS, STATUS_DONE | STATUS_ERROR);
    return s;
  }
};

void run_test(const std::function<void()>& body) {
  tlm_utils::tlm_quantumkeeper::set_global_quantum(sc_time(1000, SC_NS));
  bool finished = false;
  sc_core::sc_spawn([&] {
    body();
    finished = true;
    sc_core::sc_stop();
  });
  sc_core::sc_start(sc_time(10, sc_core::SC_MS));
  EXPECT_TRUE(finished) << "test body did not finish (hang?)";
}

SvmAccelParams params(unsigned engines = 1) {
  SvmAccelParams p;
  p.engines = engines;
  p.request_size = 256;
  return p;
}

constexpr uint32_t kPasid = 5;
constexpr uint64_t kSrc = 0x7f0000000000, kDst = 0x7f0000100000;

}  // namespace

TEST(SvmAccel, AtcMissFillsThenTranslatedRequestsHit) {
  Bench b(params(1));
  b.iommu.map(kPasid, kSrc, 2 * kPage);
  b.iommu.map(kPasid, kDst, 2 * kPage);
  for (uint64_t i = 0; i < 2 * kPage; ++i) b.iommu.mem[b.iommu.pa_of(kPasid, kSrc + i)] = static_cast<uint8_t>(i * 7);
  run_test([&] {
    b.enable(true, false);
    EXPECT_EQ(b.job(accreg::OP_COPY, kPasid, kSrc, kDst, 2 * kPage), accreg::STATUS_DONE);
  });
  // 32 reads + 32 writes of 256 B; the first access to each of the 4 pages misses.
  EXPECT_EQ(b.acc->atc_misses(), 4u);
  EXPECT_EQ(b.acc->atc_hits(), 64u);
  EXPECT_EQ(b.iommu.translation_requests, 4u);
  EXPECT_EQ(b.iommu.translated, 64u);
  EXPECT_EQ(b.iommu.untranslated, 0u);
  EXPECT_EQ(b.acc->atc_occupancy(), 4u);
  for (uint64_t i = 0; i < 2 * kPage; ++i)
    ASSERT_EQ(b.iommu.mem[b.iommu.pa_of(kPasid, kDst + i)], static_cast<uint8_t>(i * 7)) << i;
}

TEST(SvmAccel, AtsDisabledSendsUntranslatedPasidRequests) {
  Bench b(params(2));
  b.iommu.map(kPasid, kSrc, kPage);
  run_test([&] {
    b.enable(false, false);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, kPage), accreg::STATUS_DONE);
  });
  EXPECT_EQ(b.iommu.untranslated, 16u);
  EXPECT_EQ(b.iommu.translation_requests, 0u);
  for (uint32_t p : b.iommu.untranslated_pasids) EXPECT_EQ(p, kPasid);
}

TEST(SvmAccel, PasidJobRefusedWhilePasidDisabled) {
  Bench b(params(1));
  b.iommu.map(kPasid, kSrc, kPage);
  run_test([&] {
    b.host.cfg_write(pcicfg::COMMAND, pcicfg::CMD_MEMORY | pcicfg::CMD_BUS_MASTER, 2);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, kPage), accreg::STATUS_ERROR);
  });
  EXPECT_EQ(b.iommu.untranslated, 0u);
}

TEST(SvmAccel, InvalidationDropsMatchingEntriesAfterLatency) {
  SvmAccelParams p = params(1);
  p.inval_latency_ns = 500.0;
  Bench b(p);
  b.iommu.map(kPasid, kSrc, 4 * kPage);
  b.iommu.map(kPasid + 1, kSrc, kPage);
  sc_time d1, d2;
  run_test([&] {
    b.enable(true, false);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, 4 * kPage), accreg::STATUS_DONE);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid + 1, kSrc, 0, kPage), accreg::STATUS_DONE);
    EXPECT_EQ(b.acc->atc_occupancy(), 5u);
    // Another PASID's range: nothing of PASID 5 goes.
    d1 = b.iommu.invalidate(kPasid + 1, kSrc, kPage);
    EXPECT_EQ(b.acc->atc_occupancy(), 4u);
    // An 8 KiB range of PASID 5: two entries.
    d2 = b.iommu.invalidate(kPasid, kSrc, 2 * kPage);
    EXPECT_EQ(b.acc->atc_occupancy(), 2u);
    // Re-reading the first page misses again.
    const uint64_t misses = b.acc->atc_misses();
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, kPage), accreg::STATUS_DONE);
    EXPECT_EQ(b.acc->atc_misses(), misses + 1);
    // Global: everything in the range for every PASID.
    b.iommu.invalidate(0, kSrc, 16 * kPage, true);
    EXPECT_EQ(b.acc->atc_occupancy(), 0u);
  });
  for (const sc_time& d : {d1, d2}) {
    EXPECT_GE(d, sc_time(500 + 2 * 100, SC_NS));  // + a message each way on the Gen3 x8 link (100 ns each)
    EXPECT_LT(d, sc_time(750, SC_NS));
  }
}

TEST(SvmAccel, PriFlowControlRespectsAllocation) {
  SvmAccelParams p = params(8);
  p.request_size = 4096;  // each engine on its own page: 8 faults at once
  Bench b(p);
  b.iommu.sync_prg = false;
  b.iommu.service_ns = 2000.0;
  run_test([&] {
    b.enable(true, true, /*pri_alloc=*/2);
    EXPECT_EQ(b.job(accreg::OP_FILL, kPasid, 0, kDst, 16 * kPage), accreg::STATUS_DONE);
  });
  EXPECT_EQ(b.iommu.page_requests, 16u);
  EXPECT_EQ(b.iommu.max_outstanding, 2u);
  EXPECT_LE(b.acc->max_outstanding_page_requests(), 2u);
  EXPECT_EQ(b.acc->outstanding_page_requests(), 0u);
  EXPECT_GT(b.acc->pri_allocation_waits(), 0u);
  for (uint64_t i = 0; i < 16 * kPage; i += 256)
    EXPECT_EQ(b.iommu.mem[b.iommu.pa_of(kPasid, kDst + i)], static_cast<uint8_t>(i / kPage)) << i;
}

TEST(SvmAccel, PriCoalescesRequestsForOnePage) {
  Bench b(params(8));  // 8 engines on 256-byte pieces of the same pages
  b.iommu.service_ns = 2000.0;
  run_test([&] {
    b.enable(true, true, 8);
    EXPECT_EQ(b.job(accreg::OP_FILL, kPasid, 0, kDst, 4 * kPage), accreg::STATUS_DONE);
  });
  EXPECT_EQ(b.iommu.page_requests, 4u);
  EXPECT_GT(b.acc->pri_coalesced(), 0u);
}

TEST(SvmAccel, PriWithSynchronousResponses) {
  Bench b(params(4));
  b.iommu.sync_prg = true;
  run_test([&] {
    b.enable(true, true, 1);
    EXPECT_EQ(b.job(accreg::OP_FILL, kPasid, 0, kDst, 4 * kPage), accreg::STATUS_DONE);
  });
  EXPECT_EQ(b.iommu.page_requests, 4u);
  EXPECT_EQ(b.iommu.max_outstanding, 1u);
}

TEST(SvmAccel, FailedPageRequestFailsJobWithAddress) {
  Bench b(params(2));
  b.iommu.map_on_fault = false;
  b.iommu.service_ns = 300.0;
  uint32_t lo = 0, hi = 0;
  run_test([&] {
    b.enable(true, true, 4);
    b.enable_msix();
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc + 0x100, 0, 1024), accreg::STATUS_ERROR);
    lo = b.host.read(accreg::ERR_ADDR_LO);
    hi = b.host.read(accreg::ERR_ADDR_HI);
  });
  EXPECT_EQ((static_cast<uint64_t>(hi) << 32 | lo) & ~0xffull, kSrc + 0x100);
  ASSERT_EQ(b.iommu.msi.size(), 1u);  // completion interrupt even on failure
  EXPECT_EQ(b.iommu.msi[0].second, 0x41u);
}

TEST(SvmAccel, NoPriMeansFailedTranslationFailsJob) {
  Bench b(params(1));
  run_test([&] {
    b.enable(true, false);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, 512), accreg::STATUS_ERROR);
  });
  EXPECT_EQ(b.iommu.page_requests, 0u);
  EXPECT_EQ(b.iommu.translation_requests, 1u);
}

TEST(SvmAccel, MsixOnCompletionAndMaskedPending) {
  Bench b(params(1));
  b.iommu.map(kPasid, kSrc, kPage);
  run_test([&] {
    b.enable(true, false);
    b.enable_msix();
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, 256), accreg::STATUS_DONE);
    EXPECT_EQ(b.iommu.msi.size(), 1u);
    // Mask the vector: the next completion sets the PBA bit and sends nothing...
    b.host.write(accreg::MSIX_TABLE + pcicfg::MSIX_ENTRY_VECTOR_CTL, 1);
    EXPECT_EQ(b.job(accreg::OP_READ, kPasid, kSrc, 0, 256), accreg::STATUS_DONE);
    EXPECT_EQ(b.iommu.msi.size(), 1u);
    EXPECT_EQ(b.host.read(accreg::MSIX_PBA) & 1, 1u);
    // ...until unmasked.
    b.host.write(accreg::MSIX_TABLE + pcicfg::MSIX_ENTRY_VECTOR_CTL, 0);
    sc_core::wait(sc_time(1, sc_core::SC_US));
    EXPECT_EQ(b.iommu.msi.size(), 2u);
    EXPECT_EQ(b.host.read(accreg::MSIX_PBA) & 1, 0u);
  });
}
