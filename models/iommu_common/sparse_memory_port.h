// SPDX-License-Identifier: Apache-2.0
// A MemoryPort over SparseMemory, for running a translation engine as plain
// C++ (unit tests, tools): every timed access costs a fixed latency, accesses
// are counted, and chosen 4 KiB pages answer a bus error, as a decode error of
// the memory system would.
#pragma once

#include <cstdint>
#include <set>
#include <systemc>

#include "common/sparse_memory.h"
#include "iommu_common/memory_port.h"

namespace iommusim::iommu {

class SparseMemoryPort : public MemoryPort {
public:
  explicit SparseMemoryPort(SparseMemory& m, sc_core::sc_time lat = sc_core::sc_time(50, sc_core::SC_NS))
      : mem(m), latency(lat) {}
  bool read(uint64_t pa, void* buf, unsigned len, sc_core::sc_time& delay) override {
    ++reads;
    delay += latency;
    return !faulty(pa) && mem.read(pa, buf, len);
  }
  bool write(uint64_t pa, const void* buf, unsigned len, sc_core::sc_time& delay) override {
    ++writes;
    delay += latency;
    return !faulty(pa) && mem.write(pa, buf, len);
  }
  // Debug accesses: no time, not counted.
  bool peek(uint64_t pa, void* buf, unsigned len) override { return !faulty(pa) && mem.read(pa, buf, len); }
  bool poke(uint64_t pa, const void* buf, unsigned len) override { return !faulty(pa) && mem.write(pa, buf, len); }

  SparseMemory& mem;
  sc_core::sc_time latency;
  unsigned reads = 0, writes = 0;
  std::set<uint64_t> bad;  // 4K pages that give a bus error

private:
  bool faulty(uint64_t pa) const { return bad.count(pa & ~0xfffull) != 0; }
};

}  // namespace iommusim::iommu
