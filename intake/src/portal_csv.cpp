// The Intune portal's CSV: fixed header, ASCII, no quotes, CRLF, at most 500 rows per upload.
#include "hangar/intake/portal_csv.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <system_error>

#include "hangar/core/field_limits.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/output_file.h"
#include "hangar/intake/csv_reader.h"

namespace hangar::core {
namespace {

// Bytes collected before each write of an output file.
constexpr std::size_t kWriteBlock = 256 * 1024;

struct Field {
  std::string_view name;
  const std::string* value;
};

}  // namespace

std::string portal_cell_problem(std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (c >= 0x80) {
      return "has a non-ASCII character at position " + std::to_string(i + 1) +
             " (the portal accepts ANSI/ASCII only and would corrupt it)";
    }
    if (c == ',') return "contains a comma (the portal's format has no quoting)";
    if (c == '"') return "contains a double quote (the portal's format allows no quotes)";
    if (c < 0x20 || c == 0x7F) {
      std::array<char, 8> buf{};
      std::snprintf(buf.data(), buf.size(), "0x%02X", static_cast<unsigned>(c));
      return std::string("contains the control character ") + buf.data() + " at position " +
             std::to_string(i + 1);
    }
  }
  return {};
}

namespace {

std::string formula_tag_problem(std::string_view tag) {
  // Excel and its kin run a cell that starts with = + - @ as a formula when an admin opens the
  // upload file (CSV injection, black-box round 8): such a tag is never written to one.
  if (!tag.empty() &&
      (tag.front() == '=' || tag.front() == '+' || tag.front() == '-' || tag.front() == '@')) {
    return std::string("begins with '") + tag.front() +
           "', which a spreadsheet opening the upload file would run as a formula; start the "
           "tag with a letter or a digit";
  }
  return {};
}

}  // namespace

std::string group_tag_problem(std::string_view tag) {
  if (tag.empty()) return "is empty";
  // The CSV reader drops the spaces around a cell and the CLI those around --group-tag, so a tag
  // with them is one no import can carry (and "Sales " beside "Sales" would be two tags).
  if (tag.find_first_not_of(' ') == std::string_view::npos) return "is only spaces";
  if (tag.front() == ' ') return "begins with a space; write it without the spaces around it";
  if (tag.back() == ' ') return "ends with a space; write it without the spaces around it";
  if (auto problem = portal_cell_problem(tag); !problem.empty()) return problem;
  if (auto formula = formula_tag_problem(tag); !formula.empty()) return formula;
  if (tag.size() > kGroupTagLimit.max) {
    return "is " + std::to_string(tag.size()) + " characters long; the most the cloud takes is " +
           std::to_string(kGroupTagLimit.max);
  }
  return {};
}

namespace {

std::string row_of(const DeviceRecord& r) {
  std::string line;
  line.reserve(64 + r.hardware_hash.size() * 4 / 3);
  line += r.serial_number;
  line += ',';
  line += r.windows_product_id;
  line += ',';
  line += encode_base64(r.hardware_hash);
  line += ',';
  line += r.group_tag;
  line += ',';
  line += r.assigned_user;
  line += "\r\n";
  return line;
}

Error unfit_error(const std::vector<Diagnostic>& problems) {
  std::string message =
      std::to_string(problems.size()) + " record(s) cannot be written in the portal's format:";
  for (std::size_t i = 0; i < problems.size() && i < 5; ++i) {
    message += "\n  " + problems[i].to_string();
  }
  if (problems.size() > 5)
    message += "\n  ... and " + std::to_string(problems.size() - 5) + " more";
  return make_error("portal_csv.unfit", message);
}

Status write_rows(std::span<const DeviceRecord> records, std::ostream& out) {
  out << kPortalHeader << "\r\n";
  for (const auto& r : records) out << row_of(r);
  out.flush();
  if (!out) return make_error("portal_csv.write_failed", "writing the CSV failed (disk full?)");
  return {};
}

}  // namespace

std::vector<Diagnostic> check_portal_records(std::span<const DeviceRecord> records) {
  std::vector<Diagnostic> problems;
  for (std::size_t n = 0; n < records.size(); ++n) {
    const DeviceRecord& r = records[n];
    const std::string who =
        "record " + std::to_string(n + 1) + " (serial '" + r.serial_number + "')";
    const std::array<Field, 4> fields{{{"Device Serial Number", &r.serial_number},
                                       {"Windows Product ID", &r.windows_product_id},
                                       {"Group Tag", &r.group_tag},
                                       {"Assigned User", &r.assigned_user}}};
    for (const auto& field : fields) {
      // A tag has the tag rule (a formula's first character too: export leaves such a tenant
      // device's row out rather than write it); the other cells the portal's cell rule.
      std::string problem;
      if (field.value != &r.group_tag) {
        problem = portal_cell_problem(*field.value);
      } else if (!r.group_tag.empty()) {
        if (auto tag = group_tag_problem(r.group_tag); !tag.empty()) problem = "the tag " + tag;
      }
      if (!problem.empty()) {
        problems.push_back(Diagnostic{r.source_file, r.source_line, std::string(field.name),
                                      who + ": " + problem, Severity::kError});
      }
    }
    if (r.serial_number.empty()) {
      problems.push_back(Diagnostic{r.source_file, r.source_line, "Device Serial Number",
                                    who + ": no serial number", Severity::kError});
    }
    if (r.hardware_hash.empty()) {
      problems.push_back(
          Diagnostic{r.source_file, r.source_line, "Hardware Hash",
                     who + ": no hardware hash (the portal cannot register a "
                           "device without one; partner-registered devices need no CSV)",
                     Severity::kError});
    }
  }
  return problems;
}

Status write_portal_csv(std::span<const DeviceRecord> records, std::ostream& out) {
  if (auto problems = check_portal_records(records); !problems.empty()) {
    return unfit_error(problems);
  }
  return write_rows(records, out);
}

std::filesystem::path portal_part_extension(const std::filesystem::path& output) {
  // `-o upload` asks for that name, and gets it for one file; its parts are still files the
  // portal's picker takes (black-box round 9: upload-001 with no extension).
  return output.extension().empty() ? std::filesystem::path(".csv") : output.extension();
}

std::filesystem::path portal_part_path(const std::filesystem::path& output, std::size_t part) {
  std::string number = std::to_string(part);
  if (number.size() < 3) number.insert(0, 3 - number.size(), '0');
  std::filesystem::path name = output.stem();
  name += "-" + number;
  name += portal_part_extension(output);
  return output.parent_path() / name;
}

Result<std::vector<std::filesystem::path>> write_portal_csv_files(
    std::span<const DeviceRecord> records, const std::filesystem::path& output,
    std::size_t max_rows_per_file) {
  if (auto problems = check_portal_records(records); !problems.empty()) {
    return unfit_error(problems);
  }
  std::vector<std::filesystem::path> written;
  const std::size_t per_file = max_rows_per_file == 0 ? records.size() : max_rows_per_file;
  std::size_t start = 0;
  std::size_t part = 1;
  do {
    const std::size_t count = std::min(per_file, records.size() - start);
    const std::filesystem::path target =
        max_rows_per_file == 0 ? output : portal_part_path(output, part);
    auto file = OutputFile::create(target);
    if (!file) return file.error();
    // Rows go out in blocks: a large merge is never held whole in memory.
    std::string block(kPortalHeader);
    block += "\r\n";
    for (const auto& r : records.subspan(start, count)) {
      block += row_of(r);
      if (block.size() >= kWriteBlock) {
        if (auto st = file->write(block); !st) return st.error();
        block.clear();
      }
    }
    if (auto st = file->write(block); !st) return st.error();
    if (auto st = file->commit(); !st) return st.error();
    written.push_back(target);
    start += count;
    ++part;
  } while (start < records.size());
  return written;
}

}  // namespace hangar::core
