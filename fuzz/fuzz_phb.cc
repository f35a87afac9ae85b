// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the POWER PCI host bridge (models/ppc_tce), the surface the
// pSeries hypervisor programs: register writes of any value (BARs, TCE kills,
// RTC invalidations, IODA table access with autoincrement), IODA3 table
// entries (TVT, MDT, PESTA/PESTB freeze and thaw), the in-memory RTT, PELT-V
// and TCE tables (1 to 5 levels, any page size code), interleaved with DMAs of
// any requester, address and length, and time.
//
// Oracles (beyond no crash, ASan, UBSan):
//   - a logging memory: every byte of device data lies in a page some TCE the
//     input (or a DMA) wrote ever granted for writing, at the largest I/O page
//     the input named; the bridge's own writes lie in a PEST table (16 bytes
//     per PE at any PEST BAR the input set) or at an interrupt notify address;
//   - differential, after a completed "kill all + RTC invalidate" and until
//     memory or a register changes: a DMA the bridge answers OK is granted by
//     the reference (fuzz/harness/tce_reference.h) on every page, and its data
//     lands exactly where the reference puts it;
//   - a PE whose DMA is stopped gets no byte written;
//   - the bridge goes idle within 1 ms.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "common/tlm_access.h"
#include "fuzz/harness/oracles.h"
#include "fuzz/harness/tce_reference.h"
#include "fuzz/harness/vtd_rig.h"
#include "ppc_tce/phb_unit.h"

using namespace iommusim;
using namespace iommusim::fuzz;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr unsigned kPes = 16;
constexpr uint64_t kRtt = 0x100000, kPeltv = 0x140000, kPest = 0x150000, kTables = 0x200000, kData = 0x1000000;
constexpr uint64_t kPage = 4096;
constexpr uint64_t PHB_RTT_BAR = 0x168, PHB_PELTV_BAR = 0x188, PHB_PEST_BAR = 0x1a8, PHB_RTC_INVALIDATE = 0x208,
                   PHB_TCE_KILL = 0x210, PHB_IODA_ADDR = 0x220, PHB_IODA_DATA0 = 0x228,
                   PHB_INT_NOTIFY_ADDR = 0x300, PHB_INT_NOTIFY_INDEX = 0x308;
constexpr uint64_t kRegisters[] = {0x110, 0x120, PHB_RTT_BAR, PHB_PELTV_BAR, 0x190, 0x198, PHB_PEST_BAR,
                                   PHB_RTC_INVALIDATE, PHB_TCE_KILL, PHB_IODA_ADDR, PHB_IODA_DATA0,
                                   PHB_INT_NOTIFY_ADDR, PHB_INT_NOTIFY_INDEX};
constexpr uint64_t kBarEnable = 1ull << 63;
constexpr unsigned kTables_[] = {7, 8, 9, 17};  // PESTA, PESTB, TVT, MDT (IODA3)
constexpr uint16_t kRids[] = {0x0100, 0x0108, 0x0200, 0x0201, 0xffff};
constexpr unsigned kPageCodes[] = {1, 5, 10, 13, 17, 19, 23};  // IO_PSIZE of 4K 64K 2M 16M 256M 1G 16G

struct PhbSystem {
  PhbSystem() {
    ppc::PhbParams p;
    p.num_pes = kPes;
    p.pe_stats = 0;
    MemoryParams m;
    m.size = 1ull << 40;
    m.bandwidth_GBps = 0;
    phb = std::make_unique<ppc::PhbUnit>("phb0", p, &stats);
    mem = std::make_unique<Memory>("mem", m, &stats);
    log = std::make_unique<WriteLog>("log");
    host = std::make_unique<Host>("host");
    cpu = std::make_unique<Host>("cpu");
    devices = std::make_unique<AcceptAll>("devices");
    unused = std::make_unique<AcceptAll>("unused");
    host->mmio.bind(phb->regs);
    host->dma.bind(phb->dma_in);
    cpu->mmio.bind(phb->mmio_in);
    cpu->dma.bind(unused->socket);  // bound for elaboration only
    phb->mmio_out.bind(devices->socket);
    phb->mem_out.bind(log->in);
    log->out.bind(mem->socket);
  }
  StatGroup stats{"system"};
  std::unique_ptr<ppc::PhbUnit> phb;
  std::unique_ptr<Memory> mem;
  std::unique_ptr<WriteLog> log;
  std::unique_ptr<Host> host, cpu;
  std::unique_ptr<AcceptAll> devices, unused;
};

PhbSystem& phb_system() {
  static PhbSystem s;
  return s;
}

tlm::tlm_response_status transport(tlm_utils::simple_initiator_socket<Host>& s, tlm::tlm_command cmd, uint64_t addr,
                                   uint8_t* data, unsigned len, DmaExtension* ext) {
  tlm::tlm_generic_payload t;
  prepare_access(t, cmd, addr, data, len);
  if (ext) t.set_extension(ext);
  sc_time d = SC_ZERO_TIME;
  s->b_transport(t, d);
  if (ext) t.clear_extension(ext);
  return t.get_response_status();
}

class PhbSession {
public:
  PhbSession(PhbSystem& s, FuzzedDataProvider& in) : s_(s), in_(in) {}

  // What a hypervisor sets up before the input bends it: the RTT, PELT-V and
  // PEST BARs, requester ids 0x0100/0x0108/0x0200/0x0201 in PEs 1..4, each
  // PE's window 0 a one-level table of 512 4K TCEs (at kTables + PE pages),
  // the first 8 TCEs of each mapping data pages read/write, then a full kill.
  void baseline() {
    wr(PHB_RTT_BAR, kBarEnable | kRtt);
    wr(PHB_PELTV_BAR, kBarEnable | kPeltv);
    wr(PHB_PEST_BAR, kBarEnable | kPest);
    wr(PHB_INT_NOTIFY_ADDR, kData - kPage);
    for (unsigned i = 0; i < 4; ++i) {
      const unsigned pe = i + 1;
      s_.mem->storage().write_be(kRtt + 2ull * kRids[i], pe, 2);
      const uint64_t table = kTables + kPage * pe;
      wr(PHB_IODA_ADDR, uint64_t(9) << 48 | 2 * pe);
      wr(PHB_IODA_DATA0, (table >> 12) << 16 | 1 << 8 | 1);
      for (unsigned k = 0; k < 8; ++k) {
        const uint64_t tce = (kData + kPage * (8 * i + k)) | 3;
        s_.mem->storage().write_be(table + 8 * k, tce, 8);
        note_possible_tce(tce);
      }
    }
    sync();
  }

  void step() {
    switch (in_.ConsumeIntegralInRange(0, 9)) {
      case 0: return register_write();
      case 1:
      case 2: return ioda_write();
      case 3: return tce_write();
      case 4: return rtt_or_peltv_write();
      case 5:
      case 6:
      case 7: return dma();
      case 8: return sync();
      default: return sc_core::sc_start(sc_time(in_.ConsumeIntegralInRange(1, 3000), SC_NS));
    }
  }

private:
  void wr(uint64_t offset, uint64_t v) {
    uint8_t b[8];
    for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(v >> (56 - 8 * i));  // big-endian window
    transport(s_.host->mmio, tlm::TLM_WRITE_COMMAND, offset, b, 8, nullptr);
    fresh_ = false;
    if (offset == PHB_RTT_BAR) rtt_bar_ = v, rtt_stale_ = true;
    if (offset == PHB_PEST_BAR) pest_bases_.push_back(v & 0x00fffffffffff000ull);  // IBM 8..51
    if (offset == PHB_INT_NOTIFY_ADDR) notify_.push_back(v & ~3ull);  // a 4-byte aligned store
  }
  uint64_t rd(uint64_t offset) {
    uint8_t b[8] = {};
    transport(s_.host->mmio, tlm::TLM_READ_COMMAND, offset, b, 8, nullptr);
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | b[i];
    return v;
  }
  bool rtt_enabled() const { return rtt_bar_ & kBarEnable; }
  uint64_t rtt_base() const { return rtt_bar_ & 0x00fffffffffe0000ull; }  // IBM 8..46

  void register_write() {
    const uint64_t offset = in_.ConsumeBool() ? in_.PickValueInArray(kRegisters)
                                              : 8 * in_.ConsumeIntegralInRange<uint64_t>(0, 0x400);
    uint64_t v = in_.ConsumeIntegral<uint64_t>();
    if (in_.ConsumeBool()) {
      if (offset == PHB_RTT_BAR) v = kBarEnable | kRtt;
      if (offset == PHB_PELTV_BAR) v = kBarEnable | kPeltv;
      if (offset == PHB_PEST_BAR) v = kBarEnable | kPest;
      if (offset == PHB_INT_NOTIFY_ADDR) v = kData - kPage;
    }
    wr(offset, v);
  }

  // A TVE of a table tree below kTables, or any value.
  uint64_t tve_value() {
    if (in_.ConsumeIntegralInRange(0, 3) == 0) return in_.ConsumeIntegral<uint64_t>();
    const uint64_t table = kTables + kPage * in_.ConsumeIntegralInRange(0, 255);
    const uint64_t levels = in_.ConsumeIntegralInRange(0, 4), size_code = in_.ConsumeIntegralInRange(0, 3);
    const uint64_t psize = in_.PickValueInArray(kPageCodes);
    max_page_shift_ = std::max<unsigned>(max_page_shift_, static_cast<unsigned>(psize) + 11);
    return (table >> 12) << 16 | levels << 13 | size_code << 8 | psize;
  }

  void ioda_write() {
    const unsigned table = in_.ConsumeBool() ? in_.PickValueInArray(kTables_) : in_.ConsumeIntegralInRange(0, 31);
    const unsigned index = in_.ConsumeIntegralInRange<unsigned>(0, 2 * kPes + 1);
    wr(PHB_IODA_ADDR, (in_.ConsumeBool() ? 1ull << 63 : 0) | uint64_t(table) << 48 | index);
    for (unsigned n = in_.ConsumeIntegralInRange(1, 3); n; --n) {
      uint64_t v = table == 9 ? tve_value() : in_.ConsumeIntegral<uint64_t>();
      if (table == 9 && (v & 0x1f)) max_page_shift_ = std::max<unsigned>(max_page_shift_, (v & 0x1f) + 11);
      if ((table == 7 || table == 8) && in_.ConsumeBool()) v = 0;  // thaw
      wr(PHB_IODA_DATA0, v);
    }
  }

  // A TCE (or table pointer) anywhere in the table region: a data page, a
  // table page, or any value.
  void tce_write() {
    const uint64_t at = kTables + 8 * in_.ConsumeIntegralInRange<uint64_t>(0, 256 * 512 - 1);
    uint64_t v;
    switch (in_.ConsumeIntegralInRange(0, 2)) {
      case 0: v = kData + kPage * in_.ConsumeIntegralInRange(0, 63) | in_.ConsumeIntegralInRange(0, 3); break;
      case 1: v = kTables + kPage * in_.ConsumeIntegralInRange(0, 255) | 3; break;
      default: v = in_.ConsumeIntegral<uint64_t>();
    }
    s_.mem->storage().write_be(at, v, 8);
    note_possible_tce(v);
    fresh_ = false;
  }

  void rtt_or_peltv_write() {
    if (in_.ConsumeBool()) {
      const uint16_t rid = in_.PickValueInArray(kRids);
      s_.mem->storage().write_be(kRtt + 2ull * rid, in_.ConsumeIntegralInRange<unsigned>(0, kPes + 1), 2);
      rtt_stale_ = true;  // the RTC may keep the old PE until an invalidation
    } else {
      s_.mem->storage().write_be(kPeltv + in_.ConsumeIntegralInRange<unsigned>(0, kPes * kPes / 8 - 1),
                                 in_.ConsumeIntegral<uint8_t>(), 1);
    }
    fresh_ = false;
  }

  // Any 8-byte word with the write bit may become a TCE: the pages it names
  // (at the largest I/O page size named so far) may be written by devices.
  void note_possible_tce(uint64_t v) {
    if (!(v & 2)) return;
    const uint64_t size = 1ull << max_page_shift_;
    granted_.push_back({v & ~0xfffull & ~(size - 1), size});
  }
  bool granted(uint64_t addr, uint64_t len) const {
    for (const auto& [base, size] : granted_)
      if (addr >= base && addr + len <= base + size) return true;
    // A grant noted before a larger page size came in covers the larger page too.
    const uint64_t size = 1ull << max_page_shift_;
    for (const auto& g : granted_)
      if (addr >= (g.first & ~(size - 1)) && addr + len <= (g.first & ~(size - 1)) + size) return true;
    return false;
  }

  // Kill every TCE and RTC entry and wait until the kill bits clear.
  void sync() {
    wr(PHB_TCE_KILL, 1ull << 63);
    wr(PHB_RTC_INVALIDATE, 1ull << 63);
    for (unsigned n = 0; n < 100 && (rd(PHB_TCE_KILL) >> 61); ++n) sc_core::sc_start(sc_time(100, SC_NS));
    if (rd(PHB_TCE_KILL) >> 61) finding("a TCE kill still running after 10 us");
    fresh_ = true;
    rtt_stale_ = false;
  }

  void dma();
  void check_dma(uint16_t rid, uint64_t addr, unsigned len, bool write, tlm::tlm_response_status st,
                 bool stopped);
  void check_own_writes();

  PhbSystem& s_;
  FuzzedDataProvider& in_;
  bool fresh_ = false;
  bool rtt_stale_ = false;  // the RTT changed since the last sync(): the RTC may disagree
  uint64_t rtt_bar_ = 0;
  unsigned max_page_shift_ = 12;
  std::vector<std::pair<uint64_t, uint64_t>> granted_;  // [base, size) device data may reach
  std::vector<uint64_t> pest_bases_, notify_;
};

void PhbSession::dma() {
  const uint16_t rid = in_.PickValueInArray(kRids);
  uint64_t addr = in_.ConsumeIntegralInRange<uint64_t>(0, 1 << 24) + (in_.ConsumeBool() ? 1ull << 59 : 0);
  if (in_.ConsumeIntegralInRange(0, 7) == 0) addr = in_.ConsumeIntegral<uint64_t>();
  const unsigned len = in_.ConsumeIntegralInRange(1u, in_.ConsumeBool() ? 16u : 8192u);
  const bool write = in_.ConsumeBool();
  uint16_t pe = 0;
  const bool has_pe = reference_pe(s_.mem->storage(), rtt_enabled(), rtt_base(), kPes, rid, &pe);
  // PESTB.DMA_STOPPED of the PE the bridge uses: the RTT's, unless the RTC may still hold another.
  const bool stopped = has_pe && !rtt_stale_ && (s_.phb->pe_state(pe) & 2);
  std::vector<uint8_t> data(len, 0xc3);
  DmaExtension ext(rid);
  s_.log->clear();
  const tlm::tlm_response_status st = transport(s_.host->dma, write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND,
                                                addr, data.data(), len, &ext);
  check_dma(rid, addr, len, write, st, stopped);
  check_own_writes();
  for (const DataWrite& w : s_.log->data_writes()) {
    fresh_ = false;
    for (uint64_t a = (w.addr + 7) & ~7ull; a + 8 <= w.addr + w.len; a += 8) note_possible_tce(s_.mem->storage().read_be(a, 8));
  }
}

void PhbSession::check_dma(uint16_t rid, uint64_t addr, unsigned len, bool write, tlm::tlm_response_status st,
                           bool stopped) {
  const auto& writes = s_.log->data_writes();
  for (const DataWrite& w : writes) {
    if ((w.addr >> 60) == 1) continue;  // the MSI region: an interrupt, passed through
    if (stopped) finding("a DMA write of a PE whose DMA is stopped reached memory at " + hex(w.addr));
    if (!granted(w.addr, w.len))
      finding("DMA data of requester " + hex(rid) + " landed at " + hex(w.addr) + " (+" + std::to_string(w.len) +
              "), a page no TCE ever granted for writing");
  }
  if (!fresh_ || stopped || st != tlm::TLM_OK_RESPONSE || (addr >> 60) == 1) return;
  uint16_t pe = 0;
  if (!reference_pe(s_.mem->storage(), rtt_enabled(), rtt_base(), kPes, rid, &pe))
    finding("a DMA of requester " + hex(rid) + " answered OK, but the RTT gives it no PE");
  const uint64_t tve = s_.phb->translator().tve_raw(2u * pe + ((addr >> 59) & 1));
  std::vector<std::pair<uint64_t, uint64_t>> expected;
  for (uint64_t at = addr; at < addr + len;) {
    const TceRefResult r = reference_tce(s_.mem->storage(), tve, at);
    if (!r.ok || !(write ? r.write : r.read))
      finding("a DMA " + std::string(write ? "write" : "read") + " at " + hex(at) + " of PE " + std::to_string(pe) +
              " answered OK; the reference refuses it: " + r.why);
    const uint64_t chunk = std::min<uint64_t>(addr + len - at, r.page_size - (at & (r.page_size - 1)));
    expected.push_back({r.out, chunk});
    at += chunk;
  }
  for (const DataWrite& w : writes) {
    bool inside = false;
    for (const auto& [out, n] : expected) inside = inside || (w.addr >= out && w.addr + w.len <= out + n);
    if (!inside) finding("DMA data at " + hex(w.addr) + " is not where the reference's TCEs put the DMA");
  }
}

void PhbSession::check_own_writes() {
  for (const DataWrite& w : s_.log->unit_writes()) {
    bool ok = std::find(notify_.begin(), notify_.end(), w.addr) != notify_.end();
    for (uint64_t base : pest_bases_) ok = ok || (w.addr >= base && w.addr + w.len <= base + 16 * kPes);
    if (!ok) finding("the bridge wrote " + std::to_string(w.len) + " bytes at " + hex(w.addr) +
                     ", outside every PEST table and notify address the input set");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  init_systemc();
  phb_system();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  PhbSystem& s = phb_system();
  s.phb->reset();
  s.mem->storage().clear();
  s.log->clear();
  PhbSession session(s, in);
  session.baseline();
  for (unsigned n = 0; n < 128 && in.remaining_bytes(); ++n) session.step();
  require_idle("the bridge");
  return 0;
}
