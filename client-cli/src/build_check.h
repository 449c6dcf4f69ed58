// --expect-build for validate, merge and import: which valid devices were captured on another OS
// build, summarised per build (a count and the first serials), so a stray image stands out and
// its devices are kept out of an upload unless the admin allows them (--allow-build-mismatch).
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli_common.h"
#include "hangar/intake/validation.h"

namespace hangar::cli {

struct BuildMismatches {
  struct Build {
    std::size_t count = 0;
    std::vector<std::string> first_serials;  // at most kFirstSerials
  };
  static constexpr std::size_t kFirstSerials = 5;
  std::string expected;
  std::map<std::string, Build> builds;  // by the OS build found in the hash
  std::size_t total = 0;

  void add(std::string_view build, std::string_view serial);
  bool empty() const { return total == 0; }
};

// Why `value` is not an OS build for --expect-build, or nothing: a build (22631), a build and
// revision (22631.2861) or the full version (10.0.22631, 10.0.22631.2861), ASCII digits, each
// number at most 65535 (Windows' version fields are 16 bits) and the build at least 1.
std::optional<std::string> expect_build_problem(std::string_view value);

// True when `expected` is set and the valid, hashed record `index` carries another OS build (a
// hash without any build is only the validator's warning).
bool is_build_mismatch(const core::Validator& validator, std::size_t index,
                       std::string_view expected);

// Every valid record on another build than `expected` (empty when `expected` is).
BuildMismatches build_mismatches(const core::Validator& validator, std::string_view expected);

// "OS build mismatch (expected 22631): 12 device(s) on 10.0.19045.3803: S1, S2, ... and 7 more",
// a line per build, then what happens to them (`consequence`).
void print_build_mismatches(const BuildMismatches& mismatches, std::string_view consequence,
                            std::ostream& out);
Json build_mismatches_json(const BuildMismatches& mismatches, bool allowed);

}  // namespace hangar::cli
