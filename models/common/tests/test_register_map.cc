// SPDX-License-Identifier: Apache-2.0
#include "common/register_map.h"

#include <gtest/gtest.h>

#include <cstring>
#include <stdexcept>
#include <vector>

using namespace iommusim;

namespace {

// A few VT-d-like registers (offsets and access types after the VT-d spec).
RegisterDef def(const char* name, uint64_t off, unsigned width, uint64_t reset = 0, uint64_t rw = 0,
                uint64_t w1c = 0, bool wo = false, uint64_t rsvdz = 0) {
  return RegisterDef{name, off, width, reset, rw, w1c, wo, rsvdz};
}

uint64_t rd(RegisterMap& m, uint64_t off, unsigned len, AccessStatus* st = nullptr) {
  uint8_t buf[8];
  std::memset(buf, 0xcc, sizeof buf);
  AccessStatus s = m.read(off, buf, len);
  if (st) *st = s;
  uint64_t v = 0;
  if (m.endian() == Endian::Little)
    for (unsigned i = 0; i < len; ++i) v |= uint64_t{buf[i]} << (8 * i);
  else
    for (unsigned i = 0; i < len; ++i) v = (v << 8) | buf[i];
  return v;
}

AccessStatus wr(RegisterMap& m, uint64_t off, unsigned len, uint64_t v) {
  uint8_t buf[8];
  if (m.endian() == Endian::Little)
    for (unsigned i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(v >> (8 * i));
  else
    for (unsigned i = 0; i < len; ++i) buf[i] = static_cast<uint8_t>(v >> (8 * (len - 1 - i)));
  return m.write(off, buf, len);
}

struct RegisterMapVtd : ::testing::Test {
  RegisterMap m{"vtd", 0x1000};
  Register* ver = nullptr;
  Register* cap = nullptr;
  Register* gcmd = nullptr;
  Register* fsts = nullptr;
  Register* feaddr = nullptr;
  Register* feuaddr = nullptr;
  Register* iqa = nullptr;
  void SetUp() override {
    ver = &m.add(def("VER", 0x00, 4, 0x10));
    cap = &m.add(def("CAP", 0x08, 8, 0x00d2008c40660462ull));
    gcmd = &m.add(def("GCMD", 0x18, 4, 0, 0xff800000u, 0, true));
    fsts = &m.add(def("FSTS", 0x34, 4, 0, 0, 0x7f, false, 0xffff0000u));
    feaddr = &m.add(def("FEADDR", 0x40, 4, 0, 0xfffffffcu, 0, false, 0x3));
    feuaddr = &m.add(def("FEUADDR", 0x44, 4, 0, 0xffffffffu));
    iqa = &m.add(def("IQA", 0x90, 8, 0, 0xfffffffffffff807ull, 0, false, 0x7f8));
  }
};

}  // namespace

TEST(RegisterMap, AddRejectsProgrammerErrors) {
  RegisterMap m("m", 0x100);
  m.add(def("A", 0x10, 8));
  EXPECT_THROW(m.add(def("B", 0x14, 4)), std::invalid_argument);          // overlap
  EXPECT_THROW(m.add(def("B", 0x0c, 8)), std::invalid_argument);          // misaligned
  EXPECT_THROW(m.add(def("B", 0x08, 16)), std::invalid_argument);         // bad width
  EXPECT_THROW(m.add(def("B", 0x08, 3)), std::invalid_argument);          // bad width
  EXPECT_THROW(m.add(def("B", 0x100, 4)), std::invalid_argument);         // out of range
  EXPECT_THROW(m.add(def("A", 0x20, 4)), std::invalid_argument);          // duplicate name
  EXPECT_THROW(m.add(def("B", 0x20, 4, 0x100000000ull)), std::invalid_argument);  // reset too wide
  EXPECT_THROW(m.add(def("B", 0x20, 4, 0, 0x3, 0x1)), std::invalid_argument);     // rw & w1c
  EXPECT_NO_THROW(m.add(def("B", 0x18, 8)));  // adjacent is fine
  EXPECT_NO_THROW(m.add(def("C", 0x08, 8)));
  EXPECT_EQ(m.register_count(), 3u);
}

TEST(RegisterMap, GetFindAndIterateInOffsetOrder) {
  RegisterMap m("m", 0x100);
  Register& b = m.add(def("B", 0x20, 4, 7));
  Register& a = m.add(def("A", 0x08, 8));
  EXPECT_EQ(&m.get("B"), &b);
  EXPECT_EQ(m.get("B").value(), 7u);
  try {
    m.get("NOPE");
    FAIL();
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("NOPE"), std::string::npos);
  }
  EXPECT_EQ(m.find(0x08), &a);
  EXPECT_EQ(m.find(0x0f), &a);
  EXPECT_EQ(m.find(0x10), nullptr);
  EXPECT_EQ(m.find(0x23), &b);
  EXPECT_EQ(m.find(0x24), nullptr);
  std::vector<std::string> names;
  for (const Register& r : m.registers()) names.push_back(r.name());
  EXPECT_EQ(names, (std::vector<std::string>{"A", "B"}));
  // The name is copied: the definition's string may go away.
  std::string tmp = "TMP";
  m.add(RegisterDef{tmp.c_str(), 0x30, 4, 0, 0, 0, false, 0});
  tmp = "XXX";
  EXPECT_STREQ(m.get("TMP").name(), "TMP");
  EXPECT_STREQ(m.get("TMP").def().name, "TMP");
}

TEST_F(RegisterMapVtd, ResetValuesAndReadOnly) {
  EXPECT_EQ(rd(m, 0x00, 4), 0x10u);
  EXPECT_EQ(rd(m, 0x08, 8), 0x00d2008c40660462ull);
  EXPECT_EQ(wr(m, 0x08, 8, 0), AccessStatus::Ok);  // RO: write ignored
  EXPECT_EQ(cap->value(), 0x00d2008c40660462ull);
}

TEST_F(RegisterMapVtd, RwMaskKeepsReadOnlyBits) {
  iqa->set(0);
  EXPECT_EQ(wr(m, 0x90, 8, ~0ull), AccessStatus::Ok);
  EXPECT_EQ(iqa->value(), 0xfffffffffffff807ull);  // bits 3..10 not writable (rsvdz)
  iqa->set(0x8);  // hardware bypasses masks, but the rsvdz bit reads 0
  EXPECT_EQ(iqa->value(), 0x8u);
  EXPECT_EQ(rd(m, 0x90, 8), 0u);
}

TEST_F(RegisterMapVtd, W1cClearsOnlyWrittenOnes) {
  fsts->set(0x5b);
  EXPECT_EQ(wr(m, 0x34, 4, 0x03), AccessStatus::Ok);
  EXPECT_EQ(fsts->value(), 0x58u);
  EXPECT_EQ(wr(m, 0x34, 4, 0), AccessStatus::Ok);
  EXPECT_EQ(fsts->value(), 0x58u);
  fsts->set_bits(0x100);  // a RO bit set by hardware survives a write of 1
  EXPECT_EQ(wr(m, 0x34, 4, 0x1ff), AccessStatus::Ok);
  EXPECT_EQ(fsts->value(), 0x100u);
  fsts->clear_bits(0x100);
  EXPECT_EQ(fsts->value(), 0u);
}

TEST_F(RegisterMapVtd, WriteOnlyReadsZeroButStoresAndHooks) {
  int calls = 0;
  uint64_t seen_old = 1, seen_written = 0;
  gcmd->on_write = [&](Register& r, uint64_t old, uint64_t written) {
    ++calls;
    seen_old = old;
    seen_written = written;
    EXPECT_EQ(r.value(), 0x80000000u);  // masked value already stored
  };
  EXPECT_EQ(wr(m, 0x18, 4, 0x80000001u), AccessStatus::Ok);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(seen_old, 0u);
  EXPECT_EQ(seen_written, 0x80000001u);  // unmasked
  EXPECT_EQ(gcmd->value(), 0x80000000u);
  EXPECT_EQ(rd(m, 0x18, 4), 0u);
}

TEST_F(RegisterMapVtd, RsvdzReadsZeroIgnoresWritesAndCounts) {
  EXPECT_EQ(m.rsvdz_writes(), 0u);
  EXPECT_EQ(wr(m, 0x40, 4, 0xfee00003u), AccessStatus::Ok);
  EXPECT_EQ(feaddr->value(), 0xfee00000u);
  EXPECT_EQ(m.rsvdz_writes(), 1u);
  EXPECT_EQ(wr(m, 0x40, 4, 0xfee00000u), AccessStatus::Ok);
  EXPECT_EQ(m.rsvdz_writes(), 1u);
  fsts->set(0x10000);  // rsvdz bit forced by hardware still reads 0
  EXPECT_EQ(rd(m, 0x34, 4), 0u);
}

TEST_F(RegisterMapVtd, OnReadComputesValue) {
  int n = 0;
  ver->on_read = [&](const Register& r) { return r.value() + static_cast<uint64_t>(++n); };
  EXPECT_EQ(rd(m, 0x00, 4), 0x11u);
  EXPECT_EQ(rd(m, 0x00, 4), 0x12u);
  EXPECT_EQ(ver->value(), 0x10u);
}

TEST_F(RegisterMapVtd, HalfAccessesTo64BitRegister) {
  int calls = 0;
  uint64_t written = 0;
  iqa->on_write = [&](Register&, uint64_t, uint64_t w) {
    ++calls;
    written = w;
  };
  iqa->set(0x1111222233334000ull);
  EXPECT_EQ(rd(m, 0x90, 4), 0x33334000u);
  EXPECT_EQ(rd(m, 0x94, 4), 0x11112222u);
  // Upper half: only its bits change, the hook sees the merged value once.
  EXPECT_EQ(wr(m, 0x94, 4, 0xaaaabbbbu), AccessStatus::Ok);
  EXPECT_EQ(iqa->value(), 0xaaaabbbb33334000ull);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(written, 0xaaaabbbb33334000ull);
  EXPECT_EQ(iqa->last_write_mask(), 0xffffffff00000000ull);
  // Lower half with all ones: masks apply to the written bits only.
  EXPECT_EQ(wr(m, 0x90, 4, 0xffffffffu), AccessStatus::Ok);
  EXPECT_EQ(iqa->value(), 0xaaaabbbbfffff807ull);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(written, 0xaaaabbbbffffffffull);
  EXPECT_EQ(iqa->last_write_mask(), 0x00000000ffffffffull);
}

TEST(RegisterMap, HalfWriteHookDoesNotSeeW1cOfOtherHalf) {
  RegisterMap m("m", 0x100);
  Register& r = m.add(def("FRCD_HI", 0x08, 8, 0, 0xffff, 0x8000000000000000ull));
  r.set(0x8000000000000000ull);
  uint64_t written = 1;
  r.on_write = [&](Register&, uint64_t, uint64_t w) { written = w; };
  EXPECT_EQ(wr(m, 0x08, 4, 0x1234), AccessStatus::Ok);
  EXPECT_EQ(written, 0x1234u);  // bit 63 (W1C, other half) not reported as written
  EXPECT_EQ(r.value(), 0x8000000000001234ull);
  EXPECT_EQ(wr(m, 0x0c, 4, 0x80000000u), AccessStatus::Ok);
  EXPECT_EQ(r.value(), 0x1234u);
  EXPECT_EQ(written, 0x8000000000001234ull);
}

TEST_F(RegisterMapVtd, SixtyFourBitWriteSplitsOverAdjacentRegisters) {
  int lo_calls = 0, hi_calls = 0;
  feaddr->on_write = [&](Register&, uint64_t, uint64_t) { ++lo_calls; };
  feuaddr->on_write = [&](Register&, uint64_t, uint64_t) { ++hi_calls; };
  EXPECT_EQ(wr(m, 0x40, 8, 0x12345678fee01000ull), AccessStatus::Ok);
  EXPECT_EQ(feaddr->value(), 0xfee01000u);
  EXPECT_EQ(feuaddr->value(), 0x12345678u);
  EXPECT_EQ(lo_calls, 1);
  EXPECT_EQ(hi_calls, 1);
  EXPECT_EQ(rd(m, 0x40, 8), 0x12345678fee01000ull);
  // Register plus hole: the hole half reads 0, its write is ignored.
  EXPECT_EQ(rd(m, 0x00, 8), 0x10u);
  EXPECT_EQ(wr(m, 0x00, 8, ~0ull), AccessStatus::Ok);
  EXPECT_EQ(ver->value(), 0x10u);
}

TEST(RegisterMap, MixedWidthRegistersInOneAccess) {
  RegisterMap m("m", 0x100);
  m.set_allowed_sizes(RegisterMap::kSize2 | RegisterMap::kSize4 | RegisterMap::kSize8);
  Register& a = m.add(def("A", 0x00, 2, 0x1111, 0xffff));
  Register& b = m.add(def("B", 0x04, 4, 0x2222, 0xffff));
  Register& c = m.add(def("C", 0x08, 8, 0, ~0ull));
  // One 8-byte access covering a 2-byte register, a 2-byte hole and a 4-byte register.
  EXPECT_EQ(rd(m, 0x00, 8), 0x0000222200001111ull);
  EXPECT_EQ(wr(m, 0x00, 8, 0x00005555ffff4444ull), AccessStatus::Ok);
  EXPECT_EQ(a.value(), 0x4444u);
  EXPECT_EQ(b.value(), 0x5555u);
  // Small accesses inside a wide register.
  EXPECT_EQ(wr(m, 0x0a, 2, 0xabcd), AccessStatus::Ok);
  EXPECT_EQ(c.value(), 0xabcd0000u);
  EXPECT_EQ(rd(m, 0x08, 4), 0xabcd0000u);
}

TEST_F(RegisterMapVtd, BadSizeAndAlignmentChangeNothing) {
  uint8_t buf[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(m.write(0x40, buf, 2), AccessStatus::BadSize);
  EXPECT_EQ(m.write(0x40, buf, 1), AccessStatus::BadSize);
  EXPECT_EQ(m.write(0x40, buf, 3), AccessStatus::BadSize);
  EXPECT_EQ(m.write(0x40, buf, 16), AccessStatus::BadSize);
  EXPECT_EQ(m.write(0x40, buf, 0), AccessStatus::BadSize);
  EXPECT_EQ(m.write(0x44, buf, 8), AccessStatus::BadAlignment);
  EXPECT_EQ(m.write(0x42, buf, 4), AccessStatus::BadAlignment);
  EXPECT_EQ(m.read(0x42, buf, 4), AccessStatus::BadAlignment);
  EXPECT_EQ(feaddr->value(), 0u);
  EXPECT_EQ(feuaddr->value(), 0u);
  EXPECT_EQ(m.rsvdz_writes(), 0u);
  m.set_allowed_sizes(RegisterMap::kSize1 | RegisterMap::kSize2 | RegisterMap::kSize4 | RegisterMap::kSize8);
  EXPECT_EQ(m.write(0x41, buf, 1), AccessStatus::Ok);
  EXPECT_EQ(feaddr->value(), 0xff00u);
  EXPECT_EQ(rd(m, 0x42, 2), 0u);
}

TEST_F(RegisterMapVtd, HolesReadZeroWriteIgnore) {
  AccessStatus st;
  EXPECT_EQ(rd(m, 0x200, 4, &st), 0u);
  EXPECT_EQ(st, AccessStatus::Ok);
  EXPECT_EQ(wr(m, 0x200, 8, ~0ull), AccessStatus::Ok);
  EXPECT_EQ(rd(m, 0x200, 8), 0u);
  // Beyond the end of the map is an error whatever the policy.
  rd(m, 0x1000, 4, &st);
  EXPECT_EQ(st, AccessStatus::Hole);
}

TEST(RegisterMap, HolesWithErrorPolicy) {
  RegisterMap m("m", 0x100, Endian::Little, HolePolicy::Error);
  m.add(def("A", 0x10, 4, 0, ~0u));
  AccessStatus st;
  rd(m, 0x20, 4, &st);
  EXPECT_EQ(st, AccessStatus::Hole);
  EXPECT_EQ(wr(m, 0x20, 4, 1), AccessStatus::Hole);
  EXPECT_EQ(wr(m, 0x10, 4, 5), AccessStatus::Ok);
  EXPECT_EQ(rd(m, 0x10, 4), 5u);
}

TEST(RegisterMap, BigEndianByteOrderAndHalves) {
  RegisterMap m("phb", 0x100, Endian::Big);
  Register& r = m.add(def("TCE_BAR", 0x08, 8, 0, ~0ull));
  Register& s = m.add(def("CTL", 0x10, 4, 0, ~0u));
  r.set(0x0102030405060708ull);
  uint8_t buf[8];
  ASSERT_EQ(m.read(0x08, buf, 8), AccessStatus::Ok);
  EXPECT_EQ(buf[0], 0x01);  // byte 0 is the MSB
  EXPECT_EQ(buf[7], 0x08);
  // Upper-address half is the low-order 32 bits.
  ASSERT_EQ(m.read(0x0c, buf, 4), AccessStatus::Ok);
  EXPECT_EQ(buf[0], 0x05);
  EXPECT_EQ(buf[3], 0x08);
  const uint8_t w[4] = {0xaa, 0xbb, 0xcc, 0xdd};
  ASSERT_EQ(m.write(0x0c, w, 4), AccessStatus::Ok);
  EXPECT_EQ(r.value(), 0x01020304aabbccddull);
  ASSERT_EQ(m.write(0x08, w, 4), AccessStatus::Ok);
  EXPECT_EQ(r.value(), 0xaabbccddaabbccddull);
  ASSERT_EQ(m.write(0x10, w, 4), AccessStatus::Ok);
  EXPECT_EQ(s.value(), 0xaabbccddu);
  EXPECT_EQ(rd(m, 0x10, 4), 0xaabbccddu);
}

TEST(RegisterMap, LittleEndianByteOrder) {
  RegisterMap m("m", 0x100);
  Register& r = m.add(def("R", 0x08, 8, 0, ~0ull));
  const uint8_t w[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(m.write(0x08, w, 8), AccessStatus::Ok);
  EXPECT_EQ(r.value(), 0x0807060504030201ull);
  uint8_t buf[4];
  ASSERT_EQ(m.read(0x0c, buf, 4), AccessStatus::Ok);
  EXPECT_EQ(buf[0], 5);
  EXPECT_EQ(buf[3], 8);
}

TEST_F(RegisterMapVtd, ResetRestoresValuesWithoutHooks) {
  int calls = 0;
  feuaddr->on_write = [&](Register&, uint64_t, uint64_t) { ++calls; };
  wr(m, 0x44, 4, 0xdead);
  cap->set(0);
  m.reset();
  EXPECT_EQ(feuaddr->value(), 0u);
  EXPECT_EQ(cap->value(), 0x00d2008c40660462ull);
  EXPECT_EQ(calls, 1);
}

TEST_F(RegisterMapVtd, TlmTransport) {
  tlm::tlm_generic_payload t;
  uint8_t buf[8] = {0x00, 0x10, 0xe0, 0xfe, 0x78, 0x56, 0x34, 0x12};
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(0x40);
  t.set_data_ptr(buf);
  t.set_data_length(8);
  t.set_streaming_width(8);
  t.set_dmi_allowed(true);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(t.get_response_status(), tlm::TLM_OK_RESPONSE);
  EXPECT_FALSE(t.is_dmi_allowed());
  EXPECT_EQ(feaddr->value(), 0xfee01000u);
  EXPECT_EQ(feuaddr->value(), 0x12345678u);

  uint8_t rbuf[4] = {};
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(0x44);
  t.set_data_ptr(rbuf);
  t.set_data_length(4);
  t.set_streaming_width(4);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_OK_RESPONSE);
  EXPECT_EQ(rbuf[0], 0x78);

  t.set_address(0x42);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_GENERIC_ERROR_RESPONSE);
  t.set_address(0x44);
  t.set_data_length(2);
  t.set_streaming_width(2);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_GENERIC_ERROR_RESPONSE);
  t.set_data_length(4);
  t.set_streaming_width(2);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_BURST_ERROR_RESPONSE);
  t.set_streaming_width(4);
  uint8_t be[4] = {0xff, 0x00, 0xff, 0xff};
  t.set_byte_enable_ptr(be);
  t.set_byte_enable_length(4);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
  be[1] = 0xff;  // all enabled is accepted
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_OK_RESPONSE);
  t.set_byte_enable_ptr(nullptr);
  t.set_byte_enable_length(0);
  t.set_address(0x2000);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  t.set_command(tlm::TLM_IGNORE_COMMAND);
  EXPECT_EQ(register_map_transport(m, t), tlm::TLM_OK_RESPONSE);

  RegisterMap e("err", 0x100, Endian::Little, HolePolicy::Error);
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(0x10);
  EXPECT_EQ(register_map_transport(e, t), tlm::TLM_ADDRESS_ERROR_RESPONSE);
}
