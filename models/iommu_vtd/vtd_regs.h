// SPDX-License-Identifier: Apache-2.0
// VT-d remapping-unit register file (Intel VT-d spec rev 3.x/4.x, chapter 11,
// "Register Descriptions"): every architected register as one row of a table
// (offset, width, reset, writable / write-1-to-clear / reserved masks), with
// the spec names verbatim, plus every field the unit uses, by name.
//
// Pure C++: the table is built on the shared RegisterMap (common/register_map.h)
// and tested without a SystemC kernel.
#pragma once

#include <cstdint>
#include <string>

#include "common/register_fields.h"
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

// Fields, one name per field, spec names verbatim (VT-d 3.x/4.x section 11.4,
// each register under its own heading there).
// A Bit reads as its mask (`gsts_value & gsts::TES`); a Field is decoded with
// extract() and encoded with deposit()/encode() (common/register_fields.h).

// VER: Version Register.
namespace ver {
constexpr Field MAX = bits(7, 4), MIN = bits(3, 0);
}  // namespace ver

// CAP: Capability Register.
namespace cap {
constexpr Field ND = bits(2, 0), SAGAW = bits(12, 8), MGAW = bits(21, 16), FRO = bits(33, 24),
                SLLPS = bits(37, 34), NFR = bits(47, 40), MAMV = bits(53, 48);
constexpr Bit AFL = bit(3), RWBF = bit(4), PLMR = bit(5), PHMR = bit(6), CM = bit(7), ZLR = bit(22),
              PSI = bit(39), DWD = bit(54), DRD = bit(55), FS1GP = bit(56), PI = bit(59),
              FS5LP = bit(60), ESIRTPS = bit(62), ESRTPS = bit(63);
}  // namespace cap

// ECAP: Extended Capability Register.
namespace ecap {
constexpr Field IRO = bits(17, 8), MHMV = bits(23, 20), PSS = bits(39, 35);
constexpr Bit C = bit(0), QI = bit(1), DT = bit(2), IR = bit(3), EIM = bit(4), PT = bit(6),
              SC = bit(7), NEST = bit(26), PRS = bit(29), ERS = bit(30), SRS = bit(31),
              PASID = bit(40), PDS = bit(42), SMTS = bit(43), SLADS = bit(45), SLTS = bit(46),
              FLTS = bit(47), SMPWCS = bit(48);
}  // namespace ecap

// GCMD (Global Command Register) command bits and the matching GSTS (Global
// Status Register) status bits, at the same positions.
namespace gcmd {
constexpr Bit TE = bit(31), SRTP = bit(30), SFL = bit(29), EAFL = bit(28), WBF = bit(27),
              QIE = bit(26), IRE = bit(25), SIRTP = bit(24), CFI = bit(23);
}  // namespace gcmd
namespace gsts {
constexpr Bit TES = bit(31), RTPS = bit(30), FLS = bit(29), AFLS = bit(28), WBFS = bit(27),
              QIES = bit(26), IRES = bit(25), IRTPS = bit(24), CFIS = bit(23);
}  // namespace gsts

// RTADDR (Root Table Address Register): TTM 00 legacy, 01 scalable, 11
// reserved (fault RTA.1).
namespace rtaddr {
constexpr Field RTA = bits(63, 12), TTM = bits(11, 10);
}  // namespace rtaddr

// CCMD: Context Command Register.
namespace ccmd {
constexpr Bit ICC = bit(63);
constexpr Field CIRG = bits(62, 61), CAIG = bits(60, 59), FM = bits(33, 32), SID = bits(31, 16),
                DID = bits(15, 0);
}  // namespace ccmd

// FSTS (Fault Status Register), and the event control registers FECTL, IECTL
// and PECTL (fault, invalidation completion and page request events), which
// share one IM/IP layout.
namespace fsts {
constexpr Bit PFO = bit(0), PPF = bit(1), AFO = bit(2), APF = bit(3), IQE = bit(4), ICE = bit(5),
              ITE = bit(6);
constexpr Field FRI = bits(15, 8);
}  // namespace fsts
namespace ectl {
constexpr Bit IM = bit(31), IP = bit(30);
}  // namespace ectl
// FEADDR: message address, dword aligned (IEADDR and PEADDR alike).
namespace feaddr {
constexpr Field MA = bits(31, 2);
}  // namespace feaddr

// AFLOG (Advanced Fault Log Register) and IRTA (Interrupt Remapping Table
// Address Register): defined, not modeled.
namespace aflog {
constexpr Field FLA = bits(63, 12), FLS = bits(11, 9);
}  // namespace aflog
namespace irta {
constexpr Field IRTA = bits(63, 12), S = bits(3, 0);
constexpr Bit EIME = bit(11);
}  // namespace irta

// PLMBASE/PLMLIMIT and PHMBASE/PHMLIMIT: protected regions at 2 MiB granularity.
namespace plmbase {
constexpr Field PLMB = bits(31, 21);
}  // namespace plmbase
namespace phmbase {
constexpr Field PHMB = bits(63, 21);
}  // namespace phmbase

// PMEN (Protected Memory Enable Register): EPM enables, PRS reports the
// protection state.
namespace pmen {
constexpr Bit EPM = bit(31), PRS = bit(0);
}  // namespace pmen

// IQH/IQT (Invalidation Queue Head/Tail Registers): the queue offset in
// 128-bit units (with IQA.DW = 1 the tail must be 256-bit aligned: bit 4 clear).
namespace iqh {
constexpr Field QH = bits(18, 4);
}  // namespace iqh
namespace iqt {
constexpr Field QT = bits(18, 4);
}  // namespace iqt

// IQA (Invalidation Queue Address Register): base, descriptor width, queue
// size 2^QS pages.
namespace iqa {
constexpr Field IQA = bits(63, 12), QS = bits(2, 0);
constexpr Bit DW = bit(11);
}  // namespace iqa

namespace ics {
constexpr Bit IWC = bit(0);
}  // namespace ics

// IQERCD (Invalidation Queue Error Record Register).
namespace iqercd {
constexpr Field ICESID = bits(63, 48), ITESID = bits(47, 32), IQEI = bits(3, 0);
}  // namespace iqercd

// IQEI: why the queue raised IQE (VT-d 4.x/5.x section 11.4.9.9, IQERCD_REG).
enum class Iqei : uint8_t {
  NotAvailable = 0,     // info not available
  InvalidTail = 1,      // an invalid tail pointer: IQT beyond the queue IQA.QS sizes
  FetchError = 2,       // error fetching the descriptor
  InvalidType = 3,      // unknown or unsupported descriptor type
  ReservedField = 4,    // non-zero reserved field (or reserved encoding)
  TailMisaligned = 6,   // IQT not aligned to the descriptor width (IQA.DW = 1, IQT bit 4 set)
};

// Page request queue: PQH/PQT (offsets in 32-byte descriptors), PQA (base,
// size 2^PQS pages) and PRS (Page Request Status Register).
namespace pqh {
constexpr Field PQH = bits(18, 5);
}  // namespace pqh
namespace pqt {
constexpr Field PQT = bits(18, 5);
}  // namespace pqt
namespace pqa {
constexpr Field PQA = bits(63, 12), PQS = bits(2, 0);
}  // namespace pqa
namespace prs {
constexpr Bit PPR = bit(0), PRO = bit(1);
}  // namespace prs

// IOTLB Invalidate Register (at ECAP.IRO*16 + 8) and IVA, the Invalidate
// Address Register (at ECAP.IRO*16).
namespace iotlb_reg {
constexpr Bit IVT = bit(63), DR = bit(49), DW = bit(48);
constexpr Field IIRG = bits(61, 60), IAIG = bits(58, 57), DID = bits(47, 32);
}  // namespace iotlb_reg
namespace iva {
constexpr Field ADDR = bits(63, 12), AM = bits(5, 0);
constexpr Bit IH = bit(6);
}  // namespace iva

// FRCD, the Fault Recording Registers (128 bits, as two 64-bit halves):
// FI in the low half, the rest in the high half.
namespace frcd {
constexpr Field FI = bits(63, 12);  // in the low half
// An interrupt-remapping fault records its interrupt_index in FI bits 63:48
// (bits 47:12 clear).
constexpr Field FI_INTERRUPT_INDEX = bits(63, 48);
constexpr Bit F = bit(63), T1 = bit(62), PP = bit(31), EXE = bit(30), PRIV = bit(29), T2 = bit(28);
constexpr Field AT = bits(61, 60), PV = bits(59, 40), FR = bits(39, 32), SID = bits(15, 0);
}  // namespace frcd

// CAP fields, decoded: encode() and decode() go through the
// same field definitions (namespace cap).
struct CapFields {
  unsigned nd = 6;        // number of domains: 2^(4 + 2*ND)
  bool afl = false;       // advanced fault logging
  bool rwbf = false;      // required write-buffer flushing
  bool plmr = true;       // protected low-memory region
  bool phmr = true;       // protected high-memory region
  bool cm = false;        // caching mode
  unsigned sagaw = 0x4;   // supported adjusted guest address widths
  unsigned mgaw = 48;     // guest address width (the field holds MGAW-1)
  bool zlr = true;        // zero-length read
  unsigned fro = 0x10;    // fault-recording register offset / 16
  unsigned sllps = 0x3;   // second-level large pages (bit0 2M, bit1 1G)
  bool psi = true;        // page-selective invalidation
  unsigned nfr = 8;       // fault recording registers (the field holds NFR-1)
  unsigned mamv = 18;     // maximum address mask value
  bool dwd = true;        // write draining
  bool drd = true;        // read draining
  bool fs1gp = false;     // first-stage 1G pages
  bool pi = true;         // posted interrupts
  bool fs5lp = false;     // first-stage 5-level paging
  bool esirtps = false;
  bool esrtps = false;
  uint64_t encode() const;
  static CapFields decode(uint64_t cap);

  // visit(field, member[, offset]) for every field (register_fields.h).
  template <class Self, class Visit>
  static void each_field(Self& c, Visit&& visit);
};

// ECAP fields, decoded; same scheme as CapFields.
struct EcapFields {
  bool c = true;          // page-walk coherency
  bool qi = true;         // queued invalidation
  bool dt = true;         // device-TLB
  bool ir = true;         // interrupt remapping
  bool eim = true;        // extended interrupt mode
  bool pt = true;         // pass-through
  bool sc = true;         // snoop control
  unsigned iro = 0x20;    // IOTLB register offset / 16
  unsigned mhmv = 0xf;    // maximum handle mask value
  bool nest = false;      // nested translation
  bool prs = false;       // page requests
  bool ers = false;       // execute requests
  bool srs = false;       // supervisor requests
  unsigned pss = 0;       // PASID size - 1
  bool pasid = false;     // PASID support
  bool pds = false;       // page-request drain
  bool smts = false;      // scalable-mode translation
  bool slads = false;     // second-level A/D
  bool slts = false;      // second-level translation (scalable mode)
  bool flts = false;      // first-level translation
  bool smpwcs = false;    // scalable-mode page-walk coherency
  uint64_t encode() const;
  static EcapFields decode(uint64_t ecap);

  template <class Self, class Visit>
  static void each_field(Self& e, Visit&& visit);
};

// Architected version (VER): MAX [7:4], MIN [3:0].
struct UnitLayout {
  uint32_t version = 0x10;
  uint64_t cap = 0;
  uint64_t ecap = 0;
  unsigned nfr() const { return static_cast<unsigned>(cap::NFR.extract(cap)) + 1; }
  uint64_t frcd_offset() const { return cap::FRO.extract(cap) * 16; }
  uint64_t iva_offset() const { return ecap::IRO.extract(ecap) * 16; }
  uint64_t iotlb_offset() const { return iva_offset() + 8; }
  unsigned mgaw() const { return static_cast<unsigned>(cap::MGAW.extract(cap)) + 1; }
  CapFields cap_fields() const { return CapFields::decode(cap); }
  EcapFields ecap_fields() const { return EcapFields::decode(ecap); }
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

// The register map of one unit, every register defined at construction.
class VtdRegisterMap : public RegisterMap {
public:
  VtdRegisterMap(const std::string& name, const UnitLayout& layout, unsigned haw)
      : RegisterMap(name, layout.window_size(), Endian::Little, HolePolicy::ReadZeroWriteIgnore) {
    define_registers(*this, layout, haw);
  }
};

}  // namespace iommusim::vtd
