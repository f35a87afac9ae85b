// SPDX-License-Identifier: Apache-2.0
// One subchannel's state and the architected effect of each I/O instruction
// on it (z/Architecture Principles of Operation, chapter 14 for the
// instructions and their condition codes, chapter 16 for the SCSW fields and
// how TEST SUBCHANNEL clears them); QEMU hw/s390x/css.c (css_do_*) and
// Hercules channel.c take the same decisions. The channel-program engine
// moves the subchannel through its functions with the transitions below; each
// transition that makes the subchannel status pending answers whether an
// I/O-interruption request is to be made pending (the subchannel is enabled).
// Pure C++: the SCSW, PMCW and ORB are the architected words.
#pragma once

#include <array>
#include <cstdint>

#include "channel_subsystem/css_formats.h"
#include "channel_subsystem/channel_device.h"

namespace iommusim::css {

class Subchannel {
public:
  // A subchannel with a device (device number `devno`) on one channel path
  // `chpid`: PIM = PAM = POM bit 0, disabled, interruption subclass 0.
  Subchannel(uint32_t sid, uint16_t devno, uint8_t chpid);

  uint32_t sid() const { return sid_; }
  uint8_t isc() const { return static_cast<uint8_t>(pmcw1::ISC.extract(schib_.pmcw.word1)); }
  uint32_t intparm() const { return schib_.pmcw.intparm; }
  bool enabled() const { return (schib_.pmcw.word1 & pmcw1::E) != 0; }
  // Device number valid and enabled: START, HALT, CLEAR, RESUME, CANCEL and
  // TEST SUBCHANNEL give condition code 3 otherwise.
  bool operational() const { return (schib_.pmcw.word1 & pmcw1::V) && enabled(); }
  const Scsw& scsw() const { return schib_.scsw; }
  const Orb& orb() const { return orb_; }
  const Schib& schib() const { return schib_; }

  // --- Instructions: the condition code, and the state they leave. ---
  int start(const Orb& orb);        // SSCH
  int test(Irb* irb);               // TSCH (the IRB is stored for cc 0 and 1)
  int halt();                       // HSCH
  int clear();                      // CSCH
  int resume();                     // RSCH
  int cancel();                     // XSCH
  int modify(const Schib& operand); // MSCH (the operand passed the reserved-bit check)
  Schib store() const { return schib_; }  // STSCH
  // I/O-system reset (PoP chapter 17, "I/O-System Reset"): the subchannel
  // back to its initialized values (PoP chapter 15, the SCHIB's fields):
  // interruption parameter 0, ISC 0, E, LM, MM, D and T zero, LPM equal to
  // the PIM, PNOM, LPUM and MBI zero, POM all ones, F, X and S of word 6
  // zero, the SCSW and the measurement-block address zero; no function, no
  // status, no interruption request. The device number, V, the PIM, PAM and
  // CHPIDs describe the configuration and stay (QEMU hw/s390x/css.c
  // css_reset_sch, Hercules channel.c device_reset).
  void reset();

  // --- Functions, as the channel subsystem performs them. ---
  bool start_pending() const { return scsw().has(scsw0::AC_START_PENDING); }
  bool resume_pending() const { return scsw().has(scsw0::AC_RESUME_PENDING); }
  bool halt_pending() const { return scsw().has(scsw0::AC_HALT_PENDING); }
  bool clear_pending() const { return scsw().has(scsw0::AC_CLEAR_PENDING); }
  bool suspended() const { return scsw().has(scsw0::AC_SUSPENDED); }
  bool active() const { return scsw().has(scsw0::AC_SUBCHANNEL_ACTIVE); }
  // The start function begins (or resumes) at the device.
  void activate();
  // Intermediate status (PCI, initial status with Z): cstat bits merge into a
  // status already pending.
  bool intermediate(uint8_t cstat_bits, uint32_t cpa, bool zero_cc);
  void consume_resume_pending() { schib_.scsw.set(scsw0::AC_RESUME_PENDING, false); }
  // The program suspended at the CCW before `cpa`: intermediate status unless ORB U.
  bool suspend(uint32_t cpa);
  // Primary and secondary status: the start function ends. `sense` (its
  // count of bytes) goes to the ECW when concurrent sense is on.
  bool end(uint8_t device_status, uint8_t subchannel_status, uint32_t cpa, uint16_t count, bool alert,
           const std::array<uint8_t, kSenseBytes>* sense);
  // The halt function ends: primary and secondary status with channel end and
  // device end when the device was active in the program; status pending
  // alone otherwise, with device end when the halt signal reached an idle
  // device (QEMU sch_handle_halt_func).
  bool halted(bool device_was_active, uint32_t cpa, uint16_t count);
  // The clear function ends: status pending alone, the SCSW cleared.
  bool cleared();

  // An interruption request is outstanding (made when status became pending
  // while enabled; withdrawn by TEST PENDING INTERRUPTION, TEST SUBCHANNEL
  // and CLEAR SUBCHANNEL).
  bool interruption_requested() const { return requested_; }
  void withdraw_interruption() { requested_ = false; }

private:
  bool make_pending(uint32_t sc_bits);
  void initialize(uint16_t devno, uint8_t chpid);

  uint32_t sid_;
  Schib schib_;
  Orb orb_;
  std::array<uint8_t, kEcwBytes> ecw_{};
  uint8_t ecw_count_ = 0;
  bool requested_ = false;
};

}  // namespace iommusim::css
