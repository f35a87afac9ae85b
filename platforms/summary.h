// SPDX-License-Identifier: Apache-2.0
// The human summary printed at the end of a run is made of tables that the
// components supply (a header line, one row per instance with any note lines
// under it, a footer); the platform prints what it is given.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "pci_endpoint/traffic_generator.h"

namespace iommusim {

struct SummaryTable {
  std::string header;             // each piece ends in '\n'
  std::vector<std::string> rows;
  std::string footer;             // may be empty
};

// Prints each table with rows: header, rows, footer. A table without rows is left out.
void print_tables(std::ostream& os, const std::vector<SummaryTable>& tables);

// Per traffic generator: throughput in GB/s, Gb/s and transactions/s,
// latency mean/p50/p99, counts.
SummaryTable traffic_generator_table(const std::vector<const TrafficGenerator*>& gens);

} // namespace iommusim
