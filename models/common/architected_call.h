// SPDX-License-Identifier: Apache-2.0
// An architected call from the CPU to firmware or to the channel subsystem,
// carried as one TLM transaction: command TLM_IGNORE_COMMAND, no data, and an
// ArchitectedCall extension that holds the whole call. Three kinds:
//  - a PAPR hypercall (sc 1): opcode in r3, arguments in r4.., return code
//    in r3 and return values in r4.. (LoPAPR, hypervisor interface);
//  - an RTAS call: a token with input and output words, the first output
//    being the status (LoPAPR, Run-Time Abstraction Services);
//  - an s390 channel-I/O instruction (START SUBCHANNEL, TEST SUBCHANNEL, ...):
//    its opcode, the subchannel-identification word of general register 1
//    and the operand address, answered by a condition code (z/Architecture
//    Principles of Operation, chapter 14, I/O instructions).
// The target fills `status` (the architected return code) and `rets`, and
// answers TLM_OK_RESPONSE; a transaction without the extension is refused
// with TLM_COMMAND_ERROR_RESPONSE. The annotated delay is the time the call
// took, which the caller accounts as it accounts an MMIO access.
#pragma once

#include <cstdint>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

#include "common/stats.h"
#include "common/tlm_access.h"

namespace iommusim {

enum class CallKind : uint8_t { PaprHypercall, Rtas, ChannelIo };
constexpr unsigned kCallKinds = 3;
// Statistic-name form: "hcall", "rtas", "channel_io".
const char* call_kind_name(CallKind kind);

// PAPR hypercall return codes (LoPAPR, hypervisor call return values; the
// same numbers as Linux arch/powerpc/include/asm/hvcall.h).
namespace papr {
constexpr int64_t H_SUCCESS = 0;
constexpr int64_t H_BUSY = 1;
constexpr int64_t H_HARDWARE = -1;
constexpr int64_t H_FUNCTION = -2;   // function not supported
constexpr int64_t H_PRIVILEGE = -3;
constexpr int64_t H_PARAMETER = -4;
}  // namespace papr

// RTAS status values (LoPAPR, RTAS call status; QEMU's spapr names -3 both
// RTAS_OUT_PARAM_ERROR and RTAS_OUT_NOT_SUPPORTED).
namespace rtas {
constexpr int64_t kSuccess = 0;
constexpr int64_t kHardwareError = -1;
constexpr int64_t kBusy = -2;
constexpr int64_t kParameterError = -3;
constexpr int64_t kNotSupported = -3;
constexpr int64_t kNoErrorsFound = 1;  // ibm,slot-error-detail: no error logged (QEMU RTAS_OUT_NO_ERRORS_FOUND)
}  // namespace rtas

// Channel-subsystem I/O instructions: opcodes and the condition codes of
// START SUBCHANNEL (z/Architecture Principles of Operation, chapter 14).
//
// A channel-I/O call carries, in `args`, general register 1 (the
// subchannel-identification word) and then the second-operand address (the
// ORB, SCHIB or IRB); TEST PENDING INTERRUPTION carries only its operand
// address. The answer in `status` is the condition code (0..3), or, when the
// instruction is not executed, the negated program-interruption code of the
// exception it recognized (program_exception() below; PoP chapter 6,
// "Program-Interruption Conditions").
namespace css {
constexpr uint64_t kClearSubchannel = 0xB230;   // CSCH
constexpr uint64_t kHaltSubchannel = 0xB231;    // HSCH
constexpr uint64_t kModifySubchannel = 0xB232;  // MSCH
constexpr uint64_t kStartSubchannel = 0xB233;   // SSCH
constexpr uint64_t kStoreSubchannel = 0xB234;   // STSCH
constexpr uint64_t kTestSubchannel = 0xB235;    // TSCH
constexpr uint64_t kTestPendingInterruption = 0xB236;  // TPI
constexpr uint64_t kResumeSubchannel = 0xB238;  // RSCH
constexpr uint64_t kCancelSubchannel = 0xB276;  // XSCH
constexpr int64_t kCcFunctionInitiated = 0;
constexpr int64_t kCcStatusPending = 1;
constexpr int64_t kCcBusy = 2;
constexpr int64_t kCcNotOperational = 3;

// Program-interruption codes an I/O instruction can recognize (PoP chapter 6).
constexpr uint16_t kPgmOperation = 0x0001;
constexpr uint16_t kPgmPrivilegedOperation = 0x0002;
constexpr uint16_t kPgmProtection = 0x0004;
constexpr uint16_t kPgmAddressing = 0x0005;
constexpr uint16_t kPgmSpecification = 0x0006;
constexpr uint16_t kPgmOperand = 0x0015;

// The status of a call that recognized a program exception, and back.
constexpr int64_t program_exception(uint16_t code) { return -static_cast<int64_t>(code); }
constexpr bool is_program_exception(int64_t status) { return status < 0; }
constexpr uint16_t program_interruption_code(int64_t status) { return static_cast<uint16_t>(-status); }
}  // namespace css

// What a call nobody implements answers: H_FUNCTION, RTAS -3, condition code 3.
int64_t not_supported_status(CallKind kind);

class ArchitectedCall : public tlm::tlm_extension<ArchitectedCall> {
public:
  CallKind kind = CallKind::PaprHypercall;
  uint64_t token = 0;            // hypercall opcode, RTAS token, or I/O instruction opcode
  std::vector<uint64_t> args;    // inputs, in architected order
  std::vector<uint64_t> rets;    // outputs, filled by the target
  int64_t status = 0;            // the architected return code, filled by the target

  ArchitectedCall() = default;
  ArchitectedCall(CallKind k, uint64_t t, std::vector<uint64_t> a = {})
      : kind(k), token(t), args(std::move(a)) {}

  tlm::tlm_extension_base* clone() const override { return new ArchitectedCall(*this); }
  void copy_from(const tlm::tlm_extension_base& other) override {
    *this = static_cast<const ArchitectedCall&>(other);
  }
};

// Sets `t` up to carry `call` (the caller owns `call`; clear it from `t` after
// the transport with t.clear_extension(&call)).
inline void prepare_call(tlm::tlm_generic_payload& t, ArchitectedCall& call) {
  prepare_access(t, tlm::TLM_IGNORE_COMMAND, 0, nullptr, 0);
  t.set_extension(&call);
}

// The call a target received, or nullptr after answering the transaction
// with TLM_COMMAND_ERROR_RESPONSE (no extension, or not a plain call).
ArchitectedCall* received_call(tlm::tlm_generic_payload& t);

// The call target a platform binds when nothing implements calls: every call
// is answered with its kind's "not supported" code, after `latency`
// (the platform's trap round trip), and counted by kind.
class UnsupportedCallTarget : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<UnsupportedCallTarget> socket;

  UnsupportedCallTarget(sc_core::sc_module_name name, StatGroup* parent_stats,
                        const sc_core::sc_time& latency = sc_core::SC_ZERO_TIME);
  uint64_t answered(CallKind kind) const {
    return static_cast<unsigned>(kind) < kCallKinds ? answered_[static_cast<unsigned>(kind)]->value() : 0;
  }
  uint64_t refused() const { return refused_.value(); }

private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);

  sc_core::sc_time latency_;
  StatGroup stats_;
  Counter* answered_[kCallKinds];
  Counter& refused_;
};

}  // namespace iommusim
