// SPDX-License-Identifier: Apache-2.0
// Configuration space layout against the PCIe Base Spec offsets: type-0
// header, capability list (PCIe, MSI, MSI-X), extended capabilities (ATS,
// PASID, PRI), BAR sizing, RO/RW1C behaviour, PRI control semantics.
#include "pci_endpoint/pcie_config.h"

#include <map>

#include <gtest/gtest.h>

using namespace iommusim;
using namespace iommusim::pcicfg;

namespace {
PcieConfigParams full_params() {
  PcieConfigParams p;
  p.vendor_id = 0x8086;
  p.device_id = 0x1234;
  p.class_code = 0x020000;
  p.revision = 3;
  p.bars[0] = {64 * 1024, true, false};
  p.bars[2] = {4096, false, false};
  p.bars[4] = {1ull << 33, true, true};
  p.msi_vectors = 4;
  p.msix_vectors = 16;
  p.msix_table_offset = 0x2000;
  p.msix_pba_offset = 0x3000;
  p.ats = true;
  p.ats_invalidate_queue_depth = 8;
  p.pasid = true;
  p.pasid_width = 20;
  p.pri = true;
  p.pri_capacity = 64;
  return p;
}
uint32_t rd(PcieConfigSpace& c, uint64_t off, unsigned len = 4) {
  uint32_t v = 0xdeadbeef;
  EXPECT_TRUE(c.read(off, len, &v)) << std::hex << off;
  return v;
}
}  // namespace

TEST(PcieConfig, Type0Header) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  EXPECT_EQ(rd(c, VENDOR_ID, 2), 0x8086u);
  EXPECT_EQ(rd(c, DEVICE_ID, 2), 0x1234u);
  EXPECT_EQ(rd(c, 0x00), 0x12348086u);
  EXPECT_EQ(rd(c, 0x08), (0x020000u << 8) | 3u);  // class code and revision in one dword
  EXPECT_EQ(rd(c, HEADER_TYPE, 1), 0x00u);        // type 0, single function
  EXPECT_EQ(rd(c, COMMAND, 2), 0u);               // reset: decoders and bus master off
  EXPECT_TRUE(rd(c, STATUS, 2) & STS_CAP_LIST);
  EXPECT_EQ(rd(c, CAP_PTR, 1), PCIE_CAP);
  EXPECT_EQ(rd(c, INTERRUPT_PIN, 1), 0u);
  EXPECT_EQ(rd(c, EXPANSION_ROM), 0u);
  // Reads of unimplemented space return 0; writes are ignored.
  EXPECT_EQ(rd(c, 0xF0), 0u);
  EXPECT_TRUE(c.write(0xF0, 4, 0xffffffff));
  EXPECT_EQ(rd(c, 0xF0), 0u);
  // Read-only IDs.
  EXPECT_TRUE(c.write(VENDOR_ID, 2, 0x1111));
  EXPECT_EQ(rd(c, VENDOR_ID, 2), 0x8086u);
}

TEST(PcieConfig, CommandAndStatusRw1c) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  EXPECT_TRUE(c.write(COMMAND, 2, CMD_MEMORY | CMD_BUS_MASTER | 0x1));  // IO space is not implemented
  EXPECT_EQ(rd(c, COMMAND, 2), static_cast<uint32_t>(CMD_MEMORY | CMD_BUS_MASTER));
  EXPECT_TRUE(c.memory_enabled());
  EXPECT_TRUE(c.bus_master());
  c.map().get("STATUS").set_bits(STS_RCVD_MASTER_ABORT | STS_SIG_TARGET_ABORT);
  EXPECT_TRUE(c.write(STATUS, 2, STS_RCVD_MASTER_ABORT | STS_CAP_LIST));  // clears only what is written as 1
  const uint32_t s = rd(c, STATUS, 2);
  EXPECT_FALSE(s & STS_RCVD_MASTER_ABORT);
  EXPECT_TRUE(s & STS_SIG_TARGET_ABORT);
  EXPECT_TRUE(s & STS_CAP_LIST);  // RO
}

TEST(PcieConfig, BarSizing) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  // BAR0: 64-bit, 64 KiB, non-prefetchable.
  EXPECT_EQ(rd(c, BAR0), 0x4u);
  EXPECT_TRUE(c.write(BAR0, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0), 0xffff0004u);
  EXPECT_TRUE(c.write(BAR0 + 4, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0 + 4), 0xffffffffu);
  // BAR2: 32-bit, 4 KiB.
  EXPECT_TRUE(c.write(BAR0 + 8, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0 + 8), 0xfffff000u);
  // BAR3 is not implemented.
  EXPECT_TRUE(c.write(BAR0 + 12, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0 + 12), 0u);
  // BAR4: 64-bit prefetchable 8 GiB: address bits from 33 up.
  EXPECT_TRUE(c.write(BAR0 + 16, 4, 0xffffffff));
  EXPECT_TRUE(c.write(BAR0 + 20, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0 + 16), 0x0000000cu);
  EXPECT_EQ(rd(c, BAR0 + 20), 0xfffffffeu);
  // Program and decode.
  EXPECT_TRUE(c.write(BAR0, 4, 0xfe000000));
  EXPECT_TRUE(c.write(BAR0 + 4, 4, 0x1));
  EXPECT_EQ(c.bar_address(0), 0x1fe000000ull);
  uint64_t off = 0;
  EXPECT_EQ(c.bar_hit(0x1fe000010ull, &off), -1);  // memory space disabled
  EXPECT_TRUE(c.write(COMMAND, 2, CMD_MEMORY));
  EXPECT_EQ(c.bar_hit(0x1fe000010ull, &off), 0);
  EXPECT_EQ(off, 0x10u);
}

TEST(PcieConfig, CapabilityListWalk) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  std::map<uint8_t, uint64_t> found;
  uint64_t ptr = rd(c, CAP_PTR, 1);
  for (int guard = 0; ptr && guard < 48; ++guard) {
    EXPECT_EQ(ptr % 4, 0u);
    found[static_cast<uint8_t>(rd(c, ptr, 1))] = ptr;
    ptr = rd(c, ptr + 1, 1);
  }
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[CAP_ID_PCIE], PCIE_CAP);
  EXPECT_EQ(found[CAP_ID_MSI], MSI_CAP);
  EXPECT_EQ(found[CAP_ID_MSIX], MSIX_CAP);
  // Extended capabilities from 0x100: ID[15:0], version[19:16], next[31:20].
  std::map<uint16_t, uint64_t> ext;
  ptr = 0x100;
  for (int guard = 0; ptr && guard < 64; ++guard) {
    const uint32_t h = rd(c, ptr);
    ext[static_cast<uint16_t>(h & 0xffff)] = ptr;
    EXPECT_EQ((h >> 16) & 0xf, 1u);
    ptr = h >> 20;
  }
  EXPECT_EQ(ext.size(), 3u);
  EXPECT_EQ(ext[EXT_CAP_ID_ATS], ATS_CAP);
  EXPECT_EQ(ext[EXT_CAP_ID_PASID], PASID_CAP);
  EXPECT_EQ(ext[EXT_CAP_ID_PRI], PRI_CAP);
}

TEST(PcieConfig, CapabilityListWithoutOptionalCaps) {
  PcieConfigParams p;
  p.bars[0] = {4096, false, false};
  PcieConfigSpace c(p, PcieLinkParams());
  EXPECT_EQ(rd(c, CAP_PTR, 1), PCIE_CAP);
  EXPECT_EQ(rd(c, PCIE_CAP, 1), CAP_ID_PCIE);
  EXPECT_EQ(rd(c, PCIE_CAP + 1, 1), 0u);  // end of list
  EXPECT_EQ(rd(c, 0x100), 0u);           // no extended capabilities
}

TEST(PcieConfig, PcieCapabilityRegisters) {
  PcieLinkParams l;  // gen3 x8, MPS 256, MRRS 512, RCB 64
  PcieConfigSpace c(full_params(), l);
  EXPECT_EQ(rd(c, PCIE_CAP + PCIE_CAPS, 2), 0x0002u);  // version 2, endpoint
  EXPECT_EQ(rd(c, PCIE_CAP + DEVCAP) & 0x7, 1u);       // MPS supported: 256 B
  const uint32_t devctl = rd(c, PCIE_CAP + DEVCTL, 2);
  EXPECT_EQ((devctl >> 5) & 7, 1u);   // MPS 256
  EXPECT_EQ((devctl >> 12) & 7, 2u);  // MRRS 512
  const uint32_t lnkcap = rd(c, PCIE_CAP + LNKCAP);
  EXPECT_EQ(lnkcap & 0xf, 3u);           // 8 GT/s
  EXPECT_EQ((lnkcap >> 4) & 0x3f, 8u);   // x8
  const uint32_t lnksta = rd(c, PCIE_CAP + LNKSTA, 2);
  EXPECT_EQ(lnksta & 0xf, 3u);
  EXPECT_EQ((lnksta >> 4) & 0x3f, 8u);
  EXPECT_EQ(rd(c, PCIE_CAP + LNKCAP2) & 0xfe, 0x0eu);  // 2.5, 5, 8 GT/s supported
  // Re-programming MPS/MRRS/RCB reaches the link model.
  uint32_t mps = 0, mrrs = 0, rcb = 0;
  c.on_link_change = [&](uint32_t a, uint32_t b, uint32_t r) { mps = a; mrrs = b; rcb = r; };
  EXPECT_TRUE(c.write(PCIE_CAP + DEVCTL, 2, (devctl & ~0x70e0u) | (0u << 5) | (5u << 12)));
  EXPECT_EQ(mps, 128u);
  EXPECT_EQ(mrrs, 4096u);
  EXPECT_TRUE(c.write(PCIE_CAP + LNKCTL, 2, 1u << 3));
  EXPECT_EQ(rcb, 128u);
}

TEST(PcieConfig, MsiAndMsixCapabilities) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  const uint32_t msictl = rd(c, MSI_CAP + MSI_CTL, 2);
  EXPECT_EQ((msictl >> 1) & 7, 2u);  // 4 vectors capable
  EXPECT_TRUE(msictl & (1u << 7));   // 64-bit
  EXPECT_TRUE(msictl & (1u << 8));   // per-vector masking
  EXPECT_TRUE(c.write(MSI_CAP + MSI_ADDR_LO, 4, 0xfee00003));
  EXPECT_EQ(rd(c, MSI_CAP + MSI_ADDR_LO), 0xfee00000u);  // dword aligned
  EXPECT_EQ(rd(c, MSIX_CAP + MSIX_CTL, 2), 15u);        // table size N-1
  EXPECT_EQ(rd(c, MSIX_CAP + MSIX_TABLE), 0x2000u);     // BIR 0
  EXPECT_EQ(rd(c, MSIX_CAP + MSIX_PBA), 0x3000u);
  EXPECT_FALSE(c.msix_enabled());
  EXPECT_TRUE(c.write(MSIX_CAP + MSIX_CTL, 2, MSIX_CTL_ENABLE | MSIX_CTL_FUNCTION_MASK | 0x7ff));
  EXPECT_EQ(rd(c, MSIX_CAP + MSIX_CTL, 2), static_cast<uint32_t>(MSIX_CTL_ENABLE | MSIX_CTL_FUNCTION_MASK | 15));
  EXPECT_TRUE(c.msix_enabled());
  EXPECT_TRUE(c.msix_function_masked());
}

TEST(PcieConfig, AtsPasidPriRegisters) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  const uint32_t ats_cap = rd(c, ATS_CAP + ATS_CAPABILITY, 2);
  EXPECT_EQ(ats_cap & 0x1f, 8u);      // invalidate queue depth
  EXPECT_TRUE(ats_cap & (1u << 5));   // page aligned request
  EXPECT_TRUE(ats_cap & (1u << 6));   // global invalidate (with PASID)
  EXPECT_FALSE(c.ats_enabled());
  EXPECT_TRUE(c.write(ATS_CAP + ATS_CONTROL, 2, ATS_CTL_ENABLE | 0x3));
  EXPECT_TRUE(c.ats_enabled());
  EXPECT_EQ(c.ats_stu(), 3u);

  const uint32_t pasid_cap = rd(c, PASID_CAP + PASID_CAPABILITY, 2);
  EXPECT_EQ((pasid_cap >> 8) & 0x1f, 20u);  // max PASID width
  EXPECT_TRUE(pasid_cap & (1u << 2));       // privileged mode supported
  EXPECT_FALSE(pasid_cap & (1u << 1));      // execute not supported
  EXPECT_TRUE(c.write(PASID_CAP + PASID_CONTROL, 2, PASID_CTL_ENABLE | PASID_CTL_EXEC | PASID_CTL_PRIV));
  EXPECT_EQ(rd(c, PASID_CAP + PASID_CONTROL, 2), static_cast<uint32_t>(PASID_CTL_ENABLE | PASID_CTL_PRIV));

  // PRI: capacity RO, allocation RW, Stopped set at reset, cleared by Enable.
  EXPECT_EQ(rd(c, PRI_CAP + PRI_CAPACITY), 64u);
  EXPECT_TRUE(c.write(PRI_CAP + PRI_CAPACITY, 4, 5));
  EXPECT_EQ(rd(c, PRI_CAP + PRI_CAPACITY), 64u);
  EXPECT_TRUE(c.write(PRI_CAP + PRI_ALLOCATION, 4, 16));
  EXPECT_EQ(c.pri_allocation(), 16u);
  uint32_t sts = rd(c, PRI_CAP + PRI_STATUS, 2);
  EXPECT_TRUE(sts & PRI_STS_STOPPED);
  EXPECT_TRUE(sts & PRI_STS_PASID_REQUIRED);
  EXPECT_TRUE(c.write(PRI_CAP + PRI_CONTROL, 2, PRI_CTL_ENABLE));
  EXPECT_TRUE(c.pri_enabled());
  EXPECT_FALSE(rd(c, PRI_CAP + PRI_STATUS, 2) & PRI_STS_STOPPED);
  // RF / UPRGI are RW1C; Reset reads 0 and acts only with Enable clear.
  int resets = 0;
  c.on_pri_reset = [&] { ++resets; };
  c.pri_set_status(PRI_STS_RESPONSE_FAILURE | PRI_STS_UNEXPECTED_PRGI);
  EXPECT_TRUE(c.write(PRI_CAP + PRI_STATUS, 2, PRI_STS_UNEXPECTED_PRGI));
  sts = rd(c, PRI_CAP + PRI_STATUS, 2);
  EXPECT_TRUE(sts & PRI_STS_RESPONSE_FAILURE);
  EXPECT_FALSE(sts & PRI_STS_UNEXPECTED_PRGI);
  EXPECT_TRUE(c.write(PRI_CAP + PRI_CONTROL, 2, PRI_CTL_ENABLE | PRI_CTL_RESET));
  EXPECT_EQ(resets, 0);
  EXPECT_EQ(rd(c, PRI_CAP + PRI_CONTROL, 2), static_cast<uint32_t>(PRI_CTL_ENABLE));
  EXPECT_TRUE(c.write(PRI_CAP + PRI_CONTROL, 2, PRI_CTL_RESET));
  EXPECT_GE(resets, 1);
  EXPECT_FALSE(rd(c, PRI_CAP + PRI_STATUS, 2) & PRI_STS_RESPONSE_FAILURE);
}

TEST(PcieConfig, AccessSizes) {
  PcieConfigSpace c(full_params(), PcieLinkParams());
  uint32_t v;
  EXPECT_FALSE(c.read(0x01, 2, &v));  // misaligned
  EXPECT_TRUE(c.read(0x03, 1, &v));
  EXPECT_EQ(v, 0x12u);
  tlm::tlm_generic_payload t;
  uint8_t buf[8] = {};
  t.set_command(tlm::TLM_READ_COMMAND);
  t.set_address(0);
  t.set_data_ptr(buf);
  t.set_data_length(8);
  t.set_streaming_width(8);
  EXPECT_NE(c.transport(t), tlm::TLM_OK_RESPONSE);  // 8-byte config accesses do not exist
}

// An I/O BAR (PCI Local Bus 3.0 section 6.2.5.1): bit 0 reads 1 (I/O space),
// bit 1 reserved, address bits from bit 2; sized like a memory BAR. I/O
// Space Enable (COMMAND bit 0) becomes writable (section 6.2.2).
TEST(PcieConfig, IoBarSizingAndIoSpaceEnable) {
  PcieConfigParams p;
  p.bars[0] = {64 * 1024, true, false};
  p.bars[2] = {8, false, false, true};
  PcieConfigSpace c(p, PcieLinkParams());
  EXPECT_EQ(rd(c, BAR0 + 8), 0x1u);
  EXPECT_TRUE(c.write(BAR0 + 8, 4, 0xffffffff));
  EXPECT_EQ(rd(c, BAR0 + 8), 0xfffffff9u);  // 8 bytes: address bits 31:3
  EXPECT_TRUE(c.write(BAR0 + 8, 4, 0x101));
  EXPECT_EQ(rd(c, BAR0 + 8), 0x101u);
  EXPECT_EQ(c.bar_address(2), 0x100u);
  EXPECT_FALSE(c.io_enabled());
  EXPECT_TRUE(c.write(COMMAND, 2, 0x1 | CMD_MEMORY));
  EXPECT_EQ(rd(c, COMMAND, 2), static_cast<uint32_t>(0x1 | CMD_MEMORY));
  EXPECT_TRUE(c.io_enabled());
  uint64_t off = 0;
  EXPECT_EQ(c.bar_hit(0x100, &off), -1);  // an I/O address is not decoded as memory
  PcieConfigParams bad = p;
  bad.bars[2].size = 2;  // below the 4-byte minimum
  EXPECT_THROW(PcieConfigSpace(bad, PcieLinkParams()), std::invalid_argument);
  bad.bars[2] = {8, true, false, true};  // an I/O BAR is 32-bit
  EXPECT_THROW(PcieConfigSpace(bad, PcieLinkParams()), std::invalid_argument);
}
