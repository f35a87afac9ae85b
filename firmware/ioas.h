// SPDX-License-Identifier: Apache-2.0
// The IOAS layer of the kernel model, after Linux iommufd
// (Documentation/userspace-api/iommufd.rst):
//  - I/O address spaces (IOAS): allocate/free, map/unmap at a fixed IOVA or at
//    one the layer chooses, with read/write permissions;
//  - usable IOVA windows (base may be non-zero) minus reserved holes: the
//    platform's (given to the constructor; x86 passes its MSI window) and the
//    ones each unit reserves; on a unit with DMA windows (PAPR DDW) only what
//    the attached devices' windows cover, as iommufd reports a PPC IOAS's two
//    windows ("iommufd: vfio container FD ioctl compatibility", linux-iommu,
//    April 2022);
//  - devices attached with IOMMU-group constraints: a group is never split
//    across address spaces (the attach is refused with a message that says why);
//  - several IOASes per device, told apart by IOVA range (attach_ranges: like
//    PPC's two DMA windows, each range its own IOAS) or by PASID
//    (attach_pasid); the group check covers every form of attach
//    ("iommufd: IOMMU_IOASID_ALLOC/FREE", iommu list, October 2021);
//  - HW-specific domains (HWPT objects; the first is a nested domain with a
//    user-managed first-level table and a PASID) and "replace": switching an
//    attached device to another domain in one step, no blocking window and no
//    window in which DMA escapes to the old domain after replace returns;
//  - fault events delivered to their owner with a serial number; a hardware
//    event seen again while still pending (or through an alias requester id
//    shared by several devices) is folded into the pending event;
//  - error-recovery events of a PE (PAPR EEH): one event per freeze, delivered
//    once to every device of the PE; later errors and faults of the frozen PE
//    fold into it until a recovery step through the layer brings it back.
// Pure C++; the hardware-specific work goes through an IommuBackend and the
// capabilities it offers (firmware/iommu_backend.h). Backend calls may block
// (they run in a SystemC thread and consume the driver's CPU time).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/stats.h"
#include "common/trace.h"
#include "firmware/iommu_backend.h"
#include "firmware/iommu_types.h"
#include "firmware/iova_rcache.h"

namespace iommusim::fw {

struct FaultEvent {
  uint64_t serial = 0;                 // unique, increasing from 1
  uint32_t owner = 0;                  // IOAS or HWPT id the faulting device was attached to
  std::vector<std::string> devices;    // every device the requester stands for
  HwFault fault;                       // fault.unit: the unit that reported it
  uint64_t occurrences = 1;            // duplicates folded into this event
};

// A PE the unit froze (PAPR EEH): MMIO and DMA of every device in it stopped.
struct PeErrorEvent {
  uint64_t serial = 0;                 // numbered with the fault events
  std::string unit;
  Requester pe;
  PeState state = PeState::Stopped;    // as the unit reported it when the event opened
  std::vector<std::string> devices;    // every device of the PE, each told once
  uint64_t occurrences = 1;            // reports and faults folded in while the PE stayed frozen
  bool recovered = false;              // back to normal after a recovery step through the layer
};

// One IOAS of a device attached by IOVA range: untagged DMA inside `range`
// translates through `ioas` (ranges of one device never overlap).
struct RangeAttachment {
  IovaRange range;
  uint32_t ioas = 0;
  bool operator==(const RangeAttachment& o) const { return range == o.range && ioas == o.ioas; }
};

struct IoasOptions {
  uint64_t base = 0;                     // first usable IOVA (may be non-zero)
  uint64_t last = (1ull << 48) - 1;      // last usable IOVA
  // IOVAs the layer picks come from Linux's IOVA range caches first
  // (iova_rcache.h), as the kernel's DMA API allocates them; off for IOASes
  // whose IOVAs user space picks or IOMMU_IOAS_MAP allocates (iommufd).
  bool iova_rcache = false;
};

// The IOVA range caches of the IOASes that use them, summed.
struct IovaRcacheStats {
  uint64_t hits = 0, misses = 0;
  uint64_t held = 0;      // IOVAs in the caches now
  uint64_t flushing = 0;  // freed IOVAs waiting for their invalidation to complete
};

class IoasLayer {
public:
  // `platform_holes`: reserved on every IOAS (the platform's untranslated
  // ranges, e.g. the x86 interrupt window).
  explicit IoasLayer(std::vector<IovaRange> platform_holes);
  ~IoasLayer();

  // ---- devices (registered by the platform) ----
  // `requester`: the identity `backend` isolates the device by (a PCI
  // requester id; on a PAPR unit the device's PE). `group`: IOMMU group
  // number (devices that cannot be isolated from each other).
  std::string register_device(const std::string& name, const Requester& requester, unsigned group,
                              IommuBackend* backend);

  // ---- IOAS objects ----
  uint32_t ioas_alloc(const IoasOptions& opt = {});
  std::string ioas_free(uint32_t ioas);
  // Usable: [base, last] within every unit's aperture, holes removed, and on
  // units with DMA windows inside the windows of every device attached.
  std::vector<IovaRange> iova_windows(uint32_t ioas) const;
  std::vector<IovaRange> reserved_holes(uint32_t ioas) const;

  // Map at *iova (fixed = true) or at an IOVA the layer picks (written back to
  // *iova; aligned to the largest power of two <= size, up to 1 GiB, so
  // superpages stay possible; with IoasOptions::iova_rcache first from the
  // IOVA range caches, which take a freed IOVA only once its invalidation
  // completed; otherwise next fit from the last chosen IOVA, wrapping around).
  // Applied to every domain of the IOAS.
  std::string map(uint32_t ioas, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm,
                  bool fixed);
  // Unmaps every mapping inside [iova, iova+size); a mapping that straddles an
  // end is refused (nothing unmapped). *unmapped gets the bytes.
  std::string unmap(uint32_t ioas, uint64_t iova, uint64_t size, uint64_t* unmapped = nullptr);
  uint64_t mapped_bytes(uint32_t ioas) const;
  IovaRcacheStats iova_rcache_stats() const;
  // iova_rcache.{hits,misses,held,flushing} in `group`, read from iova_rcache_stats().
  void register_stats(StatGroup& group) const;
  // With an active scope: a "kernel map" / "kernel unmap" slice per call, over
  // the simulated time the call took (page-table writes, invalidation wait).
  void set_trace(const TraceScope& scope) { trace_ = scope; }

  // ---- attach (IommuPaging; PASID attachments IommuPasid) ----
  // Attaches (or replaces: an attached device is switched in one step) `device`
  // to an IOAS or a HWPT. Refused if another device of its IOMMU group is
  // attached to a different object, or, on a unit with DMA windows, if the
  // IOAS has mappings outside the device's windows.
  std::string attach(const std::string& device, uint32_t object);
  std::string detach(const std::string& device);
  // PASID attachments (SVM and nested domains): requests tagged with `pasid`.
  std::string attach_pasid(const std::string& device, uint32_t pasid, uint32_t object);
  std::string detach_pasid(const std::string& device, uint32_t pasid);
  // The object `device` is attached to (0: none, or attached by range).
  uint32_t attached_to(const std::string& device) const;

  // ---- several IOASes by IOVA range (IommuPaging; ioas_ranges.cc) ----
  // Attaches (or replaces, in one step) the untagged DMA of `device` to one
  // IOAS per range. Refused: overlapping or unaligned ranges, an object that
  // is not an IOAS, an IOAS with mappings outside its range, a group member
  // attached to a set this one does not contain or that does not contain it.
  // The unit sees one domain for the device (one table per requester on
  // VT-d: a context entry points at one second-level table), written with
  // each IOAS's mappings inside that IOAS's range; map/unmap of a member IOAS
  // reach it, and the member's usable IOVAs shrink to its range.
  std::string attach_ranges(const std::string& device, std::vector<RangeAttachment> ranges);
  // The device's range attachments, by start address (empty: none).
  std::vector<RangeAttachment> attached_ranges(const std::string& device) const;

  // ---- HW-specific domains (IommuNested) ----
  // Nested domain: user first-level table at `fl_root` (guest physical =
  // IOVA of `parent_ioas`) nested over the parent's domain. Created on the
  // backend of `device` (the device is not attached by this call).
  std::string hwpt_alloc_nested(uint32_t parent_ioas, const std::string& device, uint64_t fl_root,
                                uint32_t* hwpt);
  std::string hwpt_free(uint32_t hwpt);

  // ---- DMA windows of the device's PE (IommuDmaWindows) ----
  // Each operation refreshes the windows the layer bounds IOVAs with; one that
  // would leave a mapping of an IOAS the PE is attached to outside every
  // window is refused.
  std::string query_dma_windows(const std::string& device, DmaWindowQuery* out);
  std::string create_dma_window(const std::string& device, unsigned page_shift, uint64_t size,
                                DmaWindow* created = nullptr);
  std::string remove_dma_window(const std::string& device, uint32_t liobn);
  std::string reset_dma_windows(const std::string& device);

  // ---- faults ----
  // Called by a backend's fault service for each fault record it read; the
  // event names the unit after `backend`. On a unit with error recovery, a
  // fault of a PE that is not in the normal state is that PE's error event.
  // "" or why the report was not taken (no backend).
  std::string report_fault(IommuBackend* backend, HwFault f);
  // Pending (not yet acknowledged) events of one owner, oldest first.
  std::vector<FaultEvent> fault_events(uint32_t owner) const;
  // All events ever delivered (pending or acknowledged), in serial order.
  const std::vector<FaultEvent>& fault_log() const { return log_; }
  // The owner has handled the event: a later identical fault gets a new serial.
  void ack_fault(uint64_t serial);
  // Optional callback per new event (not for folded duplicates).
  void on_fault(std::function<void(const FaultEvent&)> cb) { fault_cb_ = std::move(cb); }
  uint64_t duplicates_folded() const { return folded_; }
  uint64_t unowned_faults() const { return unowned_; }

  // ---- error recovery (IommuErrorRecovery) ----
  // Called by a backend when it froze `pe` (or saw it frozen). A PE with an
  // open event folds the report into it; otherwise a new event (new serial)
  // reaches every device of the PE once.
  std::string report_pe_error(IommuBackend* backend, const Requester& pe);
  std::string pe_state(const std::string& device, PeState* out);
  // One recovery step on the device's PE; when the PE is normal afterwards its
  // open event closes (recovered), and the next error opens a new one.
  std::string recover_pe(const std::string& device, PeRecovery step);
  const std::vector<PeErrorEvent>& pe_error_log() const { return pe_log_; }
  // Callback per device per new PE event.
  void on_pe_error(std::function<void(const std::string& device, const PeErrorEvent&)> cb) {
    pe_cb_ = std::move(cb);
  }

private:
  std::string map_untraced(uint32_t id, uint64_t* iova, uint64_t pa, uint64_t size, const Perm& perm, bool fixed);
  std::string unmap_untraced(uint32_t id, uint64_t iova, uint64_t size, uint64_t* unmapped);
  // The slice of one call that started at `start_ns`: IOVA, size, PA (map) and result.
  void trace_call(const char* name, double start_ns, const TraceArgs& args, const std::string& err) const;

  // `span`: the IOVA range the mapping holds (its size, or on an IOAS with
  // IOVA range caches the rounded-up size the DMA API allocated).
  struct Mapping { uint64_t pa, size; Perm perm; uint64_t span; };
  // `split`: 0 for the IOAS's own domain on `backend`; otherwise the id of
  // the range-split domain this entry also lists (shared by several IOASes).
  struct Domain { IommuBackend* backend; IommuPaging* paging; uint32_t handle; uint32_t split = 0; };
  // A domain holding several IOASes, each inside its range (attach_ranges).
  struct SplitDomain {
    Domain dom;
    std::vector<RangeAttachment> ranges;              // by start address
  };
  struct Ioas {
    IoasOptions opt;
    std::map<uint64_t, Mapping> maps;                 // by IOVA
    uint64_t cursor = 0;                              // next-fit: chosen IOVAs move up (without
                                                      // rcache a just-freed range is not reused at once)
    std::vector<Domain> domains;                      // one per backend in use
    std::unique_ptr<IovaRcache> rcache;               // opt.iova_rcache
    std::map<uint64_t, uint64_t> held;                // unmapped IOVAs the rcache path keeps, IOVA -> span
    std::deque<std::pair<uint64_t, uint64_t>> flushing;  // of those, waiting for their invalidation, oldest first
  };
  struct Hwpt {
    uint32_t parent;                                  // the IOAS it nests over
    Domain dom;
  };
  struct Device {
    std::string name;
    Requester requester;
    unsigned group;
    IommuBackend* backend;
    uint32_t object = 0;                              // attached IOAS/HWPT, 0 = none
    std::map<uint32_t, uint32_t> pasids;              // pasid -> object
    std::vector<RangeAttachment> ranges;              // attached by range (object is 0 then)
    uint32_t split = 0;                               // the SplitDomain it uses (ranges non-empty)
    std::vector<DmaWindow> windows;                   // its PE's DMA windows, as last queried
    size_t index = 0;                                 // its place in devices_ (registration order)
    std::vector<uint32_t> member_of;                  // the objects members_ lists it under
  };
  using PeKey = std::pair<const IommuBackend*, Requester>;
  // Devices in registration order (the order every per-device answer and
  // message follows), by object, PE or group: a map, an attach or a window
  // change visits the devices it concerns, not every device registered, so
  // its cost does not grow with the endpoints of the platform.
  using DeviceSet = std::map<size_t, Device*>;

  Ioas* ioas(uint32_t id);
  const Ioas* ioas(uint32_t id) const;
  Device* device(const std::string& name);
  std::string lacks(const Device& d, const char* capability) const;
  bool attached_here(const Device& d, uint32_t ioas) const;
  // Lists `d` under every object it is attached to now (whole, by PASID or by
  // range), and under no other; called whenever its attachments change. Every
  // use of members() still asks attached_here(): an entry left behind would
  // cost a visit, never a wrong answer; a missing one would (tests/test_ioas.cc).
  void reindex_members(Device& d);
  // The devices attached to `object` in any way (empty set if none).
  const DeviceSet& members(uint32_t object) const;
  // The devices of `backend`'s PE `pe` (one requester on that unit).
  const DeviceSet& pe_devices(const IommuBackend* backend, const Requester& pe) const;
  // The domain of `object` on the device's unit (created and populated for an
  // IOAS on first use).
  std::string domain_for(uint32_t object, const Device& d, IommuPaging& paging, uint32_t* handle);
  static const Domain* find_domain(const Ioas& a, const IommuBackend* backend);
  std::string populate_domain(uint32_t object, const Domain& dom, uint32_t* handle);
  // Writes the mappings IOAS `id` has now into `dom` (skipping those unmapped
  // while an earlier domain_map blocked); "" or the first error.
  std::string replay_mappings(uint32_t id, const Domain& dom);
  // Every form of attach: `untagged` and `pasids` are what `d` would have
  // afterwards; refused if a member of its group is attached otherwise.
  std::string group_check(const Device& d, const std::vector<RangeAttachment>& untagged,
                          const std::map<uint32_t, uint32_t>& pasids) const;
  static std::vector<RangeAttachment> untagged_of(const Device& d);

  // Range attachments (ioas_ranges.cc).
  std::string check_ranges(const std::vector<RangeAttachment>& ranges) const;
  std::string split_domain_for(const Device& d, const std::vector<RangeAttachment>& ranges, uint32_t* split);
  std::string populate_split(uint32_t split);
  void drop_domain_entries(const IommuPaging* paging, uint32_t handle);
  void release_split(uint32_t split);
  void set_untagged(Device& d, uint32_t object, std::vector<RangeAttachment> ranges, uint32_t split);
  bool in_usable_window(uint32_t id, uint64_t iova, uint64_t size) const;
  bool overlaps(const Ioas& a, uint64_t iova, uint64_t size) const;
  std::string check_fixed(uint32_t id, const Ioas& a, uint64_t iova, uint64_t size) const;
  std::string choose_iova(uint32_t id, Ioas& a, uint64_t size, uint64_t* iova) const;
  // IOVA range caches (ioas_rcache.cc).
  bool take_cached_iova(uint32_t id, Ioas& a, uint64_t span, uint64_t* iova) const;
  void release_iova(Ioas& a, uint64_t iova, uint64_t span) const;
  void drain_flushed(Ioas& a) const;
  static bool held_overlaps(const Ioas& a, uint64_t iova, uint64_t size, uint64_t* next);
  std::string map_in_domains(Ioas& a, uint64_t iova, uint64_t pa, uint64_t size, const Perm& perm);

  // DMA windows (ioas_windows.cc).
  uint32_t ioas_behind(uint32_t object) const;          // an IOAS itself, or a HWPT's parent
  // Device `name` and its unit's DMA windows, the PE's windows refreshed
  // (into *query too); nullptr and *err when any of that fails.
  IommuDmaWindows* windows_of(const std::string& name, Device** d, std::string* err,
                              DmaWindowQuery* query = nullptr);
  std::string refresh_windows(Device& d, IommuDmaWindows& w, DmaWindowQuery* out = nullptr);
  std::string mappings_outside(uint32_t ioas, const std::vector<DmaWindow>& windows) const;
  std::string windows_keep_mappings(const Device& d, const std::vector<DmaWindow>& windows) const;
  std::string windows_cover(Device& d, uint32_t object);
  // Applies `change` to the PE of device `name` unless the windows `kept`
  // selects would leave a mapping outside them (`what` says where it is).
  std::string change_windows(const std::string& name, const std::function<bool(const DmaWindow&)>& kept,
                             const std::string& what,
                             const std::function<std::string(IommuDmaWindows&, const Requester&)>& change);

  // Events (ioas_events.cc).
  std::map<uint32_t, std::vector<std::string>> fault_owners(const IommuBackend* backend, const HwFault& f) const;
  bool fold_fault(uint32_t owner, const HwFault& f);
  bool frozen_pe_takes_fault(IommuBackend* backend, const HwFault& f);
  bool fold_into_open_pe(const IommuBackend* backend, const Requester& pe);
  void open_pe_event(IommuBackend* backend, const Requester& pe, PeState state);

  std::vector<IovaRange> platform_holes_;
  uint32_t next_id_ = 1;
  std::map<uint32_t, Ioas> ioas_;
  std::map<uint32_t, Hwpt> hwpt_;
  std::map<uint32_t, SplitDomain> splits_;
  uint32_t next_split_ = 1;
  std::vector<std::unique_ptr<Device>> devices_;
  std::unordered_map<std::string, Device*> by_name_;
  std::map<uint32_t, DeviceSet> members_;             // object -> devices attached to it
  std::map<PeKey, DeviceSet> pe_devices_;
  std::map<unsigned, DeviceSet> groups_;              // IOMMU group -> its devices

  std::vector<FaultEvent> log_;
  std::map<uint64_t, size_t> pending_;   // serial -> index in log_
  uint64_t next_serial_ = 1;
  uint64_t folded_ = 0;
  uint64_t unowned_ = 0;
  std::function<void(const FaultEvent&)> fault_cb_;

  std::vector<PeErrorEvent> pe_log_;
  std::map<PeKey, size_t> open_pe_;      // frozen PE -> index in pe_log_
  std::function<void(const std::string&, const PeErrorEvent&)> pe_cb_;
  TraceScope trace_;
};

}  // namespace iommusim::fw
