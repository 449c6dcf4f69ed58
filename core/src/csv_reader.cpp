// CsvReader: raw bytes -> TextDecoder (UTF-8) -> libcsv (Debian's libcsv-dev) -> DeviceRecord.
//
// libcsv is fed one physical line at a time so every record knows the line it starts on, and its
// field buffer is capped through csv_set_realloc_func so a gigantic line cannot exhaust memory: the
// refused growth ends that line with a diagnostic and reading resumes at the next line.
#include "hangar/core/csv_reader.h"

#include <csv.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <istream>
#include <system_error>

#include "hangar/core/hardware_hash.h"

namespace hangar::core {
namespace {

// libcsv's realloc hook has no user-data pointer, so the cap of the parser being driven is passed
// through this thread-local, set only for the duration of a csv_parse/csv_fini call
// (FieldCapScope).
thread_local std::size_t t_field_cap = 0;

void* capped_realloc(void* ptr, std::size_t size) {
  if (t_field_cap != 0 && size > t_field_cap) return nullptr;
  return std::realloc(ptr, size);
}

class FieldCapScope {
 public:
  explicit FieldCapScope(std::size_t cap) : saved_(t_field_cap) { t_field_cap = cap; }
  ~FieldCapScope() { t_field_cap = saved_; }
  FieldCapScope(const FieldCapScope&) = delete;
  FieldCapScope& operator=(const FieldCapScope&) = delete;

 private:
  std::size_t saved_;
};

struct ColumnAlias {
  CsvColumn column;
  std::string_view folded;
};

// Header spellings seen in the wild, folded (lower case, no spaces, '_' or '-').
constexpr std::array<ColumnAlias, 16> kAliases{{
    {CsvColumn::kSerialNumber, "deviceserialnumber"},
    {CsvColumn::kSerialNumber, "serialnumber"},
    {CsvColumn::kSerialNumber, "serial"},
    {CsvColumn::kWindowsProductId, "windowsproductid"},
    {CsvColumn::kWindowsProductId, "productid"},
    {CsvColumn::kHardwareHash, "hardwarehash"},
    {CsvColumn::kHardwareHash, "hardwareidentifier"},
    {CsvColumn::kGroupTag, "grouptag"},
    {CsvColumn::kGroupTag, "ordertag"},
    {CsvColumn::kAssignedUser, "assigneduser"},
    {CsvColumn::kAssignedUser, "assigneduserprincipalname"},
    {CsvColumn::kManufacturer, "manufacturer"},
    {CsvColumn::kManufacturer, "manufacturername"},
    {CsvColumn::kModel, "model"},
    {CsvColumn::kModel, "devicemodel"},
    {CsvColumn::kModel, "modelname"},
}};

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

std::string trim(std::string_view text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_blank(text[begin])) ++begin;
  while (end > begin && is_blank(text[end - 1])) --end;
  return std::string(text.substr(begin, end - begin));
}

std::string fold_header(std::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    out.push_back(c);
  }
  return out;
}

// A header cell quoted in a message: control characters replaced, long names cut.
std::string quote_name(std::string_view name) {
  std::string out = "'";
  for (std::size_t i = 0; i < name.size() && i < 40; ++i) {
    const auto c = static_cast<unsigned char>(name[i]);
    out.push_back(c < 0x20 || c == 0x7F ? '?' : name[i]);
  }
  if (name.size() > 40) out += "...";
  out += "'";
  return out;
}

std::optional<CsvColumn> column_for(std::string_view header_cell) {
  const std::string folded = fold_header(header_cell);
  for (const auto& alias : kAliases) {
    if (alias.folded == folded) return alias.column;
  }
  return std::nullopt;
}

Error reader_error(std::string code, const std::string& source, std::uint64_t line,
                   const std::string& message) {
  std::string where = source;
  if (line != 0) where += ":" + std::to_string(line);
  return make_error(std::move(code), where + ": " + message);
}

}  // namespace

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

std::string path_to_utf8(const std::filesystem::path& path) {
  const std::u8string text = path.u8string();
  return std::string(text.begin(), text.end());
}

struct CsvReader::Impl {
  struct Row {
    std::vector<std::string> fields;
    std::uint64_t line = 0;
  };

  std::unique_ptr<std::istream> in;
  std::string source;
  CsvReaderOptions options;
  TextDecoder decoder;
  csv_parser parser{};
  bool parser_live = false;

  std::string raw;   // one chunk of raw bytes
  std::string text;  // the same chunk as UTF-8
  std::uint64_t bytes_read = 0;
  bool input_done = false;
  bool failed = false;

  // Line accounting: a line ends at LF, at CR, or at CRLF (counted once).
  std::uint64_t line = 1;
  bool prev_cr = false;
  bool row_in_progress = false;
  std::uint64_t row_start = 0;
  bool skipping_line = false;  // after an oversize field: discard up to the next line end
  std::string first_dropped;   // why the first dropped line was dropped (a header must not be)
  std::uint64_t first_dropped_line = 0;

  std::vector<std::string> fields;
  bool too_many_fields = false;
  std::deque<Row> ready;

  // A stray opening quote makes libcsv read every later line into one field until another quote
  // or the end of the file. The physical lines of a row that spans lines are kept (up to twice
  // the field cap) so that, when its quote turns out never to close, the line with the quote can
  // be reported and the lines after it read again on their own instead of being lost.
  std::string row_text;
  bool row_text_whole = true;  // false once row_text outgrew its cap: the row cannot be replayed
  int replays = 0;

  std::vector<std::string> header;
  std::uint64_t header_line = 0;
  std::array<int, kCsvColumnCount> column_index{};
  CsvShape shape = CsvShape::kOther;
  std::uint64_t records = 0;

  std::vector<Diagnostic> diagnostics;
  std::size_t diagnostics_total = 0;
  std::uint64_t diagnostics_suppressed = 0;

  Impl(std::unique_ptr<std::istream> stream, std::string name, CsvReaderOptions opts)
      : in(std::move(stream)), source(std::move(name)), options(opts), decoder(opts.encoding) {
    options.max_field_bytes = std::max<std::size_t>(options.max_field_bytes, 64);
    options.max_fields_per_row = std::max<std::size_t>(options.max_fields_per_row, 1);
    options.read_chunk_bytes = std::max<std::size_t>(options.read_chunk_bytes, 1);
    column_index.fill(-1);
    init_parser();
  }
  ~Impl() {
    if (parser_live) csv_free(&parser);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  void init_parser() {
    csv_init(&parser, 0);  // lenient (non-strict): stray quotes are kept, as PowerShell would
    csv_set_realloc_func(&parser, capped_realloc);
    csv_set_blk_size(&parser, std::min<std::size_t>(4096, options.max_field_bytes));
    parser_live = true;
  }

  void reset_parser() {
    csv_free(&parser);  // releases the (capped) field buffer
    init_parser();
  }

  void diag(std::uint64_t at_line, std::string field, std::string message, Severity severity) {
    if (diagnostics_total >= options.max_diagnostics) {
      ++diagnostics_suppressed;
      return;
    }
    ++diagnostics_total;
    diagnostics.push_back(
        Diagnostic{source, at_line, std::move(field), std::move(message), severity});
  }

  // Before the header is known (the first chunk is parsed whole) a placeholder "#<index>" is
  // stored; read_header() replaces it with the column's name.
  std::string field_name(std::size_t index) const {
    if (index < header.size()) return header[index];
    return header.empty() ? "#" + std::to_string(index) : "column " + std::to_string(index + 1);
  }

  void name_early_fields() {
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

  static void on_field(void* data, std::size_t len, void* self) {
    static_cast<Impl*>(self)->field_done(static_cast<const char*>(data), len);
  }
  static void on_row(int /*terminator*/, void* self) { static_cast<Impl*>(self)->row_done(); }

  void field_done(const char* data, std::size_t len) {
    if (too_many_fields) return;
    if (fields.size() >= options.max_fields_per_row) {
      too_many_fields = true;
      fields.clear();
      return;
    }
    fields.emplace_back(data == nullptr ? std::string() : std::string(data, len));
  }

  void row_done() {
    if (too_many_fields) {
      const std::string why = "more than " + std::to_string(options.max_fields_per_row) +
                              " fields on one line; the line was skipped";
      note_dropped(row_start, why);
      diag(row_start, "", why, Severity::kError);
    } else {
      ready.push_back(Row{std::move(fields), row_start});
    }
    fields.clear();
    too_many_fields = false;
    row_in_progress = false;
    row_text.clear();
    row_text_whole = true;
  }

  void count_line_end(char c) {
    if (c == '\r') {
      ++line;
      prev_cr = true;
    } else {
      if (!prev_cr) ++line;
      prev_cr = false;
    }
  }

  void oversize(std::size_t field_index) {
    const std::uint64_t at_line = row_in_progress ? row_start : line;
    const std::string why =
        "field longer than " + std::to_string(options.max_field_bytes) +
        " bytes (no hardware hash is that long); the rest of the line was skipped";
    note_dropped(at_line, why);
    diag(at_line, field_name(field_index), why, Severity::kError);
    abandon_row();
    skipping_line = true;
  }

  // The first line dropped unread: a header must not be among them.
  void note_dropped(std::uint64_t at_line, const std::string& why) {
    if (first_dropped.empty()) {
      first_dropped = why;
      first_dropped_line = at_line;
    }
  }

  // Forgets the row in progress, parser state included.
  void abandon_row() {
    reset_parser();
    fields.clear();
    too_many_fields = false;
    row_in_progress = false;
    row_text.clear();
    row_text_whole = true;
  }

  // libcsv's parser is inside a field that began with a quote (its FIELD_BEGUN state; a quote
  // just seen there, FIELD_MIGHT_HAVE_ENDED, would close the field at the line end).
  static constexpr int kLibcsvFieldBegun = 2;
  static constexpr int kMaxReplays = 100;  // per file: bounds the re-reading a hostile file causes

  bool in_open_quote() const { return parser.quoted != 0 && parser.pstate == kLibcsvFieldBegun; }

  // Whether the row in progress can be dropped and its later lines read again.
  bool can_replay() const { return in_open_quote() && row_text_whole && replays < kMaxReplays; }

  bool row_spans_lines() const { return row_text.find_first_of("\r\n") != std::string::npos; }

  // The row's quote never closes: reports its first line, skips it, and returns the text to read
  // next, which is the row's later lines followed by `rest` (what had not been fed yet).
  std::string replay_after_open_quote(std::string_view rest) {
    ++replays;
    const std::string why =
        "a quote opened on this line is never closed; the line was skipped and the lines after "
        "it were read as rows of their own";
    note_dropped(row_start,
                 "a quote opened on line " + std::to_string(row_start) + " is never closed");
    diag(row_start, field_name(fields.size()), why, Severity::kError);
    std::string again;
    if (std::size_t cut = row_text.find_first_of("\r\n"); cut != std::string::npos) {
      if (row_text[cut] == '\r' && cut + 1 < row_text.size() && row_text[cut + 1] == '\n') ++cut;
      again = row_text.substr(cut + 1);
    }
    again.append(rest);
    abandon_row();
    line = row_start + 1;
    prev_cr = false;
    return again;
  }

  // Feeds decoded UTF-8 to libcsv one physical line at a time.
  void parse_text(std::string_view input) {
    std::string replayed;  // a row's later lines to read again, then what was left of `input`
    std::string_view data = input;
    std::size_t i = 0;
    while (i < data.size()) {
      // A plain scan: find_first_of tests each byte against the set through memchr, which made it
      // a fifth of the CLI's import time.
      std::size_t end_of_line = std::string_view::npos;
      for (std::size_t k = i; k < data.size(); ++k) {
        if (data[k] == '\n' || data[k] == '\r') {
          end_of_line = k;
          break;
        }
      }
      if (skipping_line) {
        if (end_of_line == std::string_view::npos) return;
        if (end_of_line > i) prev_cr = false;
        count_line_end(data[end_of_line]);
        skipping_line = false;
        i = end_of_line + 1;
        continue;
      }
      const std::size_t stop =
          end_of_line == std::string_view::npos ? data.size() : end_of_line + 1;
      const std::string_view segment = data.substr(i, stop - i);
      const bool has_content =
          std::any_of(segment.begin(), segment.end(), [](char c) { return !is_blank(c); });
      if (has_content && !row_in_progress) {
        row_in_progress = true;
        row_start = line;
      }
      std::size_t used = 0;
      {
        FieldCapScope cap(options.max_field_bytes);
        used = csv_parse(&parser, segment.data(), segment.size(), on_field, on_row, this);
      }
      if (used < segment.size()) {
        // The only failure without CSV_STRICT is a refused buffer growth: an oversize field.
        if (can_replay() && row_spans_lines()) {
          row_text.append(segment);
          std::string again = replay_after_open_quote(data.substr(stop));
          replayed = std::move(again);
          data = replayed;
          i = 0;
          continue;
        }
        oversize(fields.size());
        i += used;
        continue;
      }
      if (row_in_progress && row_text_whole) {
        // The row goes on past this line (an open quote, or a line cut by the chunk boundary).
        if (row_text.size() + segment.size() <= 2 * options.max_field_bytes) {
          row_text.append(segment);
        } else {
          row_text.clear();
          row_text_whole = false;
        }
      }
      if (end_of_line != std::string_view::npos) {
        if (end_of_line > i) prev_cr = false;
        count_line_end(data[end_of_line]);
      }
      i = stop;
    }
  }

  void take_decoder_issues() {
    for (auto& issue : decoder.take_issues()) {
      diag(line, "", "encoding: " + issue.message,
           issue.error ? Severity::kError : Severity::kWarning);
    }
  }

  // Reads and parses one chunk; at the end of input flushes the decoder and the parser.
  void pump() {
    if (input_done) return;
    raw.resize(options.read_chunk_bytes);
    in->read(raw.data(), static_cast<std::streamsize>(raw.size()));
    const auto got = static_cast<std::size_t>(std::max<std::streamsize>(in->gcount(), 0));
    raw.resize(got);
    bytes_read += got;
    text.clear();
    decoder.feed(raw, text);
    bool at_end = false;
    if (in->bad() || (in->fail() && !in->eof())) {
      failed = true;
      at_end = true;
      diag(line, "",
           "read error after " + std::to_string(bytes_read) +
               " bytes (the file was removed, truncated or became unreadable); the " +
               std::to_string(records) + " records before this point are kept",
           Severity::kError);
    } else if (in->eof() || got == 0) {
      at_end = true;
    }
    if (at_end) decoder.finish(text);
    take_decoder_issues();
    parse_text(text);
    if (at_end) {
      // Still inside a quote at the end: the quote's line goes, whatever followed it is read.
      while (!skipping_line && can_replay()) parse_text(replay_after_open_quote({}));
      if (!skipping_line) {
        FieldCapScope cap(options.max_field_bytes);
        csv_fini(&parser, on_field, on_row, this);
      }
      fields.clear();
      input_done = true;
      if (decoder.suppressed_issues() > 0) {
        diag(0, "",
             "encoding: " + std::to_string(decoder.suppressed_issues()) +
                 " more encoding problems not listed",
             Severity::kWarning);
      }
    }
  }

  std::optional<Row> next_row() {
    while (ready.empty() && !input_done) pump();
    if (ready.empty()) return std::nullopt;
    Row row = std::move(ready.front());
    ready.pop_front();
    return row;
  }

  // Reads the first non-blank line as the header and maps its columns.
  Status read_header() {
    std::optional<Row> row;
    while ((row = next_row())) {
      const bool blank = std::all_of(row->fields.begin(), row->fields.end(),
                                     [](const std::string& f) { return trim(f).empty(); });
      if (blank) continue;
      // Export-Csv without -NoTypeInformation starts with "#TYPE System.Management...".
      if (!row->fields.empty() && trim(row->fields[0]).rfind("#TYPE", 0) == 0) {
        diag(row->line, "", "skipped PowerShell type line (#TYPE ...)", Severity::kWarning);
        continue;
      }
      break;
    }
    if (!first_dropped.empty() && (!row || first_dropped_line <= row->line)) {
      // A line before the header (or the header itself) was unreadable: not a hash file.
      return reader_error("csv.bad_header", source, first_dropped_line,
                          "not a hardware-hash CSV: no usable header line (" + first_dropped + ")");
    }
    if (!row) {
      if (failed) return reader_error("csv.open_failed", source, 0, "read error before the header");
      return reader_error(
          "csv.empty", source, 0,
          bytes_read == 0 ? "the file is empty" : "the file has no header line (only blank lines)");
    }
    header_line = row->line;
    std::vector<std::string> unknown;
    for (std::size_t i = 0; i < row->fields.size(); ++i) {
      std::string name = trim(row->fields[i]);
      const auto column = column_for(name);
      if (!column) {
        if (!name.empty()) unknown.push_back(quote_name(name));
      } else if (column_index[static_cast<std::size_t>(*column)] >= 0) {
        diag(header_line, name,
             "column " + quote_name(name) + " appears twice; the first one is used",
             Severity::kWarning);
      } else {
        column_index[static_cast<std::size_t>(*column)] = static_cast<int>(i);
      }
      header.push_back(std::move(name));
    }
    if (column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) {
      std::string found;
      for (std::size_t i = 0; i < header.size() && i < 8; ++i) {
        found += (i ? ", " : "") + quote_name(header[i]);
      }
      if (header.size() > 8) found += ", ...";
      return reader_error(
          "csv.bad_header", source, header_line,
          "not a hardware-hash CSV: the header has no serial number column (found " + found +
              "); expected 'Device Serial Number,Windows Product ID,Hardware Hash' "
              "(Get-WindowsAutoPilotInfo, optionally with Group Tag, Assigned User, "
              "Manufacturer name, Device model) or 'Manufacturer,Model,Serial Number[,Hardware "
              "Hash]'");
    }
    if (!unknown.empty()) {
      std::string names;
      for (std::size_t i = 0; i < unknown.size(); ++i) names += (i ? ", " : "") + unknown[i];
      diag(header_line, "",
           "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + names + " ignored",
           Severity::kWarning);
    }
    shape = classify();
    name_early_fields();
    return {};
  }

  bool has(CsvColumn column) const { return column_index[static_cast<std::size_t>(column)] >= 0; }

  CsvShape classify() const {
    const bool hash = has(CsvColumn::kHardwareHash);
    const bool pid = has(CsvColumn::kWindowsProductId);
    const bool make = has(CsvColumn::kManufacturer) && has(CsvColumn::kModel);
    if (hash && pid && !make) {
      constexpr std::array<std::string_view, 5> kPortal{"Device Serial Number",
                                                        "Windows Product ID", "Hardware Hash",
                                                        "Group Tag", "Assigned User"};
      const bool exact = header.size() == kPortal.size() &&
                         std::equal(header.begin(), header.end(), kPortal.begin());
      return exact ? CsvShape::kPortal : CsvShape::kAutopilotInfo;
    }
    if (hash && pid && make) return CsvShape::kAutopilotInfoPartner;
    if (hash && make) return CsvShape::kMmdSelf;
    if (!hash && make) return CsvShape::kMmdPartner;
    return CsvShape::kOther;
  }

  std::string cell(const Row& row, CsvColumn column) const {
    const int index = column_index[static_cast<std::size_t>(column)];
    if (index < 0 || static_cast<std::size_t>(index) >= row.fields.size()) return {};
    return trim(row.fields[static_cast<std::size_t>(index)]);
  }

  std::optional<CsvRecord> next_record() {
    while (auto row = next_row()) {
      const bool blank = std::all_of(row->fields.begin(), row->fields.end(),
                                     [](const std::string& f) { return trim(f).empty(); });
      if (blank) continue;
      if (row->fields.size() != header.size()) {
        diag(row->line, "",
             "the line has " + std::to_string(row->fields.size()) + " fields, the header has " +
                 std::to_string(header.size()),
             Severity::kWarning);
      }
      CsvRecord record;
      DeviceRecord& d = record.device;
      d.serial_number = cell(*row, CsvColumn::kSerialNumber);
      d.windows_product_id = cell(*row, CsvColumn::kWindowsProductId);
      d.group_tag = cell(*row, CsvColumn::kGroupTag);
      d.assigned_user = cell(*row, CsvColumn::kAssignedUser);
      d.manufacturer = cell(*row, CsvColumn::kManufacturer);
      d.model = cell(*row, CsvColumn::kModel);
      d.source_file = source;
      d.source_line = row->line;
      const int hash_index = column_index[static_cast<std::size_t>(CsvColumn::kHardwareHash)];
      if (hash_index >= 0 && static_cast<std::size_t>(hash_index) < row->fields.size()) {
        // Whitespace and line breaks inside the cell are tolerated by the base64 decoder.
        const std::string& hash_text = row->fields[static_cast<std::size_t>(hash_index)];
        if (!trim(hash_text).empty()) {
          auto bytes = decode_base64_bytes(hash_text);
          if (bytes) {
            d.hardware_hash = std::move(*bytes);
          } else {
            record.hash_error = bytes.error().message;
          }
        }
      }
      ++records;
      return record;
    }
    if (diagnostics_suppressed > 0) {
      const std::uint64_t more = diagnostics_suppressed;
      diagnostics_suppressed = 0;
      diagnostics.push_back(
          Diagnostic{source, 0, "", std::to_string(more) + " more problems in this file not listed",
                     Severity::kWarning});
    }
    return std::nullopt;
  }
};

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
const std::vector<std::string>& CsvReader::header() const { return impl_->header; }
std::uint64_t CsvReader::header_line() const { return impl_->header_line; }
TextEncoding CsvReader::encoding() const { return impl_->decoder.encoding(); }
const std::string& CsvReader::source_name() const { return impl_->source; }
std::uint64_t CsvReader::records_read() const { return impl_->records; }
bool CsvReader::read_failed() const { return impl_->failed; }
const std::vector<Diagnostic>& CsvReader::diagnostics() const { return impl_->diagnostics; }

std::vector<Diagnostic> CsvReader::take_diagnostics() {
  std::vector<Diagnostic> out;
  out.swap(impl_->diagnostics);
  return out;
}

}  // namespace hangar::core
