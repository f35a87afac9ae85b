// Parameter declarations: parsing, ranges, defaults, messages.
#include <gtest/gtest.h>

#include "common/params.h"

using namespace iommusim;

TEST(Params, ParseUintForms) {
  uint64_t v = 0;
  EXPECT_TRUE(parse_uint("4096", &v)); EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_uint("0x1000", &v)); EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_uint("4K", &v)); EXPECT_EQ(v, 4096u);
  EXPECT_TRUE(parse_uint("64M", &v)); EXPECT_EQ(v, 64ull << 20);
  EXPECT_TRUE(parse_uint("1_000_000", &v)); EXPECT_EQ(v, 1000000u);
  EXPECT_FALSE(parse_uint("-1", &v));
  EXPECT_FALSE(parse_uint("12x", &v));
  EXPECT_FALSE(parse_uint("", &v));
  EXPECT_FALSE(parse_uint("99999999999999999999", &v));
  EXPECT_FALSE(parse_uint("16777216T", &v));  // overflows with the suffix
}

TEST(Params, DeclaredDefaultsAndApply) {
  struct P { uint64_t entries = 64; double lat = 1.5; bool on = true; std::string pol = "lru"; uint64_t base = 0xfed90000; } p;
  ParamList list("vtd0");
  ParamList iotlb = list.scope("iotlb");
  iotlb.add_uint("entries", &p.entries, 0, 1 << 16, "entries", "IOTLB entries");
  iotlb.add_double("latency", &p.lat, 0, 100, "cycles", "lookup");
  list.add_bool("enabled", &p.on, "on/off");
  iotlb.add_choice("policy", &p.pol, {"lru", "plru"}, "replacement");
  list.add_address("base", &p.base, ~0ull, "MMIO base");
  const auto& specs = list.specs();
  ASSERT_EQ(specs.size(), 5u);
  EXPECT_EQ(specs[0].name, "vtd0.iotlb.entries");
  EXPECT_EQ(specs[0].default_value, "64");
  EXPECT_EQ(specs[1].default_value, "1.5");
  EXPECT_EQ(specs[4].default_value, "0xfed90000");
  EXPECT_EQ(specs[0].apply("0x80"), "");
  EXPECT_EQ(p.entries, 128u);
  EXPECT_NE(specs[0].apply("70000").find("out of range: expected an integer in 0..65536"),
            std::string::npos);
  EXPECT_EQ(p.entries, 128u) << "a refused value leaves the field alone";
  EXPECT_NE(specs[2].apply("maybe").find("not a boolean"), std::string::npos);
  EXPECT_NE(specs[3].apply("fifo").find("one of: lru, plru"), std::string::npos);
  EXPECT_EQ(specs[3].apply("plru"), "");
  EXPECT_EQ(specs[3].current(), "plru");
  EXPECT_EQ(specs[4].apply("0xfee00000"), "");
  EXPECT_EQ(specs[4].current(), "0xfee00000");
}

TEST(Params, EnumChoices) {
  enum class Mode { Strict, Deferred };
  Mode m = Mode::Deferred;
  ParamList list("kernel");
  list.add_enum<Mode>("invalidation", &m, {{"strict", Mode::Strict}, {"deferred", Mode::Deferred}},
                      "policy");
  EXPECT_EQ(list.specs()[0].default_value, "deferred");
  EXPECT_EQ(list.specs()[0].apply("strict"), "");
  EXPECT_EQ(m, Mode::Strict);
  EXPECT_NE(list.specs()[0].apply("lazy"), "");
}

TEST(Params, DoubleRoundTripsShortest) {
  double d = 0.1;
  ParamList list;
  list.add_double("x", &d, 0, 1, "", "");
  EXPECT_EQ(list.specs()[0].current(), "0.1");
  EXPECT_EQ(list.specs()[0].apply("1e-3"), "");
  EXPECT_EQ(list.specs()[0].current(), "0.001");
  EXPECT_NE(list.specs()[0].apply("nan"), "");
}
