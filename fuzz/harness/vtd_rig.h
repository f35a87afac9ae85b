// SPDX-License-Identifier: Apache-2.0
// The system every VT-d fuzz target drives: a VT-d unit (Broadwell legacy
// profile or the scalable profile) over memory, with a write log between them,
// a host that plays software (MMIO) and devices (DMA, page requests, DMI), and
// an endpoint that answers the unit's ATS invalidations and PRG responses.
//
// One process elaborates it once (sc_start cannot be undone); each fuzz input
// starts from reset() and drives it from the harness's own context: accesses
// are direct b_transport calls (the unit never waits inside one), and time
// moves only in advance(), through sc_start.
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/dma_extension.h"
#include "common/memory.h"
#include "common/pcie_messages.h"
#include "common/stats.h"
#include "iommu_vtd/vtd_unit.h"

namespace iommusim::fuzz {

// Everything the unit writes to memory passes here. A write that carries a
// DmaExtension is a device's DMA data forwarded by the unit; any other is the
// unit's own (walk A/D bits, QI status, page request queue, MSIs). Only what
// memory accepted is logged, as the address window it touched.
struct DataWrite {
  uint64_t addr;
  unsigned len;
  uint64_t order;  // its place among both lists' writes since the last clear()
};

class WriteLog : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<WriteLog> in;
  tlm_utils::simple_initiator_socket<WriteLog> out;

  explicit WriteLog(sc_core::sc_module_name name);
  // DMA data written since the last clear(), in order; and the unit's own writes.
  const std::vector<DataWrite>& data_writes() const { return data_; }
  const std::vector<DataWrite>& unit_writes() const { return own_; }
  void clear() {
    data_.clear();
    own_.clear();
    taken_ = 0;
  }

private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
  bool get_dmi(tlm::tlm_generic_payload& t, tlm::tlm_dmi& dmi) { return out->get_direct_mem_ptr(t, dmi); }
  unsigned dbg(tlm::tlm_generic_payload& t) { return out->transport_dbg(t); }
  void invalidate(sc_dt::uint64 s, sc_dt::uint64 e) { in->invalidate_direct_mem_ptr(s, e); }
  std::vector<DataWrite> data_, own_;
  uint64_t taken_ = 0;
};

// Answers every PCIe message the unit sends (ATS Invalidate Requests, PRG
// Responses) with `status` after `latency`, as the fuzz input sets them.
class MessageSink : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<MessageSink> in;
  sc_core::sc_time latency = sc_core::sc_time(200, sc_core::SC_NS);
  tlm::tlm_response_status status = tlm::TLM_OK_RESPONSE;
  uint64_t received = 0;

  explicit MessageSink(sc_core::sc_module_name name);

private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time& delay);
};

// The host's two initiators and the DMI revocations it receives.
class Host : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<Host> dma;
  tlm_utils::simple_initiator_socket<Host> mmio;
  uint64_t dmi_revocations = 0;

  explicit Host(sc_core::sc_module_name name);

private:
  void invalidate(sc_dt::uint64, sc_dt::uint64) { ++dmi_revocations; }
};

// Accepts every access (a bridge's outbound MMIO, a CPU's unused memory port).
class AcceptAll : public sc_core::sc_module {
public:
  tlm_utils::simple_target_socket<AcceptAll> socket;
  explicit AcceptAll(sc_core::sc_module_name name);

private:
  void b_transport(tlm::tlm_generic_payload& t, sc_core::sc_time&) { t.set_response_status(tlm::TLM_OK_RESPONSE); }
};

// One DMA as a device issues it.
struct Dma {
  tlm::tlm_command command = tlm::TLM_READ_COMMAND;
  uint64_t addr = 0;
  unsigned len = 4;
  unsigned streaming_width = 0;           // 0: the length
  std::vector<uint8_t> byte_enables;      // empty: none
  DmaExtension ext;
};

class VtdRig {
public:
  // `scalable`: the scalable profile (PASID, first level, nesting), else Broadwell's.
  explicit VtdRig(bool scalable, const std::string& name);
  VtdRig(const VtdRig&) = delete;
  VtdRig& operator=(const VtdRig&) = delete;

  // Hardware reset of the unit, memory cleared, logs cleared, the endpoint
  // back to answering at once. Time goes on (it cannot go back).
  void reset();
  // Lets simulated time pass.
  void advance(const sc_core::sc_time& t);
  // Runs until nothing is scheduled, at most `limit`; false if the unit is
  // still busy then (an engine that never stops is a finding).
  bool drain(const sc_core::sc_time& limit);

  uint64_t mmio_read(uint64_t offset, unsigned len);
  // An MMIO access of any size and byte enables; returns the TLM response.
  tlm::tlm_response_status mmio_access(tlm::tlm_command cmd, uint64_t offset, uint8_t* data, unsigned len,
                                       const uint8_t* byte_enables = nullptr, unsigned be_len = 0);
  void mmio_write(uint64_t offset, uint64_t value, unsigned len);
  // A debug read of a register (no side effect).
  uint64_t peek_register(uint64_t offset, unsigned len);

  // One DMA; `data` holds len bytes (written, or filled by a read).
  tlm::tlm_response_status dma(Dma& d, uint8_t* data);
  // A PRI page request.
  void page_request(const PcieMessage& m);
  // A DMI request; true and `dmi` filled if granted.
  bool dmi(tlm::tlm_command cmd, uint64_t addr, const DmaExtension& ext, tlm::tlm_dmi& dmi);

  SparseMemory& ram() { return mem_->storage(); }
  vtd::VtdUnit& unit() { return *unit_; }
  WriteLog& log() { return *log_; }
  MessageSink& endpoint() { return *sink_; }
  Host& host() { return *host_; }
  const vtd::VtdParams& params() const { return params_; }

  // Software's handshake: GCMD with the current state bits plus `set`, minus
  // `clear`; time passes until GSTS shows it or `limit` (false then).
  bool command(uint32_t set, uint32_t clear, uint32_t status_mask, uint32_t status_want,
               const sc_core::sc_time& limit = sc_core::sc_time(10, sc_core::SC_US));

private:
  vtd::VtdParams params_;
  StatGroup stats_;
  std::unique_ptr<Memory> mem_;
  std::unique_ptr<WriteLog> log_;
  std::unique_ptr<vtd::VtdUnit> unit_;
  std::unique_ptr<MessageSink> sink_;
  std::unique_ptr<Host> host_;
};

// Both profiles, elaborated once per process (on first use; both before the
// first sc_start: call init_rigs() from LLVMFuzzerInitialize).
VtdRig& legacy_rig();
VtdRig& scalable_rig();
// One of them, reset for the next input.
VtdRig& fresh_rig(bool scalable);

// Runs the simulation until nothing is scheduled, at most `limit`; false if
// something still is then.
bool drain_simulation(const sc_core::sc_time& limit);
// The end of an input: the model under test (`what`) must go idle within 1 ms.
void require_idle(const std::string& what);
// Runs `body` in a SystemC thread until it returns; a finding if it has not
// returned after `limit` of simulated time.
void run_in_thread(const std::function<void()>& body, const sc_core::sc_time& limit, const std::string& what);
// SystemC quiet: no banner, no info or warning reports.
void init_systemc();
// init_systemc(), then both rigs elaborated; 0 (LLVMFuzzerInitialize's answer).
int init_rigs();
// One input of a VT-d target: the rig of the profile the input's first byte
// picks, reset; `body` on it; then the unit must go idle within 1 ms. 0.
int run_vtd_input(const uint8_t* bytes, size_t size, void (*body)(VtdRig&, FuzzedDataProvider&));

// Where the VT-d targets keep their translation structures, page aligned.
constexpr uint64_t kRootTable = 0x100000, kContextTable = 0x101000, kPasidDirectory = 0x102000,
                   kPasidTable = 0x103000, kSecondLevel = 0x110000;

// Writes the structures that lead requester `sid` to the second-level table at
// kSecondLevel (AW 48-bit, domain `did`): legacy, root -> context (TT 01b,
// device TLB allowed); scalable, root -> scalable context (DTE, PASIDE; PRE if
// `page_requests`) -> PASID directory -> PASID 0 and 1 entries (second level
// only). VT-d 9.1, 9.3, 9.4, 9.5, 9.6; `sid`'s devfn must be below 128 in
// scalable mode (the lower context table).
void write_context_tables(VtdRig& rig, uint16_t sid, uint16_t did, bool page_requests);

// A finding: prints what broke, with the input's context, and aborts (libFuzzer
// saves the input as a crash).
[[noreturn]] void finding(const std::string& what);

}  // namespace iommusim::fuzz
