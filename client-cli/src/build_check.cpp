// OS build mismatches for --expect-build (see build_check.h).
#include "build_check.h"

#include <cstdint>
#include <vector>

#include "hangar/core/hardware_hash.h"

namespace hangar::cli {

void BuildMismatches::add(std::string_view build, std::string_view serial) {
  Build& entry = builds[std::string(build)];
  ++entry.count;
  ++total;
  if (entry.first_serials.size() < kFirstSerials) entry.first_serials.emplace_back(serial);
}

std::optional<std::string> expect_build_problem(std::string_view value) {
  const std::string bad =
      "--expect-build takes the image's OS build (22631, 22631.2861 or "
      "10.0.22631), not \"" +
      printable_argument(value) + "\"";
  if (value.empty()) {
    return std::string(
        "--expect-build needs a build (22631, 22631.2861 or 10.0.22631): an empty "
        "value would check nothing");
  }
  std::vector<std::uint32_t> numbers;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = value.find('.', start);
    const std::string_view part =
        value.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (part.empty() || part.size() > 5 || (part.size() > 1 && part.front() == '0')) return bad;
    std::uint32_t number = 0;
    for (const char c : part) {
      if (c < '0' || c > '9') return bad;
      number = number * 10 + static_cast<std::uint32_t>(c - '0');
    }
    if (number > 65535) return bad;
    numbers.push_back(number);
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (numbers.size() > 4) return bad;
  // Windows 10 and 11 are both version 10.0: a full version starts with it.
  if (numbers.size() >= 3 && (numbers[0] != 10 || numbers[1] != 0)) {
    return bad + " (a full version starts with 10.0: Windows 10 and 11 are both 10.0)";
  }
  const std::uint32_t build = numbers[numbers.size() >= 3 ? 2 : 0];
  if (build == 0) return bad + " (a build number is at least 1)";
  return std::nullopt;
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
