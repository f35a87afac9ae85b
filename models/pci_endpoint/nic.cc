// SPDX-License-Identifier: Apache-2.0
#define SC_INCLUDE_DYNAMIC_PROCESSES
#include "pci_endpoint/nic.h"

#include <algorithm>
#include <cstring>

#include <tlm_utils/tlm_quantumkeeper.h>

#include "common/byte_order.h"
#include "common/params.h"

namespace iommusim {

using namespace nicreg;
using sc_core::sc_time;
using sc_core::SC_NS;
using sc_core::SC_ZERO_TIME;

namespace {
double ns_of(const sc_time& t) { return t.to_seconds() * 1e9; }
RegisterDef reg(const char* n, uint64_t off, uint64_t reset, uint64_t rw, uint64_t w1c = 0) {
  return RegisterDef{n, off, 4, reset, rw, w1c, false, 0};
}
// Waits until simulated time reaches `t` (device threads keep their local
// time in step with the kernel at each step that depends on host state).
void catch_up(const sc_time& t) {
  if (t > sc_core::sc_time_stamp()) sc_core::wait(t - sc_core::sc_time_stamp());
}
}  // namespace

void NicParams::declare(ParamList& p) {
  ep.declare(p);
  IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_NIC_PARAMS, *this, p);
}

namespace {
PcieEndpointParams nic_ep(PcieEndpointParams ep, uint32_t queues) {
  ep.config.msix_vectors = 2 * queues;
  ep.config.msix_table_offset = MSIX_TABLE;
  ep.config.msix_pba_offset = MSIX_PBA;
  if (ep.config.class_code == PcieConfigParams().class_code) ep.config.class_code = 0x020000;  // Ethernet controller
  return ep;
}
}  // namespace

Nic::Nic(sc_core::sc_module_name name, const NicParams& params, StatGroup* parent_stats, TraceWriter* trace)
    : PcieEndpoint(name, nic_ep(params.ep, params.queues), BAR0_SIZE, parent_stats, trace),
      np_(params),
      tx_line_(params.line_rate_gbps / 8.0),
      tx_packets_(stats_.counter("tx_packets", "frames transmitted")),
      tx_bytes_(stats_.counter("tx_bytes", "bytes transmitted", "bytes")),
      tx_desc_fetches_(stats_.counter("tx_desc_fetches", "TX descriptor fetch DMAs")),
      rx_packets_(stats_.counter("rx_packets", "frames received into host buffers")),
      rx_bytes_(stats_.counter("rx_bytes", "bytes written into RX buffers", "bytes")),
      rx_drops_(stats_.counter("rx_drops", "frames dropped for lack of an RX descriptor")),
      rx_truncated_(stats_.counter("rx_truncated", "frames larger than an RX buffer")),
      rx_desc_fetches_(stats_.counter("rx_desc_fetches", "RX descriptor fetch DMAs")),
      dma_errors_(stats_.counter("dma_errors", "DMAs answered with an error")),
      tx_latency_(stats_.histogram("tx_latency", "TX: descriptor fetch start to write-back", "ns")),
      rx_latency_(stats_.histogram("rx_latency", "RX: frame arrival to descriptor write-back", "ns")) {
  const unsigned nq = np_.queues, nv = 2 * nq;
  for (unsigned n = 0; n < nq; ++n) queues_.emplace_back();
  ctrl_ = &bar0_.add(reg("CTRL", CTRL, 0, CTRL_EN | CTRL_RST));
  bar0_.add(reg("STATUS", STATUS, 1, 0));
  icr_ = &bar0_.add(reg("ICR", ICR, 0, 0, INT_TXDW | INT_RXDW | INT_RXO));
  ims_ = &bar0_.add(reg("IMS", IMS, 0, INT_TXDW | INT_RXDW | INT_RXO));
  itr_ = &bar0_.add(reg("ITR", ITR, static_cast<uint64_t>(params.itr_ns), 0xffffffff));
  add_queue_registers(0);
  txpkts_ = &bar0_.add(reg("TXPKTS", TXPKTS, 0, 0));
  rxpkts_ = &bar0_.add(reg("RXPKTS", RXPKTS, 0, 0));
  rxdrops_ = &bar0_.add(reg("RXDROPS", RXDROPS, 0, 0));
  for (unsigned n = 1; n < nq; ++n) add_queue_registers(n);
  for (unsigned n = 0; n < nq; ++n) add_queue_stats(n);
  ctrl_->on_write = [this](Register& r, uint64_t, uint64_t) {
    if (r.value() & CTRL_RST) {
      r.clear_bits(CTRL_RST);
      for (Queue& q : queues_) {
        q.tdh->set(0);
        q.rdh->set(0);
        q.rx_cache_count = 0;
      }
      icr_->set(0);
    }
  };

  next_irq_.assign(nv, SC_ZERO_TIME);
  irq_scheduled_.assign(nv, false);
  pending_at_.assign(nv, SC_ZERO_TIME);
  for (unsigned v = 0; v < nv; ++v) irq_event_.emplace_back();
  for (Queue& q : queues_) q.rx_cache.assign(static_cast<size_t>(np_.fetch_batch) * DESC_SIZE, 0);
  start_engines();
  rx_done_ = np_.rx_rate_gbps <= 0.0;
}

// DMA ports and threads, created and spawned in the order of the one-queue
// NIC (its behaviour stays the same), the other queues' after.
void Nic::start_engines() {
  const unsigned nq = np_.queues;
  queues_[0].tx_port = std::make_unique<DmaPort>(dma, link_);
  rx_port_ = std::make_unique<DmaPort>(dma, link_);
  irq_port_ = std::make_unique<DmaPort>(dma, link_);
  for (unsigned n = 1; n < nq; ++n) queues_[n].tx_port = std::make_unique<DmaPort>(dma, link_);
  stamp(*queues_[0].tx_port);
  stamp(*rx_port_);
  stamp(*irq_port_);
  for (unsigned n = 1; n < nq; ++n) stamp(*queues_[n].tx_port);
  sc_core::sc_spawn_options o;
  sc_core::sc_spawn([this] { tx_thread(0); }, sc_core::sc_gen_unique_name("tx"), &o);
  sc_core::sc_spawn([this] { rx_thread(); }, sc_core::sc_gen_unique_name("rx"), &o);
  for (unsigned v = 0; v < 2; ++v)
    sc_core::sc_spawn([this, v] { irq_thread(v); }, sc_core::sc_gen_unique_name("irq"), &o);
  for (unsigned n = 1; n < nq; ++n) {
    sc_core::sc_spawn([this, n] { tx_thread(n); }, sc_core::sc_gen_unique_name("tx"), &o);
    for (unsigned v : {tx_vector(n), rx_vector(n)})
      sc_core::sc_spawn([this, v] { irq_thread(v); }, sc_core::sc_gen_unique_name("irq"), &o);
  }
}

// Queue n's ten ring registers; queue 0's names are the legacy ones, the
// others carry "(n)" as ixgbe's datasheet names them.
void Nic::add_queue_registers(unsigned n) {
  Queue& q = queues_[n];
  const std::string suffix = n == 0 ? "" : "(" + std::to_string(n) + ")";
  auto add = [&](const char* name, uint64_t reg0, uint64_t rw) -> Register& {
    const std::string full = name + suffix;  // the map copies the name
    return bar0_.add(reg(full.c_str(), queue_reg(n, reg0), 0, rw));
  };
  add("TDBAL", TDBAL, 0xfffffff0);
  add("TDBAH", TDBAH, 0xffffffff);
  add("TDLEN", TDLEN, 0x1ffff);
  q.tdh = &add("TDH", TDH, 0);
  q.tdt = &add("TDT", TDT, 0xffff);
  add("RDBAL", RDBAL, 0xfffffff0);
  add("RDBAH", RDBAH, 0xffffffff);
  add("RDLEN", RDLEN, 0x1ffff);
  q.rdh = &add("RDH", RDH, 0);
  q.rdt = &add("RDT", RDT, 0xffff);
}

void Nic::add_queue_stats(unsigned n) {
  Queue& q = queues_[n];
  q.stats = std::make_unique<StatGroup>("q" + std::to_string(n), &stats_);
  q.rx_packets = &q.stats->counter("rx_packets", "frames received into this queue's buffers");
  q.rx_bytes = &q.stats->counter("rx_bytes", "bytes written into this queue's RX buffers", "bytes");
  q.rx_drops = &q.stats->counter("rx_drops", "frames for this queue dropped for lack of an RX descriptor");
  q.tx_packets = &q.stats->counter("tx_packets", "frames transmitted from this queue's ring");
}

void Nic::on_mmio_write(uint64_t offset) {
  if (offset == CTRL) {
    for (Queue& q : queues_) {
      q.tx_doorbell.notify(SC_ZERO_TIME);
      q.rx_doorbell.notify(SC_ZERO_TIME);
    }
    return;
  }
  for (unsigned n = 0; n < queues_.size(); ++n) {
    if (offset == queue_reg(n, TDT)) queues_[n].tx_doorbell.notify(SC_ZERO_TIME);
    else if (offset == queue_reg(n, RDT)) queues_[n].rx_doorbell.notify(SC_ZERO_TIME);
  }
}

uint64_t Nic::ring_base(unsigned q, bool tx) const {
  const uint64_t lo = bar0_.find(queue_reg(q, tx ? TDBAL : RDBAL))->value();
  const uint64_t hi = bar0_.find(queue_reg(q, tx ? TDBAH : RDBAH))->value();
  return (hi << 32) | (lo & ~0xfull);
}

uint32_t Nic::ring_len(unsigned q, bool tx) const {
  const uint32_t n = static_cast<uint32_t>(bar0_.find(queue_reg(q, tx ? TDLEN : RDLEN))->value());
  return (n >= 8 && n <= 65536 && !(n & (n - 1))) ? n : 0;  // invalid sizes stop the engine
}

// RSS as ixgbe sets it up: the redirection table's entry i names queue
// i mod queues (ixgbe_setup_reta); a frame's flow index stands for its hash.
unsigned Nic::rx_queue_of(uint64_t seq) const {
  const uint64_t flow = seq % np_.rx_flows;
  return static_cast<unsigned>((flow % RETA_SIZE) % np_.queues);
}

void Nic::interrupt(DmaPort& port, unsigned v, uint32_t cause, const sc_time& at) {
  icr_->set_bits(cause);
  if (!(ims_->value() & cause)) return;
  if (irq_scheduled_[v]) {  // a deferred message covers this cause too
    pending_at_[v] = std::max(pending_at_[v], at);
    return;
  }
  if (at >= next_irq_[v]) {
    const sc_time itr(static_cast<double>(itr_->value()), SC_NS);
    raise_msix(port, v, at);
    next_irq_[v] = at + itr;
    return;
  }
  // Too soon after the last message: one deferred message at the end of the interval.
  irq_scheduled_[v] = true;
  pending_at_[v] = at;
  const sc_time now = sc_core::sc_time_stamp();
  irq_event_[v].notify(next_irq_[v] > now ? next_irq_[v] - now : SC_ZERO_TIME);
}

void Nic::irq_thread(unsigned v) {
  for (;;) {
    sc_core::wait(irq_event_[v]);
    // Not before the latest cause it covers (device threads run ahead in time).
    if (pending_at_[v] > sc_core::sc_time_stamp()) sc_core::wait(pending_at_[v] - sc_core::sc_time_stamp());
    irq_scheduled_[v] = false;
    const sc_time now = sc_core::sc_time_stamp();
    const sc_time itr(static_cast<double>(itr_->value()), SC_NS);
    raise_msix(*irq_port_, v, now);
    next_irq_[v] = now + itr;
  }
}

void Nic::tx_thread(unsigned qn) {
  std::vector<uint8_t> desc(static_cast<size_t>(np_.fetch_batch) * DESC_SIZE);
  std::vector<uint8_t> pkt(65536);
  std::vector<sc_time> ready(np_.fetch_batch);
  Queue& q = queues_[qn];
  DmaPort& port = *q.tx_port;
  for (;;) {
    const uint32_t len = ring_len(qn, true);
    const uint32_t head = static_cast<uint32_t>(q.tdh->value()), tail = static_cast<uint32_t>(q.tdt->value());
    if (!(ctrl_->value() & CTRL_EN) || !config_.bus_master() || len == 0 || head == tail || tail >= len) {
      sc_core::wait(q.tx_doorbell);
      continue;
    }
    const sc_time t0 = sc_core::sc_time_stamp();
    const uint32_t avail = (tail + len - head) % len;
    const uint32_t n = std::min({avail, np_.fetch_batch, len - head});
    const uint64_t base = ring_base(qn, true);
    ++tx_desc_fetches_;
    DmaPort::Result f = port.read(base + head * DESC_SIZE, desc.data(), n * static_cast<uint32_t>(DESC_SIZE), t0);
    if (!f.ok) ++dma_errors_;
    // Buffer reads, pipelined: each request goes out when the previous one is sent.
    sc_time issue = f.done, end = f.done;
    for (uint32_t i = 0; i < n; ++i) {
      uint8_t* d = &desc[i * DESC_SIZE];
      const uint64_t addr = load_le64(d);
      const uint32_t blen = std::min<uint32_t>(static_cast<uint16_t>(load_le(d + 8, 2)), static_cast<uint32_t>(pkt.size()));
      DmaPort::Result b = port.read(addr, pkt.data(), blen, issue);
      if (!b.ok) ++dma_errors_;
      // On the wire at the line rate once the data is in. The TX FIFO holds
      // tx_fifo_bytes: the next buffer read waits until the wire drains to that.
      const sc_time wire_end = tx_line_.reserve(b.done, blen + np_.wire_overhead);
      const sc_time fifo(np_.tx_fifo_bytes * 8.0 / np_.line_rate_gbps, SC_NS);
      issue = std::max(b.sent, wire_end > fifo ? wire_end - fifo : SC_ZERO_TIME);
      // Write back the descriptor with DD.
      d[11] |= STA_DD;
      DmaPort::Result w = port.write(base + (head + i) * DESC_SIZE, d, static_cast<uint32_t>(DESC_SIZE), b.done);
      if (!w.ok) ++dma_errors_;
      ready[i] = w.done;
      end = std::max(end, w.done);
      ++tx_packets_;
      ++*q.tx_packets;
      tx_bytes_ += blen;
      txpkts_->set(txpkts_->value() + 1);
      tx_latency_.sample(ns_of(w.done - t0));
      if (trace_ && trace_->enabled())
        trace_->complete(trace_track_, "tx", "nic", ns_of(t0), ns_of(w.done - t0), TraceArgs().iova(addr).size(blen));
    }
    catch_up(end);
    q.tdh->set((head + n) % len);
    bool rs = false;
    for (uint32_t i = 0; i < n; ++i) rs |= desc[i * DESC_SIZE + 10] & TXCMD_RS;
    if (rs) interrupt(port, tx_vector(qn), INT_TXDW, sc_core::sc_time_stamp());
  }
}

void Nic::rx_thread() {
  if (np_.rx_rate_gbps <= 0.0) return;
  DmaPort& port = *rx_port_;
  std::vector<uint8_t> frame(np_.rx_packet_size);
  const sc_time gap((np_.rx_packet_size + np_.wire_overhead) * 8.0 / np_.rx_rate_gbps, SC_NS);
  sc_time arrival(np_.rx_start_ns, SC_NS);
  tlm_utils::tlm_quantumkeeper qk;
  qk.reset();
  sc_time busy_until = SC_ZERO_TIME;  // the RX DMA engine handles one frame at a time
  for (uint64_t seq = 0; np_.rx_packets == 0 || seq < np_.rx_packets; ++seq, arrival += gap) {
    const sc_time now = sc_core::sc_time_stamp() + qk.get_local_time();
    sc_time t = std::max({arrival, now, busy_until});
    const unsigned qn = rx_queue_of(seq);
    if (queues_[qn].rx_cache_count == 0 && !rx_fetch_descriptors(qn, port, qk, &t)) continue;
    const DmaPort::Result wb = rx_deliver(qn, port, frame, seq, arrival, t);
    busy_until = wb.sent;
    qk.set(wb.done > sc_core::sc_time_stamp() ? wb.done - sc_core::sc_time_stamp() : SC_ZERO_TIME);
    if (qk.need_sync()) qk.sync();
  }
  qk.sync();
  rx_done_ = true;
  rx_done_event_.notify(SC_ZERO_TIME);
}

bool Nic::rx_fetch_descriptors(unsigned qn, DmaPort& port, tlm_utils::tlm_quantumkeeper& qk, sc_time* t) {
  qk.set(*t - sc_core::sc_time_stamp());
  qk.sync();
  *t = sc_core::sc_time_stamp();
  Queue& q = queues_[qn];
  const uint32_t len = ring_len(qn, false);
  const uint32_t head = static_cast<uint32_t>(q.rdh->value()), tail = static_cast<uint32_t>(q.rdt->value());
  const bool usable = (ctrl_->value() & CTRL_EN) && config_.bus_master() && len && tail < len;
  const uint32_t avail = usable ? (tail + len - head) % len : 0;
  if (avail == 0) {
    ++rx_drops_;
    ++*q.rx_drops;
    rxdrops_->set(rxdrops_->value() + 1);
    interrupt(port, rx_vector(qn), INT_RXO, *t);
    return false;
  }
  const uint32_t n = std::min({avail, np_.fetch_batch, len - head});
  ++rx_desc_fetches_;
  DmaPort::Result f = port.read(ring_base(qn, false) + head * DESC_SIZE, q.rx_cache.data(),
                                n * static_cast<uint32_t>(DESC_SIZE), *t);
  if (!f.ok) ++dma_errors_;
  q.rx_cache_first = head;
  q.rx_cache_count = n;
  *t = f.done;
  return true;
}

DmaPort::Result Nic::rx_deliver(unsigned qn, DmaPort& port, std::vector<uint8_t>& frame, uint64_t seq,
                                const sc_time& arrival, sc_time t) {
  Queue& q = queues_[qn];
  const uint32_t len = ring_len(qn, false);
  const uint32_t idx = static_cast<uint32_t>(q.rdh->value());
  uint8_t* desc = &q.rx_cache[((idx + len - q.rx_cache_first) % len) * DESC_SIZE];
  const uint64_t buf = load_le64(desc);
  uint32_t flen = np_.rx_packet_size;
  if (flen > np_.rx_buffer_size) {
    flen = np_.rx_buffer_size;
    ++rx_truncated_;
  }
  std::fill(frame.begin(), frame.begin() + flen, static_cast<uint8_t>(seq));
  DmaPort::Result w = port.write(buf, frame.data(), flen, t);
  if (!w.ok) ++dma_errors_;
  // Write back length and DD|EOP (posted, ordered after the data).
  desc[8] = static_cast<uint8_t>(flen);
  desc[9] = static_cast<uint8_t>(flen >> 8);
  desc[10] = STA_DD | STA_EOP;
  DmaPort::Result wb = port.write(ring_base(qn, false) + idx * DESC_SIZE, desc, static_cast<uint32_t>(DESC_SIZE), w.sent);
  if (!wb.ok) ++dma_errors_;
  q.rdh->set((idx + 1) % len);
  --q.rx_cache_count;
  ++rx_packets_;
  ++*q.rx_packets;
  rx_bytes_ += flen;
  *q.rx_bytes += flen;
  rxpkts_->set(rxpkts_->value() + 1);
  rx_latency_.sample(ns_of(wb.done - arrival));
  if (trace_ && trace_->enabled())
    trace_->complete(trace_track_, "rx", "nic", ns_of(arrival), ns_of(wb.done - arrival),
                     TraceArgs().iova(buf).size(flen));
  interrupt(port, rx_vector(qn), INT_RXDW, wb.done);
  return wb;
}

}  // namespace iommusim
