// SPDX-License-Identifier: Apache-2.0
// The descriptors the unit exchanges with software through in-memory queues
// (Intel VT-d spec rev 3.x/4.x), pure C++:
//   - queued-invalidation descriptors (6.5.2): decode and validation of all
//     nine types, in 128-bit (IQA.DW = 0) and 256-bit (IQA.DW = 1) form. The
//     QI engine (vtd_qi_engine.h) fetches a descriptor, calls
//     decode_descriptor() and acts on the result;
//   - the page request descriptor (chapter 7, "Page Request Descriptor"):
//     encode and decode. The page request queue (vtd_prq.h) writes it.
//
// Validation: an unknown type, or a type the unit does not support (per its
// ECAP), gives IQEI InvalidType; a non-zero reserved field or a reserved
// granularity encoding gives IQEI ReservedField. In 256-bit mode, bits 255:128
// of the nine 128-bit types are not checked (Linux documents them as possibly
// holding software-private data).
#pragma once

#include <cstdint>

#include "iommu_vtd/vtd_regs.h"

namespace iommusim::vtd {

enum class QiType : uint8_t {
  ContextCache = 1,
  Iotlb = 2,
  DevTlb = 3,
  Iec = 4,
  Wait = 5,
  PasidIotlb = 6,
  PasidCache = 7,
  PasidDevTlb = 8,
  PageGroupResponse = 9,
};
constexpr unsigned kQiTypeCount = 10;  // index by raw type, 0 unused

// Stat-friendly name of a raw type ("context_cache", ..., "unknown").
const char* qi_type_name(unsigned raw_type);

// The type field is split: bits [3:0] and [11:9] of the low quadword.
namespace qi_desc {
constexpr Field TYPE_LO = bits(3, 0), TYPE_HI = bits(11, 9);
}  // namespace qi_desc
inline unsigned qi_raw_type(uint64_t qw0) {
  return static_cast<unsigned>((qi_desc::TYPE_HI.extract(qw0) << qi_desc::TYPE_LO.width) |
                               qi_desc::TYPE_LO.extract(qw0));
}

// What the unit supports (from ECAP/CAP).
struct QiCaps {
  bool dt = true;      // device-TLB descriptors (3, 8)
  bool ir = true;      // interrupt entry cache (4)
  bool pasid = false;  // PASID-based descriptors (6, 7, 8)
  bool prs = false;    // page group response (9)
  bool pds = false;    // wait descriptor PD bit
  unsigned mamv = 18;  // largest AM for page-selective invalidations

  static QiCaps of(const CapFields& cap, const EcapFields& ecap) {
    QiCaps c;
    c.dt = ecap.dt;
    c.ir = ecap.ir;
    c.pasid = ecap.pasid;
    c.prs = ecap.prs;
    c.pds = ecap.pds;
    c.mamv = cap.mamv;
    return c;
  }
};

struct QiDescriptor {
  QiType type = QiType::Wait;
  uint64_t qw[4] = {0, 0, 0, 0};

  unsigned granularity = 0;  // G field as encoded (cc/iotlb/p-iotlb/pasid-cache/iec)
  uint16_t did = 0;
  uint16_t sid = 0;          // cc device-selective, dev-TLB SID, page-response RID
  uint8_t fm = 0;            // cc function mask
  uint32_t pasid = 0;
  bool pasid_present = false;  // page group response PP
  bool drain_reads = false, drain_writes = false;  // iotlb DR/DW
  uint64_t addr = 0;         // page address [63:12]
  unsigned am = 0;
  bool ih = false;
  // device-TLB (3, 8)
  uint16_t pfsid = 0;
  uint8_t qdep = 0;
  bool size_bit = false;     // S
  bool global = false;       // p-dev-TLB G
  uint64_t inval_size = 0;   // bytes of the range, from S and the address
  // interrupt entry cache (4)
  uint16_t iidx = 0;
  uint8_t im = 0;
  // wait (5)
  bool wait_if = false, wait_sw = false, wait_fn = false, wait_pd = false;
  uint32_t status_data = 0;
  uint64_t status_addr = 0;
  // page group response (9)
  uint8_t response_code = 0;
  uint16_t prgi = 0;
  bool lpig = false;
  bool pdp = false;
};

struct QiDecodeResult {
  bool ok = false;
  Iqei error = Iqei::NotAvailable;
  QiDescriptor desc;
};

// `qw` holds 2 quadwords (dw256 = false) or 4 (dw256 = true), little-endian
// values as read from memory.
QiDecodeResult decode_descriptor(const uint64_t* qw, bool dw256, const QiCaps& caps);

// ATS invalidation range (PCIe Base 10.3.3): with S = 0 the 4 KiB page at
// `addr`; with S = 1 the size is 2^(13 + n) where n is the number of
// consecutive 1 bits from bit 12 up. Returns the size; *base gets the aligned base.
uint64_t ats_invalidation_range(uint64_t addr, bool s, uint64_t* base);

// Page request descriptor, 256 bits (two quadwords of fields, two of private
// data the unit leaves zero). Field names as in the spec; Linux calls them
// type, pasid_present, rid, pasid, exe_req, pm_req; rd_req, wr_req, lpig,
// prg_index, addr (drivers/iommu/intel, struct page_req_dsc).
namespace prq_desc {
// Quadword 0.
constexpr Field TYPE = bits(7, 0);
constexpr Bit PP = bit(8);  // PASID present
constexpr Field RID = bits(31, 16), PASID = bits(51, 32);
constexpr Bit EXR = bit(52), PMR = bit(53);  // execute, privileged mode requested
// Quadword 1.
constexpr Bit RDR = bit(0), WRR = bit(1), LPIG = bit(2);  // read, write requested; last in group
constexpr Field PRGI = bits(11, 3), ADDR = bits(63, 12);
}  // namespace prq_desc
constexpr unsigned kPageRequestType = 1;
constexpr unsigned kPageRequestDescriptorBytes = 32;

struct PageRequestDescriptor {
  uint16_t rid = 0;
  bool pasid_present = false;
  uint32_t pasid = 0;       // 20 bits, meaningful with pasid_present
  bool execute = false;     // EXR
  bool privileged = false;  // PMR
  bool read = false;        // RDR
  bool write = false;       // WRR
  bool last = false;        // LPIG
  uint16_t prgi = 0;        // 9 bits
  uint64_t address = 0;     // page address (bits 11:0 are not carried)
};

// The four quadwords of `d` (values; the queue holds them little-endian).
void encode_page_request(const PageRequestDescriptor& d, uint64_t qw[4]);
// The descriptor in `qw`; false if its type is not a page request.
bool decode_page_request(const uint64_t qw[4], PageRequestDescriptor* d);

}  // namespace iommusim::vtd
