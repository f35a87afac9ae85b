// SPDX-License-Identifier: Apache-2.0
// Downstream memory as a translation engine sees it: the in-memory tables it
// walks, the queues it reads and the records it writes. A unit implements it
// over its TLM initiator socket (tlm_memory_port.h); pure-logic tests implement
// it over SparseMemory.
#pragma once

#include <cstdint>
#include <systemc>

namespace iommusim::iommu {

struct MemoryPort {
  virtual ~MemoryPort() = default;
  // Reads or writes len bytes at physical address pa and adds the access time
  // to `delay`. false on a bus error (the caller raises the architected
  // access-error fault of the structure it was reading).
  virtual bool read(uint64_t pa, void* buf, unsigned len, sc_core::sc_time& delay) = 0;
  virtual bool write(uint64_t pa, const void* buf, unsigned len, sc_core::sc_time& delay) = 0;
  // The same access in zero time and without touching any timing resource
  // (TLM transport_dbg), for the functional mode. By default a timed access
  // whose time is dropped.
  virtual bool peek(uint64_t pa, void* buf, unsigned len) {
    sc_core::sc_time ignored = sc_core::SC_ZERO_TIME;
    return read(pa, buf, len, ignored);
  }
  virtual bool poke(uint64_t pa, const void* buf, unsigned len) {
    sc_core::sc_time ignored = sc_core::SC_ZERO_TIME;
    return write(pa, buf, len, ignored);
  }
};

}  // namespace iommusim::iommu
