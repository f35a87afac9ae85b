// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "pci_endpoint/pcie_endpoint.h"

#include <algorithm>
#include <stdexcept>

#include "common/byte_order.h"
#include "common/params.h"

namespace iommusim {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

void PcieEndpointParams::declare(ParamList& p) {
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_PCIE_ENDPOINT_PARAMS, *this, p);
  ParamList c = p.scope("config");
  config.declare(c);
  ParamList l = p.scope("link");
  link.declare(l);
}

namespace {
PcieConfigParams with_bar0(PcieConfigParams c, uint64_t size) {
  c.bars[0].size = size;
  c.bars[0].is64 = true;
  c.bars[0].prefetchable = false;
  c.msix_bar = 0;
  return c;
}
PcieConfigParams with_io_bar(PcieConfigParams c, bool io_bar) {
  if (!io_bar) return c;
  c.bars[2].size = 8;
  c.bars[2].is64 = false;
  c.bars[2].io = true;
  return c;
}
}  // namespace

PcieEndpoint::PcieEndpoint(sc_core::sc_module_name name, const PcieEndpointParams& params, uint64_t bar0_size,
                           StatGroup* parent_stats, TraceWriter* trace)
    : sc_module(name),
      dma("dma"),
      cfg("cfg"),
      mmio("mmio"),
      io("io"),
      p_(params),
      stats_(basename(), parent_stats),
      trace_(trace),
      link_(params.link),
      config_(with_io_bar(with_bar0(params.config, bar0_size), params.io_bar), params.link),
      bar0_("bar0", bar0_size, Endian::Little, HolePolicy::ReadZeroWriteIgnore),
      mmio_reads_(stats_.counter("mmio_reads", "host reads of BAR0 registers")),
      mmio_writes_(stats_.counter("mmio_writes", "host writes of BAR0 registers (doorbells included)")),
      mmio_errors_(stats_.counter("mmio_errors", "BAR0 accesses refused (memory space disabled, bad size)")),
      msix_sent_(stats_.counter("msix_sent", "MSI-X messages written")),
      msix_masked_(stats_.counter("msix_masked", "MSI-X messages held pending by a mask")),
      msix_blocked_(stats_.counter("msix_blocked",
                                   "MSI-X writes refused upstream (blocked by interrupt remapping, or no target); "
                                   "posted: the function is not told")) {
  if (p_.link.enable) {
    std::string e = p_.link.validate();
    if (!e.empty()) throw std::invalid_argument(std::string(this->name()) + ": link." + e);
  }
  p_.config = with_io_bar(with_bar0(p_.config, bar0_size), p_.io_bar);
  if (p_.io_bar) {
    io.register_b_transport(this, &PcieEndpoint::io_b_transport);
    io_accesses_ = &stats_.counter("io_accesses", "host accesses of the I/O BAR (IOADDR and IODATA)");
    io_errors_ = &stats_.counter("io_errors", "I/O BAR accesses refused (I/O space disabled, bad offset or size)");
  }
  cfg.register_b_transport(this, &PcieEndpoint::cfg_b_transport);
  cfg.register_transport_dbg(this, &PcieEndpoint::cfg_transport_dbg);
  mmio.register_b_transport(this, &PcieEndpoint::mmio_b_transport);
  config_.on_link_change = [this](uint32_t mps, uint32_t mrrs, uint32_t rcb) { link_.set_sizes(mps, mrrs, rcb); };
  config_.on_enable_change = [this] {
    on_config_change();
    msix_unmasked_.notify(SC_ZERO_TIME);
  };
  if (trace_) trace_track_ = trace_->track(this->name());
  if (p_.config.msix_vectors) {
    build_msix_table();
    msix_port_ = std::make_unique<DmaPort>(dma, link_);
    stamp(*msix_port_);
    sc_core::sc_spawn_options o;
    sc_core::sc_spawn([this] { msix_thread(); }, sc_core::sc_gen_unique_name("msix"), &o);
  }
}

void PcieEndpoint::build_msix_table() {
  const unsigned n = p_.config.msix_vectors;
  const uint64_t t = p_.config.msix_table_offset, pba = p_.config.msix_pba_offset;
  if (t + n * pcicfg::MSIX_ENTRY_SIZE > bar0_.size() || pba + ((n + 63) / 64) * 8 > bar0_.size())
    throw std::invalid_argument(std::string(name()) + ": MSI-X table or PBA outside BAR0");
  auto unmask_hook = [this](Register&, uint64_t, uint64_t) { msix_unmasked_.notify(SC_ZERO_TIME); };
  for (unsigned v = 0; v < n; ++v) {
    const uint64_t e = t + v * pcicfg::MSIX_ENTRY_SIZE;
    const std::string s = std::to_string(v);
    msix_addr_lo_.push_back(&bar0_.add(RegisterDef{("MSIX_ADDR_LO_" + s).c_str(), e, 4, 0, 0xfffffffc, 0, false, 0}));
    msix_addr_hi_.push_back(&bar0_.add(RegisterDef{("MSIX_ADDR_HI_" + s).c_str(), e + 4, 4, 0, 0xffffffff, 0, false, 0}));
    msix_data_.push_back(&bar0_.add(RegisterDef{("MSIX_DATA_" + s).c_str(), e + 8, 4, 0, 0xffffffff, 0, false, 0}));
    Register& ctl = bar0_.add(RegisterDef{("MSIX_VCTRL_" + s).c_str(), e + 12, 4, 1, 1, 0, false, 0});
    ctl.on_write = unmask_hook;
    msix_ctrl_.push_back(&ctl);
  }
  for (unsigned q = 0; q < (n + 63) / 64; ++q)
    pba_.push_back(&bar0_.add(RegisterDef{("MSIX_PBA_" + std::to_string(q)).c_str(), pba + 8 * q, 8, 0, 0, 0, false, 0}));
}

bool PcieEndpoint::msix_pending(unsigned vector) const {
  if (vector >= pba_.size() * 64) return false;
  return (pba_[vector / 64]->value() >> (vector % 64)) & 1;
}

sc_time PcieEndpoint::raise_msix(DmaPort& port, unsigned vector, const sc_time& at) {
  if (vector >= p_.config.msix_vectors || !config_.msix_enabled() || !config_.bus_master()) return at;
  if (config_.msix_function_masked() || (msix_ctrl_[vector]->value() & 1)) {
    pba_[vector / 64]->set_bits(1ull << (vector % 64));
    ++msix_masked_;
    return at;
  }
  const uint64_t addr = (msix_addr_hi_[vector]->value() << 32) | msix_addr_lo_[vector]->value();
  const uint32_t data = static_cast<uint32_t>(msix_data_[vector]->value());
  uint8_t buf[4] = {static_cast<uint8_t>(data), static_cast<uint8_t>(data >> 8), static_cast<uint8_t>(data >> 16),
                    static_cast<uint8_t>(data >> 24)};
  // An interrupt message carries no PASID and is untranslated.
  DmaExtension& e = port.attributes();
  const DmaExtension saved = e;
  e.has_pasid = false;
  e.address_type = AddressType::Untranslated;
  e.requester_id = static_cast<uint16_t>(p_.requester_id);
  DmaPort::Result r = port.write(addr, buf, 4, at);
  e = saved;
  ++msix_sent_;
  if (!r.ok) ++msix_blocked_;
  if (trace_ && trace_->enabled())
    trace_->instant(trace_track_, "msix", "irq", r.done.to_seconds() * 1e9, TraceArgs().value(vector));
  return r.done;
}

void PcieEndpoint::msix_thread() {
  for (;;) {
    sc_core::wait(msix_unmasked_);
    if (!config_.msix_enabled() || config_.msix_function_masked()) continue;
    for (unsigned v = 0; v < p_.config.msix_vectors; ++v) {
      if (!msix_pending(v) || (msix_ctrl_[v]->value() & 1)) continue;
      pba_[v / 64]->clear_bits(1ull << (v % 64));
      raise_msix(*msix_port_, v, sc_core::sc_time_stamp());
    }
  }
}

void PcieEndpoint::cfg_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  config_.transport(trans);
  // Configuration requests are non-posted: request down, completion up.
  if (link_.enabled()) {
    const sc_time t = sc_core::sc_time_stamp() + delay;
    const PcieLinkModel& m = link_.model();
    const uint32_t len = trans.get_data_length();
    const bool wr = trans.is_write();
    sc_time arrive = link_.send_down(t, m.wire_bytes(TlpKind::MemWrite, wr ? len : 0) - (m.params().addr64 ? 4 : 0));
    sc_time done = link_.serialize_up(arrive, m.wire_bytes(TlpKind::Completion, wr ? 0 : len)) + link_.latency();
    delay = done - sc_core::sc_time_stamp();
  }
}

unsigned PcieEndpoint::cfg_transport_dbg(tlm::tlm_generic_payload& trans) {
  config_.transport(trans);
  return trans.is_response_ok() ? trans.get_data_length() : 0;
}

void PcieEndpoint::mmio_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  const bool wr = trans.is_write();
  const uint32_t len = trans.get_data_length();
  sc_time t = sc_core::sc_time_stamp() + delay;
  const PcieLinkModel& m = link_.model();
  if (link_.enabled()) t = link_.send_down(t, m.wire_bytes(wr ? TlpKind::MemWrite : TlpKind::MemRead, len));
  t += sc_time(p_.mmio_latency_ns, sc_core::SC_NS);
  if (!config_.memory_enabled()) {
    ++mmio_errors_;
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);  // Unsupported Request
  } else {
    register_map_transport(bar0_, trans);
    if (!trans.is_response_ok()) ++mmio_errors_;
    else if (wr) ++mmio_writes_;
    else if (trans.is_read()) ++mmio_reads_;
  }
  if (link_.enabled() && !wr) t = link_.serialize_up(t, m.wire_bytes(TlpKind::Completion, len)) + link_.latency();
  delay = t - sc_core::sc_time_stamp();
  if (wr && trans.is_response_ok()) on_mmio_write(trans.get_address());
}

// IOADDR (offset 0) selects a BAR0 register, IODATA (offset 4) is that
// register; both DWORD-only. Refused (Unsupported Request) while I/O Space
// Enable is clear.
tlm::tlm_response_status PcieEndpoint::io_access(tlm::tlm_generic_payload& trans) {
  const uint64_t off = trans.get_address();
  if (!config_.io_enabled() || trans.get_data_length() != 4 || (off != 0 && off != 4) || trans.get_byte_enable_ptr())
    return tlm::TLM_ADDRESS_ERROR_RESPONSE;
  uint8_t* data = trans.get_data_ptr();
  if (off == 0) {
    if (trans.is_write()) io_addr_ = load_le32(data) & static_cast<uint32_t>((bar0_.size() - 1) & ~3ull);
    else store_le32(data, io_addr_);
    return tlm::TLM_OK_RESPONSE;
  }
  trans.set_address(io_addr_);
  register_map_transport(bar0_, trans);
  trans.set_address(off);
  if (trans.is_response_ok() && trans.is_write()) on_mmio_write(io_addr_);
  return trans.get_response_status();
}

void PcieEndpoint::io_b_transport(tlm::tlm_generic_payload& trans, sc_time& delay) {
  const uint32_t len = trans.get_data_length();
  sc_time t = sc_core::sc_time_stamp() + delay;
  const PcieLinkModel& m = link_.model();
  const bool wr = trans.is_write();
  if (link_.enabled()) t = link_.send_down(t, m.wire_bytes(wr ? TlpKind::MemWrite : TlpKind::MemRead, len));
  t += sc_time(p_.mmio_latency_ns, sc_core::SC_NS);
  ++*io_accesses_;
  const tlm::tlm_response_status st = io_access(trans);
  trans.set_response_status(st);
  if (st != tlm::TLM_OK_RESPONSE) ++*io_errors_;
  if (link_.enabled()) t = link_.serialize_up(t, m.wire_bytes(TlpKind::Completion, wr ? 0 : len)) + link_.latency();
  delay = t - sc_core::sc_time_stamp();
}

}  // namespace iommusim
