// SPDX-License-Identifier: Apache-2.0
// The endpoint-kind registry and what each kind declares and checks on its
// own, before any platform builds it.
#include <gtest/gtest.h>

#include <string>

#include "platforms/endpoint_kinds.h"
#include "platforms/endpoint_set.h"

using namespace iommusim;

namespace {
// The spec `name` of `p`, or nullptr.
ParamSpec* spec(ParamList& p, const std::string& name) {
  for (ParamSpec& s : p.specs())
    if (s.name == name) return &s;
  return nullptr;
}

std::string set(ParamList& p, const std::string& name, const std::string& value) {
  ParamSpec* s = spec(p, name);
  return s ? s->apply(value) : "no parameter " + name;
}

// A kind's endpoint `name`, declared in a fresh parameter list with requester id `rid`.
struct Declared {
  ParamList params;
  std::unique_ptr<Endpoint> ep;
  Declared(const char* kind, const std::string& name, uint16_t rid) {
    const EndpointKindInfo* k = find_endpoint_kind(kind);
    EXPECT_NE(k, nullptr) << kind;
    ep = k->make(name);
    ParamList section = params.scope(name);
    ep->declare(section, rid);
  }
};
}  // namespace

TEST(EndpointKinds, RegistryListsEveryKindDefaultFirst) {
  EXPECT_EQ(endpoint_kind_names(), (std::vector<std::string>{"workload", "tg", "nic", "svm", "rtl-dma"}));
  EXPECT_EQ(find_endpoint_kind("router"), nullptr);
  const std::string help = endpoint_kind_help();
  for (const EndpointKindInfo& k : endpoint_kinds()) {
    EXPECT_NE(help.find(std::string(k.name) + " (" + k.help + ")"), std::string::npos) << k.name;
    EXPECT_EQ(k.summary_header().back(), '\n') << k.name;
    EXPECT_EQ(k.summary_header().rfind("endpoint", 0), 0u) << k.name;
  }
}

// Every kind takes the requester id the platform gives it (01:02.0 here)
// unless its section says otherwise, and says which IOAS it wants.
TEST(EndpointKinds, DeclareTakesThePlatformsRequesterId) {
  for (const EndpointKindInfo& k : endpoint_kinds()) {
    Declared d(k.name, "ep", 0x0110);
    EXPECT_EQ(d.ep->requester_id(), 0x0110) << k.name;
    ASSERT_NE(spec(d.params, "ep.group"), nullptr) << k.name;
    ASSERT_NE(spec(d.params, "ep.address_space"), nullptr) << k.name;
    EXPECT_EQ(set(d.params, "ep.address_space", "3"), "");
    EXPECT_EQ(set(d.params, "ep.iova_base", "0x200000"), "");
    EXPECT_EQ(d.ep->ioas_placement().address_space, 3u) << k.name;
    EXPECT_EQ(d.ep->ioas_placement().iova_base, 0x200000u) << k.name;
  }
  Declared nic("nic", "nic0", 0x0100);
  EXPECT_EQ(set(nic.params, "nic0.requester_id", "0x0208"), "");
  EXPECT_EQ(nic.ep->requester_id(), 0x0208);
}

// Which kinds are PCI functions the CPU programs, and how many MSI-X vectors
// their drivers take (NIC: TX and RX; accelerator: completion).
TEST(EndpointKinds, ProgrammableKindsAndTheirVectors) {
  EXPECT_FALSE(Declared("workload", "w", 0x100).ep->programmable());
  EXPECT_FALSE(Declared("tg", "t", 0x100).ep->programmable());
  Declared nic("nic", "n", 0x100), svm("svm", "a", 0x100);
  EXPECT_TRUE(nic.ep->programmable());
  EXPECT_TRUE(svm.ep->programmable());
  EXPECT_EQ(nic.ep->msi_vectors(), 2u);
  EXPECT_EQ(svm.ep->msi_vectors(), 1u);
}

// Each kind's own checks, with messages that name the endpoint and the key.
TEST(EndpointKinds, ValidateAndLimitsNameTheEndpoint) {
  Declared tg("tg", "tg0", 0x100);
  EXPECT_EQ(spec(tg.params, "tg0.window_base")->current(), "0x40000000");  // 1 GiB aligned: superpages fit
  EXPECT_EQ(tg.ep->validate(1), "");
  EXPECT_EQ(set(tg.params, "tg0.window_base", "0x40000800"), "");
  EXPECT_EQ(tg.ep->validate(1), "tg0: window_base = 0x40000800 (an IOVA the kernel maps) is not 4 KiB aligned");
  EXPECT_EQ(set(tg.params, "tg0.window_base", "0x40000000"), "");
  EXPECT_EQ(set(tg.params, "tg0.window_size", "64M"), "");
  EndpointLimits limits;
  limits.kernel_ram_share = 32ull << 20;
  limits.ram_share_key = "kernel.ram_size";
  limits.run_bounded = true;
  // A limit's message gives the values on both sides and the fix.
  EXPECT_EQ(tg.ep->check_limits(limits),
            "tg0.window_size = 0x4000000 (the kernel backs the window with its own RAM) needs 0x4000000 bytes of "
            "kernel RAM, more than the 0x2000000 one endpoint may take (half of kernel.ram_size); make it at most "
            "0x2000000, or raise kernel.ram_size to at least 0x8000000");
  EXPECT_EQ(set(tg.params, "tg0.window_size", "16M"), "");
  EXPECT_EQ(tg.ep->check_limits(limits), "");
  EXPECT_EQ(set(tg.params, "tg0.count", "0"), "");
  EXPECT_EQ(tg.ep->check_limits(limits), "") << "the run's own limit ends it";
  limits.run_bounded = false;
  EXPECT_NE(tg.ep->check_limits(limits).find("tg0.count = 0 and tg0.duration_ns = 0 never stop the generator"),
            std::string::npos);
  EXPECT_EQ(set(tg.params, "tg0.duration_ns", "1000"), "");
  EXPECT_EQ(tg.ep->check_limits(limits), "");

  Declared nic("nic", "nic0", 0x100);
  EXPECT_EQ(set(nic.params, "nic0.ring_size", "100"), "");
  EXPECT_EQ(nic.ep->validate(1), "nic0: ring_size = 100 is not a power of two; accepts 2, 4, 8, ... (e.g. 64 or 128)");

  Declared svm("svm", "acc0", 0x100);
  EXPECT_EQ(svm.ep->validate(1), "");
  limits.unit_has_pasid = false;
  limits.pasid_needs = "a unit with PASID support";
  EXPECT_EQ(svm.ep->check_limits(limits), "acc0.mode = svm needs a unit with PASID support, or mode = iova");
  EXPECT_EQ(set(svm.params, "acc0.mode", "iova"), "");
  EXPECT_EQ(svm.ep->check_limits(limits), "");
}

// The set: `<ep>.kind` picks each endpoint's kind, the platform's requester
// ids and `<ep>.unit` come with it, and a unit not in the list is refused
// with the key that lists the units.
TEST(EndpointSet, KindsRequesterIdsAndUnits) {
  ParamList params;
  EndpointSet eps;
  const std::vector<std::string> names = {"a", "b"};
  eps.declare_kinds(params, names);
  EXPECT_EQ(spec(params, "a.kind")->current(), "workload");
  EXPECT_NE(spec(params, "b.kind")->apply("router"), "");
  ASSERT_EQ(spec(params, "b.kind")->apply("svm"), "");
  eps.declare(params, names, [](size_t i) { return static_cast<uint16_t>(0x0200 + 8 * i); }, "u0", "its unit");
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].kind, find_endpoint_kind("workload"));
  EXPECT_EQ(eps[1].kind, find_endpoint_kind("svm"));
  EXPECT_EQ(eps[1].ep->requester_id(), 0x0208);
  EXPECT_EQ(spec(params, "a.unit")->current(), "u0");
  ASSERT_EQ(set(params, "b.unit", "u1"), "");
  const std::vector<std::string> units = {"u0", "u1"};
  EXPECT_EQ(eps.resolve_unit(1, units, "system.units", "u0 u1"), "");
  EXPECT_EQ(eps[1].unit_index, 1u);
  ASSERT_EQ(set(params, "a.unit", "u7"), "");
  EXPECT_EQ(eps.resolve_unit(0, units, "system.units", "u0 u1"), "a.unit: 'u7' is not one of system.units (u0 u1)");
  EXPECT_EQ(&eps.find("b"), eps[1].ep.get());
  EXPECT_NO_THROW(eps.find_as<SvmEndpoint>("b", "svm"));
  EXPECT_THROW(eps.find_as<TgEndpoint>("b", "tg"), std::out_of_range);
  EXPECT_THROW(eps.find("c"), std::out_of_range);
}
