// SPDX-License-Identifier: Apache-2.0
// Parameter declarations: parsing, ranges, defaults, messages.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "common/cache_params.h"
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

// ---------------------------------------------------------------------------
// Params structs declared once, through rows (common/params.h).


namespace {

enum class Flavour { Plain, Fancy };

// A custom type: numbers separated by commas.
accepts::Custom<std::vector<uint64_t>> number_list() {
  return accepts::custom<std::vector<uint64_t>>(
      "numbers separated by commas",
      [](const std::string& text, std::vector<uint64_t>* out) -> std::string {
        std::vector<uint64_t> v;
        size_t start = 0;
        while (start <= text.size()) {
          size_t end = text.find(',', start);
          if (end == std::string::npos) end = text.size();
          uint64_t n = 0;
          if (!parse_uint(text.substr(start, end - start), &n)) return "'" + text + "' is not a list of numbers";
          v.push_back(n);
          start = end + 1;
        }
        *out = v;
        return "";
      },
      [](const std::vector<uint64_t>& v) {
        std::string s;
        for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
        return s;
      });
}

#define TOY_PARAMS(P)                                                                                      \
  P(uint32_t, entries, "tlb.entries", 64, in_range(1, 4096), "entries", "TLB entries", "gem5 SMMUv3 utlb")  \
  P(double, clock_mhz, "clock", 1000.0, in_range(1.0, 1e5), "MHz", "unit clock", "assumption")             \
  P(bool, dmi, "dmi", false, boolean(), "", "grant DMI", "off: the timed path is the default")             \
  P(std::string, profile, "profile", "small", one_of({"small", "large"}), "", "size", "assumption")        \
  P(Flavour, flavour, "flavour", Flavour::Fancy,                                                           \
    one_of<Flavour>({{"plain", Flavour::Plain}, {"fancy", Flavour::Fancy}}), "", "flavour", "assumption")  \
  P(uint64_t, base, "base", 0xfed90000ull, address_up_to(0xffffffffull), "address", "MMIO base",           \
    "Broadwell DMAR unit 0")                                                                               \
  P(int64_t, offset, "offset", -5, in_range(-100, 100), "bytes", "signed offset", "assumption")            \
  P(std::string, label, "label", "", any_text(), "", "free text", "none")                                  \
  P(CacheGeometry, iotlb, "iotlb", (CacheGeometry{2048, 4}), cache_geometry(), "", "IOTLB",                \
    "gem5 SMMUv3 tlb_entries, tlb_assoc")                                                                  \
  P(std::vector<uint64_t>, sizes, "sizes", (std::vector<uint64_t>{4096, 65536}), number_list(), "bytes",  \
    "page sizes", "x86 4K and 64K")

struct ToyParams {
  IOMMUSIM_PARAM_FIELDS(TOY_PARAMS)
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(TOY_PARAMS, *this, p); }
};

// Rows naming array elements: their defaults are assigned in a constructor.
#define TOY_LEVEL_PARAMS(P)                                                                                   \
  P(CacheGeometry, level[0], "pwc.l2", (CacheGeometry{4, 4}), cache_geometry(), "", "upper level", "gem5 L0") \
  P(CacheGeometry, level[1], "pwc.l1", (CacheGeometry{92, 4}), cache_geometry(), "", "lower level", "gem5 L2")

struct ToyLevels {
  CacheGeometry level[2];
  ToyLevels() { IOMMUSIM_PARAM_DEFAULTS(TOY_LEVEL_PARAMS) }
  void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(TOY_LEVEL_PARAMS, *this, p); }
};

const ParamSpec& spec(const ParamList& l, const std::string& name) {
  for (const ParamSpec& s : l.specs())
    if (s.name == name) return s;
  throw std::out_of_range(name);
}

}  // namespace

TEST(ParamRows, FieldsTakeTheRowDefaults) {
  ToyParams t;
  EXPECT_EQ(t.entries, 64u);
  EXPECT_EQ(t.clock_mhz, 1000.0);
  EXPECT_FALSE(t.dmi);
  EXPECT_EQ(t.profile, "small");
  EXPECT_EQ(t.flavour, Flavour::Fancy);
  EXPECT_EQ(t.base, 0xfed90000ull);
  EXPECT_EQ(t.offset, -5);
  EXPECT_EQ(t.label, "");
  EXPECT_EQ(t.iotlb.entries, 2048u);
  EXPECT_EQ(t.iotlb.ways, 4u);
  EXPECT_EQ(t.iotlb.policy, ReplacementPolicy::LRU);
  EXPECT_EQ(t.sizes, (std::vector<uint64_t>{4096, 65536}));
  // Still a plain struct: C++ fills it field by field.
  t.entries = 8;
  EXPECT_EQ(t.entries, 8u);
}

TEST(ParamRows, DeclareGivesKeyUnitHelpRangeAndSource) {
  ToyParams t;
  ParamList list("u0");
  t.declare(list);
  ASSERT_EQ(list.specs().size(), 13u);  // 9 rows of one key, the cache's four
  const ParamSpec& e = spec(list, "u0.tlb.entries");
  EXPECT_EQ(e.default_value, "64");
  EXPECT_EQ(e.unit, "entries");
  EXPECT_EQ(e.help, "TLB entries");
  EXPECT_EQ(e.accepted, "an integer in 1..4096");
  EXPECT_EQ(e.source, "gem5 SMMUv3 utlb");
  EXPECT_EQ(spec(list, "u0.clock").accepted, "a number in 1..100000");
  EXPECT_EQ(spec(list, "u0.clock").kind, ParamKind::Double);
  EXPECT_EQ(spec(list, "u0.dmi").source, "off: the timed path is the default");
  EXPECT_EQ(spec(list, "u0.profile").accepted, "one of: small, large");
  EXPECT_EQ(spec(list, "u0.flavour").default_value, "fancy");
  EXPECT_EQ(spec(list, "u0.base").default_value, "0xfed90000");
  EXPECT_EQ(spec(list, "u0.base").unit, "address");
  EXPECT_EQ(spec(list, "u0.offset").default_value, "-5");
  EXPECT_EQ(spec(list, "u0.label").accepted, "any text");
  EXPECT_EQ(spec(list, "u0.sizes").default_value, "4096,65536");
  EXPECT_EQ(spec(list, "u0.sizes").unit, "bytes");
  EXPECT_EQ(spec(list, "u0.sizes").accepted, "numbers separated by commas");
  EXPECT_EQ(spec(list, "u0.sizes").source, "x86 4K and 64K");
}

TEST(ParamRows, CacheGeometryRowDeclaresFourKeys) {
  ToyParams t;
  ParamList list;
  t.declare(list);
  const ParamSpec& entries = spec(list, "iotlb.entries");
  EXPECT_EQ(entries.default_value, "2048");
  EXPECT_EQ(entries.help, "IOTLB: number of entries (0 disables it)");
  EXPECT_EQ(entries.source, "gem5 SMMUv3 tlb_entries, tlb_assoc");
  EXPECT_EQ(spec(list, "iotlb.ways").default_value, "4");
  EXPECT_EQ(spec(list, "iotlb.ways").source, "gem5 SMMUv3 tlb_entries, tlb_assoc");
  const ParamSpec& policy = spec(list, "iotlb.policy");
  EXPECT_EQ(policy.default_value, "lru");
  EXPECT_EQ(policy.accepted, "one of: lru, plru, rr, random");
  EXPECT_EQ(policy.source, "assumption");
  EXPECT_EQ(spec(list, "iotlb.seed").default_value, "1");
  EXPECT_EQ(policy.apply("rr"), "");
  EXPECT_EQ(t.iotlb.policy, ReplacementPolicy::RoundRobin);
  EXPECT_EQ(spec(list, "iotlb.entries").apply("0x100"), "");
  EXPECT_EQ(t.iotlb.entries, 256u);
}

TEST(ParamRows, ApplyChecksTheDeclaredRange) {
  ToyParams t;
  ParamList list;
  t.declare(list);
  const ParamSpec& e = spec(list, "tlb.entries");
  EXPECT_NE(e.apply("0").find("0 is out of range: expected an integer in 1..4096"), std::string::npos);
  EXPECT_NE(e.apply("4097").find("out of range"), std::string::npos);
  EXPECT_EQ(t.entries, 64u) << "a refused value leaves the field alone";
  EXPECT_EQ(e.apply("4K"), "");
  EXPECT_EQ(t.entries, 4096u);
  EXPECT_NE(spec(list, "clock").apply("0.5").find("out of range"), std::string::npos);
  EXPECT_NE(spec(list, "offset").apply("-101").find("out of range"), std::string::npos);
  EXPECT_EQ(spec(list, "offset").apply("-100"), "");
  EXPECT_EQ(t.offset, -100);
  EXPECT_NE(spec(list, "base").apply("0x100000000").find("out of range"), std::string::npos);
  EXPECT_NE(spec(list, "profile").apply("medium").find("one of: small, large"), std::string::npos);
  EXPECT_NE(spec(list, "flavour").apply("sour").find("one of: plain, fancy"), std::string::npos);
  EXPECT_EQ(spec(list, "flavour").apply("plain"), "");
  EXPECT_EQ(t.flavour, Flavour::Plain);
  EXPECT_NE(spec(list, "sizes").apply("4096,x").find("not a list of numbers"), std::string::npos);
  EXPECT_EQ(t.sizes, (std::vector<uint64_t>{4096, 65536})) << "a refused value leaves the field alone";
  EXPECT_EQ(spec(list, "sizes").apply("8,16,32"), "");
  EXPECT_EQ(t.sizes, (std::vector<uint64_t>{8, 16, 32}));
  EXPECT_EQ(spec(list, "sizes").current(), "8,16,32");
}

TEST(ParamRows, ArrayElementRowsTakeTheirDefaultsInTheConstructor) {
  ToyLevels t;
  EXPECT_EQ(t.level[0].entries, 4u);
  EXPECT_EQ(t.level[1].entries, 92u);
  ParamList list;
  t.declare(list);
  ASSERT_EQ(list.specs().size(), 8u);
  EXPECT_EQ(list.specs()[0].name, "pwc.l2.entries");
  EXPECT_EQ(list.specs()[0].help, "upper level: number of entries (0 disables it)");
  EXPECT_EQ(list.specs()[4].name, "pwc.l1.entries");
  EXPECT_EQ(list.specs()[4].default_value, "92");
  EXPECT_EQ(list.specs()[4].source, "gem5 L2");
  EXPECT_EQ(list.specs()[4].apply("16"), "");
  EXPECT_EQ(t.level[1].entries, 16u);
}

TEST(ParamRows, CheckDeclaredValuesNamesTheFirstValueOutOfItsRow) {
  ToyParams t;
  EXPECT_EQ(check_declared_values(t), "");
  t.clock_mhz = 0.5;
  t.entries = 5000;
  EXPECT_EQ(check_declared_values(t), "tlb.entries: 5000 is out of range: expected an integer in 1..4096");
  t.entries = 64;
  EXPECT_EQ(check_declared_values(t), "clock: 0.5 is out of range: expected a number in 1..100000");
  t.clock_mhz = 2;
  t.profile = "medium";
  EXPECT_EQ(check_declared_values(t), "profile: 'medium' is not one of: small, large");
  t.profile = "large";
  t.flavour = static_cast<Flavour>(7);
  EXPECT_NE(check_declared_values(t).find("flavour: "), std::string::npos);
  t.flavour = Flavour::Plain;
  t.base = 0x100000000ull;
  EXPECT_NE(check_declared_values(t).find("base: 0x100000000 is out of range"), std::string::npos);
  t.base = 0;
  EXPECT_EQ(check_declared_values(t), "");
  EXPECT_EQ(t.entries, 64u) << "the check reads a copy: the struct is left alone";
}

TEST(ParamRows, VisitGivesEachRowsKeyAndFieldForChecksAcrossKeys) {
  ToyParams t;
  std::vector<std::string> keys;
  IOMMUSIM_VISIT_PARAMS(TOY_PARAMS, t, [&keys](const std::string& key, const auto&) { keys.push_back(key); });
  EXPECT_EQ(keys, (std::vector<std::string>{"tlb.entries", "clock", "dmi", "profile", "flavour", "base", "offset",
                                            "label", "iotlb", "sizes"}));
  GeometryCheck ok;
  IOMMUSIM_VISIT_PARAMS(TOY_PARAMS, t, ok);
  EXPECT_EQ(ok.error, "");
  ToyLevels levels;
  levels.level[1].entries = 90;  // not a multiple of 4 ways
  GeometryCheck bad;
  IOMMUSIM_VISIT_PARAMS(TOY_LEVEL_PARAMS, levels, bad);
  EXPECT_EQ(bad.error, "pwc.l1: entries (90) must be a multiple of ways (4)");
}
