// OS build mismatches for --expect-build (see build_check.h).
#include "build_check.h"

#include "hangar/core/hardware_hash.h"

namespace hangar::cli {

void BuildMismatches::add(std::string_view build, std::string_view serial) {
  Build& entry = builds[std::string(build)];
  ++entry.count;
  ++total;
  if (entry.first_serials.size() < kFirstSerials) entry.first_serials.emplace_back(serial);
}

bool is_build_mismatch(const core::Validator& validator, std::size_t index,
                       std::string_view expected) {
  if (expected.empty() || !validator.accepted(index) || !validator.has_hash(index)) return false;
  const std::string_view build = validator.os_build(index);
  return !build.empty() && !core::os_build_matches(build, expected);
}

BuildMismatches build_mismatches(const core::Validator& validator, std::string_view expected) {
  BuildMismatches mismatches;
  mismatches.expected = std::string(expected);
  for (std::size_t i = 0; i < validator.size(); ++i) {
    if (is_build_mismatch(validator, i, expected)) {
      mismatches.add(validator.os_build(i), validator.serial(i));
    }
  }
  return mismatches;
}

void print_build_mismatches(const BuildMismatches& mismatches, std::string_view consequence,
                            std::ostream& out) {
  if (mismatches.empty()) return;
  out << "OS build mismatch: " << mismatches.total << " device(s) not captured on the expected "
      << mismatches.expected << " (check the image):\n";
  for (const auto& [build, entry] : mismatches.builds) {
    out << "  " << entry.count << " on " << build << ": ";
    for (std::size_t i = 0; i < entry.first_serials.size(); ++i) {
      out << (i > 0 ? ", " : "") << entry.first_serials[i];
    }
    if (entry.count > entry.first_serials.size()) {
      out << " and " << entry.count - entry.first_serials.size() << " more";
    }
    out << "\n";
  }
  out << consequence << "\n";
}

Json build_mismatches_json(const BuildMismatches& mismatches, bool allowed) {
  Json builds = Json::object();
  for (const auto& [build, entry] : mismatches.builds) {
    builds[build] = Json{{"count", entry.count}, {"first_serials", entry.first_serials}};
  }
  return Json{{"expected", mismatches.expected},
              {"devices", mismatches.total},
              {"allowed", allowed},
              {"builds", std::move(builds)}};
}

}  // namespace hangar::cli
