// Parameter declarations (gem5 style: each parameter declared once, with its
// type, default, range, unit and help). A model's params struct lists its
// fields through a ParamList; the config layer (platforms/) reads files and
// applies values through these declarations. Models never see config files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace iommusim {

enum class ParamKind { Bool, UInt, Int, Double, String, Choice, Address };

struct ParamSpec {
  std::string name;          // full dotted name: "vtd0.iotlb.entries"
  ParamKind kind;
  std::string default_value; // textual, as --print-config would write it
  std::string unit;          // "entries", "cycles", "ns", "bytes", "" ...
  std::string help;          // one line
  std::string accepted;      // human text of what is accepted: "0..65536", "one of: lru, plru"
  // Parse and store `text`; returns "" on success or what was wrong.
  std::function<std::string(const std::string& text)> apply;
  // The current value, in the textual form apply() accepts.
  std::function<std::string()> current;
};

// Parsing helpers shared with the config layer. Integers accept decimal or
// 0x-hex, '_' separators, and K/M/G/T binary suffixes (4K = 4096).
bool parse_uint(const std::string& text, uint64_t* out);
bool parse_int(const std::string& text, int64_t* out);
bool parse_double(const std::string& text, double* out);
bool parse_bool(const std::string& text, bool* out);
std::string format_hex(uint64_t v);

class ParamList {
public:
  explicit ParamList(std::string prefix = "") : prefix_(std::move(prefix)) {}

  // A child list whose names are prefixed with "<prefix>.<sub>". Declarations made
  // through it land in this list.
  ParamList scope(const std::string& sub);

  void add_bool(const std::string& name, bool* field, const std::string& help);
  void add_uint(const std::string& name, uint64_t* field, uint64_t min, uint64_t max,
                const std::string& unit, const std::string& help);
  void add_uint(const std::string& name, uint32_t* field, uint64_t min, uint64_t max,
                const std::string& unit, const std::string& help);
  void add_int(const std::string& name, int64_t* field, int64_t min, int64_t max,
               const std::string& unit, const std::string& help);
  void add_double(const std::string& name, double* field, double min, double max,
                  const std::string& unit, const std::string& help);
  void add_string(const std::string& name, std::string* field, const std::string& help);
  // An address or mask: printed and accepted as hex, range-checked.
  void add_address(const std::string& name, uint64_t* field, uint64_t max,
                   const std::string& help);
  void add_choice(const std::string& name, std::string* field,
                  const std::vector<std::string>& choices, const std::string& help);
  template <typename E>
  void add_enum(const std::string& name, E* field,
                const std::vector<std::pair<std::string, E>>& choices, const std::string& help);
  // Escape hatch for types of a model's own (e.g. a list). `apply` returns "" or an error.
  void add_custom(const std::string& name, const std::string& default_text,
                  const std::string& accepted, const std::string& unit, const std::string& help,
                  std::function<std::string(const std::string&)> apply,
                  std::function<std::string()> current);

  const std::vector<ParamSpec>& specs() const { return *specs_; }
  std::vector<ParamSpec>& specs() { return *specs_; }
  const std::string& prefix() const { return prefix_; }

private:
  ParamList(std::string prefix, std::shared_ptr<std::vector<ParamSpec>> specs)
      : prefix_(std::move(prefix)), specs_(std::move(specs)) {}
  std::string full(const std::string& name) const {
    return prefix_.empty() ? name : prefix_ + "." + name;
  }
  void push(ParamSpec spec);

  std::string prefix_;
  std::shared_ptr<std::vector<ParamSpec>> specs_ = std::make_shared<std::vector<ParamSpec>>();
};

template <typename E>
void ParamList::add_enum(const std::string& name, E* field,
                         const std::vector<std::pair<std::string, E>>& choices,
                         const std::string& help) {
  std::string accepted = "one of:";
  std::string def;
  for (size_t i = 0; i < choices.size(); ++i) {
    accepted += (i ? ", " : " ") + choices[i].first;
    if (choices[i].second == *field) def = choices[i].first;
  }
  auto apply = [field, choices, accepted](const std::string& text) -> std::string {
    for (const auto& c : choices)
      if (c.first == text) { *field = c.second; return ""; }
    return "'" + text + "' is not " + accepted;
  };
  auto current = [field, choices]() -> std::string {
    for (const auto& c : choices)
      if (c.second == *field) return c.first;
    return "?";
  };
  add_custom(name, def, accepted, "", help, apply, current);
  specs_->back().kind = ParamKind::Choice;
}

} // namespace iommusim
