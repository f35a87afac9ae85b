// SPDX-License-Identifier: Apache-2.0
// The PHB driver: its own register and field definitions (as a real driver
// carries them: skiboot include/phb4-regs.h, IBM bit numbering), bring-up,
// TCE kills and the paging capability.
#include "firmware/phb_driver.h"

#include "common/byte_order.h"
#include "common/register_fields.h"
#include "firmware/papr_abi.h"
#include "firmware/phb_driver_regs.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;
using namespace phbreg;

PhbDriver::PhbDriver(const std::string& name, const PhbDriverParams& p, const PhbPlacement& where, CpuPort& cpu,
                     PageAllocator& alloc, IoasLayer& ioas, sc_core::sc_mutex& lock, StatGroup* parent)
    : name_(name),
      p_(p),
      where_(where),
      cpu_(cpu),
      alloc_(alloc),
      ioas_(ioas),
      lock_(lock),
      stats_(name, parent),
      tces_written_(stats_.counter("tces_written", "TCEs written with R or W")),
      tces_cleared_(stats_.counter("tces_cleared", "TCEs cleared")),
      kills_page_(stats_.counter("kills.page", "TCE kills of one I/O page")),
      kills_pe_(stats_.counter("kills.pe", "TCE kills of a whole PE")),
      kill_timeouts_(stats_.counter("kills.timeouts", "TCE kills whose bits never cleared")),
      kill_wait_(stats_.histogram("kills.wait_ns", "PHB_TCE_KILL write until its kill bits read clear", "ns")),
      switches_(stats_.counter("layout_switches", "PE window-layout switches (DDW create, remove, reset)")),
      windows_created_(stats_.counter("windows_created", "dynamic DMA windows created")),
      windows_removed_(stats_.counter("windows_removed", "DMA windows removed")),
      error_irqs_(stats_.counter("error_interrupts", "bridge error interrupts served")),
      pe_errors_reported_(stats_.counter("pe_errors_reported", "PE freezes reported to the IOAS layer, per device")),
      table_pages_freed_(stats_.counter("table_pages_freed", "TCE table pages returned to the hypervisor")) {
  stats_.gauge("table_pages", "TCE table pages in use", [this] { return table_pages(); }, "pages");
}

// The windows go first: the last holder of a TCE table counts its pages into
// table_pages_freed_, a member declared (so destroyed) before domains_ would be.
PhbDriver::~PhbDriver() { domains_.clear(); }

void PhbDriver::add_device(const std::string& name, uint16_t rid, uint16_t pe) {
  Pe& info = pes_[pe];
  info.devices.push_back(name);
  info.rids.push_back(rid);
}

std::vector<uint16_t> PhbDriver::pes() const {
  std::vector<uint16_t> out;
  for (const auto& kv : pes_) out.push_back(kv.first);
  return out;
}
const std::vector<std::string>& PhbDriver::devices(uint16_t pe) const {
  auto it = pes_.find(pe);
  return it == pes_.end() ? no_devices_ : it->second.devices;
}
const std::vector<uint16_t>& PhbDriver::rids(uint16_t pe) const {
  auto it = pes_.find(pe);
  return it == pes_.end() ? no_rids_ : it->second.rids;
}

uint64_t PhbDriver::table_pages() const {
  std::set<const TceTable*> seen;
  uint64_t n = 0;
  for (const auto& d : domains_)
    for (const Window& w : d.second.windows)
      if (seen.insert(w.table.get()).second) n += w.table->pages();
  return n;
}

// ---------------------------------------------------------------- registers

void PhbDriver::reg_wr(uint64_t offset, uint64_t v) {
  uint8_t b[8];
  store_be64(b, v);
  cpu_.write(where_.regs + offset, b, 8);
}

uint64_t PhbDriver::reg_rd(uint64_t offset) {
  uint8_t b[8];
  if (!cpu_.read(where_.regs + offset, b, 8)) return ~0ull;
  return load_be64(b);
}

void PhbDriver::ioda_wr(unsigned table, unsigned index, uint64_t v) {
  reg_wr(kIodaAddr, ioda::TSEL.encode(table) | ioda::TADR.encode(index));
  reg_wr(kIodaData0, v);
}

uint64_t PhbDriver::ioda_rd(unsigned table, unsigned index) {
  reg_wr(kIodaAddr, ioda::TSEL.encode(table) | ioda::TADR.encode(index));
  return reg_rd(kIodaData0);
}

// Writes the kill and polls until its bits clear (skiboot phb4_tce_kill waits
// the same way).
std::string PhbDriver::kill(uint64_t value) {
  const sc_time start = sc_core::sc_time_stamp() + cpu_.pending();
  reg_wr(kTceKill, value);
  const sc_time poll(p_.poll_ns, SC_NS), limit(p_.kill_timeout_ns, SC_NS);
  for (;;) {
    const uint64_t v = reg_rd(kTceKill);
    const sc_time now = sc_core::sc_time_stamp() + cpu_.pending();
    if (!(v & kill::kBusy) && v != ~0ull) {
      kill_wait_.sample((now - start).to_seconds() * 1e9);
      return "";
    }
    if (now - start >= limit) {
      ++kill_timeouts_;
      return "TCE kill did not complete within " + std::to_string(p_.kill_timeout_ns) + " ns";
    }
    cpu_.charge(poll);
  }
}

// One page by its address when the kill register can name its size (4K, 64K,
// 2M, 1G), else the whole PE.
std::string PhbDriver::kill_pages(uint16_t pe, uint64_t addr, uint64_t pages, unsigned page_shift) {
  uint64_t code = 0;
  const bool nameable = kill::page_size_code(page_shift, &code);
  if (pages == 1 && nameable) {
    ++kills_page_;
    uint64_t v = kill::ONE | kill::PENUM.encode(pe) | (addr & kill::ADDRESS.mask());
    if (page_shift != 12) v = kill::PAGE_SIZE.deposit(v | kill::PSEL, code);
    return kill(v);
  }
  ++kills_pe_;
  return kill(kill::PE | kill::PENUM.encode(pe));
}

// ---------------------------------------------------------------- bring-up

std::string PhbDriver::bring_up() {
  const uint64_t rtt_bytes = kRttEntries * 2, peltv_bytes = uint64_t(where_.num_pes) * where_.num_pes / 8,
                 pest_bytes = uint64_t(where_.num_pes) * 16;
  rtt_ = alloc_.alloc_block((rtt_bytes + kPageSize - 1) / kPageSize, rtt_bytes);
  peltv_ = alloc_.alloc_block((peltv_bytes + kPageSize - 1) / kPageSize);
  pest_ = alloc_.alloc_block((pest_bytes + kPageSize - 1) / kPageSize);
  if (!rtt_ || !peltv_ || !pest_) return "out of hypervisor memory for the RTT, PELT-V and PEST of " + name_;
  if (std::string err = program_tables(); !err.empty()) return err;
  reg_wr(kRttBar, bar::ENABLE | rtt_);
  reg_wr(kPeltvBar, bar::ENABLE | peltv_);
  reg_wr(kPestBar, bar::ENABLE | pest_);
  reg_wr(kRtcInvalidate, rtc::ALL);
  reg_wr(kM32BaseAddr, where_.m32_base);
  reg_wr(kM32BaseMask, ~(where_.m32_size - 1));
  for (unsigned s = 0; s < where_.num_pes; ++s) ioda_wr(table::MDT, s, mdt::PE_A.encode(s));  // segment s: PE s
  reg_wr(kIntNotifyAddr, where_.error_notify);
  reg_wr(kIntNotifyIndex, where_.error_data);
  cpu_.sync();
  return "";
}

// RTT: every requester of a device to its PE, the others to the reserved PE
// (the last, skiboot PHB4_RESERVED_PE_NUM), which no TVE serves. PELT-V: each
// PE in its own row (Linux pnv_ioda_set_peltv adds a PE to its own domain).
std::string PhbDriver::program_tables() {
  std::vector<uint8_t> rtt(kRttEntries * 2);
  const uint16_t reserved = static_cast<uint16_t>(where_.num_pes - 1);
  for (size_t rid = 0; rid < kRttEntries; ++rid) store_be(&rtt[2 * rid], reserved, 2);
  for (const auto& kv : pes_)
    for (uint16_t rid : kv.second.rids) store_be(&rtt[2 * rid], kv.first, 2);
  for (size_t o = 0; o < rtt.size(); o += kPageSize)
    if (!cpu_.write(rtt_ + o, &rtt[o], kPageSize)) return "bus error writing the RTT";
  const unsigned row = where_.num_pes / 8;
  if (!cpu_.zero(peltv_, static_cast<unsigned>(uint64_t(row) * where_.num_pes)) ||
      !cpu_.zero(pest_, where_.num_pes * 16))
    return "bus error clearing the PELT-V or PEST";
  for (const auto& kv : pes_) {
    const uint8_t self = static_cast<uint8_t>(0x80u >> (kv.first % 8));
    if (!cpu_.write(peltv_ + uint64_t(kv.first) * row + kv.first / 8, &self, 1)) return "bus error writing the PELT-V";
  }
  return "";
}

// ---------------------------------------------------------------- LIOBNs

uint32_t PhbDriver::liobn(uint16_t pe, unsigned tve) const {
  return 0x80000000u | (where_.index << 16) | (uint32_t(pe) << 1) | (tve & 1);
}

bool PhbDriver::window_of(uint32_t liobn, uint16_t* pe, unsigned* tve) const {
  if ((liobn & 0x80000000u) == 0 || ((liobn >> 16) & 0x7fff) != where_.index) return false;
  *pe = static_cast<uint16_t>((liobn & 0xffff) >> 1);
  *tve = liobn & 1;
  return *pe < where_.num_pes;
}

// ---------------------------------------------------------------- paging

std::string PhbDriver::domain_alloc(uint32_t* handle) {
  Window w;
  std::string err = new_window(0, 0, p_.default_window, 12, p_.default_levels, true, &w);
  if (!err.empty()) return err;
  *handle = next_handle_++;
  domains_[*handle].windows.push_back(std::move(w));
  return "";
}

void PhbDriver::domain_free(uint32_t handle) { domains_.erase(handle); }

PhbDriver::Window* PhbDriver::window_at(Domain& d, uint64_t iova, uint64_t size) {
  for (Window& w : d.windows)
    if (iova >= w.base && size <= w.size && iova - w.base <= w.size - size) return &w;
  return nullptr;
}

std::string PhbDriver::write_tces(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, uint64_t bits) {
  auto it = domains_.find(handle);
  if (it == domains_.end()) return "no TCE domain " + std::to_string(handle);
  Window* w = window_at(it->second, iova, size);
  if (!w) return "bus addresses outside every DMA window of the domain";
  const unsigned shift = w->table->geometry().page_shift;
  const uint64_t page = 1ull << shift;
  if ((iova | pa | size) & (page - 1)) return "not aligned to the window's " + std::to_string(page) + "-byte pages";
  for (uint64_t o = 0; o < size; o += page) {
    cpu_.charge(sc_time(p_.tce_ns, SC_NS));
    std::string err = w->table->put(iova - w->base + o, bits ? (pa + o) | bits : 0);
    if (!err.empty()) return err;
    ++(bits ? tces_written_ : tces_cleared_);
  }
  for (uint16_t pe : it->second.pes) {
    if (batching_) {
      PendingKill& k = pending_kills_[pe];
      if (k.pages == 0) k.addr = iova;
      k.pages += size >> shift;
      k.page_shift = shift;
    } else if (std::string err = kill_pages(pe, iova, size >> shift, shift); !err.empty()) {
      return err;
    }
  }
  return "";
}

std::string PhbDriver::end_batch() {
  batching_ = false;
  std::string err;
  for (const auto& kv : pending_kills_)
    if (std::string e = kill_pages(kv.first, kv.second.addr, kv.second.pages, kv.second.page_shift); err.empty())
      err = e;
  pending_kills_.clear();
  return err;
}

std::string PhbDriver::domain_map(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm) {
  const uint64_t bits = (perm.read ? papr_abi::TCE_PCI_READ : 0) | (perm.write ? papr_abi::TCE_PCI_WRITE : 0);
  if (!bits) return "a TCE needs read or write permission";
  return write_tces(handle, iova, pa, size, bits);
}

std::string PhbDriver::domain_unmap(uint32_t handle, uint64_t iova, uint64_t size) {
  return write_tces(handle, iova, 0, size, 0);
}

std::string PhbDriver::attach_device(const Requester& r, uint32_t handle) {
  Pe* info = nullptr;
  if (std::string err = pe_of(r, &info); !err.empty()) return err;
  const uint16_t pe = static_cast<uint16_t>(r.id);
  if (handle && !domains_.count(handle)) return "no TCE domain " + std::to_string(handle);
  if (info->domain && domains_.count(info->domain)) domains_[info->domain].pes.erase(pe);
  info->domain = handle;
  static const Domain kNone;
  const Domain& d = handle ? domains_[handle] : kNone;
  if (handle) domains_[handle].pes.insert(pe);
  return program_tves(pe, d);
}

// Both TVEs of the PE in one pass, then one kill of the PE: from the kill on,
// no DMA of the PE uses a TCE of its previous layout.
std::string PhbDriver::program_tves(uint16_t pe, const Domain& d) {
  for (unsigned tve = 0; tve < 2; ++tve) {
    uint64_t raw = 0;
    for (const Window& w : d.windows)
      if (w.tve == tve) raw = tve_entry(w.table->root(), w.table->geometry());
    ioda_wr(table::TVT, 2u * pe + tve, raw);
  }
  ++kills_pe_;
  return kill(kill::PE | kill::PENUM.encode(pe));
}

std::string PhbDriver::pe_of(const Requester& r, Pe** out) {
  if (r.kind != Requester::Kind::PartitionableEndpoint || r.id >= where_.num_pes)
    return describe(r) + " is not a PE of " + name_;
  auto it = pes_.find(static_cast<uint16_t>(r.id));
  if (it == pes_.end()) return describe(r) + " of " + name_ + " has no device";
  *out = &it->second;
  return "";
}

}  // namespace iommusim::fw
