// SPDX-License-Identifier: Apache-2.0
#include "platforms/summary.h"

#include <cstdio>
#include <ostream>

#include "common/number_format.h"

namespace iommusim {

void print_tables(std::ostream& os, const std::vector<SummaryTable>& tables) {
  for (const SummaryTable& t : tables) {
    if (t.rows.empty()) continue;
    os << t.header;
    for (const std::string& r : t.rows) os << r;
    os << t.footer;
  }
}

SummaryTable traffic_generator_table(const std::vector<const TrafficGenerator*>& gens) {
  SummaryTable table;
  char line[256];
  std::snprintf(line, sizeof line, "%-10s %-6s %6s %10s %12s %9s %9s %11s %9s %9s %9s %7s\n",
                "endpoint", "op", "size", "txns", "bytes", "GB/s", "Gb/s", "txn/s",
                "lat.mean", "lat.p50", "lat.p99", "errors");
  table.header = line;
  for (const TrafficGenerator* g : gens) {
    const TrafficGenParams& p = g->params();
    const Histogram& lat = g->latency();
    double gbps = g->throughput_GBps();
    std::snprintf(line, sizeof line,
                  "%-10s %-6s %6llu %10llu %12llu %9.3f %9.3f %11s %9.1f %9.1f %9.1f %7llu\n",
                  g->basename(), p.op.c_str(), static_cast<unsigned long long>(p.size),
                  static_cast<unsigned long long>(g->completed()),
                  static_cast<unsigned long long>(g->bytes()), gbps, gbps * 8.0,
                  format_significant(g->transactions_per_s(), 4).c_str(), lat.mean(), lat.percentile(50), lat.percentile(99),
                  static_cast<unsigned long long>(g->errors()));
    table.rows.push_back(line);
  }
  table.footer = "(latency in ns; GB/s = 1e9 bytes/s, Gb/s = 1e9 bits/s)\n";
  return table;
}

} // namespace iommusim
