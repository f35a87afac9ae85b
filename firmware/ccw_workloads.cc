// SPDX-License-Identifier: Apache-2.0
#include "firmware/ccw_workloads.h"

#include <algorithm>

#include "common/byte_order.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint8_t kDefineExtent = 0x63, kLocate = 0x43, kRead = 0x42, kWrite = 0x41;  // Linux dasd_fba.c
constexpr uint8_t kTapeWrite = 0x01, kTapeRead = 0x02, kTapeRewind = 0x07;           // 3490 command set
constexpr uint8_t kInvalidCommand = 0x00;
constexpr uint8_t kNormalEnd = ccw::DSTAT_CE | ccw::DSTAT_DE;
}  // namespace

// ---------------------------------------------------------------------------
// ChannelIo

// Linux cio: an I/O that does not end in time is halted, and a halt that does
// not end is followed by a clear.
bool ChannelIo::wait_final(IoStatus* out) {
  const sc_time timeout(cio().timeout_ns, SC_NS), halt_timeout(cio().halt_timeout_ns, SC_NS);
  while (wait_status(out, timeout))
    if (out->scsw.final()) return true;
  if (halt() == 0) {
    while (wait_status(out, halt_timeout))
      if (out->scsw.final()) return true;
  }
  if (clear() != 0) return false;
  while (wait_status(out, halt_timeout))
    if (out->scsw.final()) return true;
  return false;
}

VfioChannelIo::VfioChannelIo(VfioCcwDevice& device, GuestMemory& guest, PageAllocator& guest_pages, CpuPort& cpu,
                             const VfioCcwParams& vp, const CioParams& cp, StatGroup& stats)
    : device_(device),
      guest_(guest),
      guest_pages_(guest_pages),
      cpu_(cpu),
      vp_(vp),
      cio_(cp),
      irb_gpa_(guest_pages.alloc_page()),
      intercept_ns_(stats.counter("intercept_ns", "host CPU time of the guest's intercepted I/O instructions", "ns")),
      unit_exceptions_(stats.counter("unit_exceptions", "requests vfio-ccw refused (the guest sees unit exception)")) {}

void VfioChannelIo::intercept() {
  cpu_.charge_ns(vp_.intercept_ns);
  intercept_ns_ += static_cast<uint64_t>(vp_.intercept_ns);
}

int VfioChannelIo::start(uint64_t orb) {
  for (unsigned attempt = 0;; ++attempt) {
    const int cc = start_once(orb);
    if (cc != 2 || attempt >= cio_.busy_retries) return cc;
    sc_core::wait(sc_time(cio_.busy_retry_ns, SC_NS));
  }
}

// QEMU: the guest's ORB and the start function into the I/O region, one
// write; the return code to a condition code (hw/vfio/ccw.c).
int VfioChannelIo::start_once(uint64_t orb) {
  intercept();
  uint8_t region[ccw::vfio_region::kScswArea + ccw::kScswBytes] = {};
  if (!guest_.read(orb, region + ccw::vfio_region::kOrbArea, ccw::orb::kBytes)) return 3;
  store_be32(region + ccw::vfio_region::kScswArea,
             static_cast<uint32_t>(ccw::scsw::FC.encode(ccw::scsw::FC_START) | ccw::scsw::AC_START_PENDING));
  cpu_.write(device_.io_region(), region, sizeof region);
  device_.io_region_written();
  uint8_t b[4];
  cpu_.read(device_.io_region() + ccw::vfio_region::kRetCode, b, 4);
  cpu_.sync();
  const int rc = static_cast<int32_t>(load_be32(b));
  if (rc == 0) return 0;
  if (rc == -ccw::err::kBusy) return 2;
  if (rc == -ccw::err::kNoDev || rc == -13 /* EACCES */) return 3;
  unit_exception(load_be32(region + ccw::vfio_region::kOrbArea + 8));
  return 0;
}

// QEMU sch_gen_unit_exception: primary, secondary and alert status with unit
// exception, the CPA past the first CCW; the guest gets an interruption.
void VfioChannelIo::unit_exception(uint32_t cpa) {
  IoStatus s;
  s.cc = 0;
  store_be32(s.irb.data(), static_cast<uint32_t>(ccw::scsw::FC.encode(ccw::scsw::FC_START) |
                                                 ccw::scsw::SC.encode(ccw::scsw::SC_PRIMARY | ccw::scsw::SC_SECONDARY |
                                                                      ccw::scsw::SC_ALERT | ccw::scsw::SC_PENDING)));
  store_be32(s.irb.data() + 4, cpa + 8);
  s.irb[8] = ccw::DSTAT_UE;
  s.scsw = ccw::get_scsw(s.irb.data());
  synthetic_.push_back(s);
  ++unit_exceptions_;
  synthetic_event_.notify(sc_time(vp_.inject_ns, SC_NS));
}

bool VfioChannelIo::wait_status(IoStatus* out, const sc_time& timeout) {
  const sc_time deadline = sc_core::sc_time_stamp() + timeout;
  while (synthetic_.empty() && !device_.status_ready()) {
    const sc_time now = sc_core::sc_time_stamp();
    if (now >= deadline) return false;
    sc_core::wait(deadline - now, device_.guest_interruption() | synthetic_event_);
  }
  cpu_.charge_ns(cio_.interrupt_ns);  // the guest's interruption handler
  intercept();                        // its TSCH
  if (!synthetic_.empty()) {
    *out = synthetic_.front();
    synthetic_.pop_front();
  } else {
    device_.take_status();
    uint8_t irb[ccw::kIrbBytes];
    cpu_.read(device_.io_region() + ccw::vfio_region::kIrbArea, irb, sizeof irb);
    guest_.write(irb_gpa_, irb, sizeof irb);  // QEMU stores the IRB at the guest's operand
    out->cc = 0;
    guest_.read(irb_gpa_, out->irb.data(), ccw::kIrbBytes);
    out->scsw = ccw::get_scsw(out->irb.data());
  }
  cpu_.sync();
  return true;
}

int VfioChannelIo::async_command(uint32_t command) {
  intercept();
  uint8_t b[4];
  store_be32(b, command);
  cpu_.write(device_.cmd_region() + ccw::vfio_region::kCmdCommand, b, 4);
  device_.cmd_region_written();
  cpu_.read(device_.cmd_region() + ccw::vfio_region::kCmdRetCode, b, 4);
  cpu_.sync();
  const int rc = static_cast<int32_t>(load_be32(b));
  return rc == 0 ? 0 : rc == -ccw::err::kBusy ? 2 : 3;
}

// vfio-ccw's regions offer no resume: QEMU finds the subchannel not suspended
// (cc 2), or the request finds the program in flight (-EBUSY, cc 2).
int VfioChannelIo::resume() {
  intercept();
  if (!device_.busy()) return 2;
  uint8_t scsw[ccw::kScswBytes] = {};
  store_be32(scsw, static_cast<uint32_t>(ccw::scsw::FC.encode(ccw::scsw::FC_START) | ccw::scsw::AC_RESUME_PENDING));
  cpu_.write(device_.io_region() + ccw::vfio_region::kScswArea, scsw, sizeof scsw);
  device_.io_region_written();
  uint8_t b[4];
  cpu_.read(device_.io_region() + ccw::vfio_region::kRetCode, b, 4);
  cpu_.sync();
  return static_cast<int32_t>(load_be32(b)) == 0 ? 0 : 2;
}

// ---------------------------------------------------------------------------
// The workload

std::string CcwWorkloadParams::validate() const {
  if (mode == "vfio" && suspend_every)
    return "suspend_every needs mode = native: vfio-ccw's regions have no RESUME SUBCHANNEL";
  if (interrupt_after_ns > 0 && (suspend_every || invalid_every))
    return "interrupt_after does not combine with suspend_every or invalid_every";
  return check_declared_values(*this);
}

struct CcwWorkload::Buffers {
  uint64_t program = 0, params = 0, list = 0, orb = 0;
  std::vector<uint64_t> blocks;  // one buffer per block (per_block, data_chained, midaw, streaming)
  std::vector<uint64_t> pages;   // whole pages (idaw), or the contiguous buffer's first page
};

struct CcwWorkload::Plan {
  uint64_t index = 0;
  uint64_t first = 0;  // first block
  uint64_t bytes = 0;  // data it moves when it ends normally
  bool write = false;
  bool invalid = false;
  bool suspend = false;
  bool interrupt = false;
};

CcwWorkload::CcwWorkload(sc_core::sc_module_name name, const CcwWorkloadParams& p, const DeviceGeometry& g,
                         ChannelIo& io, CpuPort& cpu, StatGroup* parent)
    : sc_module(name),
      p_(p),
      g_(g),
      io_(io),
      cpu_(cpu),
      rng_(p.seed),
      buf_(std::make_unique<Buffers>()),
      stats_(basename(), parent),
      programs_(stats_.counter("programs", "channel programs completed")),
      bytes_(stats_.counter("bytes", "data bytes moved by programs that ended normally", "bytes")),
      errors_(stats_.counter("errors", "programs whose outcome was not the one expected")),
      verify_failures_(stats_.counter("verify_failures", "blocks read back with the wrong content")),
      program_checks_(stats_.counter("program_checks", "expected program checks seen (invalid CCW)")),
      halts_(stats_.counter("halts", "programs halted")),
      clears_(stats_.counter("clears", "programs cleared")),
      suspends_(stats_.counter("suspends", "programs suspended and resumed")),
      refusals_(stats_.counter("refusals", "programs vfio-ccw refused (unit exception)")),
      host_cpu_ns_(stats_.counter("cpu_ns", "host CPU time for the device: driver, intercepts and mediation", "ns")),
      latency_(stats_.histogram("latency_ns", "START SUBCHANNEL to the final status, as the program's kernel sees it",
                                "ns")) {
  const CcwWorkload* self = this;
  stats_.formula("cpu_per_program_ns", "host CPU time per program",
                 [self] { return self->host_cpu_per_program_ns(); }, "ns");
  stats_.formula("throughput_MBps", "data bytes per second of the run (1e6 bytes/s)",
                 [self] { return self->throughput_MBps(); }, "MB/s");
  stats_.gauge("pins_left", "guest pages still pinned (vfio-ccw)", [self] { return self->pins_left(); },
               "pins");
  SC_THREAD(run);
}

CcwWorkload::~CcwWorkload() = default;

double CcwWorkload::host_cpu_per_program_ns() const {
  return programs_.value() ? static_cast<double>(host_cpu_ns_.value()) / static_cast<double>(programs_.value()) : 0;
}

double CcwWorkload::throughput_MBps() const {
  const double s = (last_end_ - first_start_).to_seconds();
  return s > 0 ? static_cast<double>(bytes_.value()) / s / 1e6 : 0;
}

void CcwWorkload::fail(const std::string& why) {
  ++errors_;
  if (failure_.empty()) failure_ = why;
}

void CcwWorkload::finish() {
  host_cpu_ns_.set(io_.host_cpu_ns() - cpu_at_start_);
  done_ = true;
  done_ev_.notify(sc_core::SC_ZERO_TIME);
}

void CcwWorkload::run() {
  sc_core::wait(sc_time(p_.start_ns, SC_NS));
  cpu_at_start_ = io_.host_cpu_ns();
  first_start_ = last_end_ = sc_core::sc_time_stamp();
  if (std::string err = io_.prepare(); !err.empty()) {
    fail("enabling the subchannel: " + err);
    return finish();
  }
  if (!setup()) {
    fail("no memory for the channel programs");
    return finish();
  }
  if (g_.block_device) run_blocks();
  else run_stream();
  finish();
}

// Buffers for the largest program, allocated once: one per block, each in a
// page of its own at an offset of its own (8-byte aligned, within the page).
bool CcwWorkload::setup() {
  Buffers& b = *buf_;
  b.program = io_.alloc_control();
  b.params = io_.alloc_control();
  b.list = io_.alloc_control();
  b.orb = io_.alloc_control();
  bool ok = b.program && b.params && b.list && b.orb;
  const uint64_t bytes = uint64_t(p_.blocks) * g_.block_size;
  const uint64_t pages = (bytes + kPageSize - 1) / kPageSize;
  const bool direct = p_.shape == "per_block" || p_.shape == "data_chained" || !g_.block_device;
  if (p_.shape == "contiguous" && g_.block_device) {
    b.pages.push_back(io_.alloc_data(pages, true));
  } else if (p_.shape == "idaw" && g_.block_device) {
    for (uint64_t i = 0; i < pages; ++i) b.pages.push_back(io_.alloc_data(1, false));
  } else {
    const uint64_t room = g_.block_size < kPageSize ? kPageSize - g_.block_size + 8 : 8;  // offsets that fit
    for (uint32_t k = 0; k < p_.blocks; ++k) {
      const uint64_t page = io_.alloc_data((g_.block_size + kPageSize - 1) / kPageSize, direct);
      b.blocks.push_back(page ? page + ((uint64_t(k) * 712) % room & ~7ull) : 0);
    }
  }
  for (uint64_t a : b.pages) ok = ok && a;
  for (uint64_t a : b.blocks) ok = ok && a;
  return ok;
}

uint64_t CcwWorkload::block_buffer(uint32_t k) const {
  const Buffers& b = *buf_;
  if (!b.blocks.empty()) return b.blocks[k];
  const uint64_t offset = uint64_t(k) * g_.block_size;
  if (p_.shape == "contiguous") return b.pages[0] + offset;
  return b.pages[offset / kPageSize] + offset % kPageSize;
}

CcwWorkload::Plan CcwWorkload::plan(uint64_t index) {
  Plan p;
  p.index = index;
  const uint64_t span = std::max<uint64_t>(1, std::min<uint64_t>(p_.span, g_.blocks) / p_.blocks);
  const uint64_t slot = p_.pattern == "random" ? rng_() % span : index % span;
  p.first = slot * p_.blocks;
  p.bytes = uint64_t(p_.blocks) * g_.block_size;
  p.write = p_.op == "write" || (p_.op == "mix" && (rng_() & 1));
  p.invalid = p_.invalid_every && (index + 1) % p_.invalid_every == 0;
  p.suspend = p_.suspend_every && (index + 1) % p_.suspend_every == 0;
  p.interrupt = p_.interrupt_after_ns > 0;
  return p;
}

uint32_t CcwWorkload::put_ccw(uint64_t at, uint8_t cmd, uint8_t flags, uint16_t count, uint32_t cda) {
  uint8_t b[ccw::kCcwBytes];
  ccw::put_ccw1(b, cmd, flags, count, cda);
  io_.memory().write(at, b, sizeof b);
  cpu_.charge_ns(p_.build_ns);
  return static_cast<uint32_t>(at);
}

// DEFINE EXTENT and LOCATE (Linux dasd_fba.c define_extent, locate_record),
// the data CCWs, and the ORB; the address of the program's last CCW.
uint64_t CcwWorkload::build(const Plan& plan) {
  const Buffers& b = *buf_;
  PhysMemory& m = io_.memory();
  uint8_t de[16] = {};
  de[0] = plan.write ? 0x00 : 0x40;  // permission: read only for reads
  store_be(de + 2, g_.block_size, 2);
  store_be32(de + 4, static_cast<uint32_t>(plan.first));
  store_be32(de + 12, p_.blocks - 1);
  m.write(b.params, de, sizeof de);
  uint64_t at = b.program;
  put_ccw(at, kDefineExtent, ccw::CC, 16, static_cast<uint32_t>(b.params));
  at += 8;
  const uint64_t last = build_data(plan, at);
  uint32_t word1 = static_cast<uint32_t>(ccw::orb::F | ccw::orb::P | ccw::orb::H | ccw::orb::LPM.encode(0x80));
  if (plan.suspend) word1 |= static_cast<uint32_t>(ccw::orb::S);
  if (p_.shape == "midaw") word1 |= static_cast<uint32_t>(ccw::orb::D);
  uint8_t orb[ccw::orb::kBytes];
  ccw::put_orb(orb, static_cast<uint32_t>(plan.index), word1, static_cast<uint32_t>(b.program));
  m.write(b.orb, orb, sizeof orb);
  return last;
}

uint64_t CcwWorkload::build_data(const Plan& plan, uint64_t at) {
  const Buffers& b = *buf_;
  PhysMemory& m = io_.memory();
  const uint8_t cmd = plan.write ? kWrite : kRead;
  const uint32_t bs = g_.block_size, n = p_.blocks;
  // The S flag goes on the CCW that starts the last operation (a data-chained
  // CCW may not carry it), the CC flag on the last to chain the invalid CCW.
  const uint8_t tail = plan.invalid ? ccw::CC : plan.suspend ? ccw::SUSPEND : 0;
  suspend_ccw_ = 0;
  auto locate = [&](uint64_t slot, uint32_t first, uint32_t count) {
    uint8_t lo[8] = {static_cast<uint8_t>(plan.write ? 0x05 : 0x06), 0};
    store_be(lo + 2, count, 2);
    store_be32(lo + 4, first);
    m.write(b.params + 16 + 8 * slot, lo, 8);
    put_ccw(at, kLocate, ccw::CC, 8, static_cast<uint32_t>(b.params + 16 + 8 * slot));
    at += 8;
  };
  if (p_.shape == "per_block") {
    for (uint32_t k = 0; k < n; ++k) {
      locate(k, k, 1);
      put_ccw(at, cmd, k + 1 < n ? ccw::CC : tail, static_cast<uint16_t>(bs), static_cast<uint32_t>(block_buffer(k)));
      if (k + 1 < n) at += 8;  // `at` ends at the last CCW
    }
    suspend_ccw_ = at;
  } else {
    locate(0, 0, n);
    suspend_ccw_ = at;
    if (p_.shape == "data_chained") {
      const uint8_t s = plan.suspend ? ccw::SUSPEND : 0, last = plan.invalid ? ccw::CC : 0;
      for (uint32_t k = 0; k + 1 < n; ++k, at += 8)
        put_ccw(at, cmd, static_cast<uint8_t>(ccw::CD | (k == 0 ? s : 0)), static_cast<uint16_t>(bs),
                static_cast<uint32_t>(block_buffer(k)));
      put_ccw(at, cmd, static_cast<uint8_t>(last | (n == 1 ? s : 0)), static_cast<uint16_t>(bs),
              static_cast<uint32_t>(block_buffer(n - 1)));
    } else if (p_.shape == "contiguous") {
      put_ccw(at, cmd, tail, static_cast<uint16_t>(n * bs), static_cast<uint32_t>(block_buffer(0)));
    } else {  // idaw or midaw: one CCW through the list
      put_ccw(at, cmd, static_cast<uint8_t>(tail | write_list()), static_cast<uint16_t>(n * bs),
              static_cast<uint32_t>(b.list));
    }
  }
  if (!plan.invalid) return at;
  put_ccw(at + 8, kInvalidCommand, 0, 1, static_cast<uint32_t>(block_buffer(0)));
  return at + 8;
}

// The IDAL (format-2 IDAWs, one per page) or the MIDAW list (one per block
// buffer) of the one-CCW shapes; the CCW flag that names it.
uint8_t CcwWorkload::write_list() {
  const Buffers& b = *buf_;
  if (p_.shape == "idaw") {
    for (size_t i = 0; i < b.pages.size(); ++i) {
      uint8_t w[8];
      store_be64(w, b.pages[i]);
      io_.memory().write(b.list + 8 * i, w, 8);
    }
    return ccw::IDA;
  }
  for (uint32_t k = 0; k < p_.blocks; ++k) {
    uint8_t w[16];
    ccw::put_midaw(w, k + 1 < p_.blocks ? 0 : ccw::kMidawLast, static_cast<uint16_t>(g_.block_size), block_buffer(k));
    io_.memory().write(b.list + 16ull * k, w, 16);
  }
  return ccw::MIDA;
}

// Each block written leads with its block number, so reads can check it.
void CcwWorkload::prepare_write(const Plan& plan) {
  for (uint32_t k = 0; k < p_.blocks; ++k) {
    uint8_t h[8];
    store_be64(h, plan.first + k);
    io_.memory().write(block_buffer(k), h, 8);
  }
}

bool CcwWorkload::verify_read(const Plan& plan) {
  bool ok = true;
  for (uint32_t k = 0; k < p_.blocks; ++k) {
    uint8_t h[8] = {};
    io_.memory().read(block_buffer(k), h, 8);
    if (load_be64(h) != plan.first + k) {
      ++verify_failures_;
      ok = false;
    }
  }
  return ok;
}

void CcwWorkload::run_blocks() {
  for (uint64_t i = 0; i < p_.count; ++i) {
    const Plan pl = plan(i);
    if (pl.write) prepare_write(pl);
    const uint64_t last = build(pl);
    cpu_.sync();
    if (!execute(pl, last)) break;
    if (p_.think_ns > 0) sc_core::wait(sc_time(p_.think_ns, SC_NS));
  }
}

bool CcwWorkload::execute(const Plan& plan, uint64_t last_ccw) {
  const sc_time t0 = sc_core::sc_time_stamp();
  const int cc = io_.start(buf_->orb);
  if (cc != 0) {
    fail("START SUBCHANNEL ended in condition code " + std::to_string(cc));
    return false;
  }
  IoStatus s;
  bool got;
  if (plan.interrupt) got = drive_interrupt(&s);
  else if (plan.suspend) got = drive_suspend(suspend_ccw_, &s);
  else got = io_.wait_final(&s);
  if (!got) {
    fail("no final status, even after HALT and CLEAR SUBCHANNEL");
    return false;
  }
  last_end_ = sc_core::sc_time_stamp();
  latency_.sample((last_end_ - t0).to_seconds() * 1e9);
  ++programs_;
  check(plan, last_ccw, s);  // an unexpected outcome is an error of the run, which goes on
  host_cpu_ns_.set(io_.host_cpu_ns() - cpu_at_start_);
  return true;
}

// The outcome each plan expects: a program check at the invalid CCW, a halt
// or clear, or channel end and device end with the data in place; and with
// vfio-ccw, no page pinned once the program has ended.
bool CcwWorkload::check(const Plan& plan, uint64_t last_ccw, const IoStatus& s) {
  const ccw::Status& st = s.scsw;
  if (io_.mediated() && io_.pins_outstanding() != 0) fail("guest pages still pinned after the program ended");
  if (st.dstat & ccw::DSTAT_UE) {
    ++refusals_;
    fail("the program was refused (unit exception)");
    return false;
  }
  if (plan.invalid) {
    const bool ok = (st.cstat & ccw::CSTAT_PROGRAM_CHECK) && st.cpa == last_ccw + 8;
    if (ok) ++program_checks_;
    else fail("an invalid CCW did not end in program check at its address");
    return ok;
  }
  if (plan.interrupt && (st.fc() & (ccw::scsw::FC_HALT | ccw::scsw::FC_CLEAR))) return true;
  if (st.dstat != kNormalEnd || st.cstat != 0) {
    fail("unexpected status: device " + std::to_string(st.dstat) + ", subchannel " + std::to_string(st.cstat));
    return false;
  }
  bytes_ += plan.bytes;
  if (!plan.write && plan.bytes && p_.verify && !verify_read(plan)) fail("blocks read back with the wrong content");
  return true;
}

// Halt or clear the program `interrupt_after` after its start (unless it has
// ended by then).
bool CcwWorkload::drive_interrupt(IoStatus* s) {
  if (io_.wait_status(s, sc_time(p_.interrupt_after_ns, SC_NS))) {
    if (s->scsw.final()) return true;
  }
  const bool halt = p_.interrupt == "halt";
  const int cc = halt ? io_.halt() : io_.clear();
  if (cc == 0) ++(halt ? halts_ : clears_);
  return io_.wait_final(s);
}

// Wait for the suspension, turn the S flag off, resume.
bool CcwWorkload::drive_suspend(uint64_t suspend_ccw, IoStatus* s) {
  const sc_time timeout(io_.cio().timeout_ns, SC_NS);
  while (io_.wait_status(s, timeout)) {
    if (s->scsw.final()) return true;
    if (!s->scsw.suspended()) continue;
    uint8_t flags;
    io_.memory().read(suspend_ccw + 1, &flags, 1);
    flags &= static_cast<uint8_t>(~ccw::SUSPEND);
    io_.memory().write(suspend_ccw + 1, &flags, 1);
    if (io_.resume() != 0) return false;
    ++suspends_;
    return io_.wait_final(s);
  }
  return false;
}

// Streaming: `count` programs of `blocks` WRITEs, a REWIND, the same READs.
void CcwWorkload::run_stream() {
  for (int phase = 0; phase < 2; ++phase) {
    for (uint64_t i = 0; i < p_.count; ++i)
      if (!stream_program(phase == 0 ? kTapeWrite : kTapeRead, i * p_.blocks, false)) return;
    if (phase == 0 && !stream_program(kTapeRewind, 0, true)) return;
  }
}

bool CcwWorkload::stream_program(uint8_t cmd, uint64_t first, bool rewind) {
  Plan pl;
  pl.first = first;
  pl.bytes = rewind ? 0 : uint64_t(p_.blocks) * g_.block_size;
  pl.write = cmd == kTapeWrite;
  uint64_t at = buf_->program;
  if (rewind) {
    put_ccw(at, kTapeRewind, 0, 0, 0);
  } else {
    if (pl.write) prepare_write(pl);
    for (uint32_t k = 0; k < p_.blocks; ++k, at += 8)
      put_ccw(at, cmd, k + 1 < p_.blocks ? ccw::CC : 0, static_cast<uint16_t>(g_.block_size),
              static_cast<uint32_t>(block_buffer(k)));
    at -= 8;
  }
  uint8_t orb[ccw::orb::kBytes];
  ccw::put_orb(orb, 0, static_cast<uint32_t>(ccw::orb::F | ccw::orb::P | ccw::orb::H | ccw::orb::LPM.encode(0x80)),
               static_cast<uint32_t>(buf_->program));
  io_.memory().write(buf_->orb, orb, sizeof orb);
  cpu_.sync();
  return execute(pl, at);
}

}  // namespace iommusim::fw
