// SPDX-License-Identifier: Apache-2.0
// A NIC with TX and RX descriptor rings in host memory (issue 5), in the style
// of the e1000/ixgbe legacy rings. Its programming interface is ours (there is
// no architected NIC); it is documented here and in docs/models/endpoints.md,
// and a driver written from it alone works.
//
// BAR0 (64 KiB), little-endian 32-bit registers:
//   0x0000 CTRL     RW   bit0 EN: engines run; bit1 RST (self-clearing):
//                        heads, ICR and the descriptor caches to 0
//   0x0004 STATUS   RO   bit0 LU: link up (always 1)
//   0x0010 ICR      RW1C interrupt causes: bit0 TXDW (TX descriptor written
//                        back), bit1 RXDW (RX descriptor written back), bit2 RXO
//                        (packet dropped: no RX descriptor)
//   0x0014 IMS      RW   causes that raise an interrupt (same bits)
//   0x0018 ITR      RW   interrupt moderation: minimum interval between two
//                        MSI-X messages of a vector, in ns (0: none)
//   0x0100 TDBAL/0x0104 TDBAH  RW  TX ring base (16-byte aligned)
//   0x0108 TDLEN    RW   TX ring size in descriptors (power of two, 8..65536)
//   0x0110 TDH      RO   TX head: next descriptor the NIC processes
//   0x0118 TDT      RW   TX tail (doorbell): one past the last descriptor posted
//   0x0200 RDBAL/0x0204 RDBAH, 0x0208 RDLEN, 0x0210 RDH, 0x0218 RDT: the same for RX
//   0x0300 TXPKTS, 0x0304 RXPKTS, 0x0308 RXDROPS  RO  packet counters (wrap)
//   0x2000 MSI-X table (queue n: vector 2n TX, vector 2n+1 RX), 0x3000 PBA
// Queue pairs (`queues`, in the manner of ixgbe's per-queue RDBAL(n)..RDT(n)
// and TDBAL(n)..TDT(n) blocks): queue 0's registers are the ones above; queue
// n >= 1 has the same ten registers at QBLOCK + QSTRIDE * n + (offset - 0x100),
// i.e. TDBAL(n) = 0x4000 + 0x200n, ..., TDT(n) +0x018, RDBAL(n) +0x100, ...,
// RDT(n) +0x118. ICR, IMS and ITR are shared; each queue has its own vectors.
// The ring is empty when head == tail; the driver keeps one slot free.
//
// Descriptors (16 bytes, little-endian):
//   TX: 0x0 buffer address (u64), 0x8 length (u16), 0xA CMD (u8: bit0 EOP,
//       bit3 RS), 0xB STA (u8: bit0 DD, set by the NIC), 0xC reserved (u32)
//   RX: 0x0 buffer address (u64, written by the driver), 0x8 length (u16,
//       written by the NIC), 0xA STA (u8: bit0 DD, bit1 EOP), 0xB..0xF reserved
// Every RX buffer holds rx_buffer_size bytes (a packet larger is truncated and
// counted in rx_truncated).
//
// Flow (each step a timed DMA on the PCIe link through the IOMMU path):
//   TX: doorbell (TDT write) -> fetch up to fetch_batch descriptors in one
//       read -> read each buffer (requests pipelined) -> transmit at the line
//       rate -> write back the descriptor with DD (always; RS only decides the
//       interrupt) -> TDH advances -> TXDW, MSI-X vector 0 (moderated)
//   RX: a packet arrives from the wire (the built-in source: rx_rate_gbps,
//       rx_packet_size, rx_packets; frame i belongs to flow i mod rx_flows,
//       and flow f goes to queue RETA[f mod 128], the redirection table
//       filled round robin over the queues as Linux's ixgbe_setup_reta does;
//       the flow index stands for the Toeplitz hash) -> a descriptor from the
//       queue's prefetch cache
//       (refilled from the ring, up to fetch_batch, when empty) or a drop ->
//       write the packet into the buffer -> write back length and DD|EOP ->
//       RDH advances -> RXDW, the queue's RX vector (moderated)
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>
#include <systemc>
#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/timing.h"
#include "pci_endpoint/pcie_endpoint.h"

namespace iommusim {

namespace nicreg {
constexpr uint64_t CTRL = 0x0000, STATUS = 0x0004, ICR = 0x0010, IMS = 0x0014, ITR = 0x0018;
constexpr uint64_t TDBAL = 0x0100, TDBAH = 0x0104, TDLEN = 0x0108, TDH = 0x0110, TDT = 0x0118;
constexpr uint64_t RDBAL = 0x0200, RDBAH = 0x0204, RDLEN = 0x0208, RDH = 0x0210, RDT = 0x0218;
constexpr uint64_t TXPKTS = 0x0300, RXPKTS = 0x0304, RXDROPS = 0x0308;
constexpr uint32_t CTRL_EN = 1u << 0, CTRL_RST = 1u << 1;
constexpr uint32_t INT_TXDW = 1u << 0, INT_RXDW = 1u << 1, INT_RXO = 1u << 2;
constexpr uint8_t TXCMD_EOP = 1u << 0, TXCMD_RS = 1u << 3, STA_DD = 1u << 0, STA_EOP = 1u << 1;
constexpr unsigned VEC_TX = 0, VEC_RX = 1;
constexpr uint64_t BAR0_SIZE = 64 * 1024, MSIX_TABLE = 0x2000, MSIX_PBA = 0x3000, DESC_SIZE = 16;
constexpr uint64_t QBLOCK = 0x4000, QSTRIDE = 0x200;
constexpr unsigned MAX_QUEUES = 16, RETA_SIZE = 128;
// Queue n's copy of a queue register (TDBAL .. RDT, given by its queue 0 offset).
constexpr uint64_t queue_reg(unsigned n, uint64_t reg0) { return n == 0 ? reg0 : QBLOCK + QSTRIDE * n + (reg0 - TDBAL); }
constexpr unsigned tx_vector(unsigned n) { return 2 * n + VEC_TX; }
constexpr unsigned rx_vector(unsigned n) { return 2 * n + VEC_RX; }
}  // namespace nicreg

#define IOMMUSIM_NIC_PARAMS(P)                                                                                \
  P(double, line_rate_gbps, "line_rate_gbps", 40.0, in_range(0.001, 1e4), "Gb/s", "Ethernet line rate",        \
    "40GbE, the NIC class pcie-bench models")                                                                 \
  P(uint32_t, wire_overhead, "wire_overhead", 20, in_range(0, 64), "bytes",                                   \
    "per-frame wire overhead (preamble+SFD 8, IFG 12)",                                                       \
    "preamble and SFD 8 B + inter-frame gap 12 B (IEEE 802.3)")                                               \
  P(uint32_t, tx_fifo_bytes, "tx_fifo_bytes", 16384, in_range(0, 1u << 24), "bytes",                          \
    "TX FIFO: how far buffer reads may run ahead of the wire", "assumption")                                  \
  P(uint32_t, fetch_batch, "fetch_batch", 8, in_range(1, 256), "descriptors",                                 \
    "descriptors fetched per descriptor read",                                                                \
    "assumption (ixgbe, for one, prefetches descriptors in groups of 8)")                                     \
  P(uint32_t, rx_buffer_size, "rx_buffer_size", 2048, in_range(64, 65536), "bytes", "bytes per RX buffer",    \
    "the common 2 KiB driver receive buffer")                                                                 \
  P(double, itr_ns, "itr_ns", 0.0, in_range(0.0, 1e9), "ns",                                                  \
    "reset value of ITR: minimum interval between interrupts of a vector", "no moderation")                   \
  P(double, rx_rate_gbps, "rx_rate_gbps", 0.0, in_range(0.0, 1e4), "Gb/s",                                    \
    "built-in RX source: offered load (0: no RX traffic)", "no RX traffic")                                   \
  P(uint32_t, rx_packet_size, "rx_packet_size", 1500, in_range(60, 65536), "bytes",                           \
    "built-in RX source: frame size", "1500 B, the Ethernet MTU (IEEE 802.3)")                                \
  P(uint64_t, rx_packets, "rx_packets", 0, in_range(0, ~0ull), "frames",                                      \
    "built-in RX source: frames (0: unlimited)", "unlimited")                                                 \
  P(double, rx_start_ns, "rx_start_ns", 0.0, in_range(0.0, 1e15), "ns", "built-in RX source: first arrival",  \
    "at once")                                                                                                \
  P(uint32_t, queues, "queues", 1, in_range(1, nicreg::MAX_QUEUES), "",                                       \
    "queue pairs (TX and RX ring, two MSI-X vectors each)", "one queue pair, the legacy register set")         \
  P(uint32_t, rx_flows, "rx_flows", 64, in_range(1, 1u << 20), "flows",                                        \
    "built-in RX source: flows its frames belong to, round robin (RSS spreads flows over the queues)",       \
    "assumption: enough flows that every queue of the redirection table gets traffic")

struct NicParams {
  PcieEndpointParams ep;  // its keys come first
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_NIC_PARAMS)
  void declare(ParamList& p);
};

class Nic : public PcieEndpoint {
public:
  Nic(sc_core::sc_module_name name, const NicParams& params, StatGroup* parent_stats = nullptr,
      TraceWriter* trace = nullptr);

  uint64_t tx_packets() const { return tx_packets_.value(); }
  uint64_t rx_packets() const { return rx_packets_.value(); }
  uint64_t rx_drops() const { return rx_drops_.value(); }
  uint64_t interrupts() const { return msix_sent_.value(); }
  // The RX source has delivered (or dropped) all rx_packets.
  bool rx_done() const { return rx_done_; }
  const sc_core::sc_event& rx_done_event() const { return rx_done_event_; }

private:
  // One queue pair's registers, events and RX descriptor prefetch cache.
  struct Queue {
    Register *tdh = nullptr, *tdt = nullptr, *rdh = nullptr, *rdt = nullptr;
    sc_core::sc_event tx_doorbell, rx_doorbell;
    std::unique_ptr<DmaPort> tx_port;
    // RX descriptor prefetch cache: rx_cache_count descriptors from ring index rx_cache_first.
    std::vector<uint8_t> rx_cache;
    uint32_t rx_cache_first = 0, rx_cache_count = 0;
    std::unique_ptr<StatGroup> stats;  // q<n>
    Counter *rx_packets = nullptr, *rx_bytes = nullptr, *rx_drops = nullptr, *tx_packets = nullptr;
  };
  void add_queue_registers(unsigned n);
  void add_queue_stats(unsigned n);
  void start_engines();
  void on_mmio_write(uint64_t offset) override;
  void tx_thread(unsigned q);
  void rx_thread();
  unsigned rx_queue_of(uint64_t seq) const;
  // RX descriptors into the cache from the ring at local time *t (synced with
  // the kernel first, to see the driver's latest tail); false if the ring has
  // none for this frame (it is dropped: RXO).
  bool rx_fetch_descriptors(unsigned q, DmaPort& port, tlm_utils::tlm_quantumkeeper& qk, sc_core::sc_time* t);
  // Frame `seq`, arrived at `arrival`, written into the next cached
  // descriptor's buffer from local time t, and the descriptor written back.
  // Returns the write-back's result.
  DmaPort::Result rx_deliver(unsigned q, DmaPort& port, std::vector<uint8_t>& frame, uint64_t seq,
                             const sc_core::sc_time& arrival, sc_core::sc_time t);
  void irq_thread(unsigned vector);
  // Sets the ICR cause and raises the vector subject to IMS and moderation.
  void interrupt(DmaPort& port, unsigned vector, uint32_t cause, const sc_core::sc_time& at);
  uint64_t ring_base(unsigned q, bool tx) const;
  uint32_t ring_len(unsigned q, bool tx) const;

  NicParams np_;
  Register *ctrl_, *icr_, *ims_, *itr_, *txpkts_, *rxpkts_, *rxdrops_;
  std::deque<Queue> queues_;  // deque: events and registers stay in place
  BandwidthResource tx_line_;
  std::unique_ptr<DmaPort> rx_port_, irq_port_;
  std::vector<sc_core::sc_time> next_irq_;
  std::vector<bool> irq_scheduled_;
  std::vector<sc_core::sc_time> pending_at_;  // latest cause a deferred message covers
  std::deque<sc_core::sc_event> irq_event_;
  bool rx_done_ = false;
  sc_core::sc_event rx_done_event_;

  Counter& tx_packets_;
  Counter& tx_bytes_;
  Counter& tx_desc_fetches_;
  Counter& rx_packets_;
  Counter& rx_bytes_;
  Counter& rx_drops_;
  Counter& rx_truncated_;
  Counter& rx_desc_fetches_;
  Counter& dma_errors_;
  Histogram& tx_latency_;   // doorbell to descriptor write-back, ns
  Histogram& rx_latency_;   // arrival to descriptor write-back, ns
};

}  // namespace iommusim
