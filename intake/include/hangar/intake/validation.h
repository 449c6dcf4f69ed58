// Offline validation of device records from any number of files: each record alone (serial, hash
// structure, serial inside the hash, OS build) and all of them together (duplicates, conflicts).
#pragma once

#include <cstdint>
#include <deque>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/diagnostic.h"
#include "hangar/intake/text_arena.h"

namespace hangar::core {

struct ValidationOptions {
  // "Check the image": when set, a device whose hash carries another OS build gets a warning.
  // Full version or its tail: "10.0.22631.2861", "22631.2861", "22631".
  std::string expect_build;
  // Verify the hash's 'CS' SHA-256 record; a mismatch is a warning (its meaning is *unconfirmed*).
  bool verify_checksum = true;
  // A row whose serial differs from the one inside its hash only as Excel changes a serial it
  // reads as a number ("1.65208E+11" for 165207713570) gets the hash's serial, with a warning.
  // With strict_serials it is refused instead. A serial that differs from its hash's in any other
  // way is an error (the hash is another device's), unless the hash holds a firmware placeholder
  // ("To be filled by O.E.M.": a white-box PC): then the file's serial is used, with a warning,
  // or refused with strict_serials.
  bool strict_serials = false;
};

enum class Verdict : std::uint8_t {
  kValid,      // may be registered
  kDuplicate,  // identical to an earlier record (same serial, same hash): dropped with a warning
  kInvalid,    // has at least one error
};

std::string_view verdict_name(Verdict verdict);

// The outcome for one input record, in input order, as Validator::result() spells it out. The
// validator itself keeps a compact form (see Validator::Row).
struct RecordResult {
  // The serial to register: the file's, or the hash's when it replaced one Excel had changed.
  std::string serial_number;
  std::string location;  // "file:line" (format_location)
  Verdict verdict = Verdict::kValid;
  std::optional<FailureReason> failure;  // kHardwareHashNotValid for hash problems
  std::string reason;                    // the first error (or the duplicate note)
  std::string os_build;                  // from the hash, when it has one ("Check the image")
  bool has_hash = false;
  // The hash's serial replaced the file's (Validator::serial_in_file has what the file said).
  bool serial_replaced = false;
};

struct ValidationSummary {
  std::size_t records = 0;
  std::size_t valid = 0;
  std::size_t duplicates = 0;
  std::size_t invalid = 0;
  std::size_t errors = 0;  // error diagnostics, including the readers'
  std::size_t warnings = 0;
};

// Feed records one at a time (add), then call finish(). What it keeps of a record is compact: a
// 32-byte row, its serial's bytes, and a 128-bit fingerprint of its serial (plus one of its hash)
// in the duplicate index. Text that only some rows have (a reason, an OS build, the file's serial
// where the hash's replaced it) is kept for those rows alone, a file name once per file, and
// "file:line" is put together when asked for. About 130 bytes a row, so a million rows fit in
// 150 MB.
class Validator {
 public:
  explicit Validator(ValidationOptions options = {});

  // Checks `record` alone and against every record added before; returns its index (0, 1, ...).
  // `hash_error` is CsvRecord::hash_error (non-base64 text the reader could not decode).
  std::size_t add(const DeviceRecord& record, std::string_view hash_error = {});
  std::size_t add(const CsvRecord& record) { return add(record.device, record.hash_error); }
  // Diagnostics from elsewhere (the CSV readers), so one list holds every problem.
  void add_diagnostic(Diagnostic diagnostic);

  // add() can only fail the later record of a conflict; finish() fails the earlier one too, since
  // neither can be trusted. Idempotent.
  void finish();

  // The records added so far, and the outcome of each, by index.
  std::size_t size() const { return rows_.size(); }
  RecordResult result(std::size_t index) const;
  // The parts of result() one at a time, without building the rest.
  Verdict verdict(std::size_t index) const { return rows_.at(index).verdict; }
  bool has_hash(std::size_t index) const { return (rows_.at(index).flags & kHasHash) != 0; }
  std::string_view serial(std::size_t index) const { return text_.view(rows_.at(index).serial); }
  std::string location(std::size_t index) const;
  std::string_view reason(std::size_t index) const;
  std::string_view os_build(std::size_t index) const;

  const std::vector<Diagnostic>& diagnostics() const { return diagnostics_; }
  ValidationSummary summary() const;
  bool accepted(std::size_t index) const { return verdict(index) == Verdict::kValid; }
  // Gives `record` (the one add() checked as `index`) the serial to register: the hash's when it
  // replaced a serial Excel had changed. Every caller that keeps an accepted record calls it.
  void apply_corrections(std::size_t index, DeviceRecord& record) const;
  // What the file said where the hash's serial replaced it; empty elsewhere.
  std::string_view serial_in_file(std::size_t index) const;

 private:
  using Digest = HashFingerprint;
  static constexpr std::uint8_t kHasHash = 1;
  static constexpr std::uint8_t kSerialReplaced = 2;
  static constexpr std::uint32_t kNone = 0;                // no reason / no OS build
  static constexpr std::size_t kMaxRows = UINT32_MAX - 1;  // indexes are 32-bit

  // One record's outcome. Held in a deque: growing never copies the rows already there, so there
  // is no moment with two copies of them (a vector's doubling).
  struct Row {
    std::uint64_t line = 0;
    TextArena::Ref serial = 0;       // in text_
    std::uint32_t file = 0;          // in files_
    std::uint32_t reason = kNone;    // 1 + index in reasons_
    std::uint32_t os_build = kNone;  // 1 + index in builds_
    Verdict verdict = Verdict::kValid;
    std::uint8_t failure = 0;  // 1 + FailureReason, 0 for none
    std::uint8_t flags = 0;
  };
  static_assert(sizeof(Row) <= 32);

  // The duplicate index holds fixed-size fingerprints, no text: a serial is found by the
  // fingerprint of its upper-cased text. `identity` is what makes a second row with that serial
  // the same device: its hash's fingerprint, or for a hashless (partner) row that of its
  // upper-cased manufacturer and model.
  struct SerialEntry {
    std::uint32_t index;
    bool has_hash;
    Digest identity;
    Digest extras;  // the group tag and assigned user: a duplicate that differs there is told
  };

  std::uint32_t intern_file(std::string_view file);
  std::uint32_t intern_build(std::string_view build);
  void set_reason(Row& row, std::string reason);
  void report(const DeviceRecord& record, std::string_view field, std::string message,
              Severity severity);
  void fail(Row& row, const DeviceRecord& record, std::string_view field, std::string message,
            std::optional<FailureReason> failure);
  // The file's serial is not the one inside the hash: Excel's doing (corrected, or refused when
  // strict) or another device's hash (a warning, refused when strict).
  void reconcile_serial(Row& row, const DeviceRecord& record, const std::string& hash_serial);

  ValidationOptions options_;
  std::deque<Row> rows_;
  TextArena text_;                  // every row's serial
  std::vector<std::string> files_;  // each file name once
  std::unordered_map<std::string, std::uint32_t> file_index_;
  std::vector<std::string> builds_;  // each OS build once
  std::unordered_map<std::string, std::uint32_t> build_index_;
  std::deque<std::string> reasons_;  // only rows that are not valid have one
  std::vector<Diagnostic> diagnostics_;
  std::unordered_map<Digest, SerialEntry, HashFingerprintHasher> by_serial_;
  std::unordered_map<Digest, std::uint32_t, HashFingerprintHasher> by_hash_;
  std::vector<std::pair<std::size_t, std::size_t>> conflicts_;    // (earlier, later)
  std::unordered_map<std::size_t, std::string> serials_in_file_;  // by index, replaced ones only
  bool finished_ = false;
};

struct ValidatedFiles {
  Validator validator;
  // The records that may be registered, de-duplicated, in input order (when requested).
  std::vector<DeviceRecord> accepted;
  std::size_t files_read = 0;
  // Files that could not be read as hash files (missing, not a CSV of devices): each has its error.
  std::size_t files_not_read = 0;
  // Lines the readers dropped with an error before they became records (see
  // CsvReader::lines_skipped()): not in the validator's record count.
  std::size_t lines_skipped = 0;
};

// CsvReader::open's error for `file` ("file[:line]: reason") as a diagnostic, the location in its
// fields, so the file is not named twice ("x.csv: error: x.csv: does not exist").
Diagnostic open_failure(const std::string& file, std::string_view message);

// Reads every file with CsvReader and validates all records together. A file that cannot be read
// or has no usable header becomes an error diagnostic; the other files are still checked.
ValidatedFiles validate_files(std::span<const std::filesystem::path> files,
                              const ValidationOptions& options = {},
                              const CsvReaderOptions& reader_options = {},
                              bool keep_accepted = true);

}  // namespace hangar::core
