// SPDX-License-Identifier: Apache-2.0
// `param-docs`: the parameter tables of the docs, from the declarations
// (platforms/param_docs.h). scripts/gen-param-docs.sh runs it.
//   param-docs --list               the tables a doc may mark
//   param-docs --table NAME         one table in markdown
//   param-docs --check FILE...      exit 1 naming the first row that differs
//   param-docs --update FILE...     rewrite the marked tables
// Exit status: 0 done (or the docs agree); 1 a doc disagrees or cannot be
// read or written; 2 a bad command line.
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <systemc>

#include "platforms/param_docs.h"

using namespace iommusim;

// No SystemC banner (see main.cc): this tool simulates nothing.
[[maybe_unused]] const bool kQuietSystemC = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", /*overwrite=*/0) == 0;

namespace {

int usage() {
  std::cerr << "usage: param-docs --list | --table NAME | --check FILE... | --update FILE...\n";
  return 2;
}

int check_or_update(const std::string& mode, const std::vector<std::string>& files) {
  int status = 0;
  for (const std::string& f : files) {
    bool changed = false;
    const std::string err = mode == "--check" ? check_param_doc(f) : update_param_doc(f, &changed);
    if (!err.empty()) {
      std::cerr << "param-docs: " << err << "\n";
      status = 1;
    } else if (changed) {
      std::cout << "param-docs: updated " << f << "\n";
    }
  }
  return status;
}

int run(int argc, char* argv[]) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  const std::string& mode = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (mode == "--list" && rest.empty()) {
    for (const ParamTable& t : param_tables()) std::cout << t.name << "\n";
    return 0;
  }
  if (mode == "--table" && rest.size() == 1) {
    const ParamTable* t = find_param_table(rest[0]);
    if (!t) {
      std::cerr << "param-docs: no parameter table is called '" << rest[0] << "' (param-docs --list)\n";
      return 2;
    }
    std::cout << t->render();
    return 0;
  }
  if ((mode == "--check" || mode == "--update") && !rest.empty()) return check_or_update(mode, rest);
  return usage();
}
}  // namespace

// libsystemc provides main() and calls this.
int sc_main(int argc, char* argv[]) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // a table naming a key its platform no longer declares
    std::cerr << "param-docs: " << e.what() << "\n";
    return 1;
  }
}
