// Validator: per-record checks, then duplicates and conflicts across every input file.
#include "hangar/intake/validation.h"

#include <cstring>

#include "hangar/core/excerpt.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/firmware_values.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/principal_name.h"
#include "hangar/intake/portal_csv.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {
namespace {

constexpr std::string_view kSerialField = "Device Serial Number";
constexpr std::string_view kHashField = "Hardware Hash";

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

HashFingerprint text_fingerprint(std::string_view text) {
  return hash_fingerprint(
      std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

bool same_text_ignoring_case(std::string_view a, std::string_view b) {
  return upper(a) == upper(b);
}

}  // namespace

Diagnostic open_failure(const std::string& file, std::string_view message) {
  Diagnostic d{file, 0, "", std::string(message), Severity::kError};
  if (message.substr(0, file.size()) != file || message.size() <= file.size() + 1) return d;
  std::string_view rest = message.substr(file.size());
  if (rest.front() == ':' && rest.size() > 1 && rest[1] >= '0' && rest[1] <= '9') {
    rest.remove_prefix(1);
    std::uint64_t line = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      line = line * 10 + static_cast<std::uint64_t>(rest.front() - '0');
      rest.remove_prefix(1);
    }
    d.line = line;
  }
  if (rest.substr(0, 2) == ": ") rest.remove_prefix(2);
  d.message = std::string(rest);
  return d;
}

std::string_view verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kValid:
      return "valid";
    case Verdict::kDuplicate:
      return "duplicate";
    case Verdict::kInvalid:
      return "invalid";
  }
  return "invalid";
}

Validator::Validator(ValidationOptions options) : options_(std::move(options)) {}

std::uint32_t Validator::intern_file(std::string_view file) {
  // Records arrive file by file: the last one is almost always the one.
  if (!files_.empty() && files_.back() == file)
    return static_cast<std::uint32_t>(files_.size() - 1);
  const auto [it, inserted] =
      file_index_.try_emplace(std::string(file), static_cast<std::uint32_t>(files_.size()));
  if (inserted) files_.emplace_back(file);
  return it->second;
}

std::uint32_t Validator::intern_build(std::string_view build) {
  if (build.empty()) return kNone;
  const auto [it, inserted] =
      build_index_.try_emplace(std::string(build), static_cast<std::uint32_t>(builds_.size() + 1));
  if (inserted) builds_.emplace_back(build);
  return it->second;
}

void Validator::set_reason(Row& row, std::string reason) {
  if (row.reason == kNone) {
    reasons_.push_back(std::move(reason));
    row.reason = static_cast<std::uint32_t>(reasons_.size());
  } else {
    reasons_[row.reason - 1] = std::move(reason);
  }
}

void Validator::report(const DeviceRecord& record, std::string_view field, std::string message,
                       Severity severity) {
  diagnostics_.push_back(Diagnostic{record.source_file, record.source_line, std::string(field),
                                    std::move(message), severity});
}

void Validator::fail(Row& row, const DeviceRecord& record, std::string_view field,
                     std::string message, std::optional<FailureReason> failure) {
  if (row.verdict != Verdict::kInvalid) {
    row.verdict = Verdict::kInvalid;
    set_reason(row, message);
    row.failure = failure ? static_cast<std::uint8_t>(static_cast<int>(*failure) + 1) : 0;
  }
  report(record, field, std::move(message), Severity::kError);
}

void Validator::add_diagnostic(Diagnostic diagnostic) {
  diagnostics_.push_back(std::move(diagnostic));
}

std::size_t Validator::add(const DeviceRecord& record, std::string_view hash_error) {
  const std::size_t index = rows_.size();
  Row& row = rows_.emplace_back();
  row.line = record.source_line;
  auto problem = check_field_limits(record);
  if (index >= kMaxRows) {
    // The duplicate index counts rows in 32 bits. No file of devices comes near (it would take
    // tens of gigabytes), but a row past it is refused rather than mis-indexed.
    problem = FieldProblem{kSerialField, "more than " + std::to_string(kMaxRows) +
                                             " device rows in one run; split the input and "
                                             "check the rest separately"};
  }
  if (problem) {
    // Refused before any check that quotes a field: results and messages keep only an excerpt.
    DeviceRecord shown;
    shown.serial_number = excerpt(record.serial_number, kSerialLimit.max);
    shown.source_file = excerpt(record.source_file, kSourceFileLimit.max);
    shown.source_line = record.source_line;
    row.serial = text_.add(shown.serial_number);
    row.file = intern_file(shown.source_file);
    fail(row, shown, problem->field, std::move(problem->message), std::nullopt);
    return index;
  }
  row.serial = text_.add(record.serial_number);
  row.file = intern_file(record.source_file);
  const bool has_hash = !record.hardware_hash.empty();
  if (has_hash) row.flags |= kHasHash;

  if (record.serial_number.empty()) {
    fail(row, record, kSerialField, "the serial number is empty", std::nullopt);
  }
  // The user `deliver` assigns later: a name the cloud would never find is refused now, where its
  // file and line are known, with the rule `deliver` applies.
  if (!record.assigned_user.empty()) {
    if (auto user_problem = user_principal_name_problem(record.assigned_user);
        !user_problem.empty()) {
      fail(row, record, kAssignedUserLimit.field,
           "\"" + excerpt(record.assigned_user, 80) + "\" is not a user principal name: it " +
               user_problem + " (" + std::string(user_principal_name_rule()) + ")",
           std::nullopt);
    }
  }

  // A file's Group Tag is checked by the rule --group-tag and the service's import apply
  // (group_tag_problem), so validate never calls valid a row import refuses: a tag a spreadsheet
  // would run as a formula (black-box round 9: merge wrote "=1+1" to the upload), or one the
  // portal's ANSI upload file cannot carry (a non-ASCII letter, a comma, a quote).
  if (!record.group_tag.empty()) {
    if (auto tag_problem = group_tag_problem(record.group_tag); !tag_problem.empty()) {
      fail(row, record, "Group Tag",
           "the Group Tag \"" + excerpt(record.group_tag, 80) + "\" " + tag_problem, std::nullopt);
    }
  }

  if (!hash_error.empty()) {
    fail(
        row, record, kHashField,
        std::string(message(FailureReason::kHardwareHashNotValid)) + ": " + std::string(hash_error),
        FailureReason::kHardwareHashNotValid);
  } else if (has_hash) {
    auto info = parse_hardware_hash(record.hardware_hash);
    if (!info) {
      fail(row, record, kHashField,
           std::string(message(FailureReason::kHardwareHashNotValid)) + ": " + info.error().message,
           FailureReason::kHardwareHashNotValid);
    } else {
      row.os_build = intern_build(info->os_build);
      if (!record.serial_number.empty() &&
          !same_text_ignoring_case(info->serial_number, record.serial_number)) {
        reconcile_serial(row, record, info->serial_number);
      }
      if (options_.verify_checksum && info->checksum == HashChecksum::kMismatch) {
        report(record, kHashField,
               "the hash's checksum does not match its content (edited or corrupted after "
               "capture?); the cloud may reject it",
               Severity::kWarning);
      }
      if (!options_.expect_build.empty()) {
        if (info->os_build.empty()) {
          report(record, kHashField,
                 "the hash carries no OS build, expected " + options_.expect_build,
                 Severity::kWarning);
        } else if (!os_build_matches(info->os_build, options_.expect_build)) {
          report(record, kHashField,
                 "captured on OS build " + info->os_build + ", but the image should be " +
                     options_.expect_build + " (check the image)",
                 Severity::kWarning);
        }
      }
    }
  } else if (record.manufacturer.empty() || record.model.empty()) {
    fail(row, record, kHashField,
         "no hardware hash, and no manufacturer and model to register the device by (a row "
         "without a hash needs Manufacturer, Model and Serial Number)",
         std::nullopt);
  } else if (is_excel_scientific(record.serial_number)) {
    // Registered by manufacturer, model and serial: this serial matches no device.
    fail(row, record, kSerialField,
         "Excel turned this serial into " + record.serial_number +
             " (scientific notation), and the row has no hardware hash to take the real one "
             "from; copy the serial from the original file or the device's label",
         std::nullopt);
  }

  if (row.verdict == Verdict::kInvalid) return index;

  // Across all inputs: the same serial, or the same hash, twice.
  const Digest digest = has_hash ? hash_fingerprint(record.hardware_hash) : Digest{};
  const Digest identity =
      has_hash ? digest : text_fingerprint(upper(record.manufacturer) + '\n' + upper(record.model));
  const std::string_view serial = text_.view(row.serial);  // the hash's where it replaced one
  const Digest key = text_fingerprint(upper(serial));
  const Digest extras = text_fingerprint(record.group_tag + '\n' + record.assigned_user);
  if (auto it = by_serial_.find(key); it != by_serial_.end()) {
    const SerialEntry& first = it->second;
    const std::string earlier = location(first.index);
    if (first.has_hash == has_hash && first.identity == identity) {
      row.verdict = Verdict::kDuplicate;
      set_reason(row, "duplicate of " + earlier);
      // A copy that names another group tag or user is not a harmless repeat: what it says is
      // dropped with it (black-box round 15: a tag given only in the second file was lost).
      const auto shown = [](const std::string& value) {
        return value.empty() ? std::string("none") : "\"" + value + "\"";
      };
      const std::string differs =
          first.extras == extras
              ? std::string()
              : " but its Group Tag or Assigned User differ (this copy: Group Tag " +
                    shown(record.group_tag) + ", Assigned User " + shown(record.assigned_user) +
                    "); the copy at " + earlier + " is the one used: make the two rows agree";
      report(record, kSerialField,
             "serial " + std::string(serial) + " with the same hash is also at " + earlier +
                 (differs.empty() ? "; this copy is dropped" : "; this copy is dropped," + differs),
             Severity::kWarning);
    } else {
      fail(row, record, kSerialField,
           "conflict: serial " + std::string(serial) + " is also at " + earlier +
               (has_hash && first.has_hash ? " with a different hardware hash"
                                           : " with different device data") +
               "; neither is registered until one is removed",
           std::nullopt);
      conflicts_.emplace_back(first.index, index);
    }
    return index;
  }
  if (has_hash) {
    if (auto it = by_hash_.find(digest); it != by_hash_.end()) {
      fail(row, record, kHashField,
           "duplicate hardware hash: the same hash is at " + location(it->second) +
               " with serial " + std::string(this->serial(it->second)) +
               "; one of the two serial numbers is wrong",
           std::nullopt);
      conflicts_.emplace_back(it->second, index);
      return index;
    }
    by_hash_.emplace(digest, static_cast<std::uint32_t>(index));
  }
  by_serial_.emplace(key,
                     SerialEntry{static_cast<std::uint32_t>(index), has_hash, identity, extras});
  return index;
}

void Validator::reconcile_serial(Row& row, const DeviceRecord& record,
                                 const std::string& hash_serial) {
  if (const auto damage = excel_serial_damage(hash_serial, record.serial_number)) {
    const std::string what = serial_damage_message(*damage, hash_serial, record.serial_number);
    if (options_.strict_serials) {
      fail(row, record, kSerialField,
           what +
               "; refused (--strict): put the serial back in the file, or leave out --strict "
               "to use the serial from the hardware hash",
           std::nullopt);
      return;
    }
    report(record, kSerialField, what + "; using the serial from the hardware hash",
           Severity::kWarning);
    serials_in_file_[rows_.size() - 1] = record.serial_number;  // `row` is the last one
    row.flags |= kSerialReplaced;
    row.serial = text_.add(hash_serial);  // the file's stays unused in the arena: rare
    return;
  }
  std::string what = "the hardware hash says serial number '" + hash_serial +
                     "' but the file says '" + record.serial_number + "'";
  if (is_excel_scientific(record.serial_number)) {
    // The row's own serial is lost, and the hash is another device's.
    fail(row, record, kSerialField,
         what +
             ": Excel turned the row's serial into scientific notation, and the hash is "
             "another device's (a row pasted from another device?); take the row from the "
             "original file",
         std::nullopt);
    return;
  }
  if (!clean_firmware_value(hash_serial)) {
    // A white-box PC whose firmware holds no real serial: the file's (the label's) is the only
    // one there is, and the hash still identifies the device.
    what +=
        ": the hash holds the firmware's placeholder, not a serial (the manufacturer never set "
        "one)";
    if (options_.strict_serials) {
      fail(row, record, kSerialField, what + "; refused (--strict)", std::nullopt);
      return;
    }
    report(record, kSerialField, what + "; registering it with the file's serial",
           Severity::kWarning);
    return;
  }
  // The hash is another device's: registering it under this serial would enrol the wrong PC.
  fail(row, record, kSerialField,
       what +
           ": the hash is another device's (a row pasted from another device?); take the row "
           "from the original file or capture the device again",
       std::nullopt);
}

std::string Validator::location(std::size_t index) const {
  const Row& row = rows_.at(index);
  return format_location(files_[row.file], row.line);
}

std::string_view Validator::reason(std::size_t index) const {
  const Row& row = rows_.at(index);
  return row.reason == kNone ? std::string_view() : std::string_view(reasons_[row.reason - 1]);
}

std::string_view Validator::os_build(std::size_t index) const {
  const Row& row = rows_.at(index);
  return row.os_build == kNone ? std::string_view() : std::string_view(builds_[row.os_build - 1]);
}

RecordResult Validator::result(std::size_t index) const {
  const Row& row = rows_.at(index);
  RecordResult r;
  r.serial_number = std::string(text_.view(row.serial));
  r.location = location(index);
  r.verdict = row.verdict;
  if (row.failure != 0) r.failure = static_cast<FailureReason>(row.failure - 1);
  r.reason = std::string(reason(index));
  r.os_build = std::string(os_build(index));
  r.has_hash = (row.flags & kHasHash) != 0;
  r.serial_replaced = (row.flags & kSerialReplaced) != 0;
  return r;
}

void Validator::apply_corrections(std::size_t index, DeviceRecord& record) const {
  const Row& row = rows_.at(index);
  if ((row.flags & kSerialReplaced) != 0)
    record.serial_number = std::string(text_.view(row.serial));
}

std::string_view Validator::serial_in_file(std::size_t index) const {
  const auto it = serials_in_file_.find(index);
  return it == serials_in_file_.end() ? std::string_view() : std::string_view(it->second);
}

void Validator::finish() {
  if (finished_) return;
  finished_ = true;
  for (const auto& [earlier, later] : conflicts_) {
    Row& first = rows_[earlier];
    if (first.verdict == Verdict::kInvalid) continue;
    first.verdict = Verdict::kInvalid;
    const std::string later_location = location(later);
    set_reason(first, "conflicts with " + later_location);
    diagnostics_.push_back(Diagnostic{files_[first.file], first.line, std::string(kSerialField),
                                      "conflict: serial " + std::string(text_.view(first.serial)) +
                                          " / its hash also appears at " + later_location +
                                          " with different data; neither is "
                                          "registered",
                                      Severity::kError});
  }
}

ValidationSummary Validator::summary() const {
  ValidationSummary s;
  s.records = rows_.size();
  for (const auto& r : rows_) {
    switch (r.verdict) {
      case Verdict::kValid:
        ++s.valid;
        break;
      case Verdict::kDuplicate:
        ++s.duplicates;
        break;
      case Verdict::kInvalid:
        ++s.invalid;
        break;
    }
  }
  for (const auto& d : diagnostics_) {
    if (d.severity == Severity::kError) {
      ++s.errors;
    } else {
      ++s.warnings;
    }
  }
  return s;
}

ValidatedFiles validate_files(std::span<const std::filesystem::path> files,
                              const ValidationOptions& options,
                              const CsvReaderOptions& reader_options, bool keep_accepted) {
  ValidatedFiles out{Validator(options), {}, 0, 0, 0};
  std::vector<std::pair<std::size_t, DeviceRecord>> kept;
  for (const auto& path : files) {
    auto reader = CsvReader::open(path, reader_options);
    if (!reader) {
      out.validator.add_diagnostic(open_failure(path_to_utf8(path), reader.error().message));
      ++out.files_not_read;
      continue;
    }
    ++out.files_read;
    while (auto record = reader->next()) {
      const std::size_t index = out.validator.add(*record);
      if (keep_accepted && out.validator.accepted(index)) {
        out.validator.apply_corrections(index, record->device);
        kept.emplace_back(index, std::move(record->device));
      }
    }
    for (auto& d : reader->take_diagnostics()) out.validator.add_diagnostic(std::move(d));
    out.lines_skipped += static_cast<std::size_t>(reader->lines_skipped());
  }
  out.validator.finish();
  for (auto& [index, record] : kept) {
    if (out.validator.accepted(index)) out.accepted.push_back(std::move(record));
  }
  return out;
}

}  // namespace hangar::core
