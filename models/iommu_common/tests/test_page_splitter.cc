// SPDX-License-Identifier: Apache-2.0
// PageSplitter against the TLM-2.0 payload rules (IEEE 1666-2011 clause 14):
// the bytes a burst writes (data byte j at address + j % streaming width, if
// byte_enable[j % byte_enable_length] is enabled) land, page by page, where
// each page's translation puts them, and nowhere else. A fault on a page
// stops the burst there; the payload's fields come back as they were.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "iommu_common/page_splitter.h"

using namespace iommusim::iommu;
using sc_core::sc_time;
using sc_core::SC_ZERO_TIME;

namespace {

constexpr uint64_t kPage = 4096;
using Bytes = std::map<uint64_t, unsigned char>;

// Applies a write payload to `mem` at `addr` as a TLM target must.
void apply(const tlm::tlm_generic_payload& t, uint64_t addr, Bytes& mem) {
  const unsigned len = t.get_data_length();
  const unsigned sw = t.get_streaming_width() ? t.get_streaming_width() : len;
  const unsigned char* be = t.get_byte_enable_ptr();
  for (unsigned j = 0; j < len; ++j) {
    if (be && be[j % t.get_byte_enable_length()] != TLM_BYTE_ENABLED) continue;
    mem[addr + j % sw] = t.get_data_ptr()[j];
  }
}

// A page table of 4 KiB input pages; unmapped pages fault.
struct Rig {
  std::map<uint64_t, uint64_t> pages;  // input page -> output page
  Bytes phys;
  std::vector<std::pair<uint64_t, unsigned>> sends;  // output address, length
  std::vector<uint64_t> translated;                  // input pages asked after the first
  unsigned fail_send = ~0u;                          // index of a send that answers an error

  void map(uint64_t in, uint64_t out) { pages[in] = out; }
  PageMapping first(uint64_t in) const { return {pages.at(in & ~(kPage - 1)) | (in & (kPage - 1)), kPage}; }

  void run(PageSplitter& s, tlm::tlm_generic_payload& t) {
    sc_time delay = SC_ZERO_TIME;
    s.forward(
        t, first(t.get_address()),
        [&](uint64_t in, PageMapping& m) {
          translated.push_back(in);
          EXPECT_EQ(in % kPage, 0u) << "later pieces start on a page";
          auto it = pages.find(in);
          if (it == pages.end()) {
            t.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
            return false;
          }
          m = {it->second, kPage};
          return true;
        },
        [&](tlm::tlm_generic_payload& p, uint64_t out, sc_time&) {
          EXPECT_LE((out % kPage) + span_of(p), kPage) << "a piece never crosses its page";
          sends.emplace_back(out, p.get_data_length());
          if (sends.size() - 1 == fail_send) {
            p.set_response_status(tlm::TLM_GENERIC_ERROR_RESPONSE);
            return;
          }
          apply(p, out, phys);
          p.set_response_status(tlm::TLM_OK_RESPONSE);
        },
        delay);
  }
  // What the burst must do: apply it in input space, then move every byte
  // through the page table.
  Bytes expected(const tlm::tlm_generic_payload& t) const {
    Bytes virt, out;
    apply(t, t.get_address(), virt);
    for (const auto& [a, v] : virt) out[pages.at(a & ~(kPage - 1)) | (a & (kPage - 1))] = v;
    return out;
  }
};

struct Payload {
  std::vector<unsigned char> data, be;
  tlm::tlm_generic_payload t;
  Payload(uint64_t addr, unsigned len, unsigned sw = 0) : data(len) {
    for (unsigned i = 0; i < len; ++i) data[i] = static_cast<unsigned char>(0x10 + i);
    t.set_command(tlm::TLM_WRITE_COMMAND);
    t.set_address(addr);
    t.set_data_ptr(data.data());
    t.set_data_length(len);
    t.set_streaming_width(sw ? sw : len);
    t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  }
  void enables(std::vector<unsigned char> pattern) {
    be = std::move(pattern);
    t.set_byte_enable_ptr(be.data());
    t.set_byte_enable_length(static_cast<unsigned>(be.size()));
  }
  void expect_restored(uint64_t addr, unsigned len, unsigned sw) {
    EXPECT_EQ(t.get_address(), addr);
    EXPECT_EQ(t.get_data_ptr(), data.data());
    EXPECT_EQ(t.get_data_length(), len);
    EXPECT_EQ(t.get_streaming_width(), sw);
    EXPECT_EQ(t.get_byte_enable_ptr(), be.empty() ? nullptr : be.data());
    EXPECT_EQ(t.get_byte_enable_length(), be.size());
  }
};

constexpr unsigned char E = TLM_BYTE_ENABLED, D = TLM_BYTE_DISABLED;

}  // namespace

TEST(PageSplitter, WithinAPageGoesWhole) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  Payload p(0x40000ff0, 16);
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 1u);
  EXPECT_EQ(r.sends[0], std::make_pair(uint64_t(0x80000ff0), 16u));
  EXPECT_TRUE(r.translated.empty());
  EXPECT_EQ(r.phys, r.expected(p.t));
}

TEST(PageSplitter, CrossingIntoAnotherFrame) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  r.map(0x40001000, 0x90005000);
  Payload p(0x40000ffc, 8);
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 2u);
  EXPECT_EQ(r.sends[0], std::make_pair(uint64_t(0x80000ffc), 4u));
  EXPECT_EQ(r.sends[1], std::make_pair(uint64_t(0x90005000), 4u));
  EXPECT_EQ(r.translated, std::vector<uint64_t>{0x40001000});
  EXPECT_EQ(r.phys, r.expected(p.t));
  EXPECT_EQ(p.t.get_response_status(), tlm::TLM_OK_RESPONSE);
  p.expect_restored(0x40000ffc, 8, 8);
}

TEST(PageSplitter, FaultOnTheNextPageSendsNothingThere) {
  Rig r;
  r.map(0x40000000, 0x80000000);  // 0x40001000 unmapped
  Payload p(0x40000ff8, 16);
  p.enables(std::vector<unsigned char>(16, E));
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 1u);
  EXPECT_EQ(r.sends[0], std::make_pair(uint64_t(0x80000ff8), 8u));
  EXPECT_EQ(p.t.get_response_status(), tlm::TLM_ADDRESS_ERROR_RESPONSE);
  for (uint64_t a = 0x80001000; a < 0x80001010; ++a) EXPECT_EQ(r.phys.count(a), 0u) << std::hex << a;
  p.expect_restored(0x40000ff8, 16, 16);
}

TEST(PageSplitter, ByteEnablesFollowTheirBytes) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  r.map(0x40001000, 0x90000000);
  Payload p(0x40000ffa, 12);
  // A full-length pattern: each piece gets its own slice.
  p.enables({E, D, E, E, D, D, E, D, E, D, D, E});
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 2u);
  EXPECT_EQ(r.phys, r.expected(p.t));
  EXPECT_EQ(r.phys.count(0x80000ffb), 0u) << "byte 1 is disabled";
  EXPECT_EQ(r.phys.at(0x90000000), 0x16) << "byte 6 is the next page's first";
  p.expect_restored(0x40000ffa, 12, 12);
}

TEST(PageSplitter, ARepeatingByteEnablePatternIsRotatedForThePieceThatStartsInsideIt) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  r.map(0x40001000, 0x90000000);
  Payload p(0x40000ffd, 12);  // 3 bytes in the first page: the second starts at phase 3 of 4
  p.enables({E, E, D, E});
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 2u);
  EXPECT_EQ(r.phys, r.expected(p.t));
  EXPECT_EQ(r.phys.at(0x90000002), 0x15) << "byte 5, phase 1 of the pattern: enabled";
  EXPECT_EQ(r.phys.count(0x90000003), 0u) << "byte 6, phase 2: disabled";
  p.expect_restored(0x40000ffd, 12, 12);
}

TEST(PageSplitter, AStreamingBurstWhoseWindowCrossesIsSplitInEveryBeat) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  r.map(0x40001000, 0x90000000);
  Payload p(0x40000ffe, 16, /*streaming width=*/4);  // window: 2 bytes in each page, 4 beats
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 8u);
  EXPECT_EQ(r.translated.size(), 1u) << "each page translated once";
  for (size_t i = 0; i < 8; ++i) EXPECT_EQ(r.sends[i].second, 2u);
  EXPECT_EQ(r.phys, r.expected(p.t));
  EXPECT_EQ(r.phys.at(0x90000001), 0x10 + 15) << "the last beat's last byte";
  p.expect_restored(0x40000ffe, 16, 4);
}

TEST(PageSplitter, AStreamingBurstWhoseWindowFitsGoesWhole) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  Payload p(0x40000ffc, 64, /*streaming width=*/4);
  PageSplitter s;
  r.run(s, p.t);
  ASSERT_EQ(r.sends.size(), 1u);
  EXPECT_EQ(r.sends[0].second, 64u);
}

TEST(PageSplitter, ADownstreamErrorStopsTheBurst) {
  Rig r;
  r.map(0x40000000, 0x80000000);
  r.map(0x40001000, 0x90000000);
  r.map(0x40002000, 0xa0000000);
  r.fail_send = 1;
  Payload p(0x40000f00, 0x1200);  // three pages
  PageSplitter s;
  r.run(s, p.t);
  EXPECT_EQ(r.sends.size(), 2u);
  EXPECT_EQ(r.translated.size(), 1u) << "the third page is not even translated";
  EXPECT_EQ(p.t.get_response_status(), tlm::TLM_GENERIC_ERROR_RESPONSE);
  p.expect_restored(0x40000f00, 0x1200, 0x1200);
}
