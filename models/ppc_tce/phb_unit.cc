// SPDX-License-Identifier: Apache-2.0
#include "ppc_tce/phb_unit.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "common/byte_order.h"
#include "common/dma_extension.h"
#include "iommu_common/fault_response.h"

namespace iommusim::ppc {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

const PhbParams& validated(const PhbParams& p) {
  const std::string err = p.validate();
  if (!err.empty()) throw std::invalid_argument("PhbUnit: " + err);
  return p;
}

constexpr uint64_t kMsiRegion = 1;         // DMA address bits 63:60 of the 64-bit MSI region
constexpr uint64_t kPestEntryBytes = 16;   // PEST0, PEST1
constexpr uint64_t kDmiPage = 4096;

// The PEST0 cause bit of a refusal that freezes.
uint64_t pest_cause(DmaStatus s) {
  switch (s) {
    case DmaStatus::OutsideWindow:
    case DmaStatus::InvalidTve: return pest0::IODA3_ERROR.mask();
    case DmaStatus::TceAccessFault: return pest0::TCE_ACCESS_FAULT.mask();
    default: return pest0::TCE_PAGE_FAULT.mask();
  }
}

}  // namespace

PhbUnit::Stats::Stats(StatGroup& unit)
    : translation_latency(unit.histogram("translation_latency", "DMA translation time incl. slot wait and walks", "ns")),
      msis(unit.counter("msis", "device MSIs passed to the interrupt controller")),
      unsupported(unit.counter("unsupported", "requests refused unseen: ATS, PASID-tagged or PCIe messages")),
      faults(unit.subgroup("faults")),
      by_status{nullptr,
                &faults.counter("no_pe", "DMAs from a requester the RTT maps to no PE"),
                &faults.counter("frozen", "DMAs of a PE whose DMA is stopped"),
                &faults.counter("outside_window", "DMAs outside both DMA windows of their PE"),
                &faults.counter("invalid_tve", "DMAs to a window with an invalid TVE"),
                &faults.counter("tce_page", "DMAs that met a TCE without R and W"),
                &faults.counter("tce_access", "DMAs the TCE did not allow (read or write)"),
                &faults.counter("tce_read_error", "DMAs whose TCE could not be read")},
      eeh(unit.subgroup("eeh")),
      freezes(eeh.counter("freezes", "PEs the bridge froze on an error (each PE of a PELT-V row counts)")),
      dma_writes_dropped(eeh.counter("dma_writes_dropped", "DMA writes of frozen PEs dropped")),
      dma_reads_refused(eeh.counter("dma_reads_refused", "DMA reads of frozen PEs refused")),
      msis_dropped(eeh.counter("msis_dropped", "MSIs of frozen PEs dropped")),
      mmio_loads_all_ones(eeh.counter("mmio_loads_all_ones", "MMIO loads of frozen PEs answered with all ones")),
      mmio_stores_dropped(eeh.counter("mmio_stores_dropped", "MMIO stores to frozen PEs dropped")),
      pest_writes(eeh.counter("pest_writes", "PEST error logs written")),
      error_interrupts(eeh.counter("error_interrupts", "error interrupts written")),
      frozen_ns(eeh.histogram("frozen_ns", "DMA stopped to DMA thawed, per stop (by an error or by software)", "ns")),
      kill(unit.subgroup("kill")),
      kills_all(kill.counter("all", "TCE kills of every PE")),
      kills_pe(kill.counter("pe", "TCE kills of one PE")),
      kills_one(kill.counter("one", "TCE kills of one I/O page")),
      killed_entries(kill.counter("entries", "TCE cache entries dropped by kills")),
      kill_latency(kill.histogram("latency", "PHB_TCE_KILL write to its kill bits clearing", "ns")),
      mmio_accesses(unit.counter("mmio_accesses", "outbound MMIO accesses")),
      mmio_unmapped(unit.counter("mmio_unmapped", "outbound MMIO outside the M32 window or to no PE")),
      ioda_errors(unit.counter("ioda_errors", "PHB_IODA_DATA0 accesses to no table entry")),
      dmi(unit.subgroup("dmi")) {}

PhbUnit::PhbUnit(sc_core::sc_module_name name, const PhbParams& params, StatGroup* parent_stats, TraceWriter* trace)
    : sc_module(name),
      dma_in("dma_in"),
      mem_out("mem_out"),
      regs("regs"),
      mmio_in("mmio_in"),
      mmio_out("mmio_out"),
      params_(validated(params)),
      clock_(params_.clock_mhz),
      stats_(basename(), parent_stats),
      counters_(stats_),
      regs_(make_phb_register_map((std::string(basename()) + ".regs").c_str())),
      ioda_addr_(regs_.get("PHB_IODA_ADDR")),
      walk_port_(mem_out),
      msi_port_(mem_out),
      error_irq_(msi_port_, counters_.error_interrupts),
      xlate_(params_, walk_port_, clock_, stats_),
      dmi_(dma_in.get_base_port(), mem_out, counters_.dmi),
      accounting_(params_.translation_slots, counters_.translation_latency, trace,
                  trace ? trace->track(this->name()) : 0, "phb"),
      eeh_trace_(TraceScope::of(trace, std::string(this->name()) + ".eeh", "phb")),
      mdt_(params_.num_pes, 0),
      frozen_since_(params_.num_pes, SC_ZERO_TIME),
      pipeline_(clock_.cycles(params_.pipeline_latency)),
      kill_latency_(clock_.cycles(params_.kill_latency)),
      mmio_latency_(clock_.cycles(params_.mmio_latency)),
      freeze_latency_(clock_.cycles(params_.freeze_latency)) {
  stats_.counter("translations", "DMA translations").derive(
      [](const void* h) { return static_cast<const Histogram*>(h)->count(); }, &counters_.translation_latency);
  dma_in.register_b_transport(this, &PhbUnit::dma_b_transport);
  dma_in.register_get_direct_mem_ptr(this, &PhbUnit::dma_get_dmi);
  regs.register_b_transport(this, &PhbUnit::regs_b_transport);
  mmio_in.register_b_transport(this, &PhbUnit::mmio_b_transport);
  mem_out.register_invalidate_direct_mem_ptr(this, &PhbUnit::downstream_revoked);
  hook_registers();
}

void PhbUnit::reset() {
  regs_.reset();
  xlate_.set_rtt(0, false);
  xlate_.invalidate_rtc_all();
  xlate_.kill_all();
  for (unsigned i = 0; i < 2u * params_.num_pes; ++i) xlate_.set_tve(i, 0);
  for (unsigned pe = 0; pe < params_.num_pes; ++pe) xlate_.set_pe_state(static_cast<uint16_t>(pe), 0);
  std::fill(mdt_.begin(), mdt_.end(), 0);
  kill_bits_ = 0;
  kill_done_ = SC_ZERO_TIME;
  accounting_.reset();
  dmi_.revoke_all();
}

// ---------------------------------------------------------------- DMA path

void PhbUnit::dma_b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  const DmaExtension& a = dma_attributes(t);
  if (t.get_command() == tlm::TLM_IGNORE_COMMAND || a.address_type != AddressType::Untranslated || a.has_pasid) {
    ++counters_.unsupported;  // no ATS, PRI or PASID on this bridge: Unsupported Request
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  delay += pipeline_;
  const uint64_t addr = t.get_address();
  const bool write = t.get_command() == tlm::TLM_WRITE_COMMAND;
  if ((addr >> 60) == kMsiRegion) return msi(t, a.requester_id, delay);
  // The TCE-cache-hit path: the same lookups, stats, slot and timing as
  // timed_translate() would give a plain hit; anything else the full way.
  sc_time xd;  // zero
  uint64_t out, page_size;
  const sc_time now = simcontext()->time_stamp() + delay;  // the local time at entry
  if (xlate_.try_hit(a.requester_id, addr, write, now, xd, &out, &page_size)) {
    accounting_.account(now, xd, delay, true, addr, a.requester_id,
                        "translate: TCE cache hit");  // a hit walks nothing: no slice to nest in it
    if (iommu::within_page(addr, t.get_data_length(), page_size)) return forward(t, out, delay);
    return forward_pages(t, a.requester_id, write, {out, page_size}, delay);
  }
  const DmaTranslation first = timed_translate(a.requester_id, addr, write, delay);
  if (!first.ok()) return refuse(t, first, a.requester_id, write, delay);
  forward_pages(t, a.requester_id, write, {first.out, first.page_size}, delay);
}

void PhbUnit::forward_pages(tlm::tlm_generic_payload& t, uint16_t rid, bool write, const iommu::PageMapping& first,
                            sc_time& delay) {
  splitter_.forward(
      t, first,
      [&](uint64_t in, iommu::PageMapping& m) {
        const DmaTranslation r = timed_translate(rid, in, write, delay);
        if (!r.ok()) {
          refuse(t, r, rid, write, delay);
          return false;
        }
        m = {r.out, r.page_size};
        return true;
      },
      [this](tlm::tlm_generic_payload& piece, uint64_t o, sc_time& d) { forward(piece, o, d); }, delay);
}

// A translation takes its slot before it works (TranslationAccounting::admit),
// so its TCE and RTT reads are issued while it holds the slot, as on VT-d.
DmaTranslation PhbUnit::timed_translate(uint16_t rid, uint64_t addr, bool write, sc_time& delay) {
  const sc_time arrive = simcontext()->time_stamp() + delay;
  const sc_time start = accounting_.admit(arrive);
  sc_time took = SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(took, start);
  if (accounting_.tracing()) return traced_translate(rid, addr, write, arrive, start, cost, took, delay);
  const DmaTranslation r = xlate_.translate(rid, addr, write, cost);
  accounting_.account_queued(arrive, start, took, delay, r.ok(), addr, rid);
  return r;
}

DmaTranslation PhbUnit::traced_translate(uint16_t rid, uint64_t addr, bool write, const sc_time& arrive,
                                         const sc_time& start, iommu::TimingPolicy& cost, sc_time& took,
                                         sc_time& delay) {
  const TraceScope scope = accounting_.new_scope();
  cost.set_trace(&scope);  // the walk and its TCE reads nest in the translation's slice
  const DmaTranslation r = xlate_.translate(rid, addr, write, cost);
  TraceArgs args = TraceArgs().requester(rid).iova(addr);
  if (r.ok()) args.pa(r.out).size(r.page_size).result("ok");
  else args.result(to_string(r.status));
  const char* event = !r.ok() ? "translate: fault" : r.tce_cache_hit ? "translate: TCE cache hit" : "translate: TCE cache miss";
  accounting_.account_queued(arrive, start, took, delay, event, args, scope.txn);
  return r;
}

void PhbUnit::forward(tlm::tlm_generic_payload& t, uint64_t out, sc_time& delay) {
  const uint64_t in = t.get_address();
  t.set_address(out);
  mem_out->b_transport(t, delay);
  t.set_address(in);
}

void PhbUnit::msi(tlm::tlm_generic_payload& t, uint16_t rid, sc_time& delay) {
  const sc_time now = simcontext()->time_stamp() + delay;
  sc_time took = SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(took, now);
  uint16_t pe = 0;
  const bool known = xlate_.pe_of(rid, cost, &pe);
  delay += took;
  if (!known || t.get_command() != tlm::TLM_WRITE_COMMAND) {
    ++*counters_.by_status[static_cast<unsigned>(DmaStatus::NoPe)];
    return iommu::answer_fault(t, iommu::FaultKind::Translation);
  }
  if (xlate_.pe_state(pe) & kDmaStopped) {  // an MSI is a DMA write: dropped while frozen
    ++counters_.msis_dropped;
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  ++counters_.msis;
  mem_out->b_transport(t, delay);
}

void PhbUnit::refuse(tlm::tlm_generic_payload& t, const DmaTranslation& r, uint16_t rid, bool write, sc_time& delay) {
  ++*counters_.by_status[static_cast<unsigned>(r.status)];
  if (r.status == DmaStatus::Frozen) {
    if (write) {  // posted: the device sees nothing, memory sees nothing
      ++counters_.dma_writes_dropped;
      t.set_response_status(tlm::TLM_OK_RESPONSE);
      return;
    }
    ++counters_.dma_reads_refused;
  } else if (r.status != DmaStatus::NoPe) {
    freeze(r, rid, t.get_address(), write, delay);
  }
  iommu::answer_fault(t, iommu::fault_kind(r.status == DmaStatus::TceAccessFault));
}

// ---------------------------------------------------------------- EEH

void PhbUnit::freeze(const DmaTranslation& r, uint16_t rid, uint64_t addr, bool write, sc_time& delay) {
  delay += freeze_latency_;
  const sc_time now = simcontext()->time_stamp() + delay;
  iommu::TimingPolicy cost = iommu::TimingPolicy::loosely_timed(delay, now);
  for (uint16_t pe : freeze_group(r.pe, cost)) {
    if (!(xlate_.pe_state(pe) & kDmaStopped)) {
      ++counters_.freezes;
      if (eeh_trace_.active())  // value: the PE; result: the error of the DMA that froze it
        eeh_trace_.instant("EEH freeze", cost.local_time().to_seconds() * 1e9,
                           TraceArgs().requester(rid).iova(addr).value(pe).result(to_string(r.status)));
    }
    set_state(pe, kMmioFrozen | kDmaStopped, cost.local_time());
  }
  log_error(r, rid, addr, write, cost);
  dmi_.revoke_all();
  const uint64_t notify = regs_.get("PHB_INT_NOTIFY_ADDR").value();
  if (notify) error_irq_.write(notify, static_cast<uint32_t>(regs_.get("PHB_INT_NOTIFY_INDEX").value()));
}

// The PE itself and the PEs of its PELT-V row.
std::vector<uint16_t> PhbUnit::freeze_group(uint16_t pe, iommu::TimingPolicy& cost) {
  std::vector<uint16_t> group{pe};
  const uint64_t bar = regs_.get("PHB_PELTV_BAR").value();
  if (!(bar & peltv_bar::ENABLE)) return group;
  const unsigned row_bytes = params_.num_pes / 8;
  std::vector<uint8_t> row(row_bytes, 0);
  if (!cost.read(walk_port_, (bar & peltv_bar::BASE_ADDRESS.mask()) + uint64_t(pe) * row_bytes, row.data(), row_bytes))
    return group;
  for (unsigned c = 0; c < params_.num_pes; ++c)
    if (c != pe && (row[c / 8] & (0x80u >> (c % 8)))) group.push_back(static_cast<uint16_t>(c));
  return group;
}

// PEST0: the cause, the direction and the requester; PEST1: the failing address.
void PhbUnit::log_error(const DmaTranslation& r, uint16_t rid, uint64_t addr, bool write, iommu::TimingPolicy& cost) {
  const uint64_t bar = regs_.get("PHB_PEST_BAR").value();
  if (!(bar & pest_bar::ENABLE)) return;
  uint64_t p0 = pest_cause(r.status);
  p0 = pest0::TTYPE.deposit(p0, write ? pest0::TTYPE_DMA_WRITE : pest0::TTYPE_DMA_READ);
  p0 = pest0::RID.deposit(p0, rid);
  uint8_t entry[kPestEntryBytes];
  store_be64(entry, p0);
  store_be64(entry + 8, pest1::FAIL_ADDR.encode(addr));
  cost.write(walk_port_, (bar & pest_bar::BASE_ADDRESS.mask()) + uint64_t(r.pe) * kPestEntryBytes, entry,
             sizeof entry);
  ++counters_.pest_writes;
}

void PhbUnit::set_state(uint16_t pe, uint8_t state, const sc_time& now) {
  const uint8_t old = xlate_.pe_state(pe);
  if (!(old & kDmaStopped) && (state & kDmaStopped)) frozen_since_[pe] = now;
  if ((old & kDmaStopped) && !(state & kDmaStopped)) {
    const double frozen_ns = (std::max(now, frozen_since_[pe]) - frozen_since_[pe]).to_seconds() * 1e9;
    counters_.frozen_ns.sample(frozen_ns);
    if (eeh_trace_.active())
      eeh_trace_.slice("PE frozen", frozen_since_[pe].to_seconds() * 1e9, frozen_ns, TraceArgs().value(pe));
  }
  xlate_.set_pe_state(pe, state);
  if (state & ~old) dmi_.revoke_all();
}

// ---------------------------------------------------------------- DMI

bool PhbUnit::dma_get_dmi(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) {
  const DmaExtension& a = dma_attributes(t);
  if (!params_.dmi || a.address_type != AddressType::Untranslated || a.has_pasid) return false;
  const uint64_t in = t.get_address() & ~(kDmiPage - 1);
  if ((in >> 60) != 0) return false;
  // A grant is decided by a functional translation: no time, no slot.
  sc_time unused = SC_ZERO_TIME;
  iommu::TimingPolicy cost = iommu::TimingPolicy::functional(unused, sc_core::sc_time_stamp());
  const DmaTranslation r = xlate_.translate(a.requester_id, in, false, cost);
  const bool readable = r.ok();
  const DmaTranslation w = readable ? r : xlate_.translate(a.requester_id, in, true, cost);
  if (!readable && !w.ok()) return false;
  const DmaTranslation& g = readable ? r : w;
  return dmi_.grant(t, dmi, {in, g.out & ~(kDmiPage - 1), kDmiPage, g.read, g.write, pipeline_});
}

// ---------------------------------------------------------------- outbound MMIO

bool PhbUnit::mmio_pe(uint64_t addr, uint16_t* pe) const {
  const uint64_t base = regs_.get("PHB_M32_BASE_ADDR").value(), mask = regs_.get("PHB_M32_BASE_MASK").value();
  const uint64_t segment_size = (~mask + 1) / params_.num_pes;
  if (mask == 0 || segment_size == 0 || (addr & mask) != base) return false;
  const uint64_t segment = (addr - base) / segment_size;
  if (segment >= mdt_.size()) return false;
  const uint64_t owner = mdt::PE_A.extract(mdt_[segment]);
  if (owner >= params_.num_pes) return false;
  *pe = static_cast<uint16_t>(owner);
  return true;
}

void PhbUnit::mmio_b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  ++counters_.mmio_accesses;
  delay += mmio_latency_;
  uint16_t pe = 0;
  if (!mmio_pe(t.get_address(), &pe)) {
    ++counters_.mmio_unmapped;
    t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (xlate_.pe_state(pe) & kMmioFrozen) {
    if (t.is_read()) {
      std::memset(t.get_data_ptr(), 0xff, t.get_data_length());
      ++counters_.mmio_loads_all_ones;
    } else {
      ++counters_.mmio_stores_dropped;
    }
    t.set_response_status(tlm::TLM_OK_RESPONSE);
    return;
  }
  mmio_out->b_transport(t, delay);
}

}  // namespace iommusim::ppc
