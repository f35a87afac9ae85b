// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the pSeries hypervisor's guest interface (firmware/pseries_hv*),
// on the pseries platform with two devices in two PEs: PAPR TCE hypercalls
// (H_PUT_TCE, H_GET_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT, and any opcode) and
// RTAS calls (every token the device tree publishes: DDW, EEH, config space,
// and any token) with arguments that are right, nearly right (another
// LIOBN, BUID or config address, an unaligned or out-of-window I/O address,
// a TCE naming a page outside the partition, a TCE list anywhere) or random,
// issued from the guest's CPU as the guest kernel would.
//
// The platform is elaborated once per process (SystemC modules cannot be
// built twice), and each input starts from the same clean partition: before
// it, the harness resets what the previous input may have changed through the
// architected calls a partition makes, for each PE: its EEH state back to
// normal (a slot reset released, the PE configured, MMIO and DMA thawed), the
// dynamic window removed and the default window reset (LoPAPR
// ibm,reset-pe-dma-window), and every TCE a call of the previous input may
// have set in a default window cleared (H_STUFF_TCE 0 over the union of the
// ranges an H_PUT_TCE, H_STUFF_TCE or H_PUT_TCE_INDIRECT named, in both PEs'
// windows).
// The generators' own TCEs are cleared once before the first input, so every
// input starts with empty default windows. The reset is an oracle too: a PE
// that is not normal afterwards, a dynamic window still valid, or a TCE left
// where a range was cleared, is a finding. (What the calls write into PCI
// config space carries over; no oracle looks at it.)
//
// Oracles (beyond no crash, ASan, UBSan):
//   - after every input, every TCE the bridge would use for an I/O address
//     the input named (each valid TVE of the bridge, read through the
//     reference TCE walk, fuzz/harness/tce_reference.h) points into the
//     partition's RAM, never the hypervisor's (its TCE tables, RTT, PEST);
//   - every call returns within 1 s of simulated time, an input within 60 s.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/architected_call.h"
#include "fuzz/harness/oracles.h"
#include "fuzz/harness/tce_reference.h"
#include "fuzz/harness/vtd_rig.h"
#include "platforms/config.h"
#include "platforms/pseries.h"

using namespace iommusim;
using namespace iommusim::fuzz;
using sc_core::sc_time;

namespace {

constexpr uint64_t kPartitionRam = 1ull << 30;  // kernel.ram_size below
constexpr uint64_t kPage = 4096;
// LoPAPR hypercall numbers (Linux arch/powerpc/include/asm/hvcall.h).
constexpr uint64_t H_GET_TCE = 0x1c, H_PUT_TCE = 0x20, H_STUFF_TCE = 0x138, H_PUT_TCE_INDIRECT = 0x13c;
constexpr uint64_t kHcalls[] = {H_GET_TCE, H_PUT_TCE, H_STUFF_TCE, H_PUT_TCE_INDIRECT};
const char* const kDevices[] = {"t0", "t1"};

struct PseriesSystem {
  PseriesSystem() {
    ConfigSet config;
    for (const char* s : {"system.endpoints=t0 t1", "t0.kind=tg", "t1.kind=tg", "t0.count=1", "t1.count=1",
                          "t0.window_size=64K", "t1.window_size=64K", "kernel.ram_size=1G"})
      if (!config.add_override(s).empty()) finding(std::string("the pseries rig's setting ") + s + " is refused");
    std::string err = configure_platform(p, config, params);
    if (err.empty()) err = check_unknown_keys(config, params.specs());
    SystemParams sys;
    sys.platform = "pseries";
    if (err.empty()) err = p.elaborate(sys, root, trace);
    if (!err.empty()) finding("the pseries rig does not elaborate: " + err);
    for (const auto& [name, token] : p.hypervisor().device_tree().rtas_tokens) tokens.push_back(token);
  }
  // The stats and the trace outlive the platform: its destructor still counts.
  StatGroup root{"system"};
  TraceWriter trace{0};
  PseriesPlatform p;
  ParamList params;
  std::vector<uint64_t> tokens;
  // I/O page ranges (first I/O address, TCEs) calls may have set TCEs in
  // since the last reset.
  std::vector<std::pair<uint64_t, uint64_t>> dirty;
};

PseriesSystem& pseries_system() {
  static PseriesSystem s;
  return s;
}

class CallSession {
public:
  CallSession(PseriesSystem& s, FuzzedDataProvider& in) : s_(s), in_(in) {}

  void run() {
    for (unsigned n = 0; n < 48 && in_.remaining_bytes(); ++n) in_.ConsumeIntegralInRange(0, 3) ? hcall() : rtas();
  }
  // The I/O addresses the input named (page aligned), for the check.
  const std::set<uint64_t>& iobas() const { return iobas_; }

private:
  const fw::DeviceTreeDevice& device() {
    return *s_.p.hypervisor().device_tree().device(kDevices[in_.ConsumeIntegralInRange(0, 1)]);
  }
  uint64_t call(CallKind kind, uint64_t token, std::vector<uint64_t> args) {
    ArchitectedCall c(kind, token, std::move(args));
    const sc_time start = sc_core::sc_time_stamp();
    s_.p.guest_cpu().call(c);
    s_.p.guest_cpu().sync();
    // H_STUFF_TCE over a whole 2 GiB window is 512 Ki TCEs: legitimately
    // milliseconds. A second is a call that never ends.
    if (sc_core::sc_time_stamp() - start > sc_time(1, sc_core::SC_SEC))
      finding("a call (token " + hex(token) + ") took more than 1 s");
    return static_cast<uint64_t>(c.status);
  }
  // A value near `good`, or `good`, or anything.
  uint64_t bend(uint64_t good) {
    switch (in_.ConsumeIntegralInRange(0, 5)) {
      case 0: return in_.ConsumeIntegral<uint64_t>();
      case 1: return good ^ (1ull << in_.ConsumeIntegralInRange(0, 63));
      case 2: return good + in_.ConsumeIntegralInRange(-8, 8);
      default: return good;
    }
  }
  uint64_t ioba(const fw::DeviceTreeDevice& d) {
    uint64_t v = d.window_base + kPage * in_.ConsumeIntegralInRange<uint64_t>(0, 64);
    if (in_.ConsumeBool()) v = (1ull << 59) + kPage * in_.ConsumeIntegralInRange<uint64_t>(0, 64);  // a DDW
    v = bend(v);
    iobas_.insert(v & ~(kPage - 1));
    return v;
  }
  uint64_t tce() {
    const uint64_t page = in_.ConsumeIntegralInRange(0, 3) ? kPage * in_.ConsumeIntegralInRange<uint64_t>(1, 1024)
                                                           : kPartitionRam - kPage;
    return bend(page | in_.ConsumeIntegralInRange(0, 3));
  }
  void hcall();
  void rtas();

  PseriesSystem& s_;
  FuzzedDataProvider& in_;
  std::set<uint64_t> iobas_;
};

void CallSession::hcall() {
  const uint64_t op = in_.ConsumeIntegralInRange(0, 7) ? in_.PickValueInArray(kHcalls) : in_.ConsumeIntegral<uint16_t>();
  const fw::DeviceTreeDevice& d = device();
  const uint64_t liobn = bend(d.liobn), at = ioba(d);
  std::vector<uint64_t> args = {liobn, at};
  if (op == H_PUT_TCE) args.push_back(tce());
  if (op == H_STUFF_TCE) {
    // A stuff over a whole window is legitimate, but 512 Ki timed TCE writes
    // (seconds under ASan): counts a window could hold stay below 4096; larger
    // ones (which no window holds, H_PARAMETER) stand.
    uint64_t count = in_.ConsumeIntegralInRange(0, 7) ? in_.ConsumeIntegralInRange(1, 64)
                                                      : bend(in_.ConsumeIntegralInRange(1, 64));
    if (count > 4096 && count <= (1ull << 20)) count = 4096;
    for (uint64_t k = 1; k < std::min<uint64_t>(count, 64); ++k) iobas_.insert((at & ~(kPage - 1)) + k * kPage);
    args.insert(args.end(), {tce(), count});
  }
  if (op == H_PUT_TCE_INDIRECT) {
    // The list in the guest's RAM (or anywhere), then its address and length.
    const uint64_t list = bend(0x3000000);
    const unsigned count = in_.ConsumeIntegralInRange(1, 16);
    for (unsigned k = 0; k < count; ++k) {
      if (list < kPartitionRam) s_.p.memory().storage().write_be(list + 8 * k, tce(), 8);
      iobas_.insert((at & ~(kPage - 1)) + k * kPage);
    }
    args.insert(args.end(), {list, bend(count)});
  }
  if (in_.ConsumeIntegralInRange(0, 7) == 0) args.resize(in_.ConsumeIntegralInRange<size_t>(0, 6));
  if (op == H_PUT_TCE || op == H_STUFF_TCE || op == H_PUT_TCE_INDIRECT)  // count: the 4th argument, if any
    s_.dirty.emplace_back(at & ~(kPage - 1), op == H_PUT_TCE ? 1 : args.size() > 3 ? args[3] : 0);
  call(CallKind::PaprHypercall, op, args);
}

void CallSession::rtas() {
  const uint64_t token = in_.ConsumeIntegralInRange(0, 7) && !s_.tokens.empty()
                             ? s_.tokens[in_.ConsumeIntegralInRange<size_t>(0, s_.tokens.size() - 1)]
                             : in_.ConsumeIntegral<uint32_t>();
  const fw::DeviceTreeDevice& d = device();
  std::vector<uint64_t> args = {bend(d.config_addr), bend(d.buid >> 32), bend(d.buid & 0xffffffffull)};
  for (unsigned n = in_.ConsumeIntegralInRange(0, 4); n; --n)
    args.push_back(in_.ConsumeBool() ? in_.ConsumeIntegralInRange(0, 64) : in_.ConsumeIntegral<uint64_t>());
  if (in_.ConsumeIntegralInRange(0, 7) == 0) args.resize(in_.ConsumeIntegralInRange<size_t>(0, 2));
  call(CallKind::Rtas, token, args);
}

// LoPAPR RTAS status and EEH values (QEMU spapr.h, Linux eeh_pseries.c).
constexpr uint64_t kPeNormal = 0, kPeReset = 1, kPeUnavailable = 5;
constexpr uint64_t kReleaseReset = 0, kThawMmio = 2, kThawDma = 3;

// One RTAS call by name from the guest's CPU: its status, outputs in *rets.
int64_t rtas(PseriesSystem& s, const char* name, std::vector<uint64_t> args, std::vector<uint64_t>* rets = nullptr) {
  const auto& tokens = s.p.hypervisor().device_tree().rtas_tokens;
  const auto t = tokens.find(name);
  if (t == tokens.end()) finding(std::string("the device tree has no RTAS token ") + name);
  ArchitectedCall c(CallKind::Rtas, t->second, std::move(args));
  s.p.guest_cpu().call(c);
  s.p.guest_cpu().sync();
  if (rets) *rets = c.rets;
  return c.status;
}

uint64_t pe_state(PseriesSystem& s, const std::vector<uint64_t>& pe) {
  std::vector<uint64_t> r;
  return rtas(s, "ibm,read-slot-reset-state2", pe, &r) == 0 && !r.empty() ? r[0] : ~0ull;
}

// Whether the `n` TCEs from `first` lie inside d's default window (a call
// whose range runs past it was refused whole, H_PARAMETER, and set nothing).
bool in_default_window(uint64_t first, uint64_t n, const fw::DeviceTreeDevice& d) {
  return first >= d.window_base && n && n <= (d.window_size - std::min(d.window_size, first - d.window_base)) / kPage;
}

// The ranges of `dirty` inside d's default window, as their union:
// sorted, overlapping and adjacent ranges joined. An input's calls mostly name
// the same few pages again, so one H_STUFF_TCE per joined range clears each
// TCE once instead of once per call that named it.
std::vector<std::pair<uint64_t, uint64_t>> ranges_in_window(std::vector<std::pair<uint64_t, uint64_t>> dirty,
                                                            const fw::DeviceTreeDevice& d) {
  std::vector<std::pair<uint64_t, uint64_t>> joined;  // (first I/O address, TCEs)
  std::sort(dirty.begin(), dirty.end());
  for (const auto& [first, n] : dirty) {
    if (!in_default_window(first, n, d)) continue;
    if (!joined.empty() && first <= joined.back().first + joined.back().second * kPage) {
      const uint64_t end = std::max(joined.back().first + joined.back().second * kPage, first + n * kPage);
      joined.back().second = (end - joined.back().first) / kPage;
    } else {
      joined.emplace_back(first, n);
    }
  }
  return joined;
}

// The PE of device `d` as a fresh partition finds it (see the top).
void reset_pe(PseriesSystem& s, const fw::DeviceTreeDevice& d) {
  const std::vector<uint64_t> pe = {d.config_addr, d.buid >> 32, d.buid & 0xffffffffull};
  auto with = [&](uint64_t v) {
    std::vector<uint64_t> a = pe;
    a.push_back(v);
    return a;
  };
  if (pe_state(s, pe) == kPeReset) rtas(s, "ibm,set-slot-reset", with(kReleaseReset));
  for (unsigned n = 0; n < 100 && pe_state(s, pe) == kPeUnavailable; ++n) sc_core::wait(sc_time(50, sc_core::SC_US));
  rtas(s, "ibm,configure-pe", pe);
  if (pe_state(s, pe) != kPeNormal) {
    rtas(s, "ibm,set-eeh-option", with(kThawMmio));
    rtas(s, "ibm,set-eeh-option", with(kThawDma));
  }
  if (rtas(s, "ibm,reset-pe-dma-window", pe) != 0) finding("reset: ibm,reset-pe-dma-window refused for " + d.name);
  if (const uint64_t st = pe_state(s, pe); st != kPeNormal)
    finding("reset: " + d.name + "'s PE is in state " + std::to_string(st) + ", not normal");
  ppc::PhbUnit& phb = s.p.phb(0);
  const uint16_t index = static_cast<uint16_t>(d.liobn >> 1 & 0x7fff);  // LIOBN: docs/pseries.md
  if (phb.translator().tve_raw(2 * index + 1)) finding("reset: " + d.name + "'s window 1 is still valid");
  const std::vector<std::pair<uint64_t, uint64_t>> ranges = ranges_in_window(s.dirty, d);
  for (const auto& [first, n] : ranges) {
    ArchitectedCall c(CallKind::PaprHypercall, H_STUFF_TCE, {d.liobn, first, 0, n});
    s.p.guest_cpu().call(c);
    s.p.guest_cpu().sync();
    if (c.status != 0) finding("reset: H_STUFF_TCE over " + hex(first) + " returned " + std::to_string(c.status));
  }
  // Each range the calls named, as before the join: its first 64 TCEs are gone.
  for (const auto& [first, n] : s.dirty) {
    if (!in_default_window(first, n, d)) continue;
    for (uint64_t k = 0; k < std::min<uint64_t>(n, 64); ++k)
      if (reference_tce(s.p.memory().storage(), phb.translator().tve_raw(2 * index), first + k * kPage).ok)
        finding("reset: " + d.name + "'s default window still maps " + hex(first + k * kPage));
  }
}

// Every PE as the first input finds it; the ranges are clean.
void reset_partition(PseriesSystem& s) {
  for (const char* name : kDevices) reset_pe(s, *s.p.hypervisor().device_tree().device(name));
  s.dirty.clear();
}

// Every TCE the bridge would use for the I/O addresses named lies in the partition.
void check_tces(PseriesSystem& s, const std::set<uint64_t>& iobas) {
  ppc::PhbUnit& phb = s.p.phb(0);
  const unsigned tves = 2 * phb.params().num_pes;
  for (unsigned t = 0; t < tves; ++t) {
    const uint64_t tve = phb.translator().tve_raw(t);
    if (!tve) continue;
    for (uint64_t ioba : iobas) {
      if (((ioba >> 59) & 1) != (t & 1)) continue;
      const TceRefResult r = reference_tce(s.p.memory().storage(), tve, ioba);
      if (r.ok && (r.out >= kPartitionRam || r.out + kPage > kPartitionRam))
        finding("TVE " + std::to_string(t) + " maps I/O address " + hex(ioba) + " to " + hex(r.out) +
                ", outside the partition's RAM");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  init_systemc();
  PseriesSystem& s = pseries_system();
  run_in_thread([&] {
    if (!s.p.guest().ready()) sc_core::wait(s.p.guest().ready_event());
  }, sc_time(100, sc_core::SC_MS), "the pseries guest's bring-up");
  if (!s.p.guest().error().empty()) finding("the pseries guest did not come up: " + s.p.guest().error());
  // The generators' windows (tg.window_base 1 GiB, 64 KiB) cleared once their one DMA is done.
  run_in_thread([&] {
    while (!s.p.finished()) sc_core::wait(s.p.progress_event());
    s.dirty.emplace_back(0x40000000, 16);
    reset_partition(s);
  }, sc_time(100, sc_core::SC_MS), "the generators' DMA and the first reset");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  FuzzedDataProvider in(bytes, size);
  PseriesSystem& s = pseries_system();
  CallSession session(s, in);
  run_in_thread([&] { reset_partition(s); }, sc_time(1, sc_core::SC_SEC), "the reset before the input");
  run_in_thread([&] { session.run(); }, sc_time(60, sc_core::SC_SEC), "the input's calls");
  check_tces(s, session.iobas());
  return 0;
}
