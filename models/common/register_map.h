// SPDX-License-Identifier: Apache-2.0
// Register-map helper, after QEMU's register tables (include/hw/registerfields.h)
// and VCML's register objects.
//
// A RegisterMap is a byte-addressed window of `size` bytes holding registers
// described by RegisterDef rows: name, offset, width, reset value, writable
// mask, write-1-to-clear mask, write-only flag and reserved-zero mask. Software
// accesses go through read()/write() (or register_map_transport() for a TLM
// payload); the model updates registers through Register::set() and friends,
// which bypass every mask.
//
// Access rules (see read()/write() for the details):
//  - Sizes: the access length must be an allowed size (default 4 or 8 bytes)
//    and naturally aligned (offset % len == 0), else BadSize / BadAlignment,
//    with no state change.
//  - An access fully inside one register touches only the bytes it covers
//    (e.g. a 32-bit access to either half of a 64-bit VT-d register).
//  - An access covering several registers is split into one sub-access per
//    register, provided every register it touches is covered completely
//    (e.g. one 64-bit write to VT-d FEADDR/FEUADDR at 0x40/0x44); bytes of the
//    access that fall in holes read 0 and ignore writes. An access that covers
//    only part of a register and also something else is BadSize.
//  - An access touching no register is a hole: ReadZeroWriteIgnore answers Ok
//    (zeros / ignored), Error answers Hole. An access beyond the end of the map
//    is always Hole.
//  - Byte order: the data buffer holds the bytes in address order. With
//    Endian::Little, the byte at the register's offset is its LSB; with
//    Endian::Big it is its MSB. So for a full-width access data[0] is the LSB
//    (Little) or the MSB (Big), and a big-endian 4-byte access to the
//    upper-address half of an 8-byte register accesses its low-order 32 bits.
//
// The read/write path does not allocate; register lookup is a binary search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iterator>
#include <memory>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <vector>
#include <tlm>

#include "common/byte_order.h"

namespace iommusim {

// Result of a software access; the caller maps it to a bus status
// (register_map_transport() does it for TLM).
enum class AccessStatus { Ok, Hole, BadSize, BadAlignment };

// What an access to an offset with no register does.
// VT-d: holes read 0 and ignore writes.
enum class HolePolicy { ReadZeroWriteIgnore, Error };

const char* to_string(AccessStatus s);

struct RegisterDef {
  const char* name;     // spec name verbatim, e.g. "GCMD" (copied by the map)
  uint64_t offset;      // byte offset in the map; must be a multiple of width
  unsigned width;       // bytes: 1, 2, 4 or 8
  uint64_t reset;       // reset value
  uint64_t rw_mask;     // bits software may write; other bits read-only
  uint64_t w1c_mask;    // write-1-to-clear bits (RW1C); disjoint from rw_mask
  bool write_only;      // reads return 0 (e.g. VT-d GCMD); writes still act
  uint64_t rsvdz_mask;  // reserved-zero bits: read as 0, writes ignored and counted
};

class RegisterMap;

class Register {
public:
  Register(const Register&) = delete;
  Register& operator=(const Register&) = delete;

  const RegisterDef& def() const { return def_; }
  const char* name() const { return name_.c_str(); }
  uint64_t offset() const { return def_.offset; }
  unsigned width() const { return def_.width; }
  // All ones over the register's width.
  uint64_t width_mask() const { return width_mask_; }

  // Current stored value (hardware view: no on_read, write_only or rsvdz).
  uint64_t value() const { return value_; }
  // Hardware-side updates: bypass all masks (the value is truncated to the width).
  void set(uint64_t v) { value_ = v & width_mask_; }
  void set_bits(uint64_t m) { value_ = (value_ | m) & width_mask_; }
  void clear_bits(uint64_t m) { value_ &= ~m; }

  // The value software reads with a full-width access: on_read (if set) or the
  // stored value, zero for write-only registers, reserved-zero bits cleared.
  uint64_t software_value() const;

  // Byte mask (in register bit positions, e.g. 0xffffffff00000000 for the upper
  // half of a 64-bit register) of the most recent software write. Lets a hook
  // tell which half of a 64-bit register a 32-bit write touched.
  uint64_t last_write_mask() const { return last_write_mask_; }

  // Runs after the masked value is stored, once per access:
  // (reg, stored value before the write, value written by software unmasked).
  // For a partial write, `written` is the equivalent full-width write: the
  // written bytes, and in the other bytes the old stored value with its W1C and
  // reserved-zero bits cleared (so applying `written` as a full write would have
  // the same effect). last_write_mask() tells which bytes were really written.
  std::function<void(Register&, uint64_t old_value, uint64_t written)> on_write;
  // If set, returns the value seen by software (registers computed on read).
  // Write-only and reserved-zero masking still apply to its result.
  std::function<uint64_t(const Register&)> on_read;

private:
  friend class RegisterMap;
  explicit Register(const RegisterDef& def);

  std::string name_;
  RegisterDef def_;
  uint64_t width_mask_;
  uint64_t value_;
  uint64_t last_write_mask_ = 0;
};

class RegisterMap {
  using Index = std::vector<std::unique_ptr<Register>>;

public:
  // Iterates registers in offset order.
  template <bool Const>
  class Iterator {
  public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Register;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const Register&, Register&>;
    using pointer = std::conditional_t<Const, const Register*, Register*>;
    explicit Iterator(Index::const_iterator it) : it_(it) {}
    reference operator*() const { return **it_; }
    pointer operator->() const { return it_->get(); }
    Iterator& operator++() { ++it_; return *this; }
    Iterator operator++(int) { Iterator t = *this; ++it_; return t; }
    bool operator==(const Iterator& o) const { return it_ == o.it_; }
    bool operator!=(const Iterator& o) const { return it_ != o.it_; }

  private:
    Index::const_iterator it_;
  };
  template <bool Const>
  struct Range {
    Iterator<Const> b, e;
    Iterator<Const> begin() const { return b; }
    Iterator<Const> end() const { return e; }
  };

  // Size masks for set_allowed_sizes(): OR of the allowed byte counts.
  static constexpr unsigned kSize1 = 1, kSize2 = 2, kSize4 = 4, kSize8 = 8;

  RegisterMap(std::string name, uint64_t size, Endian endian = Endian::Little,
              HolePolicy holes = HolePolicy::ReadZeroWriteIgnore);

  // Throws std::invalid_argument on a programmer error: overlap, out of range,
  // bad width, misaligned offset, duplicate or empty name, masks or reset wider
  // than the register, rw_mask and w1c_mask not disjoint.
  // The returned reference stays valid for the map's lifetime.
  Register& add(const RegisterDef& def);
  // Throws std::out_of_range naming the register if missing.
  Register& get(const std::string& name);
  const Register& get(const std::string& name) const;
  // Register containing byte `offset`, or nullptr.
  Register* find(uint64_t offset);
  const Register* find(uint64_t offset) const;

  // Allowed access sizes: the OR of the allowed byte counts (1|2|4|8), i.e.
  // bit log2(n) set => n-byte accesses allowed. Default 4|8. Accesses must
  // also be naturally aligned.
  void set_allowed_sizes(unsigned mask_of_sizes) { allowed_sizes_ = mask_of_sizes & 0xf; }
  unsigned allowed_sizes() const { return allowed_sizes_; }

  AccessStatus read(uint64_t offset, uint8_t* data, unsigned len);
  AccessStatus write(uint64_t offset, const uint8_t* data, unsigned len);

  // All registers to their reset values (hooks are not called; the
  // rsvdz_writes() counter is kept).
  void reset();

  uint64_t size() const { return size_; }
  Endian endian() const { return endian_; }
  HolePolicy hole_policy() const { return holes_; }
  const std::string& name() const { return name_; }
  // Count of register writes that set reserved-zero bits (driver debugging).
  uint64_t rsvdz_writes() const { return rsvdz_writes_; }

  Range<false> registers() { return {Iterator<false>(regs_.cbegin()), Iterator<false>(regs_.cend())}; }
  Range<true> registers() const { return {Iterator<true>(regs_.cbegin()), Iterator<true>(regs_.cend())}; }
  size_t register_count() const { return regs_.size(); }

private:
  AccessStatus check(uint64_t offset, unsigned len) const;
  // Index of the first register whose end is beyond `offset`.
  size_t first_ending_after(uint64_t offset) const;
  // Span check for [offset, offset+len): sets [first, last) of the registers
  // touched. Returns Ok, Hole (nothing touched) or BadSize (partial register
  // plus something else).
  AccessStatus span(uint64_t offset, unsigned len, size_t* first, size_t* last) const;
  // Register bit shift of the byte at map address `addr` inside `r`.
  unsigned byte_shift(const Register& r, uint64_t addr) const;

  std::string name_;
  uint64_t size_;
  Endian endian_;
  HolePolicy holes_;
  unsigned allowed_sizes_ = kSize4 | kSize8;
  uint64_t rsvdz_writes_ = 0;
  Index regs_;  // sorted by offset
  std::unordered_map<std::string, Register*> by_name_;
};

// Performs a TLM generic-payload access on the map (the payload address is the
// offset within the map; the caller's router strips the base), sets the
// response status and returns it:
//   Ok -> TLM_OK_RESPONSE; Hole -> TLM_ADDRESS_ERROR_RESPONSE;
//   BadSize, BadAlignment -> TLM_GENERIC_ERROR_RESPONSE;
//   byte enables (unless all bytes enabled) -> TLM_BYTE_ENABLE_ERROR_RESPONSE;
//   streaming (streaming width < data length) -> TLM_BURST_ERROR_RESPONSE;
//   TLM_IGNORE_COMMAND -> TLM_OK_RESPONSE without access.
// DMI is never allowed on registers.
tlm::tlm_response_status register_map_transport(RegisterMap& map, tlm::tlm_generic_payload& trans);

}  // namespace iommusim
