// SPDX-License-Identifier: Apache-2.0
#include "ppc_tce/phb_regs.h"

namespace iommusim::ppc {

namespace {
constexpr uint64_t kAll = ~0ull;

// A base-address register: its enable bit and its address field are writable,
// the rest reads zero.
RegisterDef bar(const char* name, uint64_t offset, Bit enable, Field address) {
  const uint64_t rw = enable.mask() | address.mask();
  return {name, offset, 8, 0, rw, 0, false, kAll & ~rw};
}
RegisterDef status(const char* name, uint64_t offset) { return {name, offset, 8, 0, 0, 0, false, 0}; }
RegisterDef plain(const char* name, uint64_t offset, uint64_t rw) { return {name, offset, 8, 0, rw, 0, false, kAll & ~rw}; }
}  // namespace

RegisterMap make_phb_register_map(const char* name) {
  RegisterMap m(name, reg::kWindowSize, Endian::Big);
  m.set_allowed_sizes(RegisterMap::kSize8);
  m.add(status("PHB_DMA_CHAN_STATUS", reg::PHB_DMA_CHAN_STATUS));
  m.add(status("PHB_CPU_LOADSTORE_STATUS", reg::PHB_CPU_LOADSTORE_STATUS));
  m.add(bar("PHB_RTT_BAR", reg::PHB_RTT_BAR, rtt_bar::ENABLE, rtt_bar::BASE_ADDRESS));
  m.add(bar("PHB_PELTV_BAR", reg::PHB_PELTV_BAR, peltv_bar::ENABLE, peltv_bar::BASE_ADDRESS));
  m.add(plain("PHB_M32_BASE_ADDR", reg::PHB_M32_BASE_ADDR, ~0xffffull));
  m.add(plain("PHB_M32_BASE_MASK", reg::PHB_M32_BASE_MASK, ~0xffffull));
  m.add(bar("PHB_PEST_BAR", reg::PHB_PEST_BAR, pest_bar::ENABLE, pest_bar::BASE_ADDRESS));
  RegisterDef rtc = plain("PHB_RTC_INVALIDATE", reg::PHB_RTC_INVALIDATE,
                          rtc_invalidate::ALL.mask() | rtc_invalidate::RID.mask());
  rtc.write_only = true;
  m.add(rtc);
  m.add(plain("PHB_TCE_KILL", reg::PHB_TCE_KILL,
              tce_kill::kKillBits | tce_kill::PSEL.mask() | tce_kill::ADDRESS.mask() | tce_kill::PENUM.mask()));
  m.add(plain("PHB_IODA_ADDR", reg::PHB_IODA_ADDR,
              ioda_addr::AUTOINC.mask() | ioda_addr::TSEL.mask() | ioda_addr::TADR.mask()));
  m.add(plain("PHB_IODA_DATA0", reg::PHB_IODA_DATA0, kAll));
  m.add(plain("PHB_INT_NOTIFY_ADDR", reg::PHB_INT_NOTIFY_ADDR, ~0x3ull));
  m.add(plain("PHB_INT_NOTIFY_INDEX", reg::PHB_INT_NOTIFY_INDEX, 0xffffffffull));
  return m;
}

}  // namespace iommusim::ppc
