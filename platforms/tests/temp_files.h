// SPDX-License-Identifier: Apache-2.0
// Files for the platform tests, in GoogleTest's temporary directory.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace iommusim::test {

// Writes `text` to TempDir()/name; returns the path.
inline std::string write_temp(const std::string& name, const std::string& text) {
  std::string path = testing::TempDir() + name;
  std::ofstream(path) << text;
  return path;
}

// The whole file ("" if it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace iommusim::test
