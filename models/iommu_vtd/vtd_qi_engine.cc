// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_qi_engine.h"

#include <algorithm>

#include "common/byte_order.h"

namespace iommusim::vtd {

using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

QiEngine::QiEngine(RegisterMap& regs, const QiCaps& caps, const Timing& timing, iommu::MemoryPort& mem,
                   iommu::PcieMessagePort& messages, CacheInvalidator& caches, InterruptRemapper& ir,
                   FaultRecorder& faults,
                   EventInterrupt& completion, StatGroup& group, Histogram& latency, const sc_time& mmio_delay)
    : gsts_(regs.get("GSTS")),
      iqh_(regs.get("IQH")),
      iqt_(regs.get("IQT")),
      iqa_(regs.get("IQA")),
      ics_(regs.get("ICS")),
      iqercd_(regs.get("IQERCD")),
      caps_(caps),
      timing_(timing),
      mem_(mem),
      messages_(messages),
      caches_(caches),
      ir_(ir),
      faults_(faults),
      completion_(completion),
      latency_(latency),
      iqe_(group.counter("iqe", "Invalidation queue errors (FSTS.IQE)")),
      ite_(group.counter("ite", "Invalidation time-out errors (FSTS.ITE)")),
      ice_(group.counter("ice", "Invalidation completion errors (FSTS.ICE)")) {
  StatGroup& by_type = group.subgroup("descriptors");
  for (unsigned t = 1; t < kQiTypeCount; ++t)
    by_type_[t] = &by_type.counter(qi_type_name(t), "Invalidation descriptors processed");
  iqt_.on_write = [this, &mmio_delay](Register&, uint64_t, uint64_t) { kick(mmio_delay); };
  ics_.on_write = [this](Register& reg, uint64_t, uint64_t) {
    if (!(reg.value() & ics::IWC)) completion_.clear_pending();
  };
  faults_.on_queue_errors_cleared = [this, &mmio_delay] { kick(mmio_delay); };
}

void QiEngine::enabled(bool on) {
  ++generation_;
  if (on) kick(SC_ZERO_TIME);
  else iqh_.set(0);  // IQH reads 0 while QI is disabled
}

bool QiEngine::runnable() const {
  if (!(gsts_.value() & gsts::QIES)) return false;
  if (faults_.queue_error_pending()) return false;
  return (iqh_.value() & iqh::QH.mask()) != (iqt_.value() & iqt::QT.mask());
}

void QiEngine::run() {
  for (;;) {
    while (!runnable()) sc_core::wait(kick_);
    const bool dw = iqa_.value() & iqa::DW;
    const uint64_t size = 4096ull << iqa::QS.extract(iqa_.value());
    const uint64_t head = iqh_.value() & iqh::QH.mask();
    if (!tail_valid(dw, size)) continue;
    fetched_generation_ = generation_;
    const sc_time start = sc_core::sc_time_stamp();
    QiDescriptor d;
    if (!fetch(head, dw, &d)) continue;
    ++*by_type_[static_cast<unsigned>(d.type)];
    const uint64_t next = (head + (dw ? 32 : 16)) % size;
    process(d, next, start);
    retire(next);
  }
}

void QiEngine::retire(uint64_t next) {
  // Disabled (and perhaps enabled again) meanwhile: IQH was reset, and the
  // queue after it starts at 0.
  if (generation_ == fetched_generation_) iqh_.set(next);
}

bool QiEngine::tail_valid(bool dw, uint64_t size) {
  const uint64_t tail = iqt_.value() & iqt::QT.mask();
  if (tail >= size) {
    error(fsts::IQE, Iqei::InvalidTail, 0);
    return false;
  }
  if (dw && (iqt::QT.extract(iqt_.value()) & 1)) {  // a 256-bit queue's tail must be 256-bit aligned
    error(fsts::IQE, Iqei::TailMisaligned, 0);
    return false;
  }
  return true;
}

bool QiEngine::fetch(uint64_t head, bool dw, QiDescriptor* d) {
  uint8_t raw[32] = {};
  sc_time t = SC_ZERO_TIME;
  const uint64_t generation = generation_;
  const bool fetched = mem_.read((iqa_.value() & iqa::IQA.mask()) + head, raw, dw ? 32 : 16, t);
  sc_core::wait(t + timing_.descriptor);
  if (generation != generation_) return false;  // the queue it came from was disabled meanwhile
  if (!fetched) {
    error(fsts::IQE, Iqei::FetchError, 0);
    return false;
  }
  uint64_t qw[4];
  for (unsigned i = 0; i < 4; ++i) qw[i] = load_le64(raw + 8 * i);
  const QiDecodeResult res = decode_descriptor(qw, dw, caps_);
  if (!res.ok) {
    error(fsts::IQE, res.error, 0);
    return false;
  }
  *d = res.desc;
  return true;
}

void QiEngine::process(const QiDescriptor& d, uint64_t next, const sc_time& start) {
  switch (d.type) {
    case QiType::ContextCache:
      sc_core::wait(timing_.invalidation);
      caches_.context_cache(d.granularity, d.did, d.sid, d.fm);
      break;
    case QiType::Iotlb:
      sc_core::wait(timing_.invalidation);
      caches_.iotlb(d.granularity, d.did, d.addr, d.am, d.ih);
      break;
    case QiType::DevTlb:
    case QiType::PasidDevTlb:
      devtlb_invalidate(d);
      break;
    case QiType::Iec:  // G (bit 4): 0 global, 1 the 2^IM entries from IIDX
      sc_core::wait(timing_.invalidation);
      ir_.invalidate(d.granularity == 0, d.iidx, d.im);
      break;
    case QiType::Wait:
      wait_descriptor(d, next);
      break;
    case QiType::PasidIotlb:
      sc_core::wait(timing_.invalidation);
      caches_.pasid_iotlb(d.granularity, d.did, d.pasid, d.addr, d.am, d.ih);
      break;
    case QiType::PasidCache:
      sc_core::wait(timing_.invalidation);
      caches_.pasid_cache(d.granularity, d.did, d.pasid);
      break;
    case QiType::PageGroupResponse: {
      sc_time posted = SC_ZERO_TIME;
      messages_.prg_response(d.sid, d.pasid_present, d.pasid, d.prgi, static_cast<PrgResponseCode>(d.response_code),
                             posted);
      break;
    }
  }
  const double took_ns = (sc_core::sc_time_stamp() - start).to_seconds() * 1e9;
  latency_.sample(took_ns);
  if (trace_.active()) trace_.slice(qi_type_name(static_cast<unsigned>(d.type)), start.to_seconds() * 1e9, took_ns,
                                    descriptor_args(d));
}

TraceArgs QiEngine::descriptor_args(const QiDescriptor& d) {
  TraceArgs args;
  switch (d.type) {
    case QiType::Iotlb:
    case QiType::PasidIotlb:
      args.value(d.did).iova(d.addr).size(4096ull << d.am);
      if (d.type == QiType::PasidIotlb) args.pasid(d.pasid);
      break;
    case QiType::DevTlb:
    case QiType::PasidDevTlb:
      args.requester(d.sid).iova(d.addr);
      if (d.type == QiType::PasidDevTlb) args.pasid(d.pasid);
      break;
    case QiType::ContextCache:
    case QiType::PasidCache:
      args.value(d.did);
      break;
    case QiType::PageGroupResponse:
      args.requester(d.sid).value(d.response_code);
      if (d.pasid_present) args.pasid(d.pasid);
      break;
    case QiType::Wait:
    case QiType::Iec:
      break;
  }
  return args;
}

bool QiEngine::devtlb_invalidate(const QiDescriptor& d) {
  sc_time rtt = SC_ZERO_TIME;
  const tlm::tlm_response_status st =
      messages_.invalidate(d.sid, d.type == QiType::PasidDevTlb, d.pasid, d.global, d.addr, d.inval_size, rtt);
  if (st == tlm::TLM_INCOMPLETE_RESPONSE || rtt > timing_.devtlb_timeout) {
    sc_core::wait(timing_.devtlb_timeout);  // the completion never arrives in time
    error(fsts::ITE, Iqei::NotAvailable, d.sid);
    return false;
  }
  if (st != tlm::TLM_OK_RESPONSE) {  // invalid completion
    error(fsts::ICE, Iqei::NotAvailable, d.sid);
    return false;
  }
  // The completion arrives later; wait descriptors wait for it.
  devtlb_done_at_ = std::max(devtlb_done_at_, sc_core::sc_time_stamp() + rtt);
  return true;
}

void QiEngine::wait_descriptor(const QiDescriptor& d, uint64_t next) {
  // Completes after every earlier descriptor, device-TLB round trips included.
  const sc_time now = sc_core::sc_time_stamp();
  if (devtlb_done_at_ > now) sc_core::wait(devtlb_done_at_ - now);
  // IQH moves past the descriptor before its status write or IWC can be seen:
  // software that finds the wait complete finds IQH beyond it (VT-d 6.5.2).
  retire(next);
  if (d.wait_sw) {
    uint8_t buf[4];
    store_le32(buf, d.status_data);
    sc_time t = SC_ZERO_TIME;
    mem_.write(d.status_addr, buf, sizeof buf, t);
    sc_core::wait(t);
  }
  if (d.wait_if && !(ics_.value() & ics::IWC)) {
    ics_.set_bits(ics::IWC);
    completion_.raise();
  }
}

void QiEngine::error(Bit fsts_bit, Iqei iqei, uint16_t sid) {
  uint64_t v = iqercd_.value();
  if (fsts_bit == fsts::IQE) {
    v = iqercd::IQEI.deposit(v, static_cast<uint8_t>(iqei));
    ++iqe_;
  } else if (fsts_bit == fsts::ITE) {
    v = iqercd::ITESID.deposit(v, sid);
    ++ite_;
  } else {
    v = iqercd::ICESID.deposit(v, sid);
    ++ice_;
  }
  iqercd_.set(v);
  faults_.queue_error(fsts_bit);
}

}  // namespace iommusim::vtd
