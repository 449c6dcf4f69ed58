// Streaming reader for every hardware-hash CSV shape in the wild (Get-WindowsAutoPilotInfo, MMD
// self and partner, the Intune portal), in any of their encodings and separators, and as Excel
// saves them in any locale, one record at a time in bounded memory.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hangar/core/device.h"
#include "hangar/core/paths.h"  // path_to_utf8, which the reader's users quote paths with
#include "hangar/core/result.h"
#include "hangar/core/text_encoding.h"
#include "hangar/intake/diagnostic.h"

namespace hangar::core {

enum class CsvShape {
  kAutopilotInfo,  // Device Serial Number,Windows Product ID,Hardware Hash[,Group Tag][,Assigned
                   // User]
  kAutopilotInfoPartner,  // ... ,Manufacturer name,Device model (Get-WindowsAutoPilotInfo -Partner)
  kMmdSelf,               // Manufacturer,Model,Serial Number,Hardware Hash
  kMmdPartner,  // Manufacturer,Model,Serial Number (no hash: matched by make/model/serial)
  kPortal,      // exactly the Intune portal's five columns, in its order
  kOther,       // has a serial column, but another combination of columns
};

std::string_view shape_name(CsvShape shape);

// The columns Hangar understands. Header names match case-insensitively, ignoring spaces, '_' and
// '-'.
enum class CsvColumn {
  kSerialNumber,
  kWindowsProductId,
  kHardwareHash,
  kGroupTag,
  kAssignedUser,
  kManufacturer,
  kModel,
};
inline constexpr std::size_t kCsvColumnCount = 7;

// The canonical column name ("Device Serial Number", "Hardware Hash", ...), used in diagnostics.
std::string_view column_name(CsvColumn column);

struct CsvReaderOptions {
  // libcsv's field buffer is capped here: a 1 GB line costs at most this much memory. A base64 hash
  // is 4-6 KB, so 64 KB is generous.
  std::size_t max_field_bytes = 64 * 1024;
  std::size_t max_fields_per_row = 32;
  std::size_t read_chunk_bytes = 64 * 1024;
  TextEncoding encoding = TextEncoding::kAuto;
  std::size_t max_diagnostics = 1000;  // per file; the rest are counted in one last note
};

struct CsvRecord {
  DeviceRecord device;
  // Non-empty when the Hardware Hash cell held text that is not base64 (the precise reason);
  // device.hardware_hash is then empty. Validation turns it into "Hardware hash not valid: ...".
  std::string hash_error;
};

class CsvReader {
 public:
  // Opens and reads the header. Fails (codes "csv.open_failed", "csv.empty", "csv.bad_header") when
  // the file cannot be read or its header matches no known shape; the message names the file.
  static Result<CsvReader> open(const std::filesystem::path& path, CsvReaderOptions options = {});
  // The same over any stream (tests, stdin); `source_name` is what diagnostics call it.
  static Result<CsvReader> from_stream(std::unique_ptr<std::istream> in, std::string source_name,
                                       CsvReaderOptions options = {});

  CsvReader(CsvReader&& other) noexcept;
  CsvReader& operator=(CsvReader&& other) noexcept;
  ~CsvReader();

  // The next record, or nullopt at the end. A read error ends the file early with an error
  // diagnostic; every record returned before it stays valid.
  std::optional<CsvRecord> next();

  CsvShape shape() const;
  // The column separator, chosen from the header line: ',', ';' (Excel's CSV where the list
  // separator is a semicolon: Swedish, German, French...) or '\t' (Excel's text formats), or the
  // one a "sep=X" first line names.
  char separator() const;
  // Every line is one cell holding the real row (separated by separator()): the file was opened
  // in a spreadsheet with another list separator and saved again.
  bool one_cell_rows() const;
  const std::vector<std::string>& header() const;  // as the file spells it
  std::uint64_t header_line() const;
  TextEncoding encoding() const;
  const std::string& source_name() const;
  std::uint64_t records_read() const;
  // Lines dropped with an error before they became records (too many fields, a line longer than
  // any hash, a quote never closed): each is in diagnostics(), and in no record count.
  std::uint64_t lines_skipped() const;
  bool read_failed() const;

  const std::vector<Diagnostic>& diagnostics() const;
  std::vector<Diagnostic> take_diagnostics();

 private:
  struct Impl;
  explicit CsvReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace hangar::core
