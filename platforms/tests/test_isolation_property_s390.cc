// SPDX-License-Identifier: Apache-2.0
// Isolation as a property on the s390 platform: three guests, each with a
// block device passed through vfio-ccw, run random channel programs at once.
// Each program writes blocks tagged with the device and the program's number
// (DEFINE EXTENT, LOCATE, WRITE; Linux dasd_fba.c), then reads them back into
// a random data area of its guest's memory, addressed directly (crossing
// pages or not), through a format-2 IDAL, through MIDAWs, or by data-chained
// CCWs (z/Architecture PoP chapter 15 "Basic I/O Functions": CCW, IDAW,
// MIDAW). One program in five names a data page beyond its guest's memory.
// After each program the harness scans the host pages behind every guest's
// memory and checks:
//   - a tag lands only in the host pages vfio-ccw's translation of the
//     program's data area gives (the guest's memory map, pinned for the
//     program): never in another guest's memory, never elsewhere in its own;
//   - every byte of the area of a program that ended normally holds the tag;
//   - a program vfio-ccw cannot translate (a page beyond the guest's memory)
//     ends with an error and stores nothing, and leaves nothing pinned.
// The control: the same check computed with guest addresses taken as host
// addresses (as if vfio-ccw passed the program through untranslated) must
// report violations, so the check can fail.
// The seed comes from IOMMUSIM_PROPERTY_SEED (isolation_property.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "firmware/ccw_layout.h"
#include "isolation_property.h"
#include "platforms/config.h"
#include "platforms/s390.h"

using namespace iommusim;
namespace ccw = iommusim::fw::ccw;
using isolation::kMagic;
using isolation::kPage;
using sc_core::sc_time;

namespace {

constexpr unsigned kDevices = 3, kBlock = 512, kDataPages = 48, kStep = 64;  // tags every 64 bytes
constexpr uint8_t kDefineExtent = 0x63, kLocate = 0x43, kRead = 0x42, kWrite = 0x41;  // Linux dasd_fba.c
constexpr uint64_t kGuestSize = 1 << 20;

struct Segment {
  uint64_t gpa;
  uint32_t len;
};

class S390Property {
public:
  S390Property(S390Platform& p, bool control) : p_(p), control_(control), rng_(isolation::seed() * 0x9e3779b97f4a7c15ull + control) {}

  void run(unsigned programs) {
    unsigned done = 0;
    sc_core::sc_event all_done;
    for (unsigned d = 0; d < kDevices; ++d)
      sc_core::sc_spawn([this, d, programs, &done, &all_done] {
        device_loop(d, programs);
        if (++done == kDevices) all_done.notify();
      });
    sc_core::wait(all_done);
  }

  unsigned programs = 0, normal = 0, refused = 0, tags_checked = 0;
  std::vector<std::string> violations;

private:
  struct Device {
    std::string name;
    uint64_t control = 0, source = 0;  // guest pages: ORB and program; the WRITE's data
    std::vector<uint64_t> data;        // guest pages for the READs' areas, in guest-contiguous pairs
  };
  void device_loop(unsigned d, unsigned n);
  ccw::Status execute(Device& dev, uint32_t block, unsigned blocks, bool write, const std::vector<Segment>& area,
                      const std::string& shape);
  uint64_t put_data_ccws(Device& dev, uint64_t at, uint8_t cmd, const std::vector<Segment>& area,
                         const std::string& shape, uint32_t* orb_flags);
  std::vector<Segment> random_area(Device& dev, unsigned blocks, const std::string& shape);
  void check(unsigned d, uint64_t tag, const std::vector<Segment>& area, bool stored, const std::string& what);
  bool expected_at(unsigned d, const std::vector<Segment>& area, uint64_t hpa);

  fw::PhysMemory& guest(unsigned d) { return *p_.guest_memory(devs_[d].name); }
  uint64_t host(unsigned d, uint64_t gpa) {
    uint64_t hpa = 0;
    return p_.guest_memory(devs_[d].name)->translate(gpa, &hpa) ? hpa : ~0ull;
  }
  void put_ccw(unsigned d, uint64_t at, uint8_t cmd, uint8_t flags, uint32_t count, uint64_t cda) {
    uint8_t b[ccw::kCcwBytes];
    ccw::put_ccw1(b, cmd, flags, static_cast<uint16_t>(count), static_cast<uint32_t>(cda));
    guest(d).write(at, b, sizeof b);
  }

  S390Platform& p_;
  bool control_;
  std::mt19937_64 rng_;
  Device devs_[kDevices];
};

// One device's programs: a tagged WRITE of 1 to 4 blocks, then a READ of
// them into a random area (one in five with a page beyond the guest).
void S390Property::device_loop(unsigned d, unsigned n) {
  Device& dev = devs_[d];
  dev.name = "g" + std::to_string(d);
  fw::ChannelIo& io = p_.channel_io(dev.name);
  dev.control = io.alloc_control();
  dev.source = io.alloc_data(1, true);
  for (unsigned k = 0; k < kDataPages; k += 2) {  // pairs of guest-contiguous pages: a direct area may cross
    const uint64_t pair = io.alloc_data(2, false);
    dev.data.push_back(pair);
    dev.data.push_back(pair + kPage);
  }
  const char* shapes[] = {"direct", "idaw", "midaw", "chained"};
  for (uint64_t seq = 0; seq < n; ++seq) {
    const unsigned blocks = 1 + rng_() % 4;
    const uint32_t block = static_cast<uint32_t>(rng_() % 64);
    const uint64_t tag = kMagic | uint64_t(d) << 32 | seq;
    uint8_t page[kPage];
    for (unsigned k = 0; k < kPage; k += 8) store_be64(page + k, tag);
    guest(d).write(dev.source, page, blocks * kBlock);
    const ccw::Status w = execute(dev, block, blocks, true, {{dev.source, blocks * kBlock}}, "direct");
    if (w.dstat != (ccw::DSTAT_CE | ccw::DSTAT_DE) || w.cstat) {
      violations.push_back(dev.name + ": the tagged WRITE ended with device status " + std::to_string(w.dstat));
      continue;
    }
    const std::string shape = shapes[rng_() % 4];
    std::vector<Segment> area = random_area(dev, blocks, shape);
    const bool beyond = rng_() % 5 == 0;
    if (beyond) area[rng_() % area.size()].gpa = kGuestSize + kPage * (rng_() % 16) + (area[0].gpa % kPage);
    const ccw::Status r = execute(dev, block, blocks, false, area, shape);
    const bool ok = r.dstat == (ccw::DSTAT_CE | ccw::DSTAT_DE) && !r.cstat;
    ++programs;
    ok ? ++normal : ++refused;
    const std::string what = dev.name + " program " + std::to_string(seq) + " (" + shape + (beyond ? ", a page beyond" : "") + ")";
    if (beyond == ok) violations.push_back(what + (ok ? " ended normally" : " did not end normally"));
    if (io.pins_outstanding()) violations.push_back(what + " left pages pinned");
    check(d, tag, area, ok, what);
  }
}

// DEFINE EXTENT of the blocks (write or read permission), LOCATE, the data
// CCWs; the ORB (format-1 CCWs, prefetch, format-2 IDAWs; MIDAWs where used).
ccw::Status S390Property::execute(Device& dev, uint32_t block, unsigned blocks, bool write,
                                  const std::vector<Segment>& area, const std::string& shape) {
  const unsigned d = static_cast<unsigned>(&dev - devs_);
  const uint64_t orb_at = dev.control, program = dev.control + 0x100, params = dev.control + 0x600;
  uint8_t de[16] = {};
  de[0] = write ? 0x00 : 0x40;
  store_be(de + 2, kBlock, 2);
  store_be32(de + 4, block);
  store_be32(de + 12, blocks - 1);
  guest(d).write(params, de, sizeof de);
  uint8_t lo[8] = {static_cast<uint8_t>(write ? 0x05 : 0x06), 0};
  store_be(lo + 2, blocks, 2);
  store_be32(lo + 4, 0);
  guest(d).write(params + 16, lo, sizeof lo);
  put_ccw(d, program, kDefineExtent, ccw::CC, 16, params);
  put_ccw(d, program + 8, kLocate, ccw::CC, 8, params + 16);
  uint32_t word1 = static_cast<uint32_t>(ccw::orb::F | ccw::orb::P | ccw::orb::H | ccw::orb::LPM.encode(0x80));
  put_data_ccws(dev, program + 16, write ? kWrite : kRead, area, shape, &word1);
  uint8_t orb[ccw::orb::kBytes];
  ccw::put_orb(orb, 0, word1, static_cast<uint32_t>(program));
  guest(d).write(orb_at, orb, sizeof orb);
  fw::ChannelIo& io = p_.channel_io(dev.name);
  fw::IoStatus st;
  if (io.start(orb_at) != 0 || !io.wait_final(&st)) {
    violations.push_back(dev.name + ": the program did not start or end");
    return {};
  }
  return st.scsw;
}

// The data CCWs of `area` in its shape; the list (IDAL or MIDAWs) after them.
uint64_t S390Property::put_data_ccws(Device& dev, uint64_t at, uint8_t cmd, const std::vector<Segment>& area,
                                     const std::string& shape, uint32_t* orb_flags) {
  const unsigned d = static_cast<unsigned>(&dev - devs_);
  const uint64_t list = dev.control + 0x800;
  uint32_t total = 0;
  for (const Segment& s : area) total += s.len;
  if (shape == "direct") {
    put_ccw(d, at, cmd, 0, total, area[0].gpa);
  } else if (shape == "idaw") {  // one IDAW per 4K block the area touches
    for (size_t k = 0; k < area.size(); ++k) {
      uint8_t w[8];
      store_be64(w, area[k].gpa);
      guest(d).write(list + 8 * k, w, 8);
    }
    put_ccw(d, at, cmd, ccw::IDA, total, list);
  } else if (shape == "midaw") {
    for (size_t k = 0; k < area.size(); ++k) {
      uint8_t w[16];
      ccw::put_midaw(w, k + 1 < area.size() ? 0 : ccw::kMidawLast, static_cast<uint16_t>(area[k].len), area[k].gpa);
      guest(d).write(list + 16 * k, w, 16);
    }
    put_ccw(d, at, cmd, ccw::MIDA, total, list);
    *orb_flags |= static_cast<uint32_t>(ccw::orb::D);
  } else {  // data chained: one CCW per segment
    for (size_t k = 0; k < area.size(); ++k, at += 8)
      put_ccw(d, at, cmd, k + 1 < area.size() ? ccw::CD : 0, area[k].len, area[k].gpa);
  }
  return at;
}

// Direct: one guest-contiguous run (it may cross into the next page). IDAL:
// the first IDAW anywhere, the others at page starts, each up to its page's
// end. MIDAWs and chained CCWs: one block each, anywhere inside a page.
std::vector<Segment> S390Property::random_area(Device& dev, unsigned blocks, const std::string& shape) {
  auto page = [&] { return dev.data[rng_() % kDataPages]; };
  auto first_of_pair = [&] { return dev.data[2 * (rng_() % (kDataPages / 2))]; };
  auto offset = [&](uint32_t room) { return kStep * (rng_() % ((kPage - room) / kStep + 1)); };
  const uint32_t total = blocks * kBlock;
  std::vector<Segment> area;
  if (shape == "direct") {
    area.push_back({first_of_pair() + offset(kStep), total});  // ends in the pair's second page at the latest
  } else if (shape == "idaw") {
    uint64_t at = page() + offset(kStep);
    for (uint32_t left = total; left > 0; at = page()) {
      const uint32_t n = std::min<uint32_t>(left, static_cast<uint32_t>(kPage - at % kPage));
      area.push_back({at, n});
      left -= n;
    }
  } else {
    for (unsigned k = 0; k < blocks; ++k) area.push_back({page() + offset(kBlock), kBlock});
  }
  return area;
}

// Is host address `hpa` inside the area as the program's guest translates it
// (the control: as if guest addresses were host addresses)?
bool S390Property::expected_at(unsigned d, const std::vector<Segment>& area, uint64_t hpa) {
  for (const Segment& s : area)
    for (uint64_t g = s.gpa; g < s.gpa + s.len; g = (g | (kPage - 1)) + 1) {
      const uint64_t end = std::min<uint64_t>(s.gpa + s.len, (g | (kPage - 1)) + 1);
      const uint64_t h = control_ ? g : host(d, g);
      if (h != ~0ull && hpa >= h && hpa < h + (end - g)) return true;
    }
  return false;
}

// Every 64-byte position of every guest's memory (host side): where the tag is.
void S390Property::check(unsigned d, uint64_t tag, const std::vector<Segment>& area, bool stored,
                         const std::string& what) {
  const SparseMemory& ram = p_.memory().storage();
  const uint64_t source = host(d, devs_[d].source);
  unsigned found = 0;
  for (unsigned g = 0; g < kDevices; ++g)
    for (uint64_t gpa = 0; gpa < kGuestSize; gpa += kPage) {
      const uint64_t h = host(g, gpa);
      if (h == source) continue;  // the WRITE's own data
      for (uint64_t o = 0; o < kPage; o += kStep) {
        if (ram.read_be(h + o, 8) != tag) continue;
        ++found;
        if (!stored || !expected_at(d, area, h + o))
          violations.push_back(what + ": its data at host " + std::to_string(h + o) + " (guest " + std::to_string(g) +
                               " page " + std::to_string(gpa) + "), outside what the program was translated to");
      }
    }
  std::set<uint64_t> positions;  // segments may overlap (two MIDAWs into one page): count each position once
  for (const Segment& s : area)
    for (uint64_t g = s.gpa; g < s.gpa + s.len; g += kStep) positions.insert(g);
  const size_t expected = positions.size();
  tags_checked += found;
  if (stored && found != expected)
    violations.push_back(what + ": " + std::to_string(found) + " of " + std::to_string(expected) +
                         " positions of its area hold its data");
}

std::vector<std::string> settings() {
  std::vector<std::string> s = {"system.devices=g0 g1 g2", "kernel.guest_size=" + std::to_string(kGuestSize)};
  for (unsigned d = 0; d < kDevices; ++d)
    for (const char* kv : {"mode=vfio", "count=0", "rpm=0", "seek_min=0", "seek_max=0"})
      s.push_back("g" + std::to_string(d) + "." + kv);
  return s;
}

void property(bool control, unsigned programs) {
  S390Platform p;
  ParamList params;
  ConfigSet config;
  for (const auto& s : settings()) ASSERT_EQ(config.add_override(s), "") << s;
  ASSERT_EQ(configure_platform(p, config, params), "");
  StatGroup root("system");
  TraceWriter trace(0);
  SystemParams sys;
  sys.platform = "s390";
  ASSERT_EQ(p.elaborate(sys, root, trace), "");
  S390Property prop(p, control);
  sc_core::sc_spawn([&] {
    while (!p.finished()) sc_core::wait(p.progress_event());  // the workloads enabled their subchannels
    prop.run(programs);
    sc_core::sc_stop();
  });
  sc_core::sc_start(sc_time(10, sc_core::SC_SEC));
  std::printf("%s seed %llu: %u programs, %u ended normally, %u refused, %u tags found, %zu violations\n",
              control ? "control" : "vfio-ccw", static_cast<unsigned long long>(isolation::seed()), prop.programs,
              prop.normal, prop.refused, prop.tags_checked, prop.violations.size());
  EXPECT_EQ(prop.programs, kDevices * programs);
  EXPECT_GT(prop.normal, prop.programs / 2);
  EXPECT_GT(prop.refused, 0u);
  if (control) {
    EXPECT_GT(prop.violations.size(), 0u) << "the check ignoring the guest memory map must fail";
    return;
  }
  for (size_t i = 0; i < prop.violations.size() && i < 10; ++i) ADD_FAILURE() << prop.violations[i];
  EXPECT_TRUE(prop.violations.empty()) << prop.violations.size() << " violations, seed " << isolation::seed();
}

}  // namespace

TEST(IsolationPropertyS390, ChannelProgramsStoreOnlyWhereVfioCcwTranslatedThem) { property(false, 40); }
TEST(IsolationPropertyS390, ControlACheckIgnoringTheGuestMapFails) { property(true, 20); }
