// SPDX-License-Identifier: Apache-2.0
#include "common/register_map.h"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <stdexcept>

namespace iommusim {

namespace {

uint64_t mask_of_width(unsigned width) {
  return width >= 8 ? ~uint64_t{0} : ((uint64_t{1} << (8 * width)) - 1);
}

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

}  // namespace

const char* to_string(AccessStatus s) {
  switch (s) {
    case AccessStatus::Ok: return "ok";
    case AccessStatus::Hole: return "hole";
    case AccessStatus::BadSize: return "bad size";
    case AccessStatus::BadAlignment: return "bad alignment";
  }
  return "?";
}

// ---------------------------------------------------------------- Register

Register::Register(const RegisterDef& def)
    : name_(def.name), def_(def), width_mask_(mask_of_width(def.width)),
      value_(def.reset & width_mask_) {
  def_.name = name_.c_str();
}

uint64_t Register::software_value() const {
  if (def_.write_only) return 0;
  uint64_t v = on_read ? on_read(*this) : value_;
  return v & ~def_.rsvdz_mask & width_mask_;
}

// ------------------------------------------------------------- RegisterMap

RegisterMap::RegisterMap(std::string name, uint64_t size, Endian endian, HolePolicy holes)
    : name_(std::move(name)), size_(size), endian_(endian), holes_(holes) {}

Register& RegisterMap::add(const RegisterDef& d) {
  const std::string where = name_ + ": register " + (d.name ? d.name : "(null)");
  if (!d.name || !*d.name) throw std::invalid_argument(name_ + ": register without a name");
  if (d.width != 1 && d.width != 2 && d.width != 4 && d.width != 8)
    throw std::invalid_argument(where + ": width " + std::to_string(d.width) +
                                " is not 1, 2, 4 or 8 bytes");
  if (d.offset % d.width != 0)
    throw std::invalid_argument(where + ": offset " + hex(d.offset) + " is not aligned to its width " +
                                std::to_string(d.width));
  if (d.offset >= size_ || d.width > size_ - d.offset)
    throw std::invalid_argument(where + " at " + hex(d.offset) + " lies outside the map (size " +
                                hex(size_) + ")");
  const uint64_t wm = mask_of_width(d.width);
  if ((d.reset | d.rw_mask | d.w1c_mask | d.rsvdz_mask) & ~wm)
    throw std::invalid_argument(where + ": reset value or masks exceed its width of " +
                                std::to_string(d.width) + " bytes");
  if (d.rw_mask & d.w1c_mask)
    throw std::invalid_argument(where + ": rw_mask and w1c_mask overlap (" + hex(d.rw_mask & d.w1c_mask) +
                                ")");
  if (by_name_.count(d.name)) throw std::invalid_argument(where + " is defined twice");

  auto pos = std::partition_point(regs_.begin(), regs_.end(),
                                  [&](const std::unique_ptr<Register>& r) { return r->offset() < d.offset; });
  if (pos != regs_.end() && (*pos)->offset() < d.offset + d.width)
    throw std::invalid_argument(where + " at " + hex(d.offset) + " overlaps " + (*pos)->name());
  if (pos != regs_.begin()) {
    const Register& prev = **(pos - 1);
    if (prev.offset() + prev.width() > d.offset)
      throw std::invalid_argument(where + " at " + hex(d.offset) + " overlaps " + prev.name());
  }
  std::unique_ptr<Register> reg(new Register(d));
  Register& ref = *reg;
  regs_.insert(pos, std::move(reg));
  by_name_.emplace(ref.name_, &ref);
  return ref;
}

Register& RegisterMap::get(const std::string& name) {
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw std::out_of_range(name_ + ": no register named " + name);
  return *it->second;
}

const Register& RegisterMap::get(const std::string& name) const {
  return const_cast<RegisterMap*>(this)->get(name);
}

size_t RegisterMap::first_ending_after(uint64_t offset) const {
  // Registers do not overlap, so their end offsets are sorted like their starts.
  auto it = std::partition_point(regs_.begin(), regs_.end(), [&](const std::unique_ptr<Register>& r) {
    return r->offset() + r->width() <= offset;
  });
  return static_cast<size_t>(it - regs_.begin());
}

Register* RegisterMap::find(uint64_t offset) {
  size_t i = first_ending_after(offset);
  if (i < regs_.size() && regs_[i]->offset() <= offset) return regs_[i].get();
  return nullptr;
}

const Register* RegisterMap::find(uint64_t offset) const {
  return const_cast<RegisterMap*>(this)->find(offset);
}

AccessStatus RegisterMap::check(uint64_t offset, unsigned len) const {
  if (len == 0 || len > 8 || (len & (len - 1)) != 0 || !(allowed_sizes_ & len)) return AccessStatus::BadSize;
  if (offset % len != 0) return AccessStatus::BadAlignment;
  if (offset >= size_ || len > size_ - offset) return AccessStatus::Hole;
  return AccessStatus::Ok;
}

AccessStatus RegisterMap::span(uint64_t offset, unsigned len, size_t* first, size_t* last) const {
  const uint64_t end = offset + len;
  size_t i = first_ending_after(offset);
  size_t j = i;
  while (j < regs_.size() && regs_[j]->offset() < end) ++j;
  *first = i;
  *last = j;
  if (i == j) return AccessStatus::Hole;
  const Register& r0 = *regs_[i];
  if (j - i == 1 && r0.offset() <= offset && end <= r0.offset() + r0.width()) return AccessStatus::Ok;
  // Several registers, or one register plus hole bytes: each register touched
  // must be covered completely.
  for (size_t k = i; k < j; ++k) {
    const Register& r = *regs_[k];
    if (r.offset() < offset || r.offset() + r.width() > end) return AccessStatus::BadSize;
  }
  return AccessStatus::Ok;
}

unsigned RegisterMap::byte_shift(const Register& r, uint64_t addr) const {
  unsigned k = static_cast<unsigned>(addr - r.offset());
  return endian_ == Endian::Little ? 8 * k : 8 * (r.width() - 1 - k);
}

AccessStatus RegisterMap::read(uint64_t offset, uint8_t* data, unsigned len) {
  AccessStatus st = check(offset, len);
  if (st == AccessStatus::BadSize || st == AccessStatus::BadAlignment) return st;
  std::memset(data, 0, len);
  if (st == AccessStatus::Hole) return st;  // beyond the map
  size_t first, last;
  st = span(offset, len, &first, &last);
  if (st == AccessStatus::Hole) return holes_ == HolePolicy::Error ? AccessStatus::Hole : AccessStatus::Ok;
  if (st != AccessStatus::Ok) return st;
  const uint64_t end = offset + len;
  for (size_t k = first; k < last; ++k) {
    const Register& r = *regs_[k];
    const uint64_t v = r.software_value();
    const uint64_t lo = std::max(offset, r.offset());
    const uint64_t hi = std::min(end, r.offset() + r.width());
    for (uint64_t a = lo; a < hi; ++a) data[a - offset] = static_cast<uint8_t>(v >> byte_shift(r, a));
  }
  return AccessStatus::Ok;
}

AccessStatus RegisterMap::write(uint64_t offset, const uint8_t* data, unsigned len) {
  AccessStatus st = check(offset, len);
  if (st != AccessStatus::Ok) return st;
  size_t first, last;
  st = span(offset, len, &first, &last);
  if (st == AccessStatus::Hole) return holes_ == HolePolicy::Error ? AccessStatus::Hole : AccessStatus::Ok;
  if (st != AccessStatus::Ok) return st;
  const uint64_t end = offset + len;
  for (size_t k = first; k < last; ++k) {
    Register& r = *regs_[k];
    const RegisterDef& d = r.def_;
    const uint64_t lo = std::max(offset, r.offset());
    const uint64_t hi = std::min(end, r.offset() + r.width());
    uint64_t w = 0, bytes = 0;
    for (uint64_t a = lo; a < hi; ++a) {
      const unsigned sh = byte_shift(r, a);
      w |= uint64_t{data[a - offset]} << sh;
      bytes |= uint64_t{0xff} << sh;
    }
    if (w & d.rsvdz_mask) ++rsvdz_writes_;
    const uint64_t old = r.value_;
    const uint64_t rw = d.rw_mask & ~d.rsvdz_mask & bytes;
    const uint64_t w1c = d.w1c_mask & ~d.rsvdz_mask & bytes;
    uint64_t nv = (old & ~rw) | (w & rw);
    nv &= ~(w & w1c);
    r.value_ = nv & r.width_mask_;
    r.last_write_mask_ = bytes;
    if (r.on_write) {
      const uint64_t written = w | (old & ~bytes & ~d.w1c_mask & ~d.rsvdz_mask);
      r.on_write(r, old, written);
    }
  }
  return AccessStatus::Ok;
}

void RegisterMap::reset() {
  for (auto& r : regs_) {
    r->value_ = r->def_.reset & r->width_mask_;
    r->last_write_mask_ = 0;
  }
}

// --------------------------------------------------------------------- TLM

tlm::tlm_response_status register_map_transport(RegisterMap& map, tlm::tlm_generic_payload& trans) {
  trans.set_dmi_allowed(false);
  const unsigned len = trans.get_data_length();
  tlm::tlm_response_status rs = tlm::TLM_OK_RESPONSE;
  if (trans.get_byte_enable_ptr()) {
    const unsigned be_len = trans.get_byte_enable_length();
    const unsigned char* be = trans.get_byte_enable_ptr();
    bool all = be_len != 0;
    for (unsigned i = 0; i < len && all; ++i) all = be[i % be_len] == TLM_BYTE_ENABLED;
    if (!all) rs = tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE;
  }
  if (rs == tlm::TLM_OK_RESPONSE && trans.get_streaming_width() != 0 && trans.get_streaming_width() < len)
    rs = tlm::TLM_BURST_ERROR_RESPONSE;
  if (rs == tlm::TLM_OK_RESPONSE && trans.get_command() != tlm::TLM_IGNORE_COMMAND) {
    AccessStatus st = trans.is_read() ? map.read(trans.get_address(), trans.get_data_ptr(), len)
                                      : map.write(trans.get_address(), trans.get_data_ptr(), len);
    switch (st) {
      case AccessStatus::Ok: rs = tlm::TLM_OK_RESPONSE; break;
      case AccessStatus::Hole: rs = tlm::TLM_ADDRESS_ERROR_RESPONSE; break;
      case AccessStatus::BadSize:
      case AccessStatus::BadAlignment: rs = tlm::TLM_GENERIC_ERROR_RESPONSE; break;
    }
  }
  trans.set_response_status(rs);
  return rs;
}

}  // namespace iommusim
