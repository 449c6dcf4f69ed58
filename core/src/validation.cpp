// Validator: per-record checks, then duplicates and conflicts across every input file.
#include "hangar/core/validation.h"

#include <cstring>

#include "hangar/core/capture.h"
#include "hangar/core/excerpt.h"
#include "hangar/core/field_limits.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/core/spreadsheet.h"

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

// CsvReader's errors read "file[:line]: reason"; as a diagnostic the location goes in its fields.
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

}  // namespace

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

void Validator::report(const DeviceRecord& record, std::string_view field, std::string message,
                       Severity severity) {
  diagnostics_.push_back(Diagnostic{record.source_file, record.source_line, std::string(field),
                                    std::move(message), severity});
}

void Validator::fail(RecordResult& result, const DeviceRecord& record, std::string_view field,
                     std::string message, std::optional<FailureReason> failure) {
  if (result.verdict != Verdict::kInvalid) {
    result.verdict = Verdict::kInvalid;
    result.reason = message;
    result.failure = failure;
  }
  report(record, field, std::move(message), Severity::kError);
}

void Validator::add_diagnostic(Diagnostic diagnostic) {
  diagnostics_.push_back(std::move(diagnostic));
}

std::size_t Validator::add(const DeviceRecord& record, std::string_view hash_error) {
  const std::size_t index = results_.size();
  results_.emplace_back();
  RecordResult& result = results_.back();
  if (auto problem = check_field_limits(record)) {
    // Refused before any check that quotes a field: results and messages keep only an excerpt.
    DeviceRecord shown;
    shown.serial_number = excerpt(record.serial_number, kSerialLimit.max);
    shown.source_file = excerpt(record.source_file, kSourceFileLimit.max);
    shown.source_line = record.source_line;
    result.serial_number = shown.serial_number;
    result.location = shown.location();
    fail(result, shown, problem->field, std::move(problem->message), std::nullopt);
    return index;
  }
  result.serial_number = record.serial_number;
  result.location = record.location();
  result.has_hash = !record.hardware_hash.empty();

  if (record.serial_number.empty()) {
    fail(result, record, kSerialField, "the serial number is empty", std::nullopt);
  }

  if (!hash_error.empty()) {
    fail(
        result, record, kHashField,
        std::string(message(FailureReason::kHardwareHashNotValid)) + ": " + std::string(hash_error),
        FailureReason::kHardwareHashNotValid);
  } else if (!record.hardware_hash.empty()) {
    auto info = parse_hardware_hash(record.hardware_hash);
    if (!info) {
      fail(result, record, kHashField,
           std::string(message(FailureReason::kHardwareHashNotValid)) + ": " + info.error().message,
           FailureReason::kHardwareHashNotValid);
    } else {
      result.os_build = info->os_build;
      result.hash_manufacturer = info->manufacturer;
      result.hash_model = info->model;
      if (!record.serial_number.empty() &&
          !same_text_ignoring_case(info->serial_number, record.serial_number)) {
        reconcile_serial(result, record, info->serial_number);
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
    fail(result, record, kHashField,
         "no hardware hash, and no manufacturer and model to register the device by (a row "
         "without a hash needs Manufacturer, Model and Serial Number)",
         std::nullopt);
  } else if (is_excel_scientific(record.serial_number)) {
    // Registered by manufacturer, model and serial: this serial matches no device.
    fail(result, record, kSerialField,
         "Excel turned this serial into " + record.serial_number +
             " (scientific notation), and the row has no hardware hash to take the real one "
             "from; copy the serial from the original file or the device's label",
         std::nullopt);
  }

  if (result.verdict == Verdict::kInvalid) return index;

  // Across all inputs: the same serial, or the same hash, twice.
  const Digest digest = result.has_hash ? hash_fingerprint(record.hardware_hash) : Digest{};
  const Digest make_model =
      text_fingerprint(upper(record.manufacturer) + '\n' + upper(record.model));
  const std::string& serial = result.serial_number;
  const Digest key = text_fingerprint(upper(serial));
  if (auto it = by_serial_.find(key); it != by_serial_.end()) {
    const SerialEntry& first = it->second;
    const RecordResult& earlier = results_[first.index];
    const bool identical =
        first.has_hash == result.has_hash &&
        (result.has_hash ? first.digest == digest : first.make_model == make_model);
    if (identical) {
      result.verdict = Verdict::kDuplicate;
      result.reason = "duplicate of " + earlier.location;
      report(record, kSerialField,
             "serial " + serial + " with the same hash is also at " + earlier.location +
                 "; this copy is dropped",
             Severity::kWarning);
    } else {
      fail(result, record, kSerialField,
           "conflict: serial " + serial + " is also at " + earlier.location +
               (result.has_hash && first.has_hash ? " with a different hardware hash"
                                                  : " with different device data") +
               "; neither is registered until one is removed",
           std::nullopt);
      conflicts_.emplace_back(first.index, index);
    }
    return index;
  }
  if (result.has_hash) {
    if (auto it = by_hash_.find(digest); it != by_hash_.end()) {
      const RecordResult& earlier = results_[it->second];
      fail(result, record, kHashField,
           "duplicate hardware hash: the same hash is at " + earlier.location + " with serial " +
               earlier.serial_number + "; one of the two serial numbers is wrong",
           std::nullopt);
      conflicts_.emplace_back(it->second, index);
      return index;
    }
    by_hash_.emplace(digest, static_cast<std::uint32_t>(index));
  }
  by_serial_.emplace(
      key, SerialEntry{static_cast<std::uint32_t>(index), result.has_hash, digest, make_model});
  return index;
}

void Validator::reconcile_serial(RecordResult& result, const DeviceRecord& record,
                                 const std::string& hash_serial) {
  if (const auto damage = excel_serial_damage(hash_serial, record.serial_number)) {
    const std::string what = serial_damage_message(*damage, hash_serial, record.serial_number);
    if (options_.strict_serials) {
      fail(result, record, kSerialField,
           what +
               "; refused (--strict): put the serial back in the file, or leave out --strict "
               "to use the serial from the hardware hash",
           std::nullopt);
      return;
    }
    report(record, kSerialField, what + "; using the serial from the hardware hash",
           Severity::kWarning);
    serials_in_file_[results_.size() - 1] = record.serial_number;  // `result` is the last one
    result.serial_replaced = true;
    result.serial_number = hash_serial;
    return;
  }
  std::string what = "the hardware hash says serial number '" + hash_serial +
                     "' but the file says '" + record.serial_number + "'";
  if (is_excel_scientific(record.serial_number)) {
    // The row's own serial is lost, and the hash is another device's.
    fail(result, record, kSerialField,
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
    what += ": the hash holds the firmware's placeholder, not a serial (the manufacturer never set "
            "one)";
    if (options_.strict_serials) {
      fail(result, record, kSerialField, what + "; refused (--strict)", std::nullopt);
      return;
    }
    report(record, kSerialField, what + "; registering it with the file's serial",
           Severity::kWarning);
    return;
  }
  // The hash is another device's: registering it under this serial would enrol the wrong PC.
  fail(result, record, kSerialField,
       what +
           ": the hash is another device's (a row pasted from another device?); take the row "
           "from the original file or capture the device again",
       std::nullopt);
}

void Validator::apply_corrections(std::size_t index, DeviceRecord& record) const {
  const RecordResult& result = results_[index];
  if (result.serial_replaced) record.serial_number = result.serial_number;
}

std::string_view Validator::serial_in_file(std::size_t index) const {
  const auto it = serials_in_file_.find(index);
  return it == serials_in_file_.end() ? std::string_view() : std::string_view(it->second);
}

void Validator::finish() {
  if (finished_) return;
  finished_ = true;
  for (const auto& [earlier, later] : conflicts_) {
    RecordResult& first = results_[earlier];
    if (first.verdict == Verdict::kInvalid) continue;
    first.verdict = Verdict::kInvalid;
    first.reason = "conflicts with " + results_[later].location;
    // The record itself is gone; split its location back into file and line for the diagnostic.
    Diagnostic d;
    const std::size_t colon = first.location.rfind(':');
    d.file = first.location;
    if (colon != std::string::npos) {
      const std::string tail = first.location.substr(colon + 1);
      if (!tail.empty() && tail.find_first_not_of("0123456789") == std::string::npos) {
        d.file = first.location.substr(0, colon);
        d.line = std::stoull(tail);
      }
    }
    d.field = std::string(kSerialField);
    d.message = "conflict: serial " + first.serial_number + " / its hash also appears at " +
                results_[later].location + " with different data; neither is registered";
    d.severity = Severity::kError;
    diagnostics_.push_back(std::move(d));
  }
}

ValidationSummary Validator::summary() const {
  ValidationSummary s;
  s.records = results_.size();
  for (const auto& r : results_) {
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
  ValidatedFiles out{Validator(options), {}, 0};
  std::vector<std::pair<std::size_t, DeviceRecord>> kept;
  for (const auto& path : files) {
    auto reader = CsvReader::open(path, reader_options);
    if (!reader) {
      out.validator.add_diagnostic(open_failure(path_to_utf8(path), reader.error().message));
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
  }
  out.validator.finish();
  for (auto& [index, record] : kept) {
    if (out.validator.accepted(index)) out.accepted.push_back(std::move(record));
  }
  return out;
}

}  // namespace hangar::core
