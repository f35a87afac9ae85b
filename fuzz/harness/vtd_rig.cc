// SPDX-License-Identifier: Apache-2.0
#ifndef SC_INCLUDE_DYNAMIC_PROCESSES
#define SC_INCLUDE_DYNAMIC_PROCESSES  // sc_spawn
#endif
#include "fuzz/harness/vtd_rig.h"

#include <cstdio>
#include <cstdlib>

#include "common/tlm_access.h"
#include "iommu_vtd/vtd_regs.h"

namespace iommusim::fuzz {

using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

WriteLog::WriteLog(sc_core::sc_module_name name) : sc_module(name), in("in"), out("out") {
  in.register_b_transport(this, &WriteLog::b_transport);
  in.register_get_direct_mem_ptr(this, &WriteLog::get_dmi);
  in.register_transport_dbg(this, &WriteLog::dbg);
  out.register_invalidate_direct_mem_ptr(this, &WriteLog::invalidate);
}

void WriteLog::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  // What memory took: the address window a streaming burst touches (its
  // streaming width, IEEE 1666-2011 14.18), if memory answered OK.
  const uint64_t addr = t.get_address();
  const unsigned len = t.get_data_length(), width = t.get_streaming_width();
  out->b_transport(t, delay);
  if (t.is_write() && t.is_response_ok())
    (t.get_extension<DmaExtension>() ? data_ : own_).push_back({addr, width && width < len ? width : len, taken_++});
}

MessageSink::MessageSink(sc_core::sc_module_name name) : sc_module(name), in("in") {
  in.register_b_transport(this, &MessageSink::b_transport);
}

void MessageSink::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  ++received;
  delay += latency;
  t.set_response_status(status);
}

AcceptAll::AcceptAll(sc_core::sc_module_name name) : sc_module(name), socket("socket") {
  socket.register_b_transport(this, &AcceptAll::b_transport);
}

Host::Host(sc_core::sc_module_name name) : sc_module(name), dma("dma"), mmio("mmio") {
  dma.register_invalidate_direct_mem_ptr(this, &Host::invalidate);
}

namespace {

vtd::VtdParams rig_params(bool scalable) {
  vtd::VtdParams p;
  p.profile = scalable ? "scalable" : "broadwell";
  p.dmi = true;
  // Simulated time must last ~1e7 inputs: an ATS invalidation nobody answers
  // times out after 10 us here, not PCIe's minute.
  p.devtlb_timeout_ns = 10000;
  if (scalable) {
    p.xlate.sagaw = 0x2 | 0x4 | 0x8;  // 3-, 4- and 5-level second-level tables
    p.xlate.mgaw = 57;
  }
  return p;
}

MemoryParams rig_memory() {
  MemoryParams m;
  m.size = 1ull << 46;
  m.bandwidth_GBps = 0;  // unlimited: the harness measures nothing
  return m;
}

}  // namespace

VtdRig::VtdRig(bool scalable, const std::string& name) : params_(rig_params(scalable)), stats_(name) {
  mem_ = std::make_unique<Memory>((name + "_mem").c_str(), rig_memory(), &stats_);
  log_ = std::make_unique<WriteLog>((name + "_log").c_str());
  unit_ = std::make_unique<vtd::VtdUnit>((name + "_unit").c_str(), params_, &stats_);
  sink_ = std::make_unique<MessageSink>((name + "_ep").c_str());
  host_ = std::make_unique<Host>((name + "_host").c_str());
  host_->dma.bind(unit_->dma_in);
  host_->mmio.bind(unit_->mmio);
  unit_->mem_out.bind(log_->in);
  log_->out.bind(mem_->socket);
  unit_->devtlb_out.bind(sink_->in);
}

void VtdRig::reset() {
  unit_->reset();
  ram().clear();
  log_->clear();
  sink_->latency = sc_time(200, SC_NS);
  sink_->status = tlm::TLM_OK_RESPONSE;
}

void VtdRig::advance(const sc_time& t) { sc_core::sc_start(t); }

bool VtdRig::drain(const sc_time& limit) { return drain_simulation(limit); }

bool drain_simulation(const sc_time& limit) {
  const sc_time end = sc_core::sc_time_stamp() + limit;
  while (sc_core::sc_pending_activity() && sc_core::sc_time_stamp() < end) {
    const sc_time next = sc_core::sc_time_to_pending_activity();
    sc_core::sc_start(std::min(next == SC_ZERO_TIME ? sc_time(1, SC_NS) : next, end - sc_core::sc_time_stamp()));
  }
  return !sc_core::sc_pending_activity();
}

void require_idle(const std::string& what) {
  if (!drain_simulation(sc_time(1, sc_core::SC_MS))) finding(what + " was still busy 1 ms after the input");
}

void run_in_thread(const std::function<void()>& body, const sc_time& limit, const std::string& what) {
  bool done = false;
  sc_core::sc_spawn([&] {
    body();
    done = true;
  });
  const sc_time end = sc_core::sc_time_stamp() + limit;
  const sc_time step = std::max(limit / 10000, sc_time(1, SC_NS));
  while (!done && sc_core::sc_time_stamp() < end) sc_core::sc_start(step);
  if (!done) finding(what + " did not end within " + limit.to_string() + " of simulated time");
}

tlm::tlm_response_status VtdRig::mmio_access(tlm::tlm_command cmd, uint64_t offset, uint8_t* data, unsigned len,
                                             const uint8_t* byte_enables, unsigned be_len) {
  tlm::tlm_generic_payload t;
  prepare_access(t, cmd, offset, data, len);
  t.set_byte_enable_ptr(const_cast<uint8_t*>(byte_enables));
  t.set_byte_enable_length(byte_enables ? be_len : 0);
  sc_time d = SC_ZERO_TIME;
  host_->mmio->b_transport(t, d);
  return t.get_response_status();
}

uint64_t VtdRig::mmio_read(uint64_t offset, unsigned len) {
  uint8_t buf[8] = {};
  mmio_access(tlm::TLM_READ_COMMAND, offset, buf, len);
  uint64_t v = 0;
  for (int i = static_cast<int>(len) - 1; i >= 0; --i) v = v << 8 | buf[i];
  return v;
}

void VtdRig::mmio_write(uint64_t offset, uint64_t value, unsigned len) {
  uint8_t buf[8];
  for (unsigned i = 0; i < 8; ++i) buf[i] = static_cast<uint8_t>(value >> (8 * i));
  mmio_access(tlm::TLM_WRITE_COMMAND, offset, buf, len);
}

uint64_t VtdRig::peek_register(uint64_t offset, unsigned len) {
  uint8_t buf[8] = {};
  tlm::tlm_generic_payload t;
  prepare_access(t, tlm::TLM_READ_COMMAND, offset, buf, len);
  host_->mmio->transport_dbg(t);
  uint64_t v = 0;
  for (int i = static_cast<int>(len) - 1; i >= 0; --i) v = v << 8 | buf[i];
  return v;
}

tlm::tlm_response_status VtdRig::dma(Dma& d, uint8_t* data) {
  tlm::tlm_generic_payload t;
  prepare_access(t, d.command, d.addr, data, d.len);
  if (d.streaming_width) t.set_streaming_width(d.streaming_width);
  if (!d.byte_enables.empty()) {
    t.set_byte_enable_ptr(d.byte_enables.data());
    t.set_byte_enable_length(static_cast<unsigned>(d.byte_enables.size()));
  }
  t.set_extension(&d.ext);
  sc_time delay = SC_ZERO_TIME;
  host_->dma->b_transport(t, delay);
  t.clear_extension(&d.ext);
  if (t.get_address() != d.addr || t.get_data_length() != d.len || t.get_data_ptr() != data)
    finding("the unit did not put back the payload's address, length or data pointer");
  return t.get_response_status();
}

void VtdRig::page_request(const PcieMessage& m) {
  PcieMessage msg = m;
  tlm::tlm_generic_payload t;
  prepare_access(t, tlm::TLM_IGNORE_COMMAND, msg.address, nullptr, 0);
  t.set_extension(&msg);
  sc_time d = SC_ZERO_TIME;
  host_->dma->b_transport(t, d);
  t.clear_extension(&msg);
}

bool VtdRig::dmi(tlm::tlm_command cmd, uint64_t addr, const DmaExtension& ext, tlm::tlm_dmi& dmi) {
  DmaExtension e = ext;
  tlm::tlm_generic_payload t;
  t.set_command(cmd);
  t.set_address(addr);
  t.set_extension(&e);
  const bool ok = host_->dma->get_direct_mem_ptr(t, dmi);
  t.clear_extension(&e);
  return ok;
}

bool VtdRig::command(uint32_t set, uint32_t clear, uint32_t status_mask, uint32_t status_want, const sc_time& limit) {
  using namespace vtd;
  const uint32_t persistent = gsts::TES | gsts::QIES | gsts::IRES | gsts::CFIS;
  const uint32_t now = static_cast<uint32_t>(mmio_read(reg::GSTS, 4));
  mmio_write(reg::GCMD, ((now & persistent) | set) & ~clear, 4);
  const sc_time end = sc_core::sc_time_stamp() + limit;
  while ((mmio_read(reg::GSTS, 4) & status_mask) != status_want) {
    if (sc_core::sc_time_stamp() >= end) return false;
    advance(sc_time(4, SC_NS));
  }
  return true;
}

VtdRig& legacy_rig() {
  static VtdRig rig(false, "legacy");
  return rig;
}

VtdRig& scalable_rig() {
  static VtdRig rig(true, "scalable");
  return rig;
}

VtdRig& fresh_rig(bool scalable) {
  VtdRig& rig = scalable ? scalable_rig() : legacy_rig();
  rig.reset();
  return rig;
}

void init_systemc() {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  sc_core::sc_report_handler::set_actions(sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_report_handler::set_actions(sc_core::SC_WARNING, sc_core::SC_DO_NOTHING);
}

int init_rigs() {
  init_systemc();
  legacy_rig();
  scalable_rig();
  return 0;
}

int run_vtd_input(const uint8_t* bytes, size_t size, void (*body)(VtdRig&, FuzzedDataProvider&)) {
  FuzzedDataProvider in(bytes, size);
  VtdRig& rig = fresh_rig(in.ConsumeBool());
  body(rig, in);
  require_idle("the unit");
  return 0;
}

void finding(const std::string& what) {
  std::fprintf(stderr, "\n*** iommusim fuzz finding: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void write_context_tables(VtdRig& rig, uint16_t sid, uint16_t did, bool page_requests) {
  SparseMemory& m = rig.ram();
  m.write_le(kRootTable, kContextTable | 1, 8);
  if (!rig.params().scalable()) {
    m.write_le(kContextTable + 16 * (sid & 0xff), kSecondLevel | (1 << 2) | 1, 8);  // TT 01b, P
    m.write_le(kContextTable + 16 * (sid & 0xff) + 8, 2 | (uint64_t(did) << 8), 8);  // AW 48-bit, DID
    return;
  }
  const uint64_t pre = page_requests ? 1 << 4 : 0;
  m.write_le(kContextTable + 32 * (sid & 0x7f), kPasidDirectory | pre | (1 << 3) | (1 << 2) | 1, 8);  // PASIDE, DTE, P
  m.write_le(kPasidDirectory, kPasidTable | 1, 8);
  for (unsigned pasid : {0u, 1u}) {
    m.write_le(kPasidTable + 64 * pasid, kSecondLevel | (2u << 6) | (2u << 2) | 1, 8);  // PGTT 010b, AW, P
    m.write_le(kPasidTable + 64 * pasid + 8, did, 8);
  }
}

}  // namespace iommusim::fuzz
