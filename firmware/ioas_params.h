// SPDX-License-Identifier: Apache-2.0
// Where an endpoint's DMA lands in the IOAS layer (ioas.h): its IOMMU group,
// the IOAS it shares, and the first IOVA of its own IOAS. Rows
// (common/params.h) for the params of every endpoint the kernel attaches: the
// workload endpoint's and the platform's placement of a device model.
#pragma once

#include <cstdint>

#include "common/params.h"

#define IOMMUSIM_IOAS_GROUP_PARAMS(P)                                                                         \
  P(uint32_t, group, "group", 0, in_range(0, 1u << 20), "",                                                   \
    "IOMMU group; endpoints with the same non-zero group are isolated together (0: its own)",                 \
    "each endpoint alone")                                                                                    \
  P(uint32_t, address_space, "address_space", 0, in_range(0, 1u << 20), "",                                   \
    "endpoints with the same non-zero number share one IOAS (0: its own)", "its own IOAS")

#define IOMMUSIM_IOAS_BASE_PARAM(P)                                                                           \
  P(uint64_t, iova_base, "iova_base", 0x100000, address_up_to((1ull << 48) - 1), "address",                   \
    "first usable IOVA of its own IOAS (may be non-zero)",                                                    \
    "assumption: the first MiB of IOVA stays unmapped")
