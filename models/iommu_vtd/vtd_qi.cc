// SPDX-License-Identifier: Apache-2.0
#include "iommu_vtd/vtd_qi.h"

namespace iommusim::vtd {

namespace {
// Descriptor fields by their spec bit ranges [hi:lo] (common/register_fields.h).
constexpr uint64_t mask(unsigned hi, unsigned lo) { return bits(hi, lo).mask(); }
constexpr uint64_t get(uint64_t v, unsigned hi, unsigned lo) { return bits(hi, lo).extract(v); }

// Reserved bits of the low / high quadword of each 128-bit type.
struct Rsvd {
  uint64_t lo, hi;
};
constexpr Rsvd kRsvd[kQiTypeCount] = {
    {0, 0},
    /*1 cc*/ {mask(8, 6) | mask(15, 12) | mask(63, 50), ~0ull},
    /*2 iotlb*/ {mask(8, 8) | mask(15, 12) | mask(63, 32), mask(11, 7)},
    /*3 dev-tlb*/ {mask(8, 4) | mask(31, 21) | mask(51, 48), mask(11, 1)},
    /*4 iec*/ {mask(8, 5) | mask(26, 12) | mask(63, 48), ~0ull},
    /*5 wait*/ {mask(8, 8) | mask(31, 12), mask(1, 0)},
    /*6 p-iotlb*/ {mask(8, 6) | mask(15, 12) | mask(63, 52), mask(11, 7)},
    /*7 pasid-cache*/ {mask(8, 6) | mask(15, 12) | mask(63, 52), ~0ull},
    /*8 p-dev-tlb*/ {0, mask(10, 1)},
    /*9 page-grp-resp*/ {mask(8, 6) | mask(63, 52), mask(1, 0) | mask(63, 12)},
};
}  // namespace

const char* qi_type_name(unsigned t) {
  switch (t) {
    case 1: return "context_cache";
    case 2: return "iotlb";
    case 3: return "dev_tlb";
    case 4: return "iec";
    case 5: return "wait";
    case 6: return "pasid_iotlb";
    case 7: return "pasid_cache";
    case 8: return "pasid_dev_tlb";
    case 9: return "page_group_response";
    default: return "unknown";
  }
}

uint64_t ats_invalidation_range(uint64_t addr, bool s, uint64_t* base) {
  uint64_t size = 4096;
  if (s) {
    unsigned n = 0;
    while (n < 51 && ((addr >> (12 + n)) & 1)) ++n;
    size = 1ull << (13 + n);
  }
  if (base) *base = addr & ~(size - 1);
  return size;
}

namespace {

// The pages of a page-selective IOTLB or PASID-IOTLB invalidation, in the
// high quadword: ADDR [63:12], IH 6, AM [5:0].
void decode_page_range(QiDescriptor& d, uint64_t hi) {
  d.am = get(hi, 5, 0);
  d.ih = get(hi, 6, 6);
  d.addr = hi & mask(63, 12);
}

// Fields of the cache invalidations (types 1, 2, 6, 7); false on a reserved
// granularity or an address mask beyond MAMV.
bool decode_cache_invalidation(QiDescriptor& d, uint64_t lo, uint64_t hi, const QiCaps& caps) {
  bool valid = true;
  switch (d.type) {
    case QiType::ContextCache:
      d.granularity = get(lo, 5, 4);
      d.did = get(lo, 31, 16);
      d.sid = get(lo, 47, 32);
      d.fm = get(lo, 49, 48);
      valid = d.granularity != 0;
      break;
    case QiType::Iotlb:
      d.granularity = get(lo, 5, 4);
      d.drain_writes = get(lo, 6, 6);
      d.drain_reads = get(lo, 7, 7);
      d.did = get(lo, 31, 16);
      decode_page_range(d, hi);
      valid = d.granularity != 0 && (d.granularity != 3 || d.am <= caps.mamv);
      break;
    case QiType::PasidIotlb:
      d.granularity = get(lo, 5, 4);
      d.did = get(lo, 31, 16);
      d.pasid = get(lo, 51, 32);
      decode_page_range(d, hi);
      valid = (d.granularity == 2 || d.granularity == 3) && (d.granularity != 3 || d.am <= caps.mamv);
      break;
    case QiType::PasidCache:
      d.granularity = get(lo, 5, 4);
      d.did = get(lo, 31, 16);
      d.pasid = get(lo, 51, 32);
      valid = d.granularity != 2;
      break;
    default:
      break;
  }
  return valid;
}

// Fields of the device-TLB, interrupt entry cache, wait and page group
// response descriptors (types 3, 4, 5, 8, 9); false on a reserved encoding.
bool decode_other(QiDescriptor& d, uint64_t lo, uint64_t hi) {
  bool valid = true;
  switch (d.type) {
    case QiType::DevTlb:
      d.pfsid = static_cast<uint16_t>(get(lo, 15, 12) | (get(lo, 63, 52) << 4));
      d.qdep = get(lo, 20, 16);
      d.sid = get(lo, 47, 32);
      d.size_bit = get(hi, 0, 0);
      d.addr = hi & mask(63, 12);
      d.inval_size = ats_invalidation_range(d.addr, d.size_bit, &d.addr);
      break;
    case QiType::Iec:
      d.granularity = get(lo, 4, 4);
      d.im = get(lo, 31, 27);
      d.iidx = get(lo, 47, 32);
      break;
    case QiType::Wait:
      d.wait_if = get(lo, 4, 4);
      d.wait_sw = get(lo, 5, 5);
      d.wait_fn = get(lo, 6, 6);
      d.wait_pd = get(lo, 7, 7);
      d.status_data = static_cast<uint32_t>(get(lo, 63, 32));
      d.status_addr = hi & mask(63, 2);
      break;
    case QiType::PasidDevTlb:
      d.qdep = get(lo, 8, 4);
      d.pfsid = static_cast<uint16_t>(get(lo, 15, 12) | (get(lo, 63, 52) << 4));
      d.sid = get(lo, 31, 16);
      d.pasid = get(lo, 51, 32);
      d.global = get(hi, 0, 0);
      d.size_bit = get(hi, 11, 11);
      d.addr = hi & mask(63, 12);
      d.inval_size = ats_invalidation_range(d.addr, d.size_bit, &d.addr);
      break;
    case QiType::PageGroupResponse:
      d.pasid_present = get(lo, 4, 4);
      d.pdp = get(lo, 5, 5);
      d.response_code = get(lo, 15, 12);
      d.sid = get(lo, 31, 16);
      d.pasid = get(lo, 51, 32);
      d.lpig = get(hi, 2, 2);
      d.prgi = get(hi, 11, 3);
      // Response codes: 0 Success, 1 Invalid Request, 0xF Response Failure.
      valid = d.response_code == 0 || d.response_code == 1 || d.response_code == 0xf;
      break;
    default:
      break;
  }
  return valid;
}

}  // namespace

QiDecodeResult decode_descriptor(const uint64_t* qw, bool dw256, const QiCaps& caps) {
  QiDecodeResult r;
  QiDescriptor& d = r.desc;
  for (unsigned i = 0; i < (dw256 ? 4u : 2u); ++i) d.qw[i] = qw[i];
  const uint64_t lo = qw[0], hi = qw[1];
  const unsigned t = qi_raw_type(lo);

  bool supported = t >= 1 && t <= 9;
  if (t == 3 || t == 8) supported = supported && caps.dt;
  if (t == 4) supported = supported && caps.ir;
  if (t >= 6 && t <= 8) supported = supported && caps.pasid;
  if (t == 9) supported = supported && caps.prs;
  if (!supported) {
    r.error = Iqei::InvalidType;
    return r;
  }
  d.type = static_cast<QiType>(t);
  uint64_t rsvd_lo = kRsvd[t].lo;
  if (t == 5 && !caps.pds) rsvd_lo |= 1ull << 7;
  if ((lo & rsvd_lo) || (hi & kRsvd[t].hi)) {
    r.error = Iqei::ReservedField;
    return r;
  }

  const bool cache = d.type == QiType::ContextCache || d.type == QiType::Iotlb || d.type == QiType::PasidIotlb ||
                     d.type == QiType::PasidCache;
  const bool valid = cache ? decode_cache_invalidation(d, lo, hi, caps) : decode_other(d, lo, hi);
  if (!valid) {
    r.error = Iqei::ReservedField;
    return r;
  }
  r.ok = true;
  return r;
}

void encode_page_request(const PageRequestDescriptor& d, uint64_t qw[4]) {
  using namespace prq_desc;
  qw[0] = TYPE.encode(kPageRequestType) | RID.encode(d.rid) | (d.execute ? EXR.mask() : 0) |
          (d.privileged ? PMR.mask() : 0);
  if (d.pasid_present) qw[0] |= PP | PASID.encode(d.pasid);
  qw[1] = (d.read ? RDR.mask() : 0) | (d.write ? WRR.mask() : 0) | (d.last ? LPIG.mask() : 0) |
          PRGI.encode(d.prgi) | (d.address & ADDR.mask());
  qw[2] = qw[3] = 0;
}

bool decode_page_request(const uint64_t qw[4], PageRequestDescriptor* d) {
  using namespace prq_desc;
  if (TYPE.extract(qw[0]) != kPageRequestType) return false;
  d->rid = static_cast<uint16_t>(RID.extract(qw[0]));
  d->pasid_present = qw[0] & PP;
  d->pasid = static_cast<uint32_t>(PASID.extract(qw[0]));
  d->execute = qw[0] & EXR;
  d->privileged = qw[0] & PMR;
  d->read = qw[1] & RDR;
  d->write = qw[1] & WRR;
  d->last = qw[1] & LPIG;
  d->prgi = static_cast<uint16_t>(PRGI.extract(qw[1]));
  d->address = qw[1] & ADDR.mask();
  return true;
}

}  // namespace iommusim::vtd
