// SPDX-License-Identifier: Apache-2.0
// Waiting, in a kernel thread, for the IOMMU code's bring-up: the PCI drivers
// (PciDriverBase::wait_iommu) and the x86 workloads (Workload::run) wait the
// same way, as a Linux driver probes only after the IOMMU's initcall returned,
// whether it brought the IOMMU up or failed.
#pragma once

#include <string>
#include <systemc>

namespace iommusim::fw {

// Until `iommu`'s bring-up ends, however long it takes: its ready_event()
// fires on success (ready()) and on failure (error() says why). It also looks
// again every kIommuRecheck, the 1 ms the drivers used to give up after: with
// a plain wait for the event, four x86 nightly runs (NIC receive, SVM
// accelerators) moved by a few ns, the kernel's event order changed by the
// timeout no longer pending; looking again changes nothing modelled.
// `Iommu` has ready(), error() and ready_event() (DmaApi, VtdDriver).
// Returns "" once it is up, else why not.
template <class Iommu>
std::string wait_iommu_bring_up(const Iommu& iommu) {
  static const sc_core::sc_time kIommuRecheck(1, sc_core::SC_MS);
  // A bring-up that has neither ended nor failed after a simulated second is
  // taken to be stuck and reported, not waited on for ever (every shipped
  // scenario's bring-up ends within the 1 ms the drivers used to allow; the
  // second is an assumption with that margin, not a measurement).
  static const sc_core::sc_time kIommuBringUpLimit(1, sc_core::SC_SEC);
  const sc_core::sc_time give_up = sc_core::sc_time_stamp() + kIommuBringUpLimit;
  while (!iommu.ready() && iommu.error().empty() && sc_core::sc_time_stamp() < give_up)
    sc_core::wait(kIommuRecheck, iommu.ready_event());
  if (iommu.ready()) return "";
  return "IOMMU driver not ready" +
         (iommu.error().empty()
              ? " after " + kIommuBringUpLimit.to_string() + " (its bring-up neither ended nor failed)"
              : ": " + std::string(iommu.error()));
}

}  // namespace iommusim::fw
