// SPDX-License-Identifier: Apache-2.0
// Parameter declarations (gem5 style: each parameter declared once, with its
// type, default, range, unit, help and the source of its default). A model's
// params struct lists its fields in one X-macro (see "Declaring a params
// struct" below) and declares them through a ParamList; the config layer
// (platforms/) reads files and applies values through these declarations.
// Models never see config files.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
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
  // Where the default comes from: a citation ("gem5 SMMUv3 tlb_lat",
  // "PCIe Base 10.3.1") or "assumption".
  std::string source;
};

// Parsing helpers shared with the config layer. Integers accept decimal or
// 0x-hex, '_' separators, and K/M/G/T binary suffixes (4K = 4096).
bool parse_uint(const std::string& text, uint64_t* out);
bool parse_int(const std::string& text, int64_t* out);
bool parse_double(const std::string& text, double* out);
bool parse_bool(const std::string& text, bool* out);
std::string format_hex(uint64_t v);
// `text` as an error message shows it: a longer one is cut at `limit`
// characters, with its length (a config value may be a megabyte).
std::string shown_text(const std::string& text, size_t limit = 64);

class ParamList {
public:
  explicit ParamList(std::string prefix = "") : prefix_(std::move(prefix)) {}

  // A child list whose names are prefixed with "<prefix>.<sub>". Declarations made
  // through it land in this list.
  ParamList scope(const std::string& sub);

  // One parameter each. `source` says where the default comes from (see
  // ParamSpec); params structs call these through declare_param() below.
  // The texts are views: a checker (below) that accepts a value plainly
  // copies none of them (rows pass literals; copying the help texts was most
  // of a check).
  void add_bool(std::string_view name, bool* field, std::string_view help,
                std::string_view source = "");
  void add_uint(std::string_view name, uint64_t* field, uint64_t min, uint64_t max,
                std::string_view unit, std::string_view help, std::string_view source = "");
  void add_uint(std::string_view name, uint32_t* field, uint64_t min, uint64_t max,
                std::string_view unit, std::string_view help, std::string_view source = "");
  void add_int(std::string_view name, int64_t* field, int64_t min, int64_t max,
               std::string_view unit, std::string_view help, std::string_view source = "");
  void add_double(std::string_view name, double* field, double min, double max,
                  std::string_view unit, std::string_view help, std::string_view source = "");
  void add_string(std::string_view name, std::string* field, std::string_view help,
                  std::string_view source = "");
  // An address or mask: printed and accepted as hex, range-checked.
  void add_address(std::string_view name, uint64_t* field, uint64_t max,
                   std::string_view help, std::string_view source = "");
  void add_choice(const std::string& name, std::string* field,
                  const std::vector<std::string>& choices, const std::string& help,
                  const std::string& source = "");
  template <typename E>
  void add_enum(const std::string& name, E* field,
                const std::vector<std::pair<std::string, E>>& choices, const std::string& help,
                const std::string& source = "");
  // Escape hatch for types of a model's own (e.g. a list). `apply` returns "" or an error.
  void add_custom(const std::string& name, const std::string& default_text,
                  const std::string& accepted, const std::string& unit, const std::string& help,
                  std::function<std::string(const std::string&)> apply,
                  std::function<std::string()> current, const std::string& source = "");

  // "" if the value each parameter holds now is one its declaration accepts,
  // else "<key>: what is wrong" for the first that is not.
  std::string check_values() const;

  const std::vector<ParamSpec>& specs() const { return *specs_; }
  std::vector<ParamSpec>& specs() { return *specs_; }
  const std::string& prefix() const { return prefix_; }

  // A list that only checks: each declaration checks the value its field
  // holds now, as check_values() would, and the list keeps none of them
  // (specs() holds one placeholder, the latest declaration). A value its
  // declaration plainly accepts is checked without building the declaration:
  // check_declared_values() runs for every endpoint at start-up, and building
  // each declaration's strings and functions made it most of the start-up.
  static ParamList checker();
  // "" or "<key>: what is wrong" for the first declaration whose value was refused.
  const std::string& check_error() const { return check_->error; }

private:
  struct CheckState {
    std::string error;
  };
  ParamList(std::string prefix, std::shared_ptr<std::vector<ParamSpec>> specs, std::shared_ptr<CheckState> check)
      : prefix_(std::move(prefix)), specs_(std::move(specs)), check_(std::move(check)) {}
  std::string full(std::string_view name) const {
    std::string f = prefix_;
    if (!f.empty()) f += '.';
    f += name;
    return f;
  }
  void push(ParamSpec spec);
  // In a checker, true when the value is accepted without building the declaration.
  bool accepted_plainly(bool value_in_range) const { return check_ && value_in_range; }

  std::string prefix_;
  std::shared_ptr<std::vector<ParamSpec>> specs_ = std::make_shared<std::vector<ParamSpec>>();
  std::shared_ptr<CheckState> check_;  // set in a checker
};

template <typename E>
void ParamList::add_enum(const std::string& name, E* field,
                         const std::vector<std::pair<std::string, E>>& choices,
                         const std::string& help, const std::string& source) {
  bool known = false;
  for (const auto& c : choices) known = known || c.second == *field;
  if (accepted_plainly(known)) return;
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
  add_custom(name, def, accepted, "", help, apply, current, source);
  specs_->back().kind = ParamKind::Choice;
}

// ---------------------------------------------------------------------------
// Declaring a params struct
//
// A params struct lists its parameters once, in an X-macro with one row each:
//
//   P(type, field, "key", default, accepts, "unit", "help", "source of the default")
//
// IOMMUSIM_PARAM_FIELDS(LIST) turns the rows into the struct's fields with
// their defaults, and IOMMUSIM_DECLARE_PARAMS(LIST, object, list) declares
// each row's field of `object` in a ParamList, under its key. The struct stays
// a plain struct that C++ code fills field by field. gem5's
// `tlb_lat = Param.Cycles(3, "...")` is the model:
//
//   #define MY_UNIT_PARAMS(P)   (each line but the last ends in a backslash)
//     P(uint32_t, tlb_entries, "tlb.entries", 64, in_range(1, 4096), "entries",
//       "TLB entries", "assumption")
//     P(uint32_t, tlb_lat, "tlb.latency", 3, in_range(0, 1000), "cycles",
//       "TLB lookup latency", "gem5 SMMUv3 tlb_lat")
//
//   struct MyUnitParams {
//     IOMMUSIM_PARAM_FIELDS(MY_UNIT_PARAMS)   // uint32_t tlb_entries = 64; uint32_t tlb_lat = 3;
//     void declare(ParamList& p) { IOMMUSIM_DECLARE_PARAMS(MY_UNIT_PARAMS, *this, p); }
//   };
//
// `accepts` says what the key takes (the names below are in scope in a row):
//   in_range(min, max)         an integer (uint32_t, uint64_t, int64_t) or double field
//   address_up_to(max)         an address or mask (uint64_t), printed in hex; unit "address"
//   boolean()                  bool; unit ""
//   any_text()                 std::string; unit ""
//   one_of({"a", "b"})         std::string holding one of the words; unit ""
//   one_of<E>({{"a", E::A}})   an enumeration, by name; unit ""
//   cache_geometry()           CacheGeometry (common/cache_params.h): keys <key>.entries,
//                              .ways, .policy, .seed; the help names the cache, unit ""
//   custom<T>(accepted, parse, format)   a type of the model's own
// A default or an argument holding a comma that is not inside parentheses goes
// in parentheses: (CacheGeometry{2048, 4}). The rows' expressions are evaluated
// where the list is expanded. A row may name an array element as its field
// (sl_pwc[0]): such a list gives its defaults with IOMMUSIM_PARAM_DEFAULTS(LIST)
// in a constructor, since an element cannot be a member of its own.
//
// A parameter outside any params struct (e.g. a per-instance key a platform
// adds) calls declare_param() with the same arguments as a row.

namespace accepts {

template <typename Lo, typename Hi>
struct Range {
  Lo min;
  Hi max;
};
template <typename Lo, typename Hi>
constexpr Range<Lo, Hi> in_range(Lo min, Hi max) {
  return {min, max};
}

struct AddressUpTo {
  uint64_t max;
};
constexpr AddressUpTo address_up_to(uint64_t max) { return {max}; }

struct Boolean {};
constexpr Boolean boolean() { return {}; }

struct AnyText {};
constexpr AnyText any_text() { return {}; }

struct Words {
  std::vector<std::string> words;
};
inline Words one_of(std::vector<std::string> words) { return {std::move(words)}; }

template <typename E>
struct Names {
  std::vector<std::pair<std::string, E>> names;
};
template <typename E>
Names<E> one_of(std::vector<std::pair<std::string, E>> names) {
  return {std::move(names)};
}

// `parse` stores the value read from the text and returns "", or returns what
// was wrong and leaves the value alone; `format` writes a value as parse reads it.
template <typename T>
struct Custom {
  std::string accepted;  // human text: "instance names separated by spaces or commas"
  std::function<std::string(const std::string& text, T* value)> parse;
  std::function<std::string(const T& value)> format;
};
template <typename T>
Custom<T> custom(std::string accepted, std::function<std::string(const std::string&, T*)> parse,
                 std::function<std::string(const T&)> format) {
  return {std::move(accepted), std::move(parse), std::move(format)};
}

}  // namespace accepts

// One parameter: `field` under `key` in `p`, as `accepts` says.
template <typename T, typename Lo, typename Hi>
void declare_param(ParamList& p, std::string_view key, T* field, const accepts::Range<Lo, Hi>& range,
                   std::string_view unit, std::string_view help, std::string_view source) {
  static_assert(std::is_arithmetic<Lo>::value && std::is_arithmetic<Hi>::value, "in_range takes numbers");
  if constexpr (std::is_same<T, double>::value) {
    p.add_double(key, field, static_cast<double>(range.min), static_cast<double>(range.max), unit, help, source);
  } else {
    static_assert(std::is_integral<Lo>::value && std::is_integral<Hi>::value,
                  "an integer field takes integer bounds");
    if constexpr (std::is_same<T, int64_t>::value) {
      p.add_int(key, field, static_cast<int64_t>(range.min), static_cast<int64_t>(range.max), unit, help, source);
    } else {
      static_assert(std::is_same<T, uint32_t>::value || std::is_same<T, uint64_t>::value,
                    "in_range declares a uint32_t, uint64_t, int64_t or double field");
      p.add_uint(key, field, static_cast<uint64_t>(range.min), static_cast<uint64_t>(range.max), unit, help,
                 source);
    }
  }
}
void declare_param(ParamList& p, std::string_view key, uint64_t* field, const accepts::AddressUpTo& range,
                   std::string_view unit, std::string_view help, std::string_view source);
void declare_param(ParamList& p, std::string_view key, bool* field, const accepts::Boolean&,
                   std::string_view unit, std::string_view help, std::string_view source);
void declare_param(ParamList& p, std::string_view key, std::string* field, const accepts::AnyText&,
                   std::string_view unit, std::string_view help, std::string_view source);
void declare_param(ParamList& p, std::string_view key, std::string* field, const accepts::Words& words,
                   std::string_view unit, std::string_view help, std::string_view source);
template <typename E>
void declare_param(ParamList& p, std::string_view key, E* field, const accepts::Names<E>& names,
                   std::string_view unit, std::string_view help, std::string_view source) {
  p.add_enum(std::string(key), field, names.names, std::string(help), std::string(source));
  p.specs().back().unit = unit;
}
template <typename T>
void declare_param(ParamList& p, std::string_view key, T* field, const accepts::Custom<T>& c,
                   std::string_view unit, std::string_view help, std::string_view source) {
  auto parse = c.parse;
  auto format = c.format;
  auto apply = [field, parse](const std::string& text) { return parse(text, field); };
  auto current = [field, format] { return format(*field); };
  p.add_custom(std::string(key), format(*field), c.accepted, std::string(unit), std::string(help), apply, current,
               std::string(source));
}

// The check of a params struct filled in C++, whose values never went through
// apply(): "" or "<key>: what is wrong" for the first value its declaration
// does not accept. `Params` has declare(ParamList&).
template <typename Params>
std::string check_declared_values(const Params& params) {
  Params copy = params;  // the declarations bind to the copy's fields
  ParamList checker = ParamList::checker();
  copy.declare(checker);
  return checker.check_error();
}

#define IOMMUSIM_PARAM_FIELD(type, field, key, def, accepts, unit, help, source) type field = def;
#define IOMMUSIM_PARAM_FIELDS(LIST) LIST(IOMMUSIM_PARAM_FIELD)

#define IOMMUSIM_PARAM_DEFAULT(type, field, key, def, accepts, unit, help, source) \
  *static_cast<type*>(&(field)) = def;
#define IOMMUSIM_PARAM_DEFAULTS(LIST) LIST(IOMMUSIM_PARAM_DEFAULT)

#define IOMMUSIM_PARAM_DECLARE(type, field, key, def, accepts, unit, help, source)                     \
  ::iommusim::declare_param(iommusim_param_list_, key, static_cast<type*>(&iommusim_param_object_.field), \
                            accepts, unit, help, source);
// Calls visitor(key, field) for each row, e.g. to check what spans keys.
#define IOMMUSIM_PARAM_VISIT(type, field, key, def, accepts, unit, help, source) \
  iommusim_param_visitor_(key, static_cast<const type&>(iommusim_param_object_.field));
#define IOMMUSIM_VISIT_PARAMS(LIST, object, visitor)       \
  do {                                                     \
    const auto& iommusim_param_object_ = (object);         \
    auto&& iommusim_param_visitor_ = (visitor);            \
    LIST(IOMMUSIM_PARAM_VISIT)                             \
  } while (false)

#define IOMMUSIM_DECLARE_PARAMS(LIST, object, list)      \
  do {                                                   \
    auto& iommusim_param_object_ = (object);             \
    ::iommusim::ParamList& iommusim_param_list_ = (list); \
    using namespace ::iommusim::accepts;                 \
    LIST(IOMMUSIM_PARAM_DECLARE)                         \
  } while (false)

} // namespace iommusim
