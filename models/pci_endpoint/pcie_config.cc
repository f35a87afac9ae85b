// SPDX-License-Identifier: Apache-2.0
#include "pci_endpoint/pcie_config.h"

#include <stdexcept>
#include <string>

#include "common/params.h"

namespace iommusim {

using namespace pcicfg;

unsigned pcie_size_code(uint32_t bytes) {
  unsigned c = 0;
  while ((128u << c) < bytes && c < 5) ++c;
  return c;
}

namespace {
RegisterDef def(const char* name, uint64_t off, unsigned width, uint64_t reset, uint64_t rw = 0, uint64_t w1c = 0) {
  return RegisterDef{name, off, width, reset, rw, w1c, false, 0};
}
unsigned log2u(uint64_t v) {
  unsigned n = 0;
  while ((1ull << n) < v) ++n;
  return n;
}
}  // namespace

PcieConfigSpace::PcieConfigSpace(const PcieConfigParams& p, const PcieLinkParams& link)
    : p_(p), map_("pcie_config", CONFIG_SPACE_SIZE, Endian::Little, HolePolicy::ReadZeroWriteIgnore) {
  map_.set_allowed_sizes(RegisterMap::kSize1 | RegisterMap::kSize2 | RegisterMap::kSize4);
  for (unsigned i = 0; i < 6; ++i) {
    const PcieBarParams& b = p_.bars[i];
    if (b.size && (b.size < (b.io ? 4u : 16u) || (b.size & (b.size - 1))))
      throw std::invalid_argument("BAR" + std::to_string(i) + " size must be a power of two >= " +
                                  (b.io ? "4 (I/O)" : "16 (memory)"));
    if (b.size && b.is64 && i == 5) throw std::invalid_argument("BAR5 cannot be 64-bit");
    if (b.io && (b.is64 || b.size < 4 || b.size > 256))
      throw std::invalid_argument("BAR" + std::to_string(i) + ": an I/O BAR is 32-bit, 4 to 256 bytes");
  }
  build_header();
  build_pcie(link);
  const bool msi = p_.msi_vectors != 0, msix = p_.msix_vectors != 0;
  if (msi) build_msi(msix ? MSIX_CAP : 0);
  if (msix) build_msix(0);
  map_.get("PCIE_CAP_ID").set(CAP_ID_PCIE | ((msi ? MSI_CAP : msix ? MSIX_CAP : 0) << 8));
  // Extended capabilities, linked in order ATS -> PASID -> PRI.
  std::vector<std::pair<uint64_t, uint16_t>> ext;
  if (p_.ats) ext.push_back({ATS_CAP, EXT_CAP_ID_ATS});
  if (p_.pasid) ext.push_back({PASID_CAP, EXT_CAP_ID_PASID});
  if (p_.pri) ext.push_back({PRI_CAP, EXT_CAP_ID_PRI});
  for (size_t i = 0; i < ext.size(); ++i) build_ext(ext[i].first, ext[i].second, 1, i + 1 < ext.size() ? ext[i + 1].first : 0);
}

void PcieConfigSpace::build_header() {
  map_.add(def("VENDOR_ID", VENDOR_ID, 2, p_.vendor_id & 0xffff));
  map_.add(def("DEVICE_ID", DEVICE_ID, 2, p_.device_id & 0xffff));
  // I/O Space Enable is writable only in a function with an I/O BAR (PCI Local Bus 3.0 section 6.2.2).
  bool has_io = false;
  for (const PcieBarParams& b : p_.bars) has_io = has_io || (b.size && b.io);
  Register& cmd = map_.add(def("COMMAND", COMMAND, 2, 0,
                               (has_io ? CMD_IO : 0) | CMD_MEMORY | CMD_BUS_MASTER | CMD_PARITY | CMD_SERR |
                                   CMD_INTX_DISABLE));
  cmd.on_write = [this](Register&, uint64_t, uint64_t) { if (on_enable_change) on_enable_change(); };
  map_.add(def("STATUS", STATUS, 2, STS_CAP_LIST, 0,
               STS_MASTER_DATA_PARITY | STS_SIG_TARGET_ABORT | STS_RCVD_TARGET_ABORT | STS_RCVD_MASTER_ABORT |
                   STS_SIG_SYSTEM_ERROR | STS_DETECTED_PARITY));
  map_.add(def("REVISION_ID", REVISION_ID, 1, p_.revision & 0xff));
  map_.add(def("PROG_IF", PROG_IF, 1, p_.class_code & 0xff));
  map_.add(def("SUBCLASS", SUBCLASS, 1, (p_.class_code >> 8) & 0xff));
  map_.add(def("BASE_CLASS", BASE_CLASS, 1, (p_.class_code >> 16) & 0xff));
  map_.add(def("CACHE_LINE_SIZE", CACHE_LINE_SIZE, 1, 0, 0xff));
  map_.add(def("LATENCY_TIMER", LATENCY_TIMER, 1, 0));
  map_.add(def("HEADER_TYPE", HEADER_TYPE, 1, 0x00));
  map_.add(def("BIST", BIST, 1, 0));
  static const char* kBarNames[6] = {"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5"};
  for (unsigned i = 0; i < 6; ++i) {
    const PcieBarParams& b = p_.bars[i];
    const uint64_t off = BAR0 + 4 * i;
    if (!b.size) {
      map_.add(def(kBarNames[i], off, 4, 0));
      continue;
    }
    if (b.io) {  // bit 0 = 1: I/O space; bit 1 reserved; address from bit 2
      map_.add(def(kBarNames[i], off, 4, 0x1, ~(b.size - 1) & 0xfffffffcull));
      continue;
    }
    const uint64_t type = (b.is64 ? 0x4 : 0x0) | (b.prefetchable ? 0x8 : 0x0);
    const uint64_t addr_mask = ~(b.size - 1);
    map_.add(def(kBarNames[i], off, 4, type, addr_mask & 0xfffffff0ull));
    if (b.is64) {
      map_.add(def(kBarNames[i + 1], off + 4, 4, 0, (addr_mask >> 32) & 0xffffffffull));
      ++i;
    }
  }
  map_.add(def("CARDBUS_CIS", CARDBUS_CIS, 4, 0));
  map_.add(def("SUBSYSTEM_VENDOR_ID", SUBSYSTEM_VENDOR_ID, 2, p_.subsystem_vendor_id & 0xffff));
  map_.add(def("SUBSYSTEM_ID", SUBSYSTEM_ID, 2, p_.subsystem_id & 0xffff));
  map_.add(def("EXPANSION_ROM", EXPANSION_ROM, 4, 0));  // not implemented: reads 0
  map_.add(def("CAP_PTR", CAP_PTR, 1, PCIE_CAP));
  map_.add(def("INTERRUPT_LINE", INTERRUPT_LINE, 1, 0xff, 0xff));
  map_.add(def("INTERRUPT_PIN", INTERRUPT_PIN, 1, 0));  // no INTx: MSI/MSI-X only
  map_.add(def("MIN_GNT", MIN_GNT, 1, 0));
  map_.add(def("MAX_LAT", MAX_LAT, 1, 0));
}

void PcieConfigSpace::build_pcie(const PcieLinkParams& link) {
  const uint64_t b = PCIE_CAP;
  map_.add(def("PCIE_CAP_ID", b, 2, CAP_ID_PCIE));  // ID and next pointer, set by the constructor
  map_.add(def("PCIE_CAPS", b + PCIE_CAPS, 2, 0x0002));  // version 2, PCI Express Endpoint
  const uint64_t devcap = pcie_size_code(std::max<uint32_t>(link.mps, 256)) | (p_.extended_tags ? 1u << 5 : 0) |
                          (7u << 6) | (7u << 9) | (1u << 15);
  map_.add(def("DEVCAP", b + DEVCAP, 4, devcap));
  const uint64_t devctl = (1u << 4) | (pcie_size_code(link.mps) << 5) | (1u << 11) | (pcie_size_code(link.mrrs) << 12) |
                          (p_.extended_tags && link.tags > 32 ? 1u << 8 : 0);
  Register& dc = map_.add(def("DEVCTL", b + DEVCTL, 2, devctl, 0x7fff));
  dc.on_write = [this](Register&, uint64_t old, uint64_t) {
    const uint64_t now = map_.get("DEVCTL").value();
    if (((old ^ now) & 0x70e0) && on_link_change) on_link_change(mps(), mrrs(), rcb());
  };
  map_.add(def("DEVSTA", b + DEVSTA, 2, 0, 0, 0x000f));
  const uint64_t lnkcap = (link.gen & 0xf) | ((link.lanes & 0x3f) << 4) | (1u << 22);
  map_.add(def("LNKCAP", b + LNKCAP, 4, lnkcap));
  Register& lc = map_.add(def("LNKCTL", b + LNKCTL, 2, link.rcb == 128 ? 1u << 3 : 0, 0x03cb));
  lc.on_write = [this](Register&, uint64_t old, uint64_t) {
    if (((old ^ map_.get("LNKCTL").value()) & (1u << 3)) && on_link_change) on_link_change(mps(), mrrs(), rcb());
  };
  map_.add(def("LNKSTA", b + LNKSTA, 2, (link.gen & 0xf) | ((link.lanes & 0x3f) << 4) | (1u << 12)));
  map_.add(def("DEVCAP2", b + DEVCAP2, 4, (1u << 4) | (link.tags > 256 ? 1u << 17 : 0)));
  map_.add(def("DEVCTL2", b + DEVCTL2, 2, 0, 0x141f));
  map_.add(def("DEVSTA2", b + DEVSTA2, 2, 0));
  map_.add(def("LNKCAP2", b + LNKCAP2, 4, ((1u << link.gen) - 1) << 1));
  map_.add(def("LNKCTL2", b + LNKCTL2, 2, link.gen & 0xf, 0x0f));
  map_.add(def("LNKSTA2", b + LNKSTA2, 2, 0));
}

void PcieConfigSpace::build_msi(uint64_t next) {
  const uint64_t b = MSI_CAP;
  const unsigned mmc = log2u(p_.msi_vectors);
  map_.add(def("MSI_CAP_ID", b, 2, CAP_ID_MSI | (next << 8)));
  map_.add(def("MSI_CTL", b + MSI_CTL, 2, (mmc << 1) | (1u << 7) | (1u << 8), 0x0071));
  map_.add(def("MSI_ADDR_LO", b + MSI_ADDR_LO, 4, 0, 0xfffffffc));
  map_.add(def("MSI_ADDR_HI", b + MSI_ADDR_HI, 4, 0, 0xffffffff));
  map_.add(def("MSI_DATA", b + MSI_DATA, 2, 0, 0xffff));
  map_.add(def("MSI_EXT_DATA", b + MSI_EXT_DATA, 2, 0));
  const uint64_t vec_mask = p_.msi_vectors >= 32 ? 0xffffffffull : ((1ull << p_.msi_vectors) - 1);
  map_.add(def("MSI_MASK", b + MSI_MASK, 4, 0, vec_mask));
  map_.add(def("MSI_PENDING", b + MSI_PENDING, 4, 0));
}

void PcieConfigSpace::build_msix(uint64_t next) {
  const uint64_t b = MSIX_CAP;
  map_.add(def("MSIX_CAP_ID", b, 2, CAP_ID_MSIX | (next << 8)));
  Register& ctl = map_.add(def("MSIX_CTL", b + MSIX_CTL, 2, (p_.msix_vectors - 1) & 0x7ff,
                               MSIX_CTL_ENABLE | MSIX_CTL_FUNCTION_MASK));
  ctl.on_write = [this](Register&, uint64_t, uint64_t) { if (on_enable_change) on_enable_change(); };
  map_.add(def("MSIX_TABLE", b + MSIX_TABLE, 4, (p_.msix_table_offset & ~7ull) | (p_.msix_bar & 7)));
  map_.add(def("MSIX_PBA", b + MSIX_PBA, 4, (p_.msix_pba_offset & ~7ull) | (p_.msix_bar & 7)));
}

void PcieConfigSpace::build_ext(uint64_t at, uint16_t id, uint8_t ver, uint64_t next) {
  const uint64_t hdr = id | (static_cast<uint64_t>(ver & 0xf) << 16) | (next << 20);
  auto notify = [this](Register&, uint64_t, uint64_t) { if (on_enable_change) on_enable_change(); };
  switch (id) {
    case EXT_CAP_ID_ATS: {
      map_.add(def("ATS_HDR", at, 4, hdr));
      const uint64_t cap = (p_.ats_invalidate_queue_depth & 0x1f) | (1u << 5) | (p_.pasid ? 1u << 6 : 0);
      map_.add(def("ATS_CAPABILITY", at + ATS_CAPABILITY, 2, cap));
      map_.add(def("ATS_CONTROL", at + ATS_CONTROL, 2, 0, ATS_CTL_ENABLE | 0x1f)).on_write = notify;
      break;
    }
    case EXT_CAP_ID_PASID: {
      map_.add(def("PASID_HDR", at, 4, hdr));
      const uint64_t cap = (p_.pasid_exec ? 1u << 1 : 0) | (p_.pasid_priv ? 1u << 2 : 0) | ((p_.pasid_width & 0x1f) << 8);
      map_.add(def("PASID_CAPABILITY", at + PASID_CAPABILITY, 2, cap));
      const uint64_t rw = PASID_CTL_ENABLE | (p_.pasid_exec ? PASID_CTL_EXEC : 0) | (p_.pasid_priv ? PASID_CTL_PRIV : 0);
      map_.add(def("PASID_CONTROL", at + PASID_CONTROL, 2, 0, rw)).on_write = notify;
      break;
    }
    case EXT_CAP_ID_PRI: {
      map_.add(def("PRI_HDR", at, 4, hdr));
      Register& ctl = map_.add(def("PRI_CONTROL", at + PRI_CONTROL, 2, 0, PRI_CTL_ENABLE | PRI_CTL_RESET));
      ctl.on_write = [this](Register& r, uint64_t old, uint64_t) {
        Register& sts = map_.get("PRI_STATUS");
        const bool enable = r.value() & PRI_CTL_ENABLE;
        const bool reset = r.value() & PRI_CTL_RESET;
        r.clear_bits(PRI_CTL_RESET);  // Reset reads 0
        if (enable) sts.clear_bits(PRI_STS_STOPPED);
        // Reset acts only while Enable is clear (PCIe Base Spec 10.5.2.2).
        if ((reset && !enable) || ((old & PRI_CTL_ENABLE) && !enable)) {
          if (reset) sts.clear_bits(PRI_STS_RESPONSE_FAILURE | PRI_STS_UNEXPECTED_PRGI);
          if (on_pri_reset) on_pri_reset();
        }
        if (on_enable_change) on_enable_change();
      };
      map_.add(def("PRI_STATUS", at + PRI_STATUS, 2, PRI_STS_STOPPED | (p_.pasid ? PRI_STS_PASID_REQUIRED : 0), 0,
                   PRI_STS_RESPONSE_FAILURE | PRI_STS_UNEXPECTED_PRGI));
      map_.add(def("PRI_CAPACITY", at + PRI_CAPACITY, 4, p_.pri_capacity));
      map_.add(def("PRI_ALLOCATION", at + PRI_ALLOCATION, 4, 0, 0xffffffff));
      break;
    }
    default: break;
  }
}

bool PcieConfigSpace::read(uint64_t offset, unsigned len, uint32_t* value) {
  uint8_t buf[4] = {0, 0, 0, 0};
  if (len > 4 || map_.read(offset, buf, len) != AccessStatus::Ok) return false;
  *value = static_cast<uint32_t>(buf[0]) | (static_cast<uint32_t>(buf[1]) << 8) | (static_cast<uint32_t>(buf[2]) << 16) |
           (static_cast<uint32_t>(buf[3]) << 24);
  return true;
}

bool PcieConfigSpace::write(uint64_t offset, unsigned len, uint32_t value) {
  uint8_t buf[4] = {static_cast<uint8_t>(value), static_cast<uint8_t>(value >> 8), static_cast<uint8_t>(value >> 16),
                    static_cast<uint8_t>(value >> 24)};
  return len <= 4 && map_.write(offset, buf, len) == AccessStatus::Ok;
}

uint64_t PcieConfigSpace::value(uint64_t offset) const {
  const Register* r = map_.find(offset);
  return r ? r->value() : 0;
}

uint16_t PcieConfigSpace::command() const { return static_cast<uint16_t>(value(COMMAND)); }

uint64_t PcieConfigSpace::bar_address(unsigned i) const {
  if (i >= 6 || !p_.bars[i].size) return 0;
  uint64_t lo = value(BAR0 + 4 * i) & (p_.bars[i].io ? ~0x3ull : ~0xfull);
  uint64_t hi = p_.bars[i].is64 ? value(BAR0 + 4 * (i + 1)) : 0;
  return ((hi << 32) | lo) & ~(p_.bars[i].size - 1);
}

int PcieConfigSpace::bar_hit(uint64_t addr, uint64_t* offset) const {
  if (!memory_enabled()) return -1;
  for (unsigned i = 0; i < 6; ++i) {
    if (!p_.bars[i].size || p_.bars[i].io) continue;  // memory decode only
    const uint64_t base = bar_address(i);
    if (base && addr >= base && addr - base < p_.bars[i].size) {
      if (offset) *offset = addr - base;
      return static_cast<int>(i);
    }
    if (p_.bars[i].is64) ++i;
  }
  return -1;
}

bool PcieConfigSpace::msix_enabled() const { return p_.msix_vectors && (value(MSIX_CAP + MSIX_CTL) & MSIX_CTL_ENABLE); }
bool PcieConfigSpace::msix_function_masked() const {
  return p_.msix_vectors && (value(MSIX_CAP + MSIX_CTL) & MSIX_CTL_FUNCTION_MASK);
}
bool PcieConfigSpace::msi_enabled() const { return p_.msi_vectors && (value(MSI_CAP + MSI_CTL) & 1); }
uint64_t PcieConfigSpace::msi_address() const {
  return (value(MSI_CAP + MSI_ADDR_HI) << 32) | value(MSI_CAP + MSI_ADDR_LO);
}
uint16_t PcieConfigSpace::msi_data() const { return static_cast<uint16_t>(value(MSI_CAP + MSI_DATA)); }
bool PcieConfigSpace::msi_masked(unsigned vector) const { return (value(MSI_CAP + MSI_MASK) >> vector) & 1; }
void PcieConfigSpace::msi_set_pending(unsigned vector, bool pending) {
  if (!p_.msi_vectors) return;
  Register& r = map_.get("MSI_PENDING");
  if (pending) r.set_bits(1ull << vector); else r.clear_bits(1ull << vector);
}

bool PcieConfigSpace::ats_enabled() const { return p_.ats && (value(ATS_CAP + ATS_CONTROL) & ATS_CTL_ENABLE); }
unsigned PcieConfigSpace::ats_stu() const { return p_.ats ? value(ATS_CAP + ATS_CONTROL) & 0x1f : 0; }
bool PcieConfigSpace::pasid_enabled() const { return p_.pasid && (value(PASID_CAP + PASID_CONTROL) & PASID_CTL_ENABLE); }
bool PcieConfigSpace::pasid_priv_enabled() const {
  return p_.pasid && (value(PASID_CAP + PASID_CONTROL) & PASID_CTL_PRIV);
}
bool PcieConfigSpace::pasid_exec_enabled() const {
  return p_.pasid && (value(PASID_CAP + PASID_CONTROL) & PASID_CTL_EXEC);
}
bool PcieConfigSpace::pri_enabled() const { return p_.pri && (value(PRI_CAP + PRI_CONTROL) & PRI_CTL_ENABLE); }
bool PcieConfigSpace::pri_stopped() const { return p_.pri && (value(PRI_CAP + PRI_STATUS) & PRI_STS_STOPPED); }
uint32_t PcieConfigSpace::pri_allocation() const {
  return p_.pri ? static_cast<uint32_t>(value(PRI_CAP + PRI_ALLOCATION)) : 0;
}
void PcieConfigSpace::pri_set_status(uint16_t bits) {
  if (p_.pri) map_.get("PRI_STATUS").set_bits(bits);
}
void PcieConfigSpace::pri_clear_stopped() {
  if (p_.pri) map_.get("PRI_STATUS").clear_bits(PRI_STS_STOPPED);
}

uint32_t PcieConfigSpace::mps() const { return 128u << ((value(PCIE_CAP + DEVCTL) >> 5) & 7); }
uint32_t PcieConfigSpace::mrrs() const { return 128u << ((value(PCIE_CAP + DEVCTL) >> 12) & 7); }
uint32_t PcieConfigSpace::rcb() const { return (value(PCIE_CAP + LNKCTL) & (1u << 3)) ? 128 : 64; }

}  // namespace iommusim
