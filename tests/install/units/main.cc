// SPDX-License-Identifier: Apache-2.0
// Builds a POWER PHB and a channel subsystem from an installed iommusim with
// their default parameters and lists the statistics they register: the
// headers, the libraries and their dependencies are complete if this links
// and runs (run_install_test.sh checks the names it prints).
#include <iostream>
#include <systemc>

#include "channel_subsystem/channel_subsystem.h"
#include "common/stats.h"
#include "ppc_tce/phb_unit.h"

int sc_main(int, char*[]) {
  iommusim::StatGroup system("system");
  iommusim::ppc::PhbParams phb_params;
  iommusim::css::CssParams css_params;
  if (!phb_params.validate().empty() || !css_params.validate().empty()) {
    std::cerr << "default parameters refused\n";
    return 1;
  }
  iommusim::ppc::PhbUnit phb("phb0", phb_params, &system);
  iommusim::css::ChannelSubsystem css("css0", css_params, &system);
  for (const iommusim::StatValue& s : iommusim::collect_stats(system)) std::cout << s.name << "\n";
  return 0;
}
