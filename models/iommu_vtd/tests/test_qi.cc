// SPDX-License-Identifier: Apache-2.0
// Invalidation descriptor decode and validation (VT-d spec 6.5.2), from the
// spec's bit layouts: fields of each of the nine types, reserved-field and
// unsupported-type errors (IQEI), and the ATS invalidation range encoding.
#include <gtest/gtest.h>

#include "iommu_vtd/vtd_qi.h"

using namespace iommusim::vtd;

namespace {

QiCaps scalable_caps() {
  QiCaps c;
  c.pasid = true;
  c.prs = true;
  return c;
}

QiDecodeResult dec(uint64_t lo, uint64_t hi, const QiCaps& c = scalable_caps()) {
  const uint64_t qw[4] = {lo, hi, 0, 0};
  return decode_descriptor(qw, false, c);
}

}  // namespace

TEST(VtdQi, TypeFieldIsSplit) {
  EXPECT_EQ(qi_raw_type(0x5), 5u);
  EXPECT_EQ(qi_raw_type(0x200 | 0x1), 0x11u);  // bit 9 is type bit 4
  EXPECT_EQ(dec(0x201, 0).error, Iqei::InvalidType);
}

TEST(VtdQi, ContextCache) {
  auto r = dec(1 | (3u << 4) | (0x42ull << 16) | (0x0108ull << 32) | (2ull << 48), 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.type, QiType::ContextCache);
  EXPECT_EQ(r.desc.granularity, 3u);
  EXPECT_EQ(r.desc.did, 0x42);
  EXPECT_EQ(r.desc.sid, 0x0108);
  EXPECT_EQ(r.desc.fm, 2);
  EXPECT_EQ(dec(1, 0).error, Iqei::ReservedField) << "G = 00 is reserved";
  EXPECT_EQ(dec(1 | (1u << 4) | (1ull << 50), 0).error, Iqei::ReservedField);
  EXPECT_EQ(dec(1 | (1u << 4), 1).error, Iqei::ReservedField) << "high quadword reserved";
}

TEST(VtdQi, Iotlb) {
  auto r = dec(2 | (3u << 4) | (1u << 6) | (1u << 7) | (7ull << 16), 0xabcde000ull | (1u << 6) | 3);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.granularity, 3u);
  EXPECT_TRUE(r.desc.drain_writes);
  EXPECT_TRUE(r.desc.drain_reads);
  EXPECT_EQ(r.desc.did, 7);
  EXPECT_EQ(r.desc.addr, 0xabcde000ull);
  EXPECT_EQ(r.desc.am, 3u);
  EXPECT_TRUE(r.desc.ih);
  EXPECT_EQ(dec(2 | (1u << 4) | (1ull << 32), 0).error, Iqei::ReservedField);
  EXPECT_EQ(dec(2 | (3u << 4), 1u << 7).error, Iqei::ReservedField);
  EXPECT_EQ(dec(2 | (3u << 4), 19).error, Iqei::ReservedField) << "AM above MAMV";
}

TEST(VtdQi, DevTlb) {
  auto r = dec(3 | (0x5ull << 12) | (4ull << 16) | (0x0200ull << 32) | (0xabcull << 52), 0x7000 | 1);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.sid, 0x0200);
  EXPECT_EQ(r.desc.pfsid, 0xabc5);
  EXPECT_EQ(r.desc.qdep, 4);
  EXPECT_TRUE(r.desc.size_bit);
  // S = 1, address bits 12..14 set, bit 15 clear: 2^(13+3) = 64 KiB.
  EXPECT_EQ(r.desc.inval_size, 0x10000u);
  EXPECT_EQ(r.desc.addr, 0x0u);
  EXPECT_EQ(dec(3, 2).error, Iqei::ReservedField);
  QiCaps no_dt = scalable_caps();
  no_dt.dt = false;
  EXPECT_EQ(dec(3, 0, no_dt).error, Iqei::InvalidType);
}

TEST(VtdQi, InterruptEntryCache) {
  auto r = dec(4 | (1u << 4) | (5ull << 27) | (0x99ull << 32), 0);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.granularity, 1u);
  EXPECT_EQ(r.desc.im, 5);
  EXPECT_EQ(r.desc.iidx, 0x99);
  EXPECT_EQ(dec(4 | (1ull << 48), 0).error, Iqei::ReservedField);
}

TEST(VtdQi, Wait) {
  auto r = dec(5 | (1u << 4) | (1u << 5) | (1u << 6) | (0xdeadbeefull << 32), 0x12345678ull);
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.desc.wait_if);
  EXPECT_TRUE(r.desc.wait_sw);
  EXPECT_TRUE(r.desc.wait_fn);
  EXPECT_EQ(r.desc.status_data, 0xdeadbeefu);
  EXPECT_EQ(r.desc.status_addr, 0x12345678ull);
  EXPECT_EQ(dec(5, 0x12345679ull).error, Iqei::ReservedField) << "status address bits 1:0";
  EXPECT_EQ(dec(5 | (1u << 12), 0).error, Iqei::ReservedField);
  EXPECT_EQ(dec(5 | (1u << 7), 0).error, Iqei::ReservedField) << "PD without ECAP.PDS";
}

TEST(VtdQi, PasidIotlb) {
  auto r = dec(6 | (3u << 4) | (9ull << 16) | (0x12345ull << 32), 0x40000000ull | 2);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.did, 9);
  EXPECT_EQ(r.desc.pasid, 0x12345u);
  EXPECT_EQ(r.desc.am, 2u);
  EXPECT_EQ(dec(6 | (1u << 4), 0).error, Iqei::ReservedField) << "G = 01 is reserved";
  EXPECT_EQ(dec(6 | (2u << 4) | (1ull << 52), 0).error, Iqei::ReservedField);
  QiCaps legacy;
  EXPECT_EQ(dec(6 | (2u << 4), 0, legacy).error, Iqei::InvalidType);
}

TEST(VtdQi, PasidCache) {
  for (unsigned g : {0u, 1u, 3u}) EXPECT_TRUE(dec(7 | (g << 4), 0).ok) << g;
  EXPECT_EQ(dec(7 | (2u << 4), 0).error, Iqei::ReservedField);
  EXPECT_EQ(dec(7, 1).error, Iqei::ReservedField);
}

TEST(VtdQi, PasidDevTlb) {
  auto r = dec(8 | (3ull << 4) | (0x0300ull << 16) | (0x77ull << 32), 0x5000 | 1 | (1u << 11));
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.sid, 0x0300);
  EXPECT_EQ(r.desc.pasid, 0x77u);
  EXPECT_TRUE(r.desc.global);
  EXPECT_TRUE(r.desc.size_bit);
  EXPECT_EQ(r.desc.inval_size, 0x4000u);  // bit 12 set, bit 13 clear: 16 KiB
  EXPECT_EQ(r.desc.addr, 0x4000u);
  EXPECT_EQ(dec(8, 2).error, Iqei::ReservedField);
}

TEST(VtdQi, PageGroupResponse) {
  auto r = dec(9 | (1u << 4) | (0xfull << 12) | (0x0400ull << 16) | (0x55ull << 32), (0x1abull << 3));
  ASSERT_TRUE(r.ok);
  EXPECT_TRUE(r.desc.pasid_present);
  EXPECT_EQ(r.desc.response_code, 0xf);
  EXPECT_EQ(r.desc.sid, 0x0400);
  EXPECT_EQ(r.desc.pasid, 0x55u);
  EXPECT_EQ(r.desc.prgi, 0x1ab);
  EXPECT_EQ(dec(9 | (2ull << 12), 0).error, Iqei::ReservedField) << "response code 2 is reserved";
  EXPECT_EQ(dec(9, 1ull << 12).error, Iqei::ReservedField);
  QiCaps no_prs = scalable_caps();
  no_prs.prs = false;
  EXPECT_EQ(dec(9, 0, no_prs).error, Iqei::InvalidType);
}

TEST(VtdQi, UnknownTypes) {
  EXPECT_EQ(dec(0, 0).error, Iqei::InvalidType);
  EXPECT_EQ(dec(0xa, 0).error, Iqei::InvalidType);
  EXPECT_EQ(dec(0xf, 0).error, Iqei::InvalidType);
}

TEST(VtdQi, Descriptor256BitKeepsUpperHalf) {
  const uint64_t qw[4] = {5 | (1u << 5), 0x1000, 0x1111, 0x2222};
  auto r = decode_descriptor(qw, true, scalable_caps());
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.desc.qw[2], 0x1111u);
  EXPECT_EQ(r.desc.qw[3], 0x2222u);
}

TEST(VtdQi, AtsRangeEncoding) {
  uint64_t base = 0;
  EXPECT_EQ(ats_invalidation_range(0x5000, false, &base), 0x1000u);
  EXPECT_EQ(base, 0x5000u);
  EXPECT_EQ(ats_invalidation_range(0x4000, true, &base), 0x2000u);  // bit 12 clear: 8 KiB
  EXPECT_EQ(base, 0x4000u);
  EXPECT_EQ(ats_invalidation_range(0x7ffff000ull, true, &base), 0x100000000ull);  // 19 ones: 4 GiB
  EXPECT_EQ(base, 0u);
}

TEST(VtdQi, PageRequestDescriptorEncodesAtTheSpecBits) {
  // Quadword 0: type [7:0] = 1, PP 8, RID [31:16], PASID [51:32], EXR 52,
  // PMR 53. Quadword 1: RDR 0, WRR 1, LPIG 2, PRGI [11:3], address [63:12].
  PageRequestDescriptor d;
  d.rid = 0xbeef;
  d.pasid_present = true;
  d.pasid = 0xabcde;
  d.execute = true;
  d.privileged = true;
  d.read = true;
  d.write = false;
  d.last = true;
  d.prgi = 0x155;
  d.address = 0x123456789000ull | 0xfff;  // bits 11:0 are not carried
  uint64_t qw[4] = {~0ull, ~0ull, ~0ull, ~0ull};
  encode_page_request(d, qw);
  EXPECT_EQ(qw[0], 0x1ull | (1ull << 8) | (0xbeefull << 16) | (0xabcdeull << 32) | (1ull << 52) | (1ull << 53));
  EXPECT_EQ(qw[1], 0x1ull | (0x1ull << 2) | (0x155ull << 3) | 0x123456789000ull);
  EXPECT_EQ(qw[2], 0u) << "no private data";
  EXPECT_EQ(qw[3], 0u);
  // Without a PASID the PASID field stays zero; the write request is bit 1.
  d.pasid_present = false;
  d.read = false;
  d.write = true;
  d.last = false;
  encode_page_request(d, qw);
  EXPECT_EQ(qw[0] & ((1ull << 8) | (0xfffffull << 32)), 0u);
  EXPECT_EQ(qw[1] & 0x7, 0x2u);
}

TEST(VtdQi, PageRequestDescriptorDecodesHandPlacedBits) {
  const uint64_t qw[4] = {0x1ull | (1ull << 8) | (0x0010ull << 16) | (0x5ull << 32) | (1ull << 53),
                          0x2ull | (0x1ffull << 3) | 0xfffff000ull, 0, 0};
  PageRequestDescriptor d;
  ASSERT_TRUE(decode_page_request(qw, &d));
  EXPECT_EQ(d.rid, 0x0010);
  EXPECT_TRUE(d.pasid_present);
  EXPECT_EQ(d.pasid, 5u);
  EXPECT_FALSE(d.execute);
  EXPECT_TRUE(d.privileged);
  EXPECT_FALSE(d.read);
  EXPECT_TRUE(d.write);
  EXPECT_FALSE(d.last);
  EXPECT_EQ(d.prgi, 0x1ff);
  EXPECT_EQ(d.address, 0xfffff000u);
  const uint64_t other[4] = {0x2, 0, 0, 0};  // type 2: not a page request
  EXPECT_FALSE(decode_page_request(other, &d));
}
