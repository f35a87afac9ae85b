// VT-d remapping-unit register file (Intel VT-d spec rev 3.x/4.x, chapter 11,
// "Register Descriptions"): every architected register as one row of a table
// (offset, width, reset, writable / write-1-to-clear / reserved masks), with
// the spec names verbatim, plus the field encodings the rest of the unit uses.
//
// Pure C++: the table is built on the shared RegisterMap (common/register_map.h)
// and tested without a SystemC kernel.
#pragma once

#include <cstdint>
#include <string>

#include "common/register_map.h"

namespace iommusim::vtd {

// ---- Register offsets (spec 11.4; IVA/IOTLB at ECAP.IRO*16, FRCD at CAP.FRO*16) ----
namespace reg {
constexpr uint64_t VER = 0x00, CAP = 0x08, ECAP = 0x10, GCMD = 0x18, GSTS = 0x1C,
                   RTADDR = 0x20, CCMD = 0x28, FSTS = 0x34, FECTL = 0x38, FEDATA = 0x3C,
                   FEADDR = 0x40, FEUADDR = 0x44, AFLOG = 0x58, PMEN = 0x64, PLMBASE = 0x68,
                   PLMLIMIT = 0x6C, PHMBASE = 0x70, PHMLIMIT = 0x78, IQH = 0x80, IQT = 0x88,
                   IQA = 0x90, ICS = 0x9C, IECTL = 0xA0, IEDATA = 0xA4, IEADDR = 0xA8,
                   IEUADDR = 0xAC, IQERCD = 0xB0, IRTA = 0xB8, PQH = 0xC0, PQT = 0xC8, PQA = 0xD0,
                   PRS = 0xDC, PECTL = 0xE0, PEDATA = 0xE4, PEADDR = 0xE8, PEUADDR = 0xEC;
}  // namespace reg

// GCMD command bits and the matching GSTS status bits (same positions).
namespace gcmd {
constexpr uint32_t TE = 1u << 31, SRTP = 1u << 30, SFL = 1u << 29, EAFL = 1u << 28,
                   WBF = 1u << 27, QIE = 1u << 26, IRE = 1u << 25, SIRTP = 1u << 24,
                   CFI = 1u << 23;
}  // namespace gcmd
namespace gsts {
constexpr uint32_t TES = 1u << 31, RTPS = 1u << 30, FLS = 1u << 29, AFLS = 1u << 28,
                   WBFS = 1u << 27, QIES = 1u << 26, IRES = 1u << 25, IRTPS = 1u << 24,
                   CFIS = 1u << 23;
}  // namespace gsts

namespace rtaddr {
constexpr uint64_t RTA_MASK = ~0xfffull;
constexpr unsigned TTM_SHIFT = 10;  // [11:10]: 00 legacy, 01 scalable, 11 reserved (RTA.1)
}  // namespace rtaddr

namespace ccmd {
constexpr uint64_t ICC = 1ull << 63;
constexpr unsigned CIRG_SHIFT = 61, CAIG_SHIFT = 59, FM_SHIFT = 32, SID_SHIFT = 16;
}  // namespace ccmd

// Fault status (FSTS) and the event-control registers (FECTL, IECTL, PECTL).
namespace fsts {
constexpr uint32_t PFO = 1u << 0, PPF = 1u << 1, AFO = 1u << 2, APF = 1u << 3, IQE = 1u << 4,
                   ICE = 1u << 5, ITE = 1u << 6;
constexpr unsigned FRI_SHIFT = 8;
constexpr uint32_t FRI_MASK = 0xffu << 8;
}  // namespace fsts
namespace ectl {
constexpr uint32_t IM = 1u << 31, IP = 1u << 30;
}  // namespace ectl

namespace pmen {
constexpr uint32_t EPM = 1u << 31, PRS = 1u << 0;
}  // namespace pmen

namespace iqa {
constexpr uint64_t ADDR_MASK = ~0xfffull;
constexpr uint64_t DW = 1ull << 11;
constexpr uint64_t QS_MASK = 0x7;
}  // namespace iqa

namespace ics {
constexpr uint32_t IWC = 1u << 0;
}  // namespace ics

// IQERCD (spec 11.4.7.?): ICESID [63:48], ITESID [47:32], IQEI [3:0].
namespace iqercd {
constexpr unsigned ICESID_SHIFT = 48, ITESID_SHIFT = 32;
}  // namespace iqercd

// IQEI: why the descriptor at IQH raised IQE.
enum class Iqei : uint8_t {
  NotAvailable = 0,     // info not available
  TailMisaligned = 1,   // IQT not 256-bit aligned while IQA.DW = 1
  FetchError = 2,       // error fetching the descriptor
  InvalidType = 3,      // unknown or unsupported descriptor type
  ReservedField = 4,    // non-zero reserved field (or reserved encoding)
};

namespace prs {
constexpr uint32_t PPR = 1u << 0, PRO = 1u << 1;
}  // namespace prs

// IOTLB invalidate register (at IRO*16 + 8) and IVA (at IRO*16).
namespace iotlb_reg {
constexpr uint64_t IVT = 1ull << 63, DR = 1ull << 49, DW = 1ull << 48;
constexpr unsigned IIRG_SHIFT = 60, IAIG_SHIFT = 57, DID_SHIFT = 32;
}  // namespace iotlb_reg
namespace iva {
constexpr uint64_t ADDR_MASK = ~0xfffull, IH = 1ull << 6, AM_MASK = 0x3f;
}  // namespace iva

// Fault recording register (128 bits, as two 64-bit halves): LO = FI [63:12];
// HI = F 63, T1 62, AT [61:60], PV [59:40], FR [39:32], PP 31, EXE 30, PRIV 29,
// T2 28, SID [15:0].
namespace frcd {
constexpr uint64_t F = 1ull << 63, T1 = 1ull << 62, PP = 1ull << 31, EXE = 1ull << 30,
                   PRIV = 1ull << 29, T2 = 1ull << 28;
constexpr unsigned AT_SHIFT = 60, PV_SHIFT = 40, FR_SHIFT = 32;
}  // namespace frcd

// CAP fields (spec 11.4.2). Field names follow the spec.
struct CapFields {
  unsigned nd = 6;        // [2:0] number of domains: 2^(4 + 2*ND)
  bool afl = false;       // 3 advanced fault logging
  bool rwbf = false;      // 4 required write-buffer flushing
  bool plmr = true;       // 5 protected low-memory region
  bool phmr = true;       // 6 protected high-memory region
  bool cm = false;        // 7 caching mode
  unsigned sagaw = 0x4;   // [12:8] supported adjusted guest address widths
  unsigned mgaw = 48;     // [21:16] holds MGAW-1
  bool zlr = true;        // 22 zero-length read
  unsigned fro = 0x10;    // [33:24] fault-recording register offset / 16
  unsigned sllps = 0x3;   // [37:34] second-level large pages (bit0 2M, bit1 1G)
  bool psi = true;        // 39 page-selective invalidation
  unsigned nfr = 8;       // [47:40] holds NFR-1
  unsigned mamv = 18;     // [53:48] maximum address mask value
  bool dwd = true;        // 54 write draining
  bool drd = true;        // 55 read draining
  bool fs1gp = false;     // 56 first-stage 1G pages
  bool pi = true;         // 59 posted interrupts
  bool fs5lp = false;     // 60 first-stage 5-level paging
  bool esirtps = false;   // 62
  bool esrtps = false;    // 63
  uint64_t encode() const;
};

// ECAP fields (spec 11.4.3).
struct EcapFields {
  bool c = true;          // 0 page-walk coherency
  bool qi = true;         // 1 queued invalidation
  bool dt = true;         // 2 device-TLB
  bool ir = true;         // 3 interrupt remapping
  bool eim = true;        // 4 extended interrupt mode
  bool pt = true;         // 6 pass-through
  bool sc = true;         // 7 snoop control
  unsigned iro = 0x20;    // [17:8] IOTLB register offset / 16
  unsigned mhmv = 0xf;    // [23:20] maximum handle mask value
  bool nest = false;      // 26 nested translation
  bool prs = false;       // 29 page requests
  bool ers = false;       // 30 execute requests
  bool srs = false;       // 31 supervisor requests
  unsigned pss = 0;       // [39:35] PASID size - 1
  bool pasid = false;     // 40 PASID support
  bool pds = false;       // 42 page-request drain
  bool smts = false;      // 43 scalable-mode translation
  bool slads = false;     // 45 second-level A/D
  bool slts = false;      // 46 second-level translation (scalable mode)
  bool flts = false;      // 47 first-level translation
  bool smpwcs = false;    // 48 scalable-mode page-walk coherency
  uint64_t encode() const;
};

// Architected version (VER): MAX [7:4], MIN [3:0].
struct UnitLayout {
  uint32_t version = 0x10;
  uint64_t cap = 0;
  uint64_t ecap = 0;
  unsigned nfr() const { return static_cast<unsigned>((cap >> 40) & 0xff) + 1; }
  uint64_t frcd_offset() const { return ((cap >> 24) & 0x3ff) * 16; }
  uint64_t iva_offset() const { return ((ecap >> 8) & 0x3ff) * 16; }
  uint64_t iotlb_offset() const { return iva_offset() + 8; }
  unsigned mgaw() const { return static_cast<unsigned>((cap >> 16) & 0x3f) + 1; }
  // Bytes of MMIO window: covers every register, at least 4 KiB.
  uint64_t window_size() const;
};

// Host address width mask for the address registers (RTADDR, IQA, PQA, PHMx).
constexpr uint64_t haw_mask(unsigned haw) { return haw >= 64 ? ~0ull : ((1ull << haw) - 1); }

// Adds every architected register of a unit with this layout to `map` (created
// with window_size(), little-endian, holes read 0). Names: spec names verbatim;
// the 128-bit fault recording registers are "FRCD<n>_LO" / "FRCD<n>_HI".
// `haw` bounds the writable address bits.
void define_registers(RegisterMap& map, const UnitLayout& layout, unsigned haw);

}  // namespace iommusim::vtd
