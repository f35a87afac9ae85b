// SPDX-License-Identifier: Apache-2.0
// The config layer: INI files read with Boost.Program_options, `--set`
// overrides, strict validation against the declared parameters, and the
// effective config written back out (docs/configuration.md).
#pragma once

#include <functional>
#include <iosfwd>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/params.h"

namespace iommusim {

struct ConfigEntry {
  std::string key;    // "vtd0.iotlb.entries"
  std::string value;
  std::string file;   // config file, or "--set" for the command line
  int line = 0;       // 1-based line in `file`; 0 for --set
  std::string location() const;  // "configs/a.ini:12" or "--set"
};

class ConfigSet {
public:
  // Reads one INI file, and the files it includes (kIncludeKey). Later files
  // and later --set entries override earlier ones. Returns "" or an error
  // naming the file (and line) and what was wrong.
  std::string load_file(const std::string& path);
  // One "key=value" from the command line.
  std::string add_override(const std::string& assignment);

  // Effective entries, one per key, in the order keys first appeared.
  const std::vector<ConfigEntry>& entries() const { return entries_; }
  const ConfigEntry* find(const std::string& key) const;

  // The top-level key (before any section) that reads another file in place:
  // `include = ../machines/broadwell-e5-2630v4.ini`.
  static constexpr const char* kIncludeKey = "include";

private:
  static constexpr size_t kMaxIncludeDepth = 8;
  std::string load_include(const ConfigEntry& at);
  void put(ConfigEntry entry);
  std::vector<std::string> including_;  // the files whose include is being read, outermost first
  std::vector<ConfigEntry> entries_;
  std::unordered_map<std::string, size_t> index_;  // key -> its entry: thousands of endpoints, thousands of keys
};

// One `key = value` of an INI text with the reasons written above it: the
// last block of '#' lines before it in its section (keys that follow one
// another share the block above them). A machine profile's comments are the
// sources of its values (platforms/host_machine.cc).
struct IniSetting {
  std::string key;      // "mem.read_latency"
  std::string value;
  std::string comment;  // the block's lines joined by spaces, without the '#'
  int line = 0;
};
// The settings of INI `text` in file order (an `include` line is not
// followed), or an empty list and "NAME:LINE: what is wrong" in *error.
std::vector<IniSetting> read_ini_settings(const std::string& text, const std::string& name, std::string* error);

// Applies every entry whose key is declared in specs[first, end). Returns "" or
// "FILE:LINE: KEY = 'VALUE': what was wrong".
std::string apply_config(const ConfigSet& config, const std::vector<ParamSpec>& specs,
                         size_t first = 0);
// "" if every entry names a declared parameter, else the first unknown one with
// what `owner` says of it ("belongs to platform x86-vtd"; "" if nothing), or
// else the nearest valid key as a suggestion.
std::string check_unknown_keys(const ConfigSet& config, const std::vector<ParamSpec>& specs,
                               const std::function<std::string(const std::string& key)>& owner = nullptr);
// `message` (an error of the config as a whole, naming its keys) as the user
// reads it: prefixed with the file and line of the first key it names that
// the config sets, and ending with where each other key it names was set (or
// that it kept its default).
std::string locate_keys(const std::string& message, const ConfigSet& config, const std::vector<ParamSpec>& specs);
// The declared key nearest to `key` (edit distance), or "" if none is close.
std::string nearest_key(const std::string& key, const std::vector<ParamSpec>& specs);

// The effective configuration as an INI file that reproduces the run: every
// parameter, grouped by instance, with its help as a comment.
void write_config_ini(std::ostream& os, const std::vector<ParamSpec>& specs);
// The same text as a string.
std::string config_ini_text(const std::vector<ParamSpec>& specs);
enum class ParamHelpFormat { Text, Markdown };
// `--help-params`: every parameter with its default, accepted values, unit,
// help and the source of its default. Markdown: one table per section.
void write_param_help(std::ostream& os, const std::vector<ParamSpec>& specs,
                      ParamHelpFormat format = ParamHelpFormat::Text);
// One markdown table of `specs`, keys without `prefix` ("vtd0." gives `nfr`
// for vtd0.nfr): a header line, a rule line and one line per parameter.
void write_param_table(std::ostream& os, const std::vector<ParamSpec>& specs, const std::string& prefix = "");
// The table line of one parameter, as write_param_table writes it.
std::string param_table_row(const ParamSpec& spec, const std::string& prefix = "");
// `text` as a markdown table cell (a '|' escaped).
std::string markdown_cell(const std::string& text);

} // namespace iommusim
