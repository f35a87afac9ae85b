// SPDX-License-Identifier: Apache-2.0
#include "channel_subsystem/subchannel.h"

namespace iommusim::css {

namespace {
constexpr uint32_t kActive = static_cast<uint32_t>(scsw0::AC_SUBCHANNEL_ACTIVE | scsw0::AC_DEVICE_ACTIVE);
constexpr uint32_t kEndedAc = static_cast<uint32_t>(scsw0::AC_START_PENDING | scsw0::AC_RESUME_PENDING |
                                                    scsw0::AC_SUSPENDED | kActive);
constexpr uint8_t kPathMask = 0x80;  // the one path: bit 0 of PIM, PAM and POM

// The status-control bits in place, and some combinations of them.
uint32_t sc_of(const Scsw& s) { return s.word0 & static_cast<uint32_t>(scsw0::SC.mask()); }
constexpr uint32_t kPendingAlone = static_cast<uint32_t>(scsw0::SC_STATUS_PENDING);
constexpr uint32_t kIntermediatePending = static_cast<uint32_t>(scsw0::SC_INTERMEDIATE | scsw0::SC_STATUS_PENDING);
constexpr uint32_t kFinalStatus = static_cast<uint32_t>(scsw0::SC_PRIMARY | scsw0::SC_SECONDARY | scsw0::SC_ALERT);
// Only the start function is in progress.
bool start_function_only(const Scsw& s) {
  return (s.word0 & static_cast<uint32_t>(scsw0::FC.mask())) == static_cast<uint32_t>(scsw0::FC_START);
}
}  // namespace

Subchannel::Subchannel(uint32_t sid, uint16_t devno, uint8_t chpid) : sid_(sid) { initialize(devno, chpid); }

// The initialized values: what the channel subsystem sets up and what
// I/O-system reset restores (see reset()).
void Subchannel::initialize(uint16_t devno, uint8_t chpid) {
  schib_ = Schib{};
  Pmcw& p = schib_.pmcw;
  p.word1 = static_cast<uint32_t>(pmcw1::V | pmcw1::DEVNO.encode(devno));
  p.word2 = static_cast<uint32_t>(pmcw2::LPM.encode(kPathMask) | pmcw2::PIM.encode(kPathMask));
  p.word3 = static_cast<uint32_t>(pmcw3::POM.encode(0xff) | pmcw3::PAM.encode(kPathMask));
  p.chpid[0] = chpid;
  orb_ = Orb{};
  ecw_.fill(0);
  ecw_count_ = 0;
  requested_ = false;
}

void Subchannel::reset() {
  initialize(static_cast<uint16_t>(pmcw1::DEVNO.extract(schib_.pmcw.word1)), schib_.pmcw.chpid[0]);
}

// SSCH: cc 1 status pending; cc 2 a function in progress; cc 3 not
// operational or no path in the ORB's logical-path mask (Hercules channel.c).
int Subchannel::start(const Orb& orb) {
  Scsw& s = schib_.scsw;
  if (!operational()) return 3;
  if (s.status_pending()) return 1;
  if (s.fc() != 0) return 2;
  const uint32_t pam = static_cast<uint32_t>(pmcw3::PAM.extract(schib_.pmcw.word3));
  if ((orb1::LPM.extract(orb.word1) & pam) == 0) return 3;
  orb_ = orb;
  s = Scsw{};
  s.word0 = static_cast<uint32_t>(scsw0::KEY.encode(orb1::KEY.extract(orb.word1)) | scsw0::FC_START |
                                  scsw0::AC_START_PENDING);
  for (const auto& [from, to] : {std::pair<Bit, Bit>{orb1::S, scsw0::S}, {orb1::F, scsw0::F}, {orb1::P, scsw0::P},
                                 {orb1::I, scsw0::I}, {orb1::A, scsw0::A}, {orb1::U, scsw0::U}})
    s.set(to, orb.has(from));
  schib_.pmcw.intparm = orb.intparm;
  ecw_count_ = 0;
  return 0;
}

// TSCH: the IRB holds the SCSW, a format-1 ESW (last-path-used mask, the
// extended-report word) and the ECW. With status pending (cc 0) the status is
// then cleared as PoP 16 "Function Control", "Activity Control" and "Status
// Control" describe (QEMU css_do_tsch_update_subch).
int Subchannel::test(Irb* irb) {
  if (!operational()) return 3;
  Scsw& s = schib_.scsw;
  *irb = Irb{};
  irb->scsw = s;
  irb->esw[0] = static_cast<uint32_t>(esw1::LPUM.encode(pmcw2::LPUM.extract(schib_.pmcw.word2)));
  if (!s.status_pending()) return 1;
  if (ecw_count_) {
    irb->scsw.set(scsw0::E);
    irb->esw[1] = static_cast<uint32_t>(erw::S | erw::SCNT.encode(ecw_count_));
    irb->ecw = ecw_;
  }
  const uint32_t sc = sc_of(s);
  const bool intermediate_only = sc == kIntermediatePending;
  const bool halt_on_suspended = s.has(scsw0::FC_HALT) && s.has(scsw0::AC_SUSPENDED);
  s.word0 &= ~static_cast<uint32_t>(scsw0::SC.mask() | scsw0::Z.mask() | scsw0::E.mask());
  if (!intermediate_only || halt_on_suspended) s.word0 &= ~static_cast<uint32_t>(scsw0::FC.mask());
  const uint32_t pendings = static_cast<uint32_t>(scsw0::AC_RESUME_PENDING | scsw0::AC_START_PENDING |
                                                  scsw0::AC_HALT_PENDING | scsw0::AC_CLEAR_PENDING |
                                                  scsw0::AC_SUSPENDED);
  if (!intermediate_only) {
    s.word0 &= ~(pendings | static_cast<uint32_t>(scsw0::N));
  } else if (s.has(scsw0::AC_SUSPENDED) && s.has(scsw0::FC_START)) {
    s.set(scsw0::N, false);
    if (s.has(scsw0::FC_HALT)) s.word0 &= ~pendings;
  }
  s.cstat &= static_cast<uint8_t>(~cstat::PCI.mask());
  if (!intermediate_only) {
    s.dstat = 0;
    s.cstat = 0;
  }
  ecw_count_ = 0;
  requested_ = false;
  return 0;
}

// HSCH: cc 1 status pending alone or with primary, secondary or alert status;
// cc 2 a halt or clear function in progress (QEMU css_do_hsch).
int Subchannel::halt() {
  if (!operational()) return 3;
  Scsw& s = schib_.scsw;
  const uint32_t sc = sc_of(s);
  if (sc == kPendingAlone || (sc & kFinalStatus)) return 1;
  if (s.has(scsw0::FC_HALT) || s.has(scsw0::FC_CLEAR)) return 2;
  s.set(scsw0::FC_HALT);
  if ((s.word0 & kActive) == kActive && s.has(scsw0::SC_INTERMEDIATE) && s.status_pending()) {
    s.word0 &= ~static_cast<uint32_t>(scsw0::SC.mask());  // the intermediate status is withdrawn
    requested_ = false;
  }
  s.set(scsw0::AC_HALT_PENDING);
  return 0;
}

// CSCH: always initiated on an operational subchannel; the status and any
// function in progress are withdrawn.
int Subchannel::clear() {
  if (!operational()) return 3;
  Scsw& s = schib_.scsw;
  s.word0 &= ~static_cast<uint32_t>(scsw0::FC.mask() | scsw0::AC.mask() | scsw0::SC.mask());
  s.word0 |= static_cast<uint32_t>(scsw0::FC_CLEAR | scsw0::AC_CLEAR_PENDING);
  requested_ = false;
  return 0;
}

// RSCH: cc 2 unless only the start function is in progress, the ORB allowed
// suspension and no resume is pending yet. A resume pending before the
// program reaches a suspend flag makes the channel refetch that CCW instead of
// suspending (Hercules channel.c).
int Subchannel::resume() {
  if (!operational()) return 3;
  Scsw& s = schib_.scsw;
  if (s.status_pending()) return 1;
  if (!start_function_only(s) || !orb_.has(orb1::S) || resume_pending()) return 2;
  s.set(scsw0::AC_RESUME_PENDING);
  return 0;
}

// XSCH: the start function is withdrawn before the device takes part in it:
// cc 2 unless start pending, resume pending or suspended and not active.
int Subchannel::cancel() {
  if (!operational()) return 3;
  Scsw& s = schib_.scsw;
  if (sc_of(s) != 0) return 1;
  const bool cancellable = start_function_only(s) && (start_pending() || resume_pending() || suspended()) && !active();
  if (!cancellable) return 2;
  s.word0 &= ~static_cast<uint32_t>(scsw0::FC.mask() | scsw0::AC.mask());
  s.dstat = 0;
  s.cstat = 0;
  return 0;
}

// MSCH: only the program-modifiable fields change (PoP 15, "Subchannel-
// Information Block"; QEMU css_do_msch).
int Subchannel::modify(const Schib& in) {
  Pmcw& p = schib_.pmcw;
  if (!(p.word1 & pmcw1::V)) return 3;
  if (schib_.scsw.status_pending()) return 1;
  if (schib_.scsw.fc() != 0) return 2;
  p.intparm = in.pmcw.intparm;
  const uint32_t w1 = static_cast<uint32_t>(pmcw1::ISC.mask() | pmcw1::E.mask() | pmcw1::LM.mask() |
                                            pmcw1::MM.mask() | pmcw1::D.mask());
  p.word1 = (p.word1 & ~w1) | (in.pmcw.word1 & w1);
  p.word2 = static_cast<uint32_t>(pmcw2::LPM.deposit(p.word2, pmcw2::LPM.extract(in.pmcw.word2)));
  const uint32_t w3 = static_cast<uint32_t>(pmcw3::MBI.mask() | pmcw3::POM.mask());
  p.word3 = (p.word3 & ~w3) | (in.pmcw.word3 & w3);
  const uint32_t w6 = static_cast<uint32_t>(pmcw6::F.mask() | pmcw6::S.mask());
  p.word6 = (p.word6 & ~w6) | (in.pmcw.word6 & w6);
  schib_.mba = in.mba;
  return 0;
}

bool Subchannel::make_pending(uint32_t sc_bits) {
  Scsw& s = schib_.scsw;
  s.word0 = (s.word0 & ~static_cast<uint32_t>(scsw0::SC.mask())) | sc_bits;
  requested_ = enabled();
  return requested_;
}

void Subchannel::activate() {
  Scsw& s = schib_.scsw;
  s.word0 &= ~static_cast<uint32_t>(scsw0::AC_START_PENDING | scsw0::AC_SUSPENDED);
  s.word0 |= kActive;
  schib_.pmcw.word2 = static_cast<uint32_t>(pmcw2::LPUM.deposit(schib_.pmcw.word2, kPathMask));
}

bool Subchannel::intermediate(uint8_t cstat_bits, uint32_t cpa, bool zero_cc) {
  Scsw& s = schib_.scsw;
  s.cstat |= cstat_bits;
  if (s.status_pending()) return false;  // merges into the status already pending
  s.cpa = cpa;
  s.set(scsw0::Z, zero_cc);
  return make_pending(kIntermediatePending);
}

bool Subchannel::suspend(uint32_t cpa) {
  Scsw& s = schib_.scsw;
  s.word0 &= ~kActive;
  s.set(scsw0::AC_SUSPENDED);
  s.cpa = cpa;
  if (orb_.has(orb1::U) || s.status_pending()) return false;
  s.dstat = 0;
  return make_pending(kIntermediatePending);
}

bool Subchannel::end(uint8_t device_status, uint8_t subchannel_status, uint32_t cpa, uint16_t count, bool alert,
                     const std::array<uint8_t, kSenseBytes>* sense) {
  Scsw& s = schib_.scsw;
  const bool intermediate_pending = s.status_pending() && s.has(scsw0::SC_INTERMEDIATE);
  s.word0 &= ~kEndedAc;
  s.dstat = device_status;
  s.cstat = static_cast<uint8_t>((s.cstat & cstat::PCI) | subchannel_status);
  s.cpa = cpa;
  s.count = count;
  if (sense && (schib_.pmcw.word6 & pmcw6::S)) {
    ecw_.fill(0);
    for (unsigned i = 0; i < kSenseBytes && i < kEcwBytes; ++i) ecw_[i] = (*sense)[i];
    ecw_count_ = static_cast<uint8_t>(kSenseBytes);
  }
  uint32_t sc = static_cast<uint32_t>(scsw0::SC_PRIMARY | scsw0::SC_SECONDARY | scsw0::SC_STATUS_PENDING);
  if (alert) sc |= static_cast<uint32_t>(scsw0::SC_ALERT);
  if (intermediate_pending) sc |= static_cast<uint32_t>(scsw0::SC_INTERMEDIATE);
  return make_pending(sc);
}

bool Subchannel::halted(bool device_was_active, uint32_t cpa, uint16_t count) {
  Scsw& s = schib_.scsw;
  const bool device_signalled = !start_pending() && !suspended();
  s.word0 &= ~(kEndedAc | static_cast<uint32_t>(scsw0::AC_HALT_PENDING));
  s.cstat = 0;
  if (!device_was_active) {
    s.dstat = device_signalled ? static_cast<uint8_t>(dstat::DEVICE_END) : 0;
    return make_pending(kPendingAlone);
  }
  s.dstat = static_cast<uint8_t>(dstat::CHANNEL_END | dstat::DEVICE_END);
  s.cpa = cpa;
  s.count = count;
  return make_pending(static_cast<uint32_t>(scsw0::SC_PRIMARY | scsw0::SC_SECONDARY | scsw0::SC_STATUS_PENDING));
}

bool Subchannel::cleared() {
  Scsw& s = schib_.scsw;
  s.word0 &= ~static_cast<uint32_t>(scsw0::AC.mask() | scsw0::N.mask());
  s.cpa = 0;
  s.dstat = 0;
  s.cstat = 0;
  s.count = 0;
  Pmcw& p = schib_.pmcw;
  p.word3 = static_cast<uint32_t>(pmcw3::POM.deposit(p.word3, 0xff));
  p.word2 = static_cast<uint32_t>(pmcw2::PNOM.deposit(p.word2, 0));
  return make_pending(kPendingAlone);
}

}  // namespace iommusim::css
