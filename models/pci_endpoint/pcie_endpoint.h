// SPDX-License-Identifier: Apache-2.0
// Common base of the PCIe endpoints with a programming interface (NIC, SVM
// accelerator): a type-0 config space with its capabilities (pcie_config.h),
// a register map behind BAR0 with the MSI-X table and PBA in it, the PCIe link
// shared by every DMA and MMIO of the function, and MSI-X delivery as a memory
// write of the entry's data to its address (an MSI is a memory write, PCIe
// Base 6.1.4).
//
// Sockets:
//   dma     (initiator) upstream: DMA, ATS translation requests, PRI page
//                       requests, MSI-X writes; every request carries a
//                       DmaExtension with the function's requester id
//   cfg     (target)    configuration space; payload address = register offset
//                       (0..4095), 1/2/4-byte accesses
//   mmio    (target)    BAR0; payload address = offset within BAR0. A host
//                       access is timed over the link (a write: one MWr
//                       downstream; a read: MRd down, CplD up) plus
//                       mmio_latency_ns inside the device.
//   io      (target)    BAR2, an 8-byte I/O BAR (with io_bar; unbound
//                       otherwise): IOADDR at offset 0 holds a BAR0 register
//                       offset, IODATA at offset 4 reads or writes that
//                       register, 4-byte accesses only (the 8254x's
//                       I/O-mapped register access: Linux e1000_hw.c
//                       e1000_write_reg_io). Answers only while I/O Space
//                       Enable is set; timed as a non-posted request over the
//                       link (an I/O write is completed, PCIe Base 2.1.1.2).
// A function answers memory accesses (MMIO) only while Memory Space Enable is
// set and issues DMA only while Bus Master Enable is set; otherwise an access
// gets TLM_ADDRESS_ERROR_RESPONSE (Unsupported Request) and a DMA is not issued.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include "common/params.h"
#include "common/register_map.h"
#include "common/stats.h"
#include "common/trace.h"
#include "pci_endpoint/dma_port.h"
#include "pci_endpoint/pcie_config.h"
#include "pci_endpoint/pcie_link.h"

namespace iommusim {

#define IOMMUSIM_PCIE_ENDPOINT_PARAMS(P)                                                                   \
  IOMMUSIM_PCIE_REQUESTER_ID_PARAM(P)                                                                      \
  P(double, mmio_latency_ns, "mmio_latency_ns", 20.0, in_range(0.0, 1e6), "ns",                            \
    "register access latency inside the device", "assumption")                                             \
  P(bool, io_bar, "io_bar", false, boolean(), "",                                                           \
    "BAR2: an 8-byte I/O BAR with IOADDR/IODATA access to BAR0's registers",                               \
    "Intel 8254x: IOADDR at 0, IODATA at 4 of its I/O BAR (Linux e1000_hw.c); off: no I/O BAR")

struct PcieEndpointParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_PCIE_ENDPOINT_PARAMS)
  PcieConfigParams config;  // under config.
  PcieLinkParams link;      // under link.
  void declare(ParamList& p);
};

class PcieEndpoint : public sc_core::sc_module {
public:
  tlm_utils::simple_initiator_socket<PcieEndpoint> dma;
  tlm_utils::simple_target_socket<PcieEndpoint> cfg;
  tlm_utils::simple_target_socket<PcieEndpoint> mmio;
  tlm_utils::simple_target_socket_optional<PcieEndpoint> io;
  bool has_io_bar() const { return p_.io_bar; }

  PcieConfigSpace& config_space() { return config_; }
  RegisterMap& bar0() { return bar0_; }
  StatGroup& stats() { return stats_; }
  PcieLinkTiming& link() { return link_; }
  uint16_t requester_id() const { return static_cast<uint16_t>(p_.requester_id); }

  // MSI-X vector state (software-visible through the table in BAR0).
  bool msix_pending(unsigned vector) const;
  unsigned msix_vectors() const { return p_.config.msix_vectors; }

protected:
  // `bar0_size`: power of two; the MSI-X table/PBA (if any) are placed at
  // config.msix_table_offset / msix_pba_offset inside it.
  PcieEndpoint(sc_core::sc_module_name name, const PcieEndpointParams& params, uint64_t bar0_size,
               StatGroup* parent_stats, TraceWriter* trace);

  // Raise MSI-X `vector` at absolute time `at` from a device thread, through
  // `port`: a 4-byte write of the entry's Message Data to its Message Address,
  // unless MSI-X is disabled (dropped), or the function or vector is masked
  // (the PBA bit is set and the message goes out when unmasked). An MSI is a
  // posted memory write (PCIe Base 2.1.1): the function gets no completion
  // and carries on; a write the fabric refused (an interrupt remapping fault,
  // no target) is only counted, in msix_blocked. Returns the time the write
  // left the device.
  sc_core::sc_time raise_msix(DmaPort& port, unsigned vector, const sc_core::sc_time& at);

  // Hooks for the device.
  virtual void on_mmio_write(uint64_t /*offset*/) {}
  virtual void on_config_change() {}

  DmaExtension& stamp(DmaPort& port) {
    DmaExtension& e = port.attributes();
    e.requester_id = static_cast<uint16_t>(p_.requester_id);
    return e;
  }

  PcieEndpointParams p_;
  StatGroup stats_;
  TraceWriter* trace_;
  int trace_track_ = 0;
  PcieLinkTiming link_;
  PcieConfigSpace config_;
  RegisterMap bar0_;
  Counter& mmio_reads_;
  Counter& mmio_writes_;
  Counter& mmio_errors_;
  Counter& msix_sent_;
  Counter& msix_masked_;
  Counter& msix_blocked_;

private:
  void cfg_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void mmio_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void io_b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  tlm::tlm_response_status io_access(tlm::tlm_generic_payload& trans);
  uint32_t io_addr_ = 0;                // IOADDR: the BAR0 offset IODATA reaches
  Counter* io_accesses_ = nullptr;      // with io_bar only (the other endpoints' stats stay as they were)
  Counter* io_errors_ = nullptr;
  unsigned cfg_transport_dbg(tlm::tlm_generic_payload& trans);
  void msix_thread();
  void build_msix_table();

  std::vector<Register*> msix_ctrl_;   // Vector Control per vector
  std::vector<Register*> msix_addr_lo_, msix_addr_hi_, msix_data_;
  std::vector<Register*> pba_;         // 64 vectors per PBA qword
  sc_core::sc_event msix_unmasked_;
  std::unique_ptr<DmaPort> msix_port_; // for messages released by an unmask
};

}  // namespace iommusim
