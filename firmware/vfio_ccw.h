// SPDX-License-Identifier: Apache-2.0
// vfio-ccw: a channel-attached device passed to a guest, its channel programs
// mediated by the host kernel (kvm list, "vfio-ccw: basic infrastructure",
// April 2016; Linux drivers/s390/cio/vfio_ccw_cp.c, vfio_ccw_fsm.c; the
// regions of include/uapi/linux/vfio_ccw.h; QEMU hw/vfio/ccw.c on the other
// side).
//
//   GuestMemory    the guest's physical memory: 4 KiB pages, each backed by a
//                  host page (shuffled when scattered, as a long-running
//                  guest's memory is).
//   PinTable       a pin count per guest page (vfio_pin_pages/_unpin_pages).
//   CpTranslator   cp_init + cp_prefetch: copies the guest's program chain by
//                  chain (a chain ends where command and data chaining end;
//                  a TIC outside every chain starts another), converts format-0
//                  CCWs to format 1, translates every data address, TIC target,
//                  IDAW and MIDAW through the guest memory map, pins the data
//                  pages, and builds a format-2 IDAL where the data crosses a
//                  page or lies above 2 GiB (or for every data CCW, as Linux
//                  does, with always_idal). What it cannot translate safely it
//                  refuses with an errno, unpinning what it pinned.
//                  cp_update_scsw: the CPA back to the guest's CCW address.
//   VfioCcwDevice  the mediated device: the I/O region (ORB, SCSW and IRB
//                  areas, a return code) and the asynchronous-command region
//                  (HSCH, CSCH), the translated program started on the real
//                  subchannel, the status copied back to the region on the
//                  host interruption and the guest notified.
// Every CPU cost (per CCW, per pinned page, the intercept, the region write,
// the interruption) is a parameter.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <random>
#include <string>
#include <vector>
#include <systemc>

#include "common/params.h"
#include "common/stats.h"
#include "firmware/cio.h"
#include "firmware/cpu_port.h"
#include "firmware/page_allocator.h"
#include "firmware/phys_mem.h"

namespace iommusim::fw {

#define IOMMUSIM_VFIO_CCW_PARAMS(P)                                                                           \
  P(double, intercept_ns, "vfio.intercept", 3000, in_range(0, 1e9), "ns",                                     \
    "a guest I/O instruction intercepted and handed to QEMU (SIE exit, QEMU's handler)", "assumption")       \
  P(double, region_ns, "vfio.region_write", 2000, in_range(0, 1e9), "ns",                                     \
    "QEMU's write of the I/O or command region: the system call into vfio-ccw", "assumption")                \
  P(double, ccw_ns, "vfio.per_ccw", 150, in_range(0, 1e9), "ns", "copy and translate one CCW",               \
    "assumption")                                                                                             \
  P(double, page_ns, "vfio.per_page", 400, in_range(0, 1e9), "ns",                                            \
    "pin one guest page and translate its address (vfio_pin_pages)", "assumption")                           \
  P(double, unpin_ns, "vfio.per_unpin", 100, in_range(0, 1e9), "ns", "unpin one page when the program ends",  \
    "assumption")                                                                                             \
  P(double, irq_ns, "vfio.interrupt", 1500, in_range(0, 1e9), "ns",                                           \
    "host work on the device's status: CPA back-translation, IRB copy, freeing the program", "assumption")   \
  P(double, inject_ns, "vfio.inject", 4000, in_range(0, 1e9), "ns",                                           \
    "from the host's status to the guest's I/O interruption (eventfd, QEMU, KVM injection)", "assumption")   \
  P(uint32_t, max_chain, "vfio.max_chain", 256, in_range(1, 512), "CCWs", "CCWs one chain may hold",          \
    "Linux vfio_ccw_cp.c: CCWCHAIN_LEN_MAX 256")                                                              \
  P(bool, always_idal, "vfio.always_idal", false, boolean(), "",                                              \
    "build an IDAL for every data CCW, as Linux does (false: only where the data crosses a page or lies "     \
    "above 2 GiB)",                                                                                           \
    "the mediation this model studies: IDALs only where needed")

struct VfioCcwParams {
  IOMMUSIM_PARAM_FIELDS(IOMMUSIM_VFIO_CCW_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(IOMMUSIM_VFIO_CCW_PARAMS, *this, p); }
};

class GuestMemory : public PhysMemory {
public:
  // `size` bytes (4 KiB multiple) of guest-physical memory from 0.
  GuestMemory(uint64_t size, PageAllocator& host, PhysMemory& host_memory, bool scatter, uint64_t seed);
  uint64_t size() const { return frames_.size() * kPageSize; }
  bool ok() const { return ok_; }
  // The host address of guest-physical `gpa`; false outside guest memory.
  bool translate(uint64_t gpa, uint64_t* hpa) const;
  // Guest CPU accesses (page by page, through the host's memory).
  bool read(uint64_t gpa, void* buf, unsigned len) override;
  bool write(uint64_t gpa, const void* buf, unsigned len) override;

private:
  template <typename Access>
  bool each_page(uint64_t gpa, unsigned len, Access access);
  std::vector<uint64_t> frames_;  // the host page of each guest page
  PhysMemory& host_;
  bool ok_ = true;
};

class PinTable {
public:
  explicit PinTable(StatGroup& stats);
  void pin(uint64_t guest_page);
  void unpin(uint64_t guest_page);
  uint32_t count(uint64_t guest_page) const;
  uint64_t pinned_pages() const { return counts_.size(); }
  uint64_t pins_outstanding() const { return outstanding_; }

private:
  std::map<uint64_t, uint32_t> counts_;
  uint64_t outstanding_ = 0;
  Counter& pins_;
  Counter& unpins_;
  Counter& peak_;
};

// A guest program, translated.
struct TranslatedProgram {
  struct Chain {
    uint64_t guest = 0;  // guest address of its first CCW
    uint64_t host = 0;   // the host copy
    unsigned length = 0; // CCWs
  };
  std::vector<Chain> chains;
  std::vector<uint64_t> pins;        // guest pages pinned, once per pin
  std::vector<uint64_t> host_pages;  // host pages holding the copies, IDALs and MIDAW lists
  uint32_t orb_word1 = 0;            // the host ORB's flags
  uint64_t ccws = 0, idals = 0, idaws = 0, midaws = 0;
};

class CpTranslator {
public:
  struct Counters {
    Counter& ccws;
    Counter& idals;
    Counter& idaws;
    Counter& midaws;
    Counter& cpu_ns;  // the mediation's CPU time: each charge lands here too
  };
  CpTranslator(const VfioCcwParams& p, GuestMemory& guest, PinTable& pins, PhysMemory& host, PageAllocator& dma31,
               CpuPort& cpu, const Counters& counters);
  // The guest ORB (12 bytes): 0 with `out` ready to start, or a negated errno
  // (nothing stays pinned or allocated).
  int translate(const uint8_t* guest_orb, TranslatedProgram* out);
  // cp_update_scsw: the guest address of a host CPA (unchanged if in no chain).
  static uint32_t back_translate(const TranslatedProgram& tp, uint32_t host_cpa);
  // cp_free: unpin and free.
  void release(TranslatedProgram* tp);

private:
  struct Context;
  int copy_chains(Context& c);
  int read_chain(Context& c, uint64_t head, std::vector<ccw::Ccw1>* ccws);
  int translate_chain(Context& c, size_t index, std::vector<ccw::Ccw1>& ccws);
  int translate_data(Context& c, ccw::Ccw1& ccw);
  int translate_direct(Context& c, ccw::Ccw1& ccw);
  int translate_idal(Context& c, ccw::Ccw1& ccw);
  int translate_midal(Context& c, ccw::Ccw1& ccw);
  int build_idal(Context& c, const std::vector<uint64_t>& host_addresses, ccw::Ccw1& ccw);
  bool pin_range(Context& c, uint64_t gpa, uint64_t len, uint64_t* hpa);
  uint64_t host_page(Context& c);
  void charge(double ns);

  VfioCcwParams p_;
  GuestMemory& guest_;
  PinTable& pins_;
  PhysMemory& host_;
  PageAllocator& dma31_;
  CpuPort& cpu_;
  Counters counters_;
};

class VfioCcwDevice {
public:
  VfioCcwDevice(const std::string& name, const VfioCcwParams& p, GuestMemory& guest, CioDevice& host_driver,
                CpuPort& cpu, PageAllocator& dma31, StatGroup* parent);
  std::string enable() { return host_.enable(); }
  // Where QEMU maps the regions (host memory).
  uint64_t io_region() const { return io_region_; }
  uint64_t cmd_region() const { return io_region_ + 0x800; }
  // QEMU wrote the I/O region (a START request): the return code is in the region.
  void io_region_written();
  // QEMU wrote the command region (HSCH or CSCH).
  void cmd_region_written();
  // Notified when the IRB area holds a new status for the guest: the guest's
  // I/O interruption. A status not yet taken is overwritten by a newer one.
  const sc_core::sc_event& guest_interruption() const { return guest_event_; }
  bool status_ready() const { return !deliveries_.empty() && deliveries_.front() <= sc_core::sc_time_stamp(); }
  // The guest takes the IRB area's status (every interruption that has arrived).
  void take_status();
  const PinTable& pins() const { return pins_; }
  uint64_t cpu_ns() const { return cpu_ns_.value(); }
  bool busy() const { return active_; }

private:
  void host_status(const IoStatus& s);
  void charge(double ns);
  int start_translated(const uint8_t* orb);

  VfioCcwParams p_;
  CioDevice& host_;
  CpuPort& cpu_;
  uint64_t io_region_ = 0, host_orb_ = 0;
  StatGroup stats_;
  PinTable pins_;
  Counter& cpu_ns_;
  CpTranslator translator_;
  TranslatedProgram program_;
  bool active_ = false;
  sc_core::sc_event guest_event_;
  std::deque<sc_core::sc_time> deliveries_;  // when each status reaches the guest
  Counter& requests_;
  Counter& refused_;
  Counter& busy_;
  Counter& halts_;
  Counter& clears_;
  Counter& back_translations_;
};

}  // namespace iommusim::fw
