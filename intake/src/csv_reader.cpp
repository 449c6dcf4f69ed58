// CsvReader: raw bytes -> TextDecoder (UTF-8) -> libcsv (Debian's libcsv-dev) -> DeviceRecord.
// This file: the public API and the diagnostics; csv_reader_impl.h says where the rest is.
#include "hangar/intake/csv_reader.h"

#include <fstream>
#include <system_error>

#include "csv_cells.h"
#include "csv_reader_impl.h"

namespace hangar::core {

using namespace csv_cells;

std::string_view shape_name(CsvShape shape) {
  switch (shape) {
    case CsvShape::kAutopilotInfo:
      return "Get-WindowsAutoPilotInfo";
    case CsvShape::kAutopilotInfoPartner:
      return "Get-WindowsAutoPilotInfo -Partner";
    case CsvShape::kMmdSelf:
      return "Microsoft Managed Desktop (self)";
    case CsvShape::kMmdPartner:
      return "Microsoft Managed Desktop (partner)";
    case CsvShape::kPortal:
      return "Intune portal";
    case CsvShape::kOther:
      return "other";
  }
  return "other";
}

std::string_view column_name(CsvColumn column) {
  switch (column) {
    case CsvColumn::kSerialNumber:
      return "Device Serial Number";
    case CsvColumn::kWindowsProductId:
      return "Windows Product ID";
    case CsvColumn::kHardwareHash:
      return "Hardware Hash";
    case CsvColumn::kGroupTag:
      return "Group Tag";
    case CsvColumn::kAssignedUser:
      return "Assigned User";
    case CsvColumn::kManufacturer:
      return "Manufacturer";
    case CsvColumn::kModel:
      return "Model";
  }
  return "";
}

void CsvReader::Impl::diag(std::uint64_t at_line, std::string field, std::string message,
                           Severity severity) {
  if (diagnostics_total >= options.max_diagnostics) {
    ++diagnostics_suppressed;
    return;
  }
  ++diagnostics_total;
  diagnostics.push_back(
      Diagnostic{source, at_line, std::move(field), std::move(message), severity});
}

std::string CsvReader::Impl::field_name(std::size_t index) const {
  if (index < header.size()) return header[index];
  return header.empty() ? "#" + std::to_string(index) : "column " + std::to_string(index + 1);
}

void CsvReader::Impl::name_early_fields() {
  for (auto& d : diagnostics) {
    if (d.field.size() < 2 || d.field[0] != '#') continue;
    std::size_t index = 0;
    bool digits = true;
    for (std::size_t i = 1; i < d.field.size() && digits; ++i) {
      digits = d.field[i] >= '0' && d.field[i] <= '9';
      index = index * 10 + static_cast<std::size_t>(d.field[i] - '0');
    }
    if (digits) d.field = field_name(index);
  }
}

CsvReader::CsvReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CsvReader::CsvReader(CsvReader&& other) noexcept = default;
CsvReader& CsvReader::operator=(CsvReader&& other) noexcept = default;
CsvReader::~CsvReader() = default;

Result<CsvReader> CsvReader::open(const std::filesystem::path& path, CsvReaderOptions options) {
  const std::string name = path_to_utf8(path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return reader_error("csv.open_failed", name, 0, "is a directory, not a CSV file");
  }
  auto stream = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!stream->is_open()) {
    const std::string reason = std::filesystem::exists(path, ec)
                                   ? "cannot be opened (permission denied or locked)"
                                   : "does not exist";
    return reader_error("csv.open_failed", name, 0, reason);
  }
  return from_stream(std::move(stream), name, options);
}

Result<CsvReader> CsvReader::from_stream(std::unique_ptr<std::istream> in, std::string source_name,
                                         CsvReaderOptions options) {
  if (!in) return make_error("csv.open_failed", source_name + ": no input stream");
  try {
    auto impl = std::make_unique<Impl>(std::move(in), std::move(source_name), options);
    if (auto st = impl->read_header(); !st) return std::move(st).error();
    return CsvReader(std::move(impl));
  } catch (const std::exception& e) {
    return make_error("csv.open_failed", std::string("cannot read the file: ") + e.what());
  }
}

std::optional<CsvRecord> CsvReader::next() {
  try {
    return impl_->next_record();
  } catch (const std::exception& e) {
    // Out of memory or a stream that throws: keep what was read, end this file with a diagnostic.
    impl_->failed = true;
    impl_->input_done = true;
    impl_->ready.clear();
    impl_->diag(impl_->line, "", std::string("reading stopped: ") + e.what(), Severity::kError);
    return std::nullopt;
  }
}

CsvShape CsvReader::shape() const { return impl_->shape; }
char CsvReader::separator() const { return impl_->inner_separator; }
bool CsvReader::one_cell_rows() const { return impl_->one_cell_rows; }
const std::vector<std::string>& CsvReader::header() const { return impl_->header; }
std::uint64_t CsvReader::header_line() const { return impl_->header_line; }
TextEncoding CsvReader::encoding() const { return impl_->decoder.encoding(); }
const std::string& CsvReader::source_name() const { return impl_->source; }
std::uint64_t CsvReader::records_read() const { return impl_->records; }
std::uint64_t CsvReader::lines_skipped() const { return impl_->lines_skipped; }
bool CsvReader::read_failed() const { return impl_->failed; }
const std::vector<Diagnostic>& CsvReader::diagnostics() const { return impl_->diagnostics; }

std::vector<Diagnostic> CsvReader::take_diagnostics() {
  std::vector<Diagnostic> out;
  out.swap(impl_->diagnostics);
  return out;
}

}  // namespace hangar::core
