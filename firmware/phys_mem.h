// SPDX-License-Identifier: Apache-2.0
// How the kernel model touches simulated RAM: a small interface with read/write
// of bytes at a physical address. The driver builds its tables through it, so it
// never touches a model's internals. Implementations: TLM (a CPU initiator
// socket, timed; firmware/cpu_port.h) and SparseMemory (tests, untimed).
#pragma once

#include <cstdint>
#include <cstring>

#include "common/byte_order.h"
#include "common/sparse_memory.h"

namespace iommusim::fw {

struct PhysMemory {
  virtual ~PhysMemory() = default;
  // false on a bus error.
  virtual bool read(uint64_t pa, void* buf, unsigned len) = 0;
  virtual bool write(uint64_t pa, const void* buf, unsigned len) = 0;
  // A write that takes no simulated time and touches no model's timing (TLM
  // transport_dbg): what firmware does at machine reset, before any simulated
  // CPU runs. An untimed implementation simply writes.
  virtual bool write_untimed(uint64_t pa, const void* buf, unsigned len) { return write(pa, buf, len); }

  // Little-endian 64-bit helpers (VT-d structures are little-endian).
  uint64_t read64(uint64_t pa) {
    uint8_t b[8] = {};
    read(pa, b, 8);
    return load_le64(b);
  }
  bool write64(uint64_t pa, uint64_t v) {
    uint8_t b[8];
    store_le64(b, v);
    return write(pa, b, 8);
  }
  // Clears [pa, pa + len), timed or (`untimed`) as write_untimed does.
  bool zero(uint64_t pa, unsigned len, bool untimed = false) {
    static const uint8_t z[4096] = {};
    while (len) {
      unsigned n = len > 4096 ? 4096 : len;
      if (!(untimed ? write_untimed(pa, z, n) : write(pa, z, n))) return false;
      pa += n;
      len -= n;
    }
    return true;
  }
};

// Untimed access straight into a SparseMemory (unit tests of the pure pieces).
class SparsePhysMemory : public PhysMemory {
public:
  explicit SparsePhysMemory(SparseMemory& m) : m_(m) {}
  bool read(uint64_t pa, void* buf, unsigned len) override { return m_.read(pa, buf, len); }
  bool write(uint64_t pa, const void* buf, unsigned len) override { return m_.write(pa, buf, len); }
  uint64_t reads = 0;

private:
  SparseMemory& m_;
};

}  // namespace iommusim::fw
