// SPDX-License-Identifier: Apache-2.0
// The stand-in (RtlIotlbStore: the Verilated RTL IOTLB in the VT-d default
// geometry, driven as the translator drives it) against the model IOTLB on
// the same random transactions, and its geometry check.
#include <gtest/gtest.h>

#include "rtl/iotlb/iotlb_checker.h"
#include "rtl/iotlb/rtl_iotlb_store.h"

using namespace iommusim;
using namespace iommusim::rtl;
using vtd::detail::IotlbInvalidation;

TEST(RtlIotlbStore, AgreesWithTheModelOnRandomTransactions) {
  RtlIotlbStore store;
  IotlbModelSide model(RtlIotlbStore::built_geometry());
  IotlbOpStream stream(7);
  for (int i = 0; i < 50000; ++i) {
    const IotlbOp op = stream.next();
    const IotlbOutcome want = model.apply(op);
    switch (op.kind) {
      case IotlbOp::Lookup: {
        const vtd::detail::IotlbVal* v = store.lookup(op.key);
        ASSERT_EQ(v != nullptr, want.hit) << "#" << i << " " << op.describe();
        if (v) {
          ASSERT_TRUE(vtd::detail::encode_entry(*v) == want.entry) << "#" << i << " " << op.describe();
        }
        break;
      }
      case IotlbOp::Fill: store.insert(op.key, vtd::detail::decode_entry(op.entry)); break;
      case IotlbOp::Invalidate: ASSERT_EQ(store.invalidate(op.inv), want.removed) << "#" << i << " " << op.describe();
    }
    ASSERT_EQ(store.occupancy(), want.occupancy) << "#" << i << " " << op.describe();
  }
  const CacheCounters& m = model.cache().counters();
  EXPECT_EQ(store.counters().lookups, m.lookups);
  EXPECT_EQ(store.counters().hits, m.hits);
  EXPECT_EQ(store.counters().insertions, m.insertions);
  EXPECT_EQ(store.counters().evictions, m.evictions);
  EXPECT_EQ(store.counters().invalidations, m.invalidations);
}

TEST(RtlIotlbStore, NamesTheBuiltGeometryWhenAnotherIsAsked) {
  EXPECT_EQ(RtlIotlbStore::check_geometry(CacheGeometry{2048, 4}), "");
  const std::string err = RtlIotlbStore::check_geometry(CacheGeometry{64, 4, ReplacementPolicy::TreePLRU});
  EXPECT_NE(err.find("built for entries = 2048, ways = 4, policy = lru"), std::string::npos) << err;
  EXPECT_NE(err.find("not entries = 64, ways = 4, policy = plru"), std::string::npos) << err;
}

// Every attribute of an IOTLB entry survives the RTL's attribute word.
TEST(RtlIotlbStore, EntryEncodingKeepsEveryField) {
  for (uint32_t bit = 0; bit < vtd::detail::kIotlbAttrBits; ++bit) {
    const vtd::detail::IotlbEntryBits b{7, 0x1234, 0xabcde000, 1u << bit};
    EXPECT_TRUE(vtd::detail::encode_entry(vtd::detail::decode_entry(b)) == b) << bit;
  }
}
