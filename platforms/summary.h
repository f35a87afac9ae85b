// The human summary table shared by platforms: per endpoint, throughput in GB/s,
// Gb/s and transactions/s, latency mean/p50/p99, counts.
#pragma once

#include <iosfwd>
#include <vector>

#include "pci_endpoint/traffic_generator.h"

namespace iommusim {

void print_endpoint_table(std::ostream& os, const std::vector<const TrafficGenerator*>& gens);

} // namespace iommusim
