// SPDX-License-Identifier: Apache-2.0
#include "platforms/param_docs.h"

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "channel_subsystem/block_device.h"
#include "channel_subsystem/channel_subsystem.h"
#include "channel_subsystem/stream_device.h"
#include "common/memory.h"
#include "firmware/ccw_workloads.h"
#include "firmware/cio.h"
#include "firmware/pci_drivers.h"
#include "firmware/vfio_ccw.h"
#include "firmware/pseries_guest.h"
#include "firmware/pseries_hv.h"
#include "firmware/vtd_driver.h"
#include "firmware/workloads.h"
#include "iommu_vtd/vtd_params.h"
#include "pci_endpoint/nic.h"
#include "pci_endpoint/svm_accel.h"
#include "pci_endpoint/traffic_generator.h"
#include "rtl/dma/rtl_dma_params.h"
#include "platforms/config.h"
#include "platforms/endpoint_kind.h"
#include "platforms/host_machine.h"
#include "platforms/pci_root_bus.h"
#include "platforms/platform.h"
#include "platforms/s390.h"
#include "platforms/pseries.h"
#include "platforms/x86_vtd.h"
#include "ppc_tce/phb_params.h"

namespace iommusim {

namespace {

const char kBegin[] = "<!-- param-table ";
const char kEnd[] = "<!-- end param-table -->";

std::string markdown(const std::vector<ParamSpec>& specs) {
  std::ostringstream os;
  write_param_table(os, specs);
  return os.str();
}

// The rows of one list (common/params.h) of a default Params.
#define IOMMUSIM_ROWS_OF(Params, LIST)                                 \
  [] {                                                                 \
    Params params;                                                     \
    ParamList list;                                                    \
    IOMMUSIM_DECLARE_PARAMS(LIST, params, list);                       \
    return markdown(list.specs());                                     \
  }

// Every row of a default Params that declares no other struct's keys.
template <typename Params>
std::string all_rows() {
  Params params;
  ParamList list;
  params.declare(list);
  return markdown(list.specs());
}

// The keys a platform declares itself (not through a params struct), as a
// default config of that platform has them.
std::string platform_rows(const std::string& platform, const std::vector<std::string>& keys) {
  std::unique_ptr<Platform> p = create_platform(platform);
  ParamList list;
  configure_platform(*p, ConfigSet(), list);
  std::vector<ParamSpec> rows;
  for (const std::string& key : keys) {
    const size_t before = rows.size();
    for (const ParamSpec& s : list.specs())
      if (s.name == key) rows.push_back(s);
    if (rows.size() == before) throw std::logic_error("platform " + platform + " declares no key " + key);
  }
  return markdown(rows);
}

const ParamSpec& spec_named(const std::vector<ParamSpec>& specs, const std::string& key, const std::string& where) {
  for (const ParamSpec& s : specs)
    if (s.name == key) return s;
  throw std::logic_error(where + " declares no key " + key);
}

// What x86-vtd's host machine (platforms/host_machine.h) sets, beside the
// rows' defaults that the other platforms keep: an x86-vtd config with one tg
// endpoint, whose link and DMA engine the machine sets, against the rows of
// MemoryParams, CpuParams and TrafficGenParams.
std::string x86_vtd_host_rows() {
  std::unique_ptr<Platform> p = create_platform("x86-vtd");
  ConfigSet tg;
  tg.add_override("ep0.kind=tg");
  ParamList platform;
  const std::string err = configure_platform(*p, tg, platform);
  if (!err.empty()) throw std::logic_error("x86-vtd with ep0.kind = tg: " + err);
  MemoryParams mem;
  fw::CpuParams cpu;
  TrafficGenParams ep;
  ParamList rows;
  ParamList mem_rows = rows.scope("mem"), cpu_rows = rows.scope("cpu"), ep_rows = rows.scope("ep0");
  mem.declare(mem_rows);
  cpu.declare(cpu_rows);
  ep.declare(ep_rows);
  std::ostringstream os;
  os << "| key | x86-vtd | rows' default | unit | meaning | source of x86-vtd's value |\n"
     << "| --- | --- | --- | --- | --- | --- |\n";
  for (const std::string& key : broadwell_host_keys({"ep0"})) {
    const ParamSpec& have = spec_named(platform.specs(), key, "x86-vtd");
    const ParamSpec& row = spec_named(rows.specs(), key, "the rows");
    os << "| `" << key << "` | " << markdown_cell(have.default_value) << " | " << markdown_cell(row.default_value)
       << " | " << markdown_cell(have.unit) << " | " << markdown_cell(have.help) << " | " << markdown_cell(have.source)
       << " |\n";
  }
  return os.str();
}

std::string read_file(const std::string& path, bool* ok) {
  std::ifstream in(path);
  *ok = static_cast<bool>(in);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The table a begin marker names ("" if the line is not one).
std::string marked_table(const std::string& line) {
  if (line.compare(0, sizeof kBegin - 1, kBegin) != 0) return "";
  const std::string rest = line.substr(sizeof kBegin - 1);
  return rest.substr(0, rest.find_first_of(": "));
}

// What lies between a table's markers: the table, with a blank line on either
// side so that every markdown reader ends the table before the end marker.
std::string marked_content(const std::string& name) { return "\n" + find_param_table(name)->render() + "\n"; }

// The key of a table row, for messages: `iotlb.entries`.
std::string row_key(const std::string& row) {
  const size_t a = row.find('`'), b = a == std::string::npos ? a : row.find('`', a + 1);
  return b == std::string::npos ? "" : row.substr(a + 1, b - a - 1);
}

// "" if the doc's rows (from line `first`, 1-based) are `want`, else what differs first.
std::string compare_rows(const std::vector<std::string>& have, size_t first, const std::vector<std::string>& want,
                         const std::string& table) {
  auto row = [](const std::string& line) {
    const std::string key = row_key(line);
    return key.empty() ? std::string() : ", row `" + key + "`";
  };
  for (size_t i = 0; i < have.size() || i < want.size(); ++i) {
    const std::string at = std::to_string(first + i) + ": table " + table;
    if (i >= want.size()) return at + row(have[i]) + ": not in the declarations (the doc has it)";
    if (i >= have.size()) return at + row(want[i]) + ": missing from the doc";
    if (have[i] != want[i])
      return at + row(row_key(want[i]).empty() ? have[i] : want[i]) + ": the doc has\n  " + have[i] +
             "\nthe declarations give\n  " + want[i];
  }
  return "";
}

// Walks the doc's marked tables: calls table(name, begin line index, rows) for each.
template <typename OnTable>
std::string each_table(const std::vector<std::string>& lines, OnTable on_table) {
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string name = marked_table(lines[i]);
    if (name.empty()) continue;
    size_t end = i + 1;
    while (end < lines.size() && lines[end] != kEnd && marked_table(lines[end]).empty()) ++end;
    if (end == lines.size() || lines[end] != kEnd)
      return std::to_string(i + 1) + ": table " + name + " has no closing '" + kEnd + "'";
    if (!find_param_table(name)) return std::to_string(i + 1) + ": no parameter table is called '" + name + "'";
    std::string err = on_table(name, i, std::vector<std::string>(lines.begin() + i + 1, lines.begin() + end));
    if (!err.empty()) return err;
    i = end;
  }
  return "";
}

}  // namespace

const std::vector<ParamTable>& param_tables() {
  static const std::vector<ParamTable> tables = {
      {"SystemParams", &all_rows<SystemParams>},
      {"simple", [] { return platform_rows("simple", {"system.endpoints", "router.map"}); }},
      {"MemoryParams", &all_rows<MemoryParams>},
      {"x86-vtd",
       [] {
         return platform_rows("x86-vtd",
                              {"system.endpoints", "system.units", "vtd0.mmio_base", "ep0.kind", "ep0.unit"});
       }},
      {"x86-vtd-host", &x86_vtd_host_rows},
      {"CpuParams", &all_rows<fw::CpuParams>},
      {"KernelParams", IOMMUSIM_ROWS_OF(KernelParams, IOMMUSIM_KERNEL_PARAMS)},
      {"VtdDriverParams", &all_rows<fw::VtdDriverParams>},
      {"VirtParams", &all_rows<virt::VirtParams>},
      {"IoasPlacement", &all_rows<IoasPlacement>},
      {"WorkloadParams", &all_rows<fw::WorkloadParams>},
      {"NicDriverParams", &all_rows<fw::NicDriverParams>},
      {"AccelDriverParams", &all_rows<fw::AccelDriverParams>},
      {"VtdParams", IOMMUSIM_ROWS_OF(vtd::VtdParams, IOMMUSIM_VTD_PARAMS)},
      {"TranslatorParams", &all_rows<vtd::TranslatorParams>},
      {"PcieLinkParams", &all_rows<PcieLinkParams>},
      {"PcieEndpointParams", IOMMUSIM_ROWS_OF(PcieEndpointParams, IOMMUSIM_PCIE_ENDPOINT_PARAMS)},
      {"DeviceSpaceParams", &all_rows<DeviceSpaceParams>},
      {"PcieConfigParams", &all_rows<PcieConfigParams>},
      {"TrafficGenParams", IOMMUSIM_ROWS_OF(TrafficGenParams, IOMMUSIM_TRAFFIC_GEN_PARAMS)},
      {"RtlDmaParams", IOMMUSIM_ROWS_OF(rtl::RtlDmaParams, IOMMUSIM_RTL_DMA_PARAMS)},
      {"NicParams", IOMMUSIM_ROWS_OF(NicParams, IOMMUSIM_NIC_PARAMS)},
      {"SvmAccelParams", IOMMUSIM_ROWS_OF(SvmAccelParams, IOMMUSIM_SVM_ACCEL_PARAMS)},
      {"s390",
       [] { return platform_rows("s390", {"system.devices", "dasd0.kind", "dasd0.devno", "dasd0.chpid", "dasd0.cu"}); }},
      {"S390KernelParams", IOMMUSIM_ROWS_OF(S390KernelParams, IOMMUSIM_S390_KERNEL_PARAMS)},
      {"CioParams", &all_rows<fw::CioParams>},
      {"VfioCcwParams", &all_rows<fw::VfioCcwParams>},
      {"CcwWorkloadParams", &all_rows<fw::CcwWorkloadParams>},
      {"CssParams", &all_rows<css::CssParams>},
      {"BlockDeviceParams", &all_rows<css::BlockDeviceParams>},
      {"StreamDeviceParams", &all_rows<css::StreamDeviceParams>},
      {"PhbParams", &all_rows<ppc::PhbParams>},
      {"pseries",
       [] {
         return platform_rows("pseries", {"system.endpoints", "system.phbs", "phb0.mmio_base", "phb0.m32_base",
                                          "phb0.m32_size", "phb0.bus", "ep0.kind", "ep0.unit", "ep0.pe"});
       }},
      {"PseriesKernelParams", IOMMUSIM_ROWS_OF(PseriesKernelParams, IOMMUSIM_PSERIES_KERNEL_PARAMS)},
      {"GuestParams", &all_rows<fw::GuestParams>},
      {"PseriesHvParams", IOMMUSIM_ROWS_OF(PseriesHvParams, IOMMUSIM_PSERIES_HV_PARAMS)},
      {"HvParams", IOMMUSIM_ROWS_OF(fw::HvParams, IOMMUSIM_HV_PARAMS)},
      {"PhbDriverParams", &all_rows<fw::PhbDriverParams>},
  };
  return tables;
}

const ParamTable* find_param_table(const std::string& name) {
  for (const ParamTable& t : param_tables())
    if (t.name == name) return &t;
  return nullptr;
}

std::string render_param_doc(const std::string& text, std::string* error) {
  const std::vector<std::string> lines = lines_of(text);
  std::string out;
  size_t copied = 0;  // lines[0, copied) are in `out`
  *error = each_table(lines, [&](const std::string& name, size_t begin, const std::vector<std::string>& rows) {
    for (; copied <= begin; ++copied) out += lines[copied] + "\n";
    out += marked_content(name);
    copied = begin + 1 + rows.size();
    return std::string();
  });
  if (!error->empty()) return "";
  for (; copied < lines.size(); ++copied) out += lines[copied] + "\n";
  return out;
}

std::string check_param_doc(const std::string& path) {
  bool ok = false;
  const std::vector<std::string> lines = lines_of(read_file(path, &ok));
  if (!ok) return path + ": cannot read it";
  std::string err = each_table(lines, [&](const std::string& name, size_t begin, const std::vector<std::string>& rows) {
    return compare_rows(rows, begin + 2, lines_of(marked_content(name)), name);
  });
  return err.empty() ? "" : path + ":" + err;
}

std::string update_param_doc(const std::string& path, bool* changed) {
  bool ok = false;
  const std::string text = read_file(path, &ok);
  if (!ok) return path + ": cannot read it";
  std::string err;
  const std::string fresh = render_param_doc(text, &err);
  if (!err.empty()) return path + ":" + err;
  *changed = fresh != text;
  if (*changed) {
    std::ofstream out(path);
    out << fresh;
    if (!out) return path + ": cannot write it";
  }
  return "";
}

std::vector<std::string> param_tables_in_doc(const std::string& path) {
  bool ok = false;
  std::vector<std::string> names;
  for (const std::string& line : lines_of(read_file(path, &ok))) {
    std::string name = marked_table(line);
    if (!name.empty()) names.push_back(name);
  }
  return names;
}

}  // namespace iommusim
