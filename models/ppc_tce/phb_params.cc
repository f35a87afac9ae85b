// SPDX-License-Identifier: Apache-2.0
#include "ppc_tce/phb_params.h"

namespace iommusim::ppc {

std::string PhbParams::validate() const {
  if (std::string err = check_declared_values(*this); !err.empty()) return err;
  GeometryCheck geometries;
  IOMMUSIM_VISIT_PARAMS(IOMMUSIM_PHB_PARAMS, *this, geometries);
  if (!geometries.error.empty()) return geometries.error;
  if (page_shifts == 0 || (page_shifts & ~kTcePageShiftMask))
    return "page_shifts: must name some of 4K, 64K, 2M, 16M, 256M, 1G, 16G (bits 12, 16, 21, 24, 28, 30, 34) and "
           "nothing else";
  if (pe_stats > num_pes) return "pe_stats: more than num_pes";
  return "";
}

}  // namespace iommusim::ppc
