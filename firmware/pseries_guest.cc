// SPDX-License-Identifier: Apache-2.0
#include "firmware/pseries_guest.h"

#include <algorithm>

#include "common/byte_order.h"
#include "firmware/papr_abi.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint64_t kRw = papr_abi::TCE_PCI_READ | papr_abi::TCE_PCI_WRITE;
uint64_t perm_bits(const Perm& p) {
  return (p.read ? papr_abi::TCE_PCI_READ : 0) | (p.write ? papr_abi::TCE_PCI_WRITE : 0);
}
std::string status_text(int64_t rc) { return "status " + std::to_string(rc); }
}  // namespace

// One device's DMA API: its PE's TCE driver.
class PseriesGuest::TceApi final : public DmaApi {
public:
  TceApi(PseriesGuest& guest, std::string device) : guest_(guest), device_(std::move(device)) {}
  bool ready() const override { return guest_.ready(); }
  const sc_core::sc_event& ready_event() const override { return guest_.ready_event(); }
  std::string error() const override { return guest_.error(); }
  // The PE's windows are there from boot on; the first device to attach in
  // ddw mode sets up the dynamic window (Linux enable_ddw, at the driver's probe).
  std::string attach() override { return pe_ ? guest_.attach(*pe_) : no_window(); }
  std::string map(uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed) override {
    return pe_ ? guest_.map(*pe_, iova, pa, size, perm, fixed) : no_window();
  }
  std::string unmap(uint64_t iova, uint64_t size) override { return pe_ ? guest_.unmap(*pe_, iova, size) : no_window(); }
  std::string no_window() const { return "device '" + device_ + "' has no DMA window in the device tree"; }
  const std::string& device() const { return device_; }
  void set_pe(PeTce* pe) { pe_ = pe; }

private:
  PseriesGuest& guest_;
  std::string device_;
  PeTce* pe_ = nullptr;
};

PseriesGuest::PseriesGuest(sc_core::sc_module_name name, const GuestParams& p, CpuPort& cpu, PageAllocator& alloc,
                           const PseriesHypervisor& firmware, const IovaRange& ram, StatGroup* parent)
    : sc_module(name),
      p_(p),
      cpu_(cpu),
      alloc_(alloc),
      firmware_(firmware),
      ram_(ram),
      stats_(basename(), parent),
      hcalls_(stats_.counter("hcalls", "hypercalls made")),
      hcall_failures_(stats_.counter("hcall_failures", "hypercalls answered other than H_SUCCESS")),
      rtas_calls_(stats_.counter("rtas_calls", "RTAS calls made")),
      rtas_failures_(stats_.counter("rtas_failures", "RTAS calls answered with a negative status")),
      direct_maps_(stats_.counter("ddw.direct_tces", "TCEs of the DDW direct map of RAM")),
      reboots_(stats_.counter("reboots", "reboots into another DMA window layout")),
      eeh_events_(stats_.counter("eeh.events", "EEH events the handler took (hypervisor events and MMIO detections)")),
      mmio_detections_(stats_.counter("eeh.mmio_detections", "MMIO loads that read all ones from a frozen PE")),
      recoveries_(stats_.counter("eeh.recoveries", "PEs recovered")),
      recovery_failures_(stats_.counter("eeh.recovery_failures", "recoveries that failed")),
      recovery_ns_(stats_.histogram("eeh.recovery_ns", "EEH event taken until the PE is configured again", "ns")) {
  SC_THREAD(boot_thread);
  SC_THREAD(eeh_thread);
}

PseriesGuest::~PseriesGuest() = default;

DmaApi& PseriesGuest::dma_api(const std::string& device) {
  auto& slot = apis_[device];
  if (!slot) slot = std::make_unique<TceApi>(*this, device);
  return *slot;
}

// ---------------------------------------------------------------- calls

int64_t PseriesGuest::hcall(uint64_t opcode, std::vector<uint64_t> args, std::vector<uint64_t>* rets) {
  ArchitectedCall c(CallKind::PaprHypercall, opcode, std::move(args));
  cpu_.charge_ns(p_.hcall_ns);
  ++hcalls_;
  const int64_t rc = cpu_.call(c) ? c.status : papr::H_HARDWARE;
  if (rc != papr::H_SUCCESS) ++hcall_failures_;
  if (rets) *rets = c.rets;
  return rc;
}

int64_t PseriesGuest::rtas(const char* name, std::vector<uint64_t> args, std::vector<uint64_t>* rets) {
  const auto& tokens = firmware_.device_tree().rtas_tokens;
  auto token = tokens.find(name);
  if (token == tokens.end()) return rtas::kNotSupported;  // the firmware does not offer the call
  ArchitectedCall c(CallKind::Rtas, token->second, std::move(args));
  cpu_.charge_ns(p_.rtas_ns);
  ++rtas_calls_;
  const int64_t rc = cpu_.call(c) ? c.status : rtas::kHardwareError;
  if (rc < 0) ++rtas_failures_;
  if (rets) *rets = c.rets;
  return rc;
}

std::vector<uint64_t> PseriesGuest::pe_args(const PeTce& pe, std::vector<uint64_t> more) const {
  std::vector<uint64_t> a = {pe.config_addr, pe.buid >> 32, pe.buid & 0xffffffffull};
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// ---------------------------------------------------------------- boot

void PseriesGuest::boot_thread() {
  if (!firmware_.ready()) sc_core::wait(firmware_.ready_event());
  if (!firmware_.ready()) error_ = "firmware: " + firmware_.error();
  list_page_ = alloc_.alloc_page();
  log_buffer_ = alloc_.alloc_block((p_.error_log_bytes + kPageSize - 1) / kPageSize);
  if (error_.empty() && (!list_page_ || !log_buffer_)) error_ = "out of guest memory for the TCE list";
  for (const DeviceTreeDevice& d : firmware_.device_tree().devices) {
    auto& pe = pes_[d.liobn];
    if (!pe) {
      pe = std::make_unique<PeTce>();
      pe->buid = d.buid;
      pe->config_addr = d.config_addr;
      pe->def = Window{d.liobn, d.window_base, d.window_size, d.page_shift};
      pe->used.assign(d.window_size >> d.page_shift, false);
    }
    auto api = apis_.find(d.name);
    if (api != apis_.end()) api->second->set_pe(pe.get());
  }
  for (auto& kv : pes_)
    if (error_.empty()) error_ = boot_pe(*kv.second);
  cpu_.sync();
  ready_ = error_.empty();
  ready_ev_.notify(sc_core::SC_ZERO_TIME);
}

// EEH on for the PE (Linux pseries_eeh_probe), then its DDW.
std::string PseriesGuest::boot_pe(PeTce& pe) {
  std::vector<uint64_t> rets;
  int64_t rc = rtas(papr_abi::rtas_name::kGetConfigAddrInfo2, pe_args(pe, {papr_abi::config_info::kPeAddress}), &rets);
  if (rc != rtas::kSuccess || rets.empty()) return "ibm,get-config-addr-info2: " + status_text(rc);
  pe.config_addr = static_cast<uint32_t>(rets[0]);  // the PE address from here on
  rc = rtas(papr_abi::rtas_name::kSetEehOption, pe_args(pe, {papr_abi::eeh_option::kEnable}));
  return rc == rtas::kSuccess ? "" : "ibm,set-eeh-option enable: " + status_text(rc);
}

std::string PseriesGuest::attach(PeTce& pe) {
  if (p_.mode != "ddw" || pe.ddw_tried) return "";
  pe.ddw_tried = true;
  return setup_ddw(pe, p_.ddw_page_shift);
}

std::string PseriesGuest::setup_ddw(PeTce& pe, unsigned forced_shift) {
  std::vector<uint64_t> q;
  int64_t rc = rtas(papr_abi::rtas_name::kQueryPeDmaWindow, pe_args(pe), &q);
  if (rc != rtas::kSuccess || q.size() < 3) return "ibm,query-pe-dma-window: " + status_text(rc);
  if (q[0] == 0) return "ibm,query-pe-dma-window: no window available";
  const uint64_t ram_bytes = ram_.last - ram_.start + 1;
  unsigned shift = 0;
  for (const papr_abi::DdwPageSize& s : papr_abi::kDdwPageSizes) {
    const bool offered = (q[2] & s.bit) != 0;
    if (offered && (forced_shift ? s.shift == forced_shift : (1ull << s.shift) <= ram_bytes)) shift = std::max(shift, s.shift);
  }
  if (!shift) return "ibm,query-pe-dma-window: no usable I/O page size in mask " + std::to_string(q[2]);
  unsigned window_shift = shift;
  while ((1ull << window_shift) < ram_bytes) ++window_shift;
  if ((1ull << (window_shift - shift)) > q[1]) return "the direct window needs more TCEs than the largest block";
  std::vector<uint64_t> c;
  rc = rtas(papr_abi::rtas_name::kCreatePeDmaWindow, pe_args(pe, {shift, window_shift}), &c);
  if (rc != rtas::kSuccess || c.size() < 3) return "ibm,create-pe-dma-window: " + status_text(rc);
  pe.ddw = Window{static_cast<uint32_t>(c[0]), (c[1] << 32) | c[2], 1ull << window_shift, shift};
  return direct_map(pe);
}

// All of RAM through the dynamic window, 512 TCEs per H_PUT_TCE_INDIRECT.
std::string PseriesGuest::direct_map(PeTce& pe) {
  const uint64_t page = 1ull << pe.ddw.page_shift;
  const uint64_t pages = (ram_.last - ram_.start + page) / page;
  uint8_t list[papr_abi::kMaxIndirectTces * 8];
  for (uint64_t first = 0; first < pages; first += papr_abi::kMaxIndirectTces) {
    const uint64_t n = std::min<uint64_t>(papr_abi::kMaxIndirectTces, pages - first);
    for (uint64_t i = 0; i < n; ++i) store_be64(list + 8 * i, (ram_.start + (first + i) * page) | kRw);
    cpu_.write(list_page_, list, static_cast<unsigned>(n * 8));
    const int64_t rc = hcall(papr_abi::H_PUT_TCE_INDIRECT, {pe.ddw.liobn, pe.ddw.base + first * page, list_page_, n});
    if (rc != papr::H_SUCCESS) return "H_PUT_TCE_INDIRECT of the direct map: " + status_text(rc);
    direct_maps_ += n;
  }
  return "";
}

// A new kernel with another layout: the windows back to the default one, then
// DDW again with the new page size.
std::string PseriesGuest::reboot(PeTce& pe) {
  ++reboots_;
  const int64_t rc = rtas(papr_abi::rtas_name::kResetPeDmaWindow, pe_args(pe));
  if (rc != rtas::kSuccess) return "ibm,reset-pe-dma-window: " + status_text(rc);
  pe.ddw = Window{};
  return setup_ddw(pe, p_.reboot_page_shift);
}

// ---------------------------------------------------------------- TCEs

std::string PseriesGuest::put_tces(const Window& w, uint64_t ioba, uint64_t first_tce, uint64_t pages) {
  const uint64_t page = 1ull << w.page_shift;
  if (pages > 1 && p_.batch) {
    uint8_t list[papr_abi::kMaxIndirectTces * 8];
    for (uint64_t done = 0; done < pages; done += papr_abi::kMaxIndirectTces) {
      const uint64_t n = std::min<uint64_t>(papr_abi::kMaxIndirectTces, pages - done);
      for (uint64_t i = 0; i < n; ++i) store_be64(list + 8 * i, first_tce + (done + i) * page);
      cpu_.write(list_page_, list, static_cast<unsigned>(n * 8));
      const int64_t rc = hcall(papr_abi::H_PUT_TCE_INDIRECT, {w.liobn, ioba + done * page, list_page_, n});
      if (rc != papr::H_SUCCESS) return "H_PUT_TCE_INDIRECT: " + status_text(rc);
    }
    return "";
  }
  for (uint64_t i = 0; i < pages; ++i) {
    const int64_t rc = hcall(papr_abi::H_PUT_TCE, {w.liobn, ioba + i * page, first_tce + i * page});
    if (rc != papr::H_SUCCESS) return "H_PUT_TCE: " + status_text(rc);
  }
  return "";
}

std::string PseriesGuest::clear_tces(const Window& w, uint64_t ioba, uint64_t pages) {
  const uint64_t page = 1ull << w.page_shift;
  if (pages > 1 && p_.batch) {
    const int64_t rc = hcall(papr_abi::H_STUFF_TCE, {w.liobn, ioba, 0, pages});
    return rc == papr::H_SUCCESS ? "" : "H_STUFF_TCE: " + status_text(rc);
  }
  for (uint64_t i = 0; i < pages; ++i) {
    const int64_t rc = hcall(papr_abi::H_PUT_TCE, {w.liobn, ioba + i * page, 0});
    if (rc != papr::H_SUCCESS) return "H_PUT_TCE (clear): " + status_text(rc);
  }
  return "";
}

// Next fit over window 0's TCEs (Linux iommu_range_alloc keeps a hint the same way).
bool PseriesGuest::alloc_iova(PeTce& pe, uint64_t pages, bool fixed, uint64_t* index) {
  const uint64_t n = pe.used.size();
  auto free_at = [&](uint64_t i) {
    if (i + pages > n) return false;
    for (uint64_t k = 0; k < pages; ++k)
      if (pe.used[i + k]) return false;
    return true;
  };
  if (fixed) {
    if (!free_at(*index)) return false;
  } else {
    uint64_t found = n;
    for (uint64_t tried = 0, i = pe.cursor; tried < n && found == n; ++tried, i = (i + 1) % n)
      if (free_at(i)) found = i;
    if (found == n) return false;
    *index = found;
    pe.cursor = (found + pages) % n;
  }
  for (uint64_t k = 0; k < pages; ++k) pe.used[*index + k] = true;
  return true;
}

std::string PseriesGuest::map(PeTce& pe, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed) {
  cpu_.charge_ns(p_.map_ns);
  if (p_.reboot_after_maps && !rebooted_ && maps_ >= p_.reboot_after_maps &&
      std::all_of(pes_.begin(), pes_.end(), [](const auto& kv) { return kv.second->outstanding == 0; })) {
    rebooted_ = true;
    for (auto& kv : pes_)
      if (kv.second->ddw.present())
        if (std::string err = reboot(*kv.second); !err.empty()) return "reboot: " + err;
  }
  ++maps_;
  if (!fixed && pe.ddw.present() && pa >= ram_.start && pe.ddw.contains(pe.ddw.base + (pa - ram_.start), size)) {
    *iova = pe.ddw.base + (pa - ram_.start);  // the direct map: no hypercall
    ++pe.outstanding;
    return "";
  }
  const Window& w = pe.def;
  if (!w.present()) return "no default DMA window";
  const uint64_t page = 1ull << w.page_shift, offset = pa & (page - 1);
  const uint64_t pages = (offset + size + page - 1) / page;
  uint64_t index = fixed ? (*iova - w.base) >> w.page_shift : 0;
  if (fixed && (!w.contains(*iova, size) || ((*iova - w.base) & (page - 1)) != offset))
    return "fixed IOVA " + std::to_string(*iova) + " is not inside the default DMA window";
  if (!alloc_iova(pe, pages, fixed, &index)) return "no free range of " + std::to_string(pages) + " TCEs in the default window";
  const uint64_t ioba = w.base + index * page;
  if (std::string err = put_tces(w, ioba, (pa - offset) | perm_bits(perm), pages); !err.empty()) {
    for (uint64_t k = 0; k < pages; ++k) pe.used[index + k] = false;
    return err;
  }
  *iova = ioba + offset;
  ++pe.outstanding;
  return "";
}

std::string PseriesGuest::unmap(PeTce& pe, uint64_t iova, uint64_t size) {
  cpu_.charge_ns(p_.unmap_ns);
  if (pe.ddw.contains(iova, size)) {
    if (pe.outstanding) --pe.outstanding;
    return "";
  }
  const Window& w = pe.def;
  if (!w.contains(iova, size)) return "IOVA range outside every DMA window";
  const uint64_t page = 1ull << w.page_shift, offset = (iova - w.base) & (page - 1);
  const uint64_t pages = (offset + size + page - 1) / page, index = (iova - w.base) >> w.page_shift;
  if (std::string err = clear_tces(w, w.base + index * page, pages); !err.empty()) return err;
  for (uint64_t k = 0; k < pages; ++k) pe.used[index + k] = false;
  if (pe.outstanding) --pe.outstanding;
  return "";
}

}  // namespace iommusim::fw
