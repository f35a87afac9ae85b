// SPDX-License-Identifier: Apache-2.0
// The host a platform gives its memory, CPU and endpoints when the config
// names none. x86-vtd's is the Broadwell Xeon E5-2630v4 with a Netronome
// NFP-6000 on PCIe Gen3 x8 of pcie-bench's measurements (Neugebauer et al.,
// "Understanding PCIe performance for end host networking", SIGCOMM 2018).
// Its values and the reasons for them live once, in
// configs/machines/broadwell-e5-2630v4.ini ([mem], and [tg0]'s link and DMA
// engine for every endpoint) and broadwell-e5-2630v4-vtd.ini ([cpu]): the
// build embeds both files (platforms/CMakeLists.txt), this code reads its
// defaults from them and cites the comment above each value as its source,
// so the command needs no file at run time, from the build tree or an
// installed package. Its VT-d unit's defaults are the same machine's (the
// rows of iommu_vtd/vtd_translator.h). The pseries, s390 and simple
// platforms' hosts are not this machine: they keep the rows' defaults. gem5
// SMMUv3's values, the x86-vtd defaults before, are
// configs/machines/gem5-smmuv3.ini.
#pragma once

#include <string>
#include <vector>

#include "common/memory.h"
#include "common/params.h"
#include "firmware/cpu_port.h"
#include "platforms/endpoint_kind.h"

namespace iommusim {

// The Broadwell machine's memory and LLC, set in `m` before it is declared.
void set_broadwell_memory(MemoryParams* m);
// The Broadwell core's store buffer, set in `c` before it is declared.
void set_broadwell_cpu(fw::CpuParams* c);
const HostEndpointDefaults& broadwell_endpoint_defaults();
// The keys the machine sets, as declared on x86-vtd: mem.*, cpu.* and, for
// each endpoint, its link's and (tg kind) DMA engine's (platforms/param_docs.cc
// shows them beside the rows' defaults).
std::vector<std::string> broadwell_host_keys(const std::vector<std::string>& endpoints);
// Names the machine as the source of every key it sets, in `p` (declared).
void cite_broadwell_host(ParamList& p, const std::vector<std::string>& endpoints);

}  // namespace iommusim
