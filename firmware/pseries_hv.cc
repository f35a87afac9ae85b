// SPDX-License-Identifier: Apache-2.0
#include "firmware/pseries_hv.h"

#include <iterator>
#include <utility>

#include "firmware/papr_abi.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
// Every RTAS call the hypervisor implements, in token order.
const char* const kRtasCalls[] = {
    papr_abi::rtas_name::kQueryPeDmaWindow, papr_abi::rtas_name::kCreatePeDmaWindow,
    papr_abi::rtas_name::kRemovePeDmaWindow, papr_abi::rtas_name::kResetPeDmaWindow,
    papr_abi::rtas_name::kSetEehOption,      papr_abi::rtas_name::kReadSlotResetState2,
    papr_abi::rtas_name::kSetSlotReset,      papr_abi::rtas_name::kConfigurePe,
    papr_abi::rtas_name::kSlotErrorDetail,   papr_abi::rtas_name::kGetConfigAddrInfo2,
};
struct HcallName {
  uint64_t opcode;
  const char* name;   // its statistics
  const char* event;  // its trace slice: the LoPAPR name
};
const HcallName kHcalls[] = {{papr_abi::H_PUT_TCE, "put_tce", "H_PUT_TCE"},
                             {papr_abi::H_GET_TCE, "get_tce", "H_GET_TCE"},
                             {papr_abi::H_STUFF_TCE, "stuff_tce", "H_STUFF_TCE"},
                             {papr_abi::H_PUT_TCE_INDIRECT, "put_tce_indirect", "H_PUT_TCE_INDIRECT"}};

// Trace names and results: literals (the trace keeps pointers).
const char* call_event(const ArchitectedCall& c) {
  if (c.kind == CallKind::PaprHypercall) {
    for (const HcallName& h : kHcalls)
      if (h.opcode == c.token) return h.event;
    return "unknown hcall";
  }
  const uint64_t rtas_index = c.token - papr_abi::kRtasTokenBase;  // the constructor gives tokens in kRtasCalls order
  if (c.kind == CallKind::Rtas && c.token >= papr_abi::kRtasTokenBase && rtas_index < std::size(kRtasCalls))
    return kRtasCalls[rtas_index];
  return c.kind == CallKind::Rtas ? "unknown RTAS call" : call_kind_name(c.kind);
}

const char* call_result(const ArchitectedCall& c) {
  if (c.kind == CallKind::PaprHypercall) {
    switch (c.status) {
      case papr::H_SUCCESS: return "H_SUCCESS";
      case papr::H_PARAMETER: return "H_PARAMETER";
      case papr::H_HARDWARE: return "H_HARDWARE";
      default: return "H_FUNCTION";
    }
  }
  switch (c.status) {  // RTAS call status (LoPAPR, RTAS chapter; QEMU include/hw/ppc/spapr.h RTAS_OUT_*)
    case rtas::kSuccess: return "success";
    case rtas::kHardwareError: return "hardware error";
    case rtas::kBusy: return "busy";
    case rtas::kParameterError: return "parameter error or not supported";
    case rtas::kNoErrorsFound: return "no errors found";
    default: return "other status";
  }
}
}  // namespace

void DeviceTree::add(DeviceTreeDevice d) {
  by_name_.emplace(d.name, devices.size());
  devices.push_back(std::move(d));
}

const DeviceTreeDevice* DeviceTree::device(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &devices[it->second];
}

DeviceTreeDevice* DeviceTree::device(const std::string& name) {
  return const_cast<DeviceTreeDevice*>(std::as_const(*this).device(name));
}

PseriesHypervisor::PseriesHypervisor(sc_core::sc_module_name name, const HvParams& p, CpuPort& cpu,
                                     PageAllocator& alloc, const IovaRange& partition, StatGroup* parent)
    : sc_module(name),
      calls("calls"),
      p_(p),
      cpu_(cpu),
      alloc_(alloc),
      partition_(partition),
      ioas_({}),
      stats_(basename(), parent),
      hcalls_(stats_.subgroup("hcalls")),
      rtas_calls_(stats_.subgroup("rtas")),
      hcall_ok_(hcalls_.counter("h_success", "hypercalls answered H_SUCCESS")),
      hcall_parameter_(hcalls_.counter("h_parameter", "hypercalls answered H_PARAMETER")),
      hcall_hardware_(hcalls_.counter("h_hardware", "hypercalls answered H_HARDWARE")),
      hcall_function_(hcalls_.counter("h_function", "hypercalls answered H_FUNCTION (not implemented)")),
      rtas_errors_(rtas_calls_.counter("errors", "RTAS calls answered with a negative status")),
      tces_put_(stats_.counter("tces_put", "TCEs the guest put (mapped or cleared)")),
      guest_notices_(stats_.counter("eeh_guest_events", "EEH events passed to the guest")) {
  for (const HcallName& h : kHcalls) hcall_count_[h.opcode] = &hcalls_.counter(h.name, std::string(h.name) + " calls");
  uint32_t token = papr_abi::kRtasTokenBase;
  for (const char* name : kRtasCalls) {
    tree_.rtas_tokens[name] = token;
    rtas_names_[token] = name;
    std::string stat = std::string(name).substr(4);  // without "ibm,"
    for (char& c : stat)
      if (c == '-') c = '_';
    rtas_count_[token] = &rtas_calls_.counter(stat, std::string(name) + " calls");
    ++token;
  }
  ioas_.on_pe_error([this](const std::string& device, const PeErrorEvent& e) { guest_event(device, e); });
  calls.register_b_transport(this, &PseriesHypervisor::b_transport);
  SC_THREAD(bringup_thread);
  SC_THREAD(notify_thread);
}

PseriesHypervisor::~PseriesHypervisor() = default;

PhbDriver& PseriesHypervisor::add_phb(const PhbPlacement& where) {
  phbs_.push_back(std::make_unique<PhbDriver>("phb" + std::to_string(where.index), p_.phb, where, cpu_, alloc_, ioas_,
                                              lock_, &stats_));
  PhbDriver* d = phbs_.back().get();
  sc_core::sc_spawn([d] { d->error_thread(); }, sc_core::sc_gen_unique_name("phb_error"));
  return *d;
}

void PseriesHypervisor::add_device(const std::string& name, unsigned phb, uint16_t rid, uint16_t pe) {
  phbs_.at(phb)->add_device(name, rid, pe);
  DeviceTreeDevice d;
  d.name = name;
  d.buid = buid(phb);
  d.config_addr = papr_abi::config_addr(rid);
  d.rid = rid;
  tree_.add(std::move(d));
}

bool PseriesHypervisor::in_partition(uint64_t pa, uint64_t len) const {
  return len != 0 && pa + len - 1 >= pa && partition_.contains(pa, pa + len - 1);
}

// ---------------------------------------------------------------- bring-up

// Machine reset, before the partition runs: each PE's default window is built
// with its table cleared untimed (PhbDriver::set_machine_reset), as QEMU's
// spapr_phb_reset builds it with a zeroed table before the guest's first
// instruction; the bridges' registers are programmed through the CPU, timed.
// The guest's boot waits for ready_event(), which fires on success or failure.
void PseriesHypervisor::bringup_thread() {
  lock_.lock();
  for (size_t i = 0; i < phbs_.size() && error_.empty(); ++i) {
    error_ = phbs_[i]->bring_up();
    phbs_[i]->set_machine_reset(true);
    for (uint16_t pe : phbs_[i]->pes())
      if (error_.empty()) error_ = bring_up_pe(static_cast<unsigned>(i), pe);
    phbs_[i]->set_machine_reset(false);
  }
  cpu_.sync();
  lock_.unlock();
  ready_ = error_.empty();
  ready_ev_.notify(sc_core::SC_ZERO_TIME);
}

// The PE's IOAS, its devices in it (one IOMMU group per PE), and so its
// default domain; the device tree gets the default window.
std::string PseriesHypervisor::bring_up_pe(unsigned phb, uint16_t pe) {
  PhbDriver& d = *phbs_[phb];
  const uint32_t ioas = ioas_.ioas_alloc(IoasOptions{0, ~0ull});
  pe_ioas_[{phb, pe}] = ioas;
  const unsigned group = (phb << 16) | (pe + 1u);
  for (const std::string& name : d.devices(pe)) {
    std::string err = ioas_.register_device(name, Requester::pe(pe), group, &d);
    if (err.empty()) err = ioas_.attach(name, ioas);
    if (!err.empty()) return name + ": " + err;
  }
  DmaWindowQuery q;
  if (std::string err = ioas_.query_dma_windows(d.devices(pe).front(), &q); !err.empty()) return err;
  if (q.windows.empty()) return "";
  for (const std::string& name : d.devices(pe))
    if (DeviceTreeDevice* dev = tree_.device(name)) {
      dev->liobn = q.windows[0].liobn;
      dev->window_base = q.windows[0].range.start;
      dev->window_size = q.windows[0].range.last - q.windows[0].range.start + 1;
      dev->page_shift = q.windows[0].page_shift;
    }
  return "";
}

// ---------------------------------------------------------------- calls

void PseriesHypervisor::b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
  ArchitectedCall* call = received_call(t);
  if (!call) return;
  // The guest is in the hypervisor from its local time on: wait that out,
  // then the call's own time passes here.
  sc_core::wait(delay);
  delay = sc_core::SC_ZERO_TIME;
  lock_.lock();
  const double start_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  dispatch(*call);
  cpu_.sync();
  if (trace_.active()) {  // TCE hcalls take (LIOBN, ioba, tce or list, count): the I/O address and the count
    TraceArgs args = TraceArgs().result(call_result(*call));
    if (call->kind == CallKind::PaprHypercall && call->args.size() >= 2) args.iova(call->args[1]);
    if (call->kind == CallKind::PaprHypercall && call->args.size() >= 4) args.value(call->args[3]);
    trace_.slice(call_event(*call), start_ns, sc_core::sc_time_stamp().to_seconds() * 1e9 - start_ns, args);
  }
  lock_.unlock();
  t.set_response_status(tlm::TLM_OK_RESPONSE);
}

void PseriesHypervisor::set_trace(TraceWriter* writer) {
  trace_ = TraceScope::of(writer, "hv", "hv");
  ioas_.set_trace(TraceScope::of(writer, "hv.ioas", "hv"));
}

void PseriesHypervisor::dispatch(ArchitectedCall& call) {
  call.rets.clear();
  switch (call.kind) {
    case CallKind::PaprHypercall: call.status = hcall(call); break;
    case CallKind::Rtas: call.status = rtas(call); break;
    default: call.status = not_supported_status(call.kind); break;
  }
}

// ---------------------------------------------------------------- EEH events to the guest

void PseriesHypervisor::guest_event(const std::string& device, const PeErrorEvent& e) {
  for (unsigned i = 0; i < phbs_.size(); ++i) {
    PhbDriver& d = *phbs_[i];
    if (e.unit != d.backend_name()) continue;
    const uint16_t pe = static_cast<uint16_t>(e.pe.id);
    uint64_t& last = notified_serial_[{i, pe}];
    if (last == e.serial) return;  // the other devices of the PE: the same event
    last = e.serial;
    ++guest_notices_;
    const DeviceTreeDevice* dev = tree_.device(device);
    notices_.push_back({sc_core::sc_time_stamp() + cpu_.pending() + sc_time(p_.guest_notify_ns, SC_NS),
                        papr_abi::pe_config_addr(d.rids(pe).front()), dev ? dev->buid : buid(i)});
    notice_ev_.notify(sc_core::SC_ZERO_TIME);
    return;
  }
}

void PseriesHypervisor::notify_thread() {
  for (;;) {
    if (notices_.empty()) sc_core::wait(notice_ev_);
    if (notices_.empty()) continue;
    const Notice n = notices_.front();
    if (n.at > sc_core::sc_time_stamp()) {
      sc_core::wait(n.at - sc_core::sc_time_stamp());
      continue;
    }
    notices_.pop_front();
    if (guest_eeh_) guest_eeh_(n.pe_config_addr, n.buid);
  }
}

}  // namespace iommusim::fw
