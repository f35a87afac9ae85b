// SPDX-License-Identifier: Apache-2.0
// The hardware-specific half of the kernel model's IOMMU support: one backend
// per translation unit (a driver), and the capabilities a backend may have.
//
// A capability is a small interface a backend implements only if its unit has
// it; the backend hands it out through an as_*() accessor that returns nullptr
// otherwise. We chose accessors over dynamic_cast so the answer is explicit in
// each backend, needs no RTTI, and may come from a helper object the backend
// owns (a PE-state machine, say) instead of the backend itself. The IOAS layer
// asks for the capability an operation needs and, when the device's backend
// lacks it, refuses with a message naming the device, the unit and the
// capability.
//
//   capability          operations                                   VT-d driver
//   IommuPaging         paging domains, map/unmap, device attach     yes
//   IommuNested         nested domain over a paging parent           yes
//   IommuPasid          attach a domain to (requester, PASID)        yes
//   IommuDmaWindows     PAPR dynamic DMA windows (DDW)               no
//   IommuErrorRecovery  PAPR EEH: PE state, thaw, reset              no
//
// Every call may block (backends run in SystemC threads and charge their CPU time).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "firmware/iommu_types.h"

namespace iommusim::fw {

class IommuPaging;
class IommuNested;
class IommuPasid;
class IommuDmaWindows;
class IommuErrorRecovery;

class IommuBackend {
public:
  virtual ~IommuBackend() = default;
  virtual std::string backend_name() const = 0;
  // Holes the hardware imposes on every domain of this unit (beyond the platform's).
  virtual std::vector<IovaRange> reserved_regions() const { return {}; }
  // Highest IOVA the unit translates (VT-d: MGAW).
  virtual uint64_t aperture_last() const { return (1ull << 48) - 1; }

  virtual IommuPaging* as_paging() { return nullptr; }
  virtual IommuNested* as_nested() { return nullptr; }
  virtual IommuPasid* as_pasid() { return nullptr; }
  virtual IommuDmaWindows* as_dma_windows() { return nullptr; }
  virtual IommuErrorRecovery* as_error_recovery() { return nullptr; }
};

// Paging domains: an I/O page table per domain, mapped and unmapped by the
// layer, and the requests of a device pointed at one.
class IommuPaging {
public:
  virtual ~IommuPaging() = default;
  // "" and *handle != 0, or why not.
  virtual std::string domain_alloc(uint32_t* handle) = 0;
  virtual void domain_free(uint32_t handle) = 0;
  virtual std::string domain_map(uint32_t handle, uint64_t iova, uint64_t pa, uint64_t size,
                                 const Perm& perm) = 0;
  virtual std::string domain_unmap(uint32_t handle, uint64_t iova, uint64_t size) = 0;
  // An unmap of domain `handle` that touched [iova, iova + size) has returned
  // but the invalidation covering it has not completed (deferred invalidation:
  // Linux's flush queue). Such an IOVA must not be handed out again yet.
  virtual bool invalidation_pending(uint32_t handle, uint64_t iova, uint64_t size) const {
    (void)handle, (void)iova, (void)size;
    return false;
  }
  // Points the untagged requests of `requester` at domain `handle` (0 =
  // blocked), replacing the previous domain in one step; when it returns, no
  // cached translation of the previous domain is used for this requester.
  virtual std::string attach_device(const Requester& requester, uint32_t handle) = 0;
};

// Nested translation: a first-level table the user built in its own memory
// (guest-physical = IOVA of the parent) over a paging domain's table.
class IommuNested {
public:
  virtual ~IommuNested() = default;
  virtual std::string nested_domain_alloc(uint32_t parent, uint64_t fl_root, uint32_t* handle) = 0;
};

// PASID-tagged requests (PCIe PASID TLP prefix): a domain per (requester, PASID).
class IommuPasid {
public:
  virtual ~IommuPasid() = default;
  // As IommuPaging::attach_device, for the requests of `requester` tagged with `pasid`.
  virtual std::string attach_pasid(const Requester& requester, uint32_t pasid, uint32_t handle) = 0;
};

// One DMA window of a PE: a bus-address range translated through its own TCE
// table (LoPAPR, Dynamic DMA Windows: ibm,create-pe-dma-window returns the
// window's LIOBN and starting bus address).
struct DmaWindow {
  uint32_t liobn = 0;        // logical I/O bus number: names the window's TCE table
  IovaRange range;           // bus addresses it translates
  unsigned page_shift = 12;  // log2 of the window's I/O page size
  bool is_default = false;   // the window the PE has after ibm,reset-pe-dma-windows
};

// What ibm,query-pe-dma-window reports, with the PE's current windows.
struct DmaWindowQuery {
  std::vector<DmaWindow> windows;       // the PE's windows now
  uint32_t windows_available = 0;       // windows it may still create
  uint64_t largest_block = 0;           // I/O pages in the largest block a new window may use
  std::vector<unsigned> page_shifts;    // page sizes a new window may use (log2)
};

class IommuDmaWindows {
public:
  virtual ~IommuDmaWindows() = default;
  virtual std::string query_windows(const Requester& pe, DmaWindowQuery* out) = 0;
  // A window of `size` bytes with 2^page_shift-byte pages, placed by the unit.
  virtual std::string create_window(const Requester& pe, unsigned page_shift, uint64_t size, DmaWindow* out) = 0;
  virtual std::string remove_window(const Requester& pe, uint32_t liobn) = 0;
  // Removes every window the PE created and restores its default window.
  virtual std::string reset_windows(const Requester& pe) = 0;
};

// PE state as ibm,read-slot-reset-state2 reports it (LoPAPR; Linux
// arch/powerpc/platforms/pseries/eeh_pseries.c decodes the same values).
enum class PeState : uint8_t {
  Normal = 0,         // not reset, not stopped: MMIO and DMA pass
  ResetAsserted = 1,  // reset active
  Stopped = 2,        // frozen: MMIO loads read all ones, stores and DMA are dropped
  MmioEnabled = 4,    // stopped, with MMIO thawed (DMA still stopped)
  Unavailable = 5,    // temporarily unavailable (recovery in progress)
};
const char* pe_state_name(PeState s);

// One recovery step (LoPAPR ibm,set-eeh-option options 2 and 3, ibm,set-slot-reset functions 1, 3 and 0).
enum class PeRecovery : uint8_t { ThawMmio, ThawDma, ResetHot, ResetFundamental, ResetDeactivate };

class IommuErrorRecovery {
public:
  virtual ~IommuErrorRecovery() = default;
  virtual std::string pe_state(const Requester& pe, PeState* out) = 0;
  virtual std::string recover_pe(const Requester& pe, PeRecovery step) = 0;
};

}  // namespace iommusim::fw
