// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the in-memory tables. The input builds root, context (legacy
// and scalable), PASID directory and table, and first- and second-level paging
// entries, field by field or as raw quadwords, in a pool of table pages; the
// unit is brought up on them (SRTP, TE) and takes DMAs with and without PASID,
// ATS translation requests, translated requests, DMI requests and page
// requests. The tables do not change once the DMAs start, so nothing cached
// can be stale.
//
// Oracles: each DMA, ATS completion and DMI grant against the reference
// translation (fuzz/harness/oracles.h); the unit's own writes during a DMA go
// only to words whose content the input set, and change only their A/D bits
// (FL 5, 6; SL 8, 9). The input sets a word by writing it as a table entry, by
// a device's DMA write, or by a page request, whose descriptor the unit writes
// to the page request queue: PQA resets to 0 and the harness never moves it,
// so a table pointer of 0 (FLPTPTR, a raw entry) makes a walk read the queue's
// descriptors as entries, and the unit may then set their A/D bits.
//
// Domain ids: the spec makes software give the same DID only to the same
// tables; the harness writes a DID of its own into every context and PASID
// entry a request reaches, one per entry.
#include <fuzzer/FuzzedDataProvider.h>

#include <map>
#include <vector>

#include "fuzz/harness/oracles.h"
#include "fuzz/harness/vtd_rig.h"
#include "iommu_vtd/vtd_regs.h"

using namespace iommusim;
using namespace iommusim::fuzz;

namespace {

constexpr uint64_t kPool = 0x100000, kPage = 4096;
constexpr unsigned kCtxPages = 4, kDirPages = 2, kPasidPages = 4, kPagingPages = 22;
constexpr uint64_t kRoot = kPool;                        // page 0
constexpr unsigned kFirstCtx = 1, kFirstDir = kFirstCtx + kCtxPages, kFirstPasid = kFirstDir + kDirPages,
                   kFirstPaging = kFirstPasid + kPasidPages, kPoolPages = kFirstPaging + kPagingPages;
constexpr uint64_t kData = 0x1000000;
constexpr uint16_t kSids[] = {0x0010, 0x0018, 0x0110, 0x0090};
constexpr uint32_t kPasids[] = {0, 1, 2, 0x41, 0x7f, 0x400, 0xfffff};
constexpr unsigned kIndices[] = {0, 1, 2, 3, 255, 256, 510, 511};

uint64_t page(unsigned first, unsigned count, FuzzedDataProvider& in) {
  return kPool + kPage * (first + in.ConsumeIntegralInRange<unsigned>(0, count - 1));
}

class TableBuilder {
public:
  TableBuilder(SparseMemory& m, bool scalable) : mem_(m), scalable_(scalable) {}

  void write(uint64_t addr, uint64_t v) {
    mem_.write_le(addr, v, 8);
    written_[addr] = v;
  }
  const std::map<uint64_t, uint64_t>& written() const { return written_; }
  // Words the input's DMAs or page requests stored: their content is known
  // now, and a later walk may read them as entries.
  void note_stored(uint64_t addr, unsigned len) {
    for (uint64_t w = addr & ~7ull; w < addr + len; w += 8) written_[w] = mem_.read_le(w, 8);
  }

  void entry(FuzzedDataProvider& in) {
    switch (in.ConsumeIntegralInRange(0, 6)) {
      case 0: return root(in);
      case 1: return scalable_ ? sm_context(in) : context(in);
      case 2: return write(page(kFirstDir, kDirPages, in) + 8 * (pasid(in) >> 6), 1 | page(kFirstPasid, kPasidPages, in));
      case 3: return pasid_entry(in);
      case 4:
      case 5: return paging(in);
      default: return write(kPool + kPage * in.ConsumeIntegralInRange<unsigned>(0, kPoolPages - 1) +
                                8 * in.ConsumeIntegralInRange<unsigned>(0, 511),
                            in.ConsumeIntegral<uint64_t>());
    }
  }

  static uint32_t pasid(FuzzedDataProvider& in) { return in.PickValueInArray(kPasids); }

private:
  // Root entry (VT-d 9.1/9.2): P (LP) bit 0, CTP 63:12; scalable UP bit 64, UCTP 127:76.
  void root(FuzzedDataProvider& in) {
    const uint64_t at = kRoot + 16 * in.ConsumeIntegralInRange(0, 1);
    write(at, page(kFirstCtx, kCtxPages, in) | in.ConsumeBool());
    write(at + 8, scalable_ ? page(kFirstCtx, kCtxPages, in) | in.ConsumeBool() : 0);
  }
  // Legacy context entry (9.3): P 0, FPD 1, TT 3:2, SLPTPTR 63:12; AW 66:64, DID 87:72.
  void context(FuzzedDataProvider& in) {
    const uint64_t at = page(kFirstCtx, kCtxPages, in) + 16 * (in.PickValueInArray(kSids) & 0xff);
    write(at, in.ConsumeIntegralInRange<uint64_t>(0, 0xf) | page(kFirstPaging, kPagingPages, in));
    write(at + 8, in.ConsumeIntegralInRange<uint64_t>(0, 7));
  }
  // Scalable context entry (9.4): P 0, FPD 1, DTE 2, PASIDE 3, PRE 4, PDTS 11:9,
  // PASIDDIRPTR 63:12; RID_PASID 83:64.
  void sm_context(FuzzedDataProvider& in) {
    const uint64_t at = page(kFirstCtx, kCtxPages, in) + 32 * (in.PickValueInArray(kSids) & 0x7f);
    const uint64_t flags = in.ConsumeIntegralInRange<uint64_t>(0, 0x1f) | in.ConsumeIntegralInRange<uint64_t>(0, 7) << 9;
    write(at, flags | page(kFirstDir, kDirPages, in));
    write(at + 8, pasid(in));
  }
  // PASID table entry (9.6): P 0, FPD 1, AW 4:2, PGTT 8:6, SLADE 9, SLPTPTR
  // 63:12; DID 79:64; SRE 128, FLPM 131:130, WPE 132, FLPTPTR 191:140.
  void pasid_entry(FuzzedDataProvider& in) {
    const uint64_t at = page(kFirstPasid, kPasidPages, in) + 64 * (pasid(in) & 63);
    const uint64_t q0 = in.ConsumeIntegralInRange<uint64_t>(0, 0x3ff) | page(kFirstPaging, kPagingPages, in);
    write(at, q0);
    write(at + 16, in.ConsumeIntegralInRange<uint64_t>(0, 0x1f) | page(kFirstPaging, kPagingPages, in));
  }
  // A paging entry: a pointer to another paging page, or a leaf to data with
  // the alignment of a 4 KiB, 2 MiB or 1 GiB page; the low 12 bits (and XD)
  // as the input says.
  void paging(FuzzedDataProvider& in) {
    const uint64_t at = page(kFirstPaging, kPagingPages, in) + 8 * in.PickValueInArray(kIndices);
    uint64_t target;
    switch (in.ConsumeIntegralInRange(0, 3)) {
      case 0: target = page(kFirstPaging, kPagingPages, in); break;
      case 1: target = kData + kPage * in.ConsumeIntegralInRange(0, 63); break;
      case 2: target = kData + (2ull << 20) * in.ConsumeIntegralInRange(0, 7); break;
      default: target = (1ull << 30) * in.ConsumeIntegralInRange(1, 3); break;
    }
    write(at, target | in.ConsumeIntegralInRange<uint64_t>(0, 0xfff) | (in.ConsumeBool() ? 1ull << 63 : 0));
  }

  SparseMemory& mem_;
  bool scalable_;
  std::map<uint64_t, uint64_t> written_;
};

// One DMA-side operation.
struct Op {
  enum Kind { Read, Write, AtsRequest, Translated, Dmi, PageRequest } kind;
  Dma dma;
};

uint64_t address(FuzzedDataProvider& in) {
  uint64_t a = 0;
  for (unsigned level = 4; level >= 1; --level) a |= uint64_t(in.PickValueInArray(kIndices)) << (12 + 9 * (level - 1));
  if (in.ConsumeBool()) a |= uint64_t(in.ConsumeIntegralInRange(0, 3)) << 48;  // beyond 4 levels, or non-canonical
  return a | in.ConsumeIntegralInRange<uint64_t>(0, kPage - 1);
}

Op operation(FuzzedDataProvider& in) {
  Op op{static_cast<Op::Kind>(in.ConsumeIntegralInRange(0, 5)), {}};
  Dma& d = op.dma;
  d.ext = DmaExtension(in.PickValueInArray(kSids));
  if (in.ConsumeBool()) {
    d.ext.has_pasid = true;
    d.ext.pasid = TableBuilder::pasid(in);
  }
  d.ext.privileged = in.ConsumeBool();
  d.addr = address(in);
  d.len = in.ConsumeBool() ? in.ConsumeIntegralInRange(1, 16) : in.ConsumeIntegralInRange(1, 9000);
  if (in.ConsumeIntegralInRange(0, 3) == 0) d.streaming_width = in.ConsumeIntegralInRange<unsigned>(1, d.len);
  if (in.ConsumeIntegralInRange(0, 3) == 0)
    d.byte_enables = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(1, 16));
  d.command = op.kind == Op::Write ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
  if (op.kind == Op::Translated) {
    d.ext.address_type = AddressType::Translated;
    d.command = in.ConsumeBool() ? tlm::TLM_WRITE_COMMAND : tlm::TLM_READ_COMMAND;
  }
  if (op.kind == Op::AtsRequest) {
    d.ext.address_type = AddressType::TranslationRequest;
    d.ext.no_write = in.ConsumeBool();
  }
  return op;
}

RefUnit reference_of(VtdRig& rig) {
  const vtd::TranslatorParams t = rig.params().effective_translator();
  RefUnit u;
  u.scalable = rig.params().scalable();
  u.rta = kRoot;
  u.sagaw = t.sagaw;
  u.mgaw = t.mgaw;
  u.haw = t.haw;
  u.sllps = t.sllps_mask;
  u.fl_1g = t.fl_1g;
  u.fl_5level = t.fl_5level;
  u.pass_through = t.pt_supported;
  return u;
}

// A DID of the harness's own in every context (legacy) or PASID entry
// (scalable) a request of the input reaches: one per entry.
void own_dids(VtdRig& rig, TableBuilder& tables, const std::vector<Op>& ops) {
  std::map<uint64_t, uint16_t> did;
  auto id = [&did](uint64_t at) { return did.emplace(at, static_cast<uint16_t>(did.size() + 1)).first->second; };
  SparseMemory& m = rig.ram();
  for (const Op& op : ops) {
    const uint16_t sid = op.dma.ext.requester_id;
    const unsigned devfn = sid & 0xff;
    const uint64_t root = m.read_le(kRoot + 16 * (sid >> 8) + (rig.params().scalable() && devfn >= 128 ? 8 : 0), 8);
    const uint64_t ctp = root & 0x000ffffffffff000ull;
    if (!rig.params().scalable()) {
      const uint64_t hi = ctp + 16 * devfn + 8;
      tables.write(hi, (m.read_le(hi, 8) & ~(0xffffull << 8)) | uint64_t(id(hi)) << 8);
      continue;
    }
    const uint64_t q0 = m.read_le(ctp + 32 * (devfn & 0x7f), 8), q1 = m.read_le(ctp + 32 * (devfn & 0x7f) + 8, 8);
    const uint32_t pasid = op.dma.ext.has_pasid ? op.dma.ext.pasid : static_cast<uint32_t>(q1 & 0xfffff);
    const uint64_t de = m.read_le((q0 & 0x000ffffffffff000ull) + 8 * (pasid >> 6), 8);
    const uint64_t pe1 = (de & 0x000ffffffffff000ull) + 64 * (pasid & 63) + 8;
    tables.write(pe1, (m.read_le(pe1, 8) & ~0xffffull) | id(pe1));
  }
}

bool bring_up(VtdRig& rig) {
  using namespace vtd;
  rig.mmio_write(reg::RTADDR, kRoot | (rig.params().scalable() ? 1ull << 10 : 0), 8);
  return rig.command(gcmd::SRTP, 0, gsts::RTPS, gsts::RTPS) && rig.command(gcmd::TE, 0, gsts::TES, gsts::TES);
}

// The unit's own writes during one DMA: 8-byte updates of table entries that
// change only A/D bits.
void check_table_writes(VtdRig& rig, TableBuilder& tables) {
  constexpr uint64_t kAd = (1ull << 5) | (1ull << 6) | (1ull << 8) | (1ull << 9);
  for (const DataWrite& w : rig.log().unit_writes()) {
    const bool msi = (w.addr >> 20) == 0xfee;
    if (msi) continue;
    auto it = tables.written().find(w.addr & ~7ull);
    if (it == tables.written().end() || w.len > 8)
      finding("during a DMA the unit wrote " + std::to_string(w.len) + " bytes at " + hex(w.addr) +
              ", no table entry it could have walked");
    const uint64_t now = rig.ram().read_le(it->first, 8);
    if ((now ^ it->second) & ~kAd)
      finding("the unit changed more than A/D bits of the table entry at " + hex(it->first) + ": " +
              hex(it->second) + " -> " + hex(now));
    tables.write(it->first, now);
  }
}

void run(VtdRig& rig, const RefUnit& ref, TableBuilder& tables, const Op& op) {
  Dma d = op.dma;
  std::vector<uint8_t> data(d.len, 0x5a);
  rig.log().clear();
  switch (op.kind) {
    case Op::Dmi: {
      tlm::tlm_dmi dmi;
      const bool write = d.command == tlm::TLM_WRITE_COMMAND;
      d.ext.has_pasid = false;
      if (rig.dmi(d.command, d.addr, d.ext, dmi)) check_dmi(rig, ref, d.ext, d.addr, write, dmi, true);
      break;
    }
    case Op::PageRequest: {
      PcieMessage m;
      m.type = PcieMessageType::PageRequest;
      m.requester_id = d.ext.requester_id;
      m.has_pasid = d.ext.has_pasid;
      m.pasid = d.ext.pasid;
      m.address = d.addr & ~(kPage - 1);
      m.read = true;
      m.write = d.len & 1;
      m.last = true;
      m.prg_index = d.len & 0x1ff;
      rig.page_request(m);
      // Its writes are page request descriptors, not table updates.
      for (const DataWrite& w : rig.log().unit_writes())
        if ((w.addr >> 20) != 0xfee) tables.note_stored(w.addr, w.len);  // not its MSI
      return;

    }
    case Op::AtsRequest:
      rig.dma(d, data.data());
      check_ats(rig, ref, d.ext, d.addr);
      break;
    default: {
      // The tables stay as built: a write the tables would let into the
      // table pool (or that the reference cannot place) is issued as a read.
      DmaPlan plan = plan_dma(rig, ref, d, true);
      if (d.command == tlm::TLM_WRITE_COMMAND && plan_writes_into(plan, kPool, kPool + kPoolPages * kPage - 1)) {
        d.command = tlm::TLM_READ_COMMAND;
        plan = plan_dma(rig, ref, d, true);
      }
      const tlm::tlm_response_status st = rig.dma(d, data.data());
      check_dma(rig, plan, d, st);
    }
  }
  check_table_writes(rig, tables);
  for (const DataWrite& w : rig.log().data_writes()) tables.note_stored(w.addr, w.len);
}

void one_input(VtdRig& rig, FuzzedDataProvider& in) {
  TableBuilder tables(rig.ram(), rig.params().scalable());
  for (unsigned n = in.ConsumeIntegralInRange(0, 64); n > 0; --n) tables.entry(in);
  std::vector<Op> ops;
  for (unsigned n = in.ConsumeIntegralInRange(1, 24); n > 0 && in.remaining_bytes(); --n) ops.push_back(operation(in));
  own_dids(rig, tables, ops);
  if (!bring_up(rig)) finding("the unit did not come up (SRTP, TE)");
  const RefUnit ref = reference_of(rig);
  for (const Op& op : ops) run(rig, ref, tables, op);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) { return init_rigs(); }
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  return run_vtd_input(bytes, size, one_input);
}
