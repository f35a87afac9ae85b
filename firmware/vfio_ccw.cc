// SPDX-License-Identifier: Apache-2.0
#include "firmware/vfio_ccw.h"

#include <algorithm>
#include <numeric>

#include "common/byte_order.h"

namespace iommusim::fw {

using sc_core::sc_time;
using sc_core::SC_NS;

namespace {
constexpr uint64_t k2G = 1ull << 31;
constexpr unsigned kMaxChains = 256;
constexpr unsigned kMaxMidaws = 4096 / 16;

// Linux vfio_ccw_cp.c ccw_does_data_transfer: no count, a NOP, or a skipped
// read or sense moves no data and pins nothing.
bool moves_data(const ccw::Ccw1& c) {
  if (c.count == 0 || c.cmd == ccw::kNop) return false;
  if (!(c.flags & ccw::SKIP)) return true;
  const bool read = (c.cmd & 0x03) == 0x02, backward = (c.cmd & 0x0f) == 0x0c, sense = (c.cmd & 0x0f) == 0x04;
  return !(read || backward || sense);
}
}  // namespace

// ---------------------------------------------------------------------------

GuestMemory::GuestMemory(uint64_t size, PageAllocator& host, PhysMemory& host_memory, bool scatter, uint64_t seed)
    : frames_(size / kPageSize), host_(host_memory) {
  for (uint64_t& f : frames_) {
    f = host.alloc_page();
    ok_ = ok_ && f != 0;
  }
  if (scatter) {  // consecutive guest pages in no particular host order
    std::mt19937_64 rng(seed);
    std::shuffle(frames_.begin(), frames_.end(), rng);
  }
}

bool GuestMemory::translate(uint64_t gpa, uint64_t* hpa) const {
  const uint64_t page = gpa / kPageSize;
  if (page >= frames_.size()) return false;
  *hpa = frames_[page] + gpa % kPageSize;
  return true;
}

template <typename Access>
bool GuestMemory::each_page(uint64_t gpa, unsigned len, Access access) {
  for (unsigned done = 0; done < len;) {
    uint64_t hpa;
    if (!translate(gpa + done, &hpa)) return false;
    const unsigned n = static_cast<unsigned>(std::min<uint64_t>(len - done, kPageSize - (gpa + done) % kPageSize));
    if (!access(hpa, done, n)) return false;
    done += n;
  }
  return true;
}

bool GuestMemory::read(uint64_t gpa, void* buf, unsigned len) {
  auto* b = static_cast<uint8_t*>(buf);
  return each_page(gpa, len, [&](uint64_t hpa, unsigned off, unsigned n) { return host_.read(hpa, b + off, n); });
}

bool GuestMemory::write(uint64_t gpa, const void* buf, unsigned len) {
  const auto* b = static_cast<const uint8_t*>(buf);
  return each_page(gpa, len, [&](uint64_t hpa, unsigned off, unsigned n) { return host_.write(hpa, b + off, n); });
}

// ---------------------------------------------------------------------------

PinTable::PinTable(StatGroup& stats)
    : pins_(stats.counter("pins", "guest pages pinned (once per pin)")),
      unpins_(stats.counter("unpins", "guest pages unpinned")),
      peak_(stats.counter("pinned_peak", "most guest pin counts outstanding at once")) {
  const PinTable* self = this;
  stats.gauge("pins_outstanding", "pin counts not yet released",
              [self] { return self->pins_outstanding(); }, "pins");
}

void PinTable::pin(uint64_t guest_page) {
  ++counts_[guest_page];
  ++outstanding_;
  ++pins_;
  if (outstanding_ > peak_.value()) peak_.set(outstanding_);
}

void PinTable::unpin(uint64_t guest_page) {
  auto it = counts_.find(guest_page);
  if (it == counts_.end()) return;
  if (--it->second == 0) counts_.erase(it);
  --outstanding_;
  ++unpins_;
}

uint32_t PinTable::count(uint64_t guest_page) const {
  auto it = counts_.find(guest_page);
  return it == counts_.end() ? 0 : it->second;
}

// ---------------------------------------------------------------------------

struct CpTranslator::Context {
  TranslatedProgram* tp = nullptr;
  uint64_t cpa = 0;          // the guest's channel-program address
  bool format1 = true;       // guest ORB F
  bool guest_idaw2 = false;  // guest ORB H
  uint64_t block = 4096;     // IDAW block, guest's and host's: 2 KiB unless format-2 4K IDAWs
  std::vector<std::vector<ccw::Ccw1>> chains;
};

CpTranslator::CpTranslator(const VfioCcwParams& p, GuestMemory& guest, PinTable& pins, PhysMemory& host,
                           PageAllocator& dma31, CpuPort& cpu, const Counters& counters)
    : p_(p), guest_(guest), pins_(pins), host_(host), dma31_(dma31), cpu_(cpu), counters_(counters) {}

void CpTranslator::charge(double ns) {
  cpu_.charge_ns(ns);
  counters_.cpu_ns += static_cast<uint64_t>(ns);
}

uint64_t CpTranslator::host_page(Context& c) {
  const uint64_t pa = dma31_.alloc_page();
  if (pa) c.tp->host_pages.push_back(pa);
  return pa;
}

int CpTranslator::translate(const uint8_t* guest_orb, TranslatedProgram* out) {
  *out = TranslatedProgram{};
  const uint32_t word1 = load_be32(guest_orb + 4);
  if (word1 & ccw::orb::B) return -ccw::err::kNotSupp;  // transport mode
  Context c;
  c.tp = out;
  c.format1 = (word1 & ccw::orb::F) != 0;
  c.guest_idaw2 = (word1 & ccw::orb::H) != 0;
  c.block = c.guest_idaw2 && !(word1 & ccw::orb::T) ? 4096 : 2048;
  c.cpa = load_be32(guest_orb + 8) & 0x7fffffffu;
  int rc = copy_chains(c);
  for (size_t i = 0; rc == 0 && i < c.chains.size(); ++i) rc = translate_chain(c, i, c.chains[i]);
  if (rc != 0) {
    release(out);
    return rc;
  }
  const uint32_t lpm = static_cast<uint32_t>(ccw::orb::LPM.extract(word1));
  const uint32_t kept = static_cast<uint32_t>(ccw::orb::S | ccw::orb::P | ccw::orb::I | ccw::orb::U | ccw::orb::L |
                                              ccw::orb::D);
  out->orb_word1 = (word1 & kept) | static_cast<uint32_t>(ccw::orb::F | ccw::orb::H) |
                   (c.block == 2048 ? static_cast<uint32_t>(ccw::orb::T) : 0u) |
                   static_cast<uint32_t>(ccw::orb::LPM.encode(lpm ? lpm : 0xff));
  return 0;
}

// cp_init: chain by chain from the CPA; a TIC into no chain yet starts one.
int CpTranslator::copy_chains(Context& c) {
  std::vector<uint64_t> heads{c.cpa};
  auto in_chain = [&](uint64_t a) {
    for (const auto& ch : c.tp->chains)
      if (a >= ch.guest && a <= ch.guest + 8ull * (ch.length - 1)) return true;
    return false;
  };
  while (!heads.empty()) {
    const uint64_t head = heads.back();
    heads.pop_back();
    if (in_chain(head)) continue;
    if (c.tp->chains.size() >= kMaxChains) return -ccw::err::kInval;
    std::vector<ccw::Ccw1> ccws;
    if (int rc = read_chain(c, head, &ccws); rc != 0) return rc;
    const uint64_t host = host_page(c);
    if (!host) return -ccw::err::kNoMem;
    c.tp->chains.push_back({head, host, static_cast<unsigned>(ccws.size())});
    for (const ccw::Ccw1& x : ccws)
      if (ccw::is_tic(x) && !in_chain(x.cda)) heads.push_back(x.cda);
    c.chains.push_back(std::move(ccws));
  }
  return 0;
}

// A chain goes on while command or data chaining does, or through a TIC back
// into itself (Linux ccwchain_calc_length); at most max_chain CCWs.
int CpTranslator::read_chain(Context& c, uint64_t head, std::vector<ccw::Ccw1>* ccws) {
  if (head % 8) return -ccw::err::kInval;  // the real channel would fetch it elsewhere: refused
  for (unsigned n = 0; n < p_.max_chain; ++n) {
    uint8_t b[8];
    if (!guest_.read(head + 8ull * n, b, 8)) return -ccw::err::kFault;
    charge(p_.ccw_ns);
    const ccw::Ccw1 x = c.format1 ? ccw::get_ccw1(b) : ccw::get_ccw0(b);
    ccws->push_back(x);
    const bool tic_back = ccw::is_tic(x) && x.cda >= head && x.cda <= head + 8ull * n;
    if (!(x.flags & (ccw::CC | ccw::CD)) && !tic_back) return 0;
  }
  return -ccw::err::kInval;
}

int CpTranslator::translate_chain(Context& c, size_t index, std::vector<ccw::Ccw1>& ccws) {
  const TranslatedProgram::Chain& chain = c.tp->chains[index];
  for (size_t i = 0; i < ccws.size(); ++i) {
    ccw::Ccw1& x = ccws[i];
    if (ccw::is_tic(x)) {
      const auto& all = c.tp->chains;
      auto target = std::find_if(all.begin(), all.end(), [&](const TranslatedProgram::Chain& ch) {
        return x.cda >= ch.guest && x.cda <= ch.guest + 8ull * (ch.length - 1);
      });
      if (target == all.end()) return -ccw::err::kFault;
      x.cda = static_cast<uint32_t>(target->host + (x.cda - target->guest));
    } else if (int rc = translate_data(c, x); rc != 0) {
      return rc;
    }
    uint8_t b[8];
    ccw::put_ccw1(b, x.cmd, x.flags, x.count, x.cda);
    host_.write(chain.host + 8 * i, b, 8);
    ++c.tp->ccws;
    ++counters_.ccws;
  }
  return 0;
}

int CpTranslator::translate_data(Context& c, ccw::Ccw1& x) {
  if (!moves_data(x)) {  // nothing is accessed: no address to translate
    x.flags &= static_cast<uint8_t>(~(ccw::IDA | ccw::MIDA));
    x.cda = 0;
    return 0;
  }
  if (x.flags & ccw::MIDA) return translate_midal(c, x);
  if (x.flags & ccw::IDA) return translate_idal(c, x);
  return translate_direct(c, x);
}

// Pins every guest page of [gpa, gpa + len); the host address of gpa.
bool CpTranslator::pin_range(Context& c, uint64_t gpa, uint64_t len, uint64_t* hpa) {
  if (!guest_.translate(gpa, hpa)) return false;
  for (uint64_t page = gpa / kPageSize; page <= (gpa + len - 1) / kPageSize; ++page) {
    uint64_t h;
    if (!guest_.translate(page * kPageSize, &h)) return false;
    pins_.pin(page);
    c.tp->pins.push_back(page);
    charge(p_.page_ns);
  }
  return true;
}

// A direct CCW: direct on the host too when its data lies in one guest page
// and below 2 GiB on the host, else through an IDAL of the host pages.
int CpTranslator::translate_direct(Context& c, ccw::Ccw1& x) {
  if (x.cda & 0x80000000u) {  // bit 0 of a format-1 address: the channel's program check, nothing accessed
    x.cda = 0x80000000u;
    return 0;
  }
  uint64_t hpa;
  if (!pin_range(c, x.cda, x.count, &hpa)) return -ccw::err::kFault;
  const bool one_page = x.cda / kPageSize == (uint64_t(x.cda) + x.count - 1) / kPageSize;
  if (!p_.always_idal && one_page && hpa + x.count <= k2G) {
    x.cda = static_cast<uint32_t>(hpa);
    return 0;
  }
  std::vector<uint64_t> hosts{hpa};
  for (uint64_t g = (x.cda / c.block + 1) * c.block; g < uint64_t(x.cda) + x.count; g += c.block) {
    if (!guest_.translate(g, &hpa)) return -ccw::err::kFault;
    hosts.push_back(hpa);
  }
  return build_idal(c, hosts, x);
}

// A guest IDAL: each IDAW's block translated; the host's IDAWs have the same
// offsets in their pages, so a guest IDAW off its block boundary is the host
// channel's program check as well.
int CpTranslator::translate_idal(Context& c, ccw::Ccw1& x) {
  const unsigned size = c.guest_idaw2 ? 8 : 4;
  if (x.cda % size) {  // misaligned list: give the host channel a misaligned one
    const uint64_t page = host_page(c);
    if (!page) return -ccw::err::kNoMem;
    x.cda = static_cast<uint32_t>(page + 2);
    return 0;
  }
  auto idaw = [&](unsigned k, uint64_t* a) {
    uint8_t b[8];
    if (!guest_.read(x.cda + uint64_t(k) * size, b, size)) return -ccw::err::kFault;
    if (size == 4 && (b[0] & 0x80)) return -ccw::err::kInval;  // format-1 bit 0: nothing to translate it to
    *a = size == 8 ? load_be64(b) : load_be32(b);
    return 0;
  };
  uint64_t first;
  if (int rc = idaw(0, &first); rc != 0) return rc;
  const uint64_t head = c.block - first % c.block;
  const unsigned n = 1 + (x.count > head ? static_cast<unsigned>((x.count - head + c.block - 1) / c.block) : 0);
  std::vector<uint64_t> hosts;
  for (unsigned k = 0; k < n; ++k) {
    uint64_t a = first, hpa;
    if (k > 0) {
      if (int rc = idaw(k, &a); rc != 0) return rc;
    }
    const uint64_t span = std::min<uint64_t>(c.block - a % c.block, x.count);
    if (!pin_range(c, a, span, &hpa)) return -ccw::err::kFault;
    hosts.push_back(hpa);
  }
  return build_idal(c, hosts, x);
}

int CpTranslator::build_idal(Context& c, const std::vector<uint64_t>& hosts, ccw::Ccw1& x) {
  const uint64_t page = host_page(c);
  if (!page) return -ccw::err::kNoMem;
  for (size_t k = 0; k < hosts.size(); ++k) {
    uint8_t b[8];
    store_be64(b, hosts[k]);
    host_.write(page + 8 * k, b, 8);
  }
  x.cda = static_cast<uint32_t>(page);
  x.flags |= ccw::IDA;
  ++c.tp->idals;
  c.tp->idaws += hosts.size();
  ++counters_.idals;
  counters_.idaws += hosts.size();
  return 0;
}

// A guest MIDAW list: each MIDAW's data address translated (a skipped one is
// never accessed); flags, counts and offsets are kept, so the host channel
// makes the same checks.
int CpTranslator::translate_midal(Context& c, ccw::Ccw1& x) {
  const uint64_t page = host_page(c);
  if (!page) return -ccw::err::kNoMem;
  if (x.cda % 16) {  // misaligned list: so is the host's
    x.cda = static_cast<uint32_t>(page + 8);
    return 0;
  }
  uint64_t total = 0;
  for (unsigned k = 0; k < kMaxMidaws && total < x.count; ++k) {
    const uint64_t at = x.cda + 16ull * k;
    if (k > 0 && at % kPageSize == 0) return -ccw::err::kInval;  // a list across a page: not copied as one
    uint8_t b[16];
    if (!guest_.read(at, b, 16)) return -ccw::err::kFault;
    const uint8_t flags = static_cast<uint8_t>(load_be64(b) >> 16);
    const uint16_t count = static_cast<uint16_t>(load_be64(b));
    uint64_t address = load_be64(b + 8), hpa = 0;
    if (!(flags & ccw::kMidawSkip) && count > 0) {
      const uint64_t span = std::min<uint64_t>(count, kPageSize - address % kPageSize);
      if (!pin_range(c, address, span, &hpa)) return -ccw::err::kFault;
      address = hpa;
    }
    store_be64(b + 8, address);  // doubleword 0 (flags, count) unchanged
    host_.write(page + 16ull * k, b, 16);
    ++c.tp->midaws;
    ++counters_.midaws;
    total += count;
    if (flags & ccw::kMidawLast) break;
  }
  x.cda = static_cast<uint32_t>(page);
  return 0;
}

uint32_t CpTranslator::back_translate(const TranslatedProgram& tp, uint32_t host_cpa) {
  for (const auto& ch : tp.chains)  // on success the CPA is one past the chain's last CCW
    if (host_cpa >= ch.host && host_cpa <= ch.host + 8ull * ch.length)
      return static_cast<uint32_t>(ch.guest + (host_cpa - ch.host));
  return host_cpa;
}

void CpTranslator::release(TranslatedProgram* tp) {
  for (uint64_t page : tp->pins) {
    pins_.unpin(page);
    charge(p_.unpin_ns);
  }
  for (uint64_t pa : tp->host_pages) dma31_.free_page(pa);
  *tp = TranslatedProgram{};
}

// ---------------------------------------------------------------------------

VfioCcwDevice::VfioCcwDevice(const std::string& name, const VfioCcwParams& p, GuestMemory& guest,
                             CioDevice& host_driver, CpuPort& cpu, PageAllocator& dma31, StatGroup* parent)
    : p_(p),
      host_(host_driver),
      cpu_(cpu),
      io_region_(dma31.alloc_page()),
      host_orb_(io_region_ + 0x400),
      stats_(name, parent),
      pins_(stats_),
      cpu_ns_(stats_.counter("cpu_ns", "host CPU time of the mediation (its named costs)", "ns")),
      translator_(p, guest, pins_, cpu, dma31, cpu,
                  CpTranslator::Counters{stats_.counter("ccws", "guest CCWs translated"),
                                         stats_.counter("idals", "IDALs built"),
                                         stats_.counter("idaws", "IDAWs written into built IDALs"),
                                         stats_.counter("midaws", "MIDAWs translated"), cpu_ns_}),
      requests_(stats_.counter("requests", "I/O-region writes (START requests)")),
      refused_(stats_.counter("refused", "requests refused: the program could not be translated safely")),
      busy_(stats_.counter("busy", "requests answered -EBUSY")),
      halts_(stats_.counter("halts", "HSCH through the command region")),
      clears_(stats_.counter("clears", "CSCH through the command region")),
      back_translations_(stats_.counter("back_translations", "CPAs translated back to guest addresses")) {
  host_.on_status([this](const IoStatus& s) { host_status(s); });
}

void VfioCcwDevice::charge(double ns) {
  cpu_.charge_ns(ns);
  cpu_ns_ += static_cast<uint64_t>(ns);
}

// vfio_ccw_fsm: a START request while a program is in flight is busy; any
// other function in the SCSW area is not supported through this region.
void VfioCcwDevice::io_region_written() {
  charge(p_.region_ns);
  uint8_t region[ccw::vfio_region::kBytes];
  cpu_.read(io_region_, region, sizeof region);
  ++requests_;
  const ccw::Status scsw = ccw::get_scsw(region + ccw::vfio_region::kScswArea);
  int rc;
  if (active_) {
    ++busy_;
    rc = -ccw::err::kBusy;
  } else if (scsw.fc() != ccw::scsw::FC_START) {
    rc = -ccw::err::kNotSupp;
  } else {
    rc = start_translated(region + ccw::vfio_region::kOrbArea);
  }
  uint8_t b[4];
  store_be32(b, static_cast<uint32_t>(rc));
  cpu_.write(io_region_ + ccw::vfio_region::kRetCode, b, 4);
}

int VfioCcwDevice::start_translated(const uint8_t* orb) {
  if (int rc = translator_.translate(orb, &program_); rc != 0) {
    ++refused_;
    return rc;
  }
  uint8_t b[ccw::orb::kBytes];
  ccw::put_orb(b, host_.sid(), program_.orb_word1, static_cast<uint32_t>(program_.chains.front().host));
  cpu_.write(host_orb_, b, sizeof b);
  const int cc = host_.start(host_orb_);
  if (cc == 0) {
    active_ = true;
    return 0;
  }
  translator_.release(&program_);
  return cc == 3 ? -ccw::err::kNoDev : -ccw::err::kBusy;
}

void VfioCcwDevice::cmd_region_written() {
  charge(p_.region_ns);
  uint8_t b[4];
  cpu_.read(cmd_region() + ccw::vfio_region::kCmdCommand, b, 4);
  const uint32_t command = load_be32(b);
  int cc = 3;
  if (command == ccw::vfio_region::kAsyncHalt) {
    ++halts_;
    cc = host_.halt();
  } else if (command == ccw::vfio_region::kAsyncClear) {
    ++clears_;
    cc = host_.clear();
  }
  const int rc = cc == 0 ? 0 : cc == 3 ? -ccw::err::kNoDev : -ccw::err::kBusy;
  store_be32(b, static_cast<uint32_t>(command == ccw::vfio_region::kAsyncHalt ||
                                              command == ccw::vfio_region::kAsyncClear
                                          ? rc
                                          : -ccw::err::kInval));
  cpu_.write(cmd_region() + ccw::vfio_region::kCmdRetCode, b, 4);
}

// The host's status: the CPA back in guest terms, the IRB into the region,
// the program freed once the function has ended, the guest notified.
void VfioCcwDevice::host_status(const IoStatus& s) {
  charge(p_.irq_ns);
  std::array<uint8_t, ccw::kIrbBytes> irb = s.irb;
  if (active_) {
    store_be32(irb.data() + 4, CpTranslator::back_translate(program_, s.scsw.cpa));
    ++back_translations_;
  }
  cpu_.write(io_region_ + ccw::vfio_region::kIrbArea, irb.data(), ccw::kIrbBytes);
  if (s.scsw.final() && active_) {
    translator_.release(&program_);
    active_ = false;
  }
  deliveries_.push_back(sc_core::sc_time_stamp() + sc_time(p_.inject_ns, SC_NS));
  guest_event_.notify(sc_time(p_.inject_ns, SC_NS));
}

void VfioCcwDevice::take_status() {
  while (status_ready()) deliveries_.pop_front();
}

}  // namespace iommusim::fw
