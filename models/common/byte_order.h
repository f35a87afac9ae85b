// SPDX-License-Identifier: Apache-2.0
// Integers in byte buffers in a stated byte order: the one codec for the
// in-memory structures every model reads and writes. VT-d tables, descriptors
// and MSI data are little-endian (VT-d spec 9: "all fields are little endian");
// PAPR TCEs and s390 ORBs, CCWs and IRBs are big-endian.
#pragma once

#include <cstdint>
#include <cstring>

namespace iommusim {

// `bytes` low-order bytes of an integer (1..8).
inline uint64_t load_le(const void* buf, unsigned bytes) {
  const auto* b = static_cast<const uint8_t*>(buf);
  uint64_t v = 0;
  for (unsigned i = bytes; i-- > 0;) v = (v << 8) | b[i];
  return v;
}
inline void store_le(void* buf, uint64_t v, unsigned bytes) {
  auto* b = static_cast<uint8_t*>(buf);
  for (unsigned i = 0; i < bytes; ++i) b[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint64_t load_be(const void* buf, unsigned bytes) {
  const auto* b = static_cast<const uint8_t*>(buf);
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) v = (v << 8) | b[i];
  return v;
}
inline void store_be(void* buf, uint64_t v, unsigned bytes) {
  auto* b = static_cast<uint8_t*>(buf);
  for (unsigned i = bytes; i-- > 0; v >>= 8) b[i] = static_cast<uint8_t>(v);
}

inline uint64_t load_le64(const void* b) { return load_le(b, 8); }
inline uint32_t load_le32(const void* b) { return static_cast<uint32_t>(load_le(b, 4)); }
inline void store_le64(void* b, uint64_t v) { store_le(b, v, 8); }
inline void store_le32(void* b, uint32_t v) { store_le(b, v, 4); }
inline uint64_t load_be64(const void* b) { return load_be(b, 8); }
inline uint32_t load_be32(const void* b) { return static_cast<uint32_t>(load_be(b, 4)); }
inline void store_be64(void* b, uint64_t v) { store_be(b, v, 8); }
inline void store_be32(void* b, uint32_t v) { store_be(b, v, 4); }

// Byte order as a value, for code that serves both (a table format, a register map).
enum class Endian { Little, Big };
inline uint64_t load(Endian o, const void* b, unsigned bytes) {
  return o == Endian::Little ? load_le(b, bytes) : load_be(b, bytes);
}
inline void store(Endian o, void* b, uint64_t v, unsigned bytes) {
  if (o == Endian::Little) store_le(b, v, bytes);
  else store_be(b, v, bytes);
}

}  // namespace iommusim
