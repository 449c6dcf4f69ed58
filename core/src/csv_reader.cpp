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
#include "hangar/core/spreadsheet.h"

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

// trim(text).empty() without the copy (a hash cell is 5 KB).
bool blank_text(std::string_view text) { return std::all_of(text.begin(), text.end(), is_blank); }

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

// The separators Excel writes: ',' or ';' in its CSV formats (the locale's list separator: ';'
// where the decimal separator is ',', as in Swedish, German and French), tab in its text formats
// ("Unicode Text" is UTF-16LE with a BOM and tabs). In this order on a tie.
constexpr std::array<char, 3> kSeparators{',', ';', '\t'};

std::string separator_name(char separator) {
  switch (separator) {
    case ',':
      return "comma";
    case ';':
      return "semicolon";
    case '\t':
      return "tab";
    default:
      return std::string("'") + separator + "'";
  }
}

// Splits one row's text at `separator` as a spreadsheet reads it: a cell that starts with a quote
// runs to the closing quote ("" inside is one quote) and whatever follows it up to the separator
// is kept; an unclosed quote runs to the end. Used for the header line before libcsv is set up,
// and for rows a spreadsheet kept whole in one cell. At most `max_cells` cells.
std::vector<std::string> split_cells(std::string_view text, char separator, std::size_t max_cells) {
  std::vector<std::string> cells;
  std::string cell;
  std::size_t i = 0;
  while (cells.size() < max_cells) {
    cell.clear();
    while (i < text.size() && text[i] == ' ') ++i;
    if (i < text.size() && text[i] == '"') {
      ++i;
      while (i < text.size()) {
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell.push_back(text[i++]);
      }
    }
    while (i < text.size() && text[i] != separator) cell.push_back(text[i++]);
    cells.push_back(cell);
    if (i >= text.size()) break;
    ++i;  // the separator
  }
  return cells;
}

// Takes off quotes around the whole value that a spreadsheet added on top of the file's own
// ("""S1""" is read as "S1": Excel doubles the quotes it finds inside a cell and wraps the cell
// in another pair). True when there were any.
bool strip_wrapping_quotes(std::string& cell) {
  bool stripped = false;
  for (;;) {
    std::size_t begin = 0;
    std::size_t end = cell.size();
    while (begin < end && is_blank(cell[begin])) ++begin;
    while (end > begin && is_blank(cell[end - 1])) --end;
    if (end - begin < 2 || cell[begin] != '"' || cell[end - 1] != '"') return stripped;
    cell = cell.substr(begin + 1, end - begin - 2);
    stripped = true;
  }
}

// A line that can be the header: something besides blanks, separators and quotes, and not the
// "#TYPE ..." line Export-Csv writes before it.
bool is_header_candidate(std::string_view line) {
  const std::string text = trim(line);
  if (text.rfind("#TYPE", 0) == 0) return false;
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return !is_blank(c) && c != ',' && c != ';' && c != '"'; });
}

// "sep=;" as the first line names the separator (Excel honours it; scripts write it for Excel).
std::optional<char> separator_line(std::string_view line) {
  const std::string text = trim(line);
  if (text.size() < 4 || text.size() > 5) return std::nullopt;
  if (fold_header(text.substr(0, 4)) != "sep=") return std::nullopt;
  if (text.size() == 4) {  // "sep=" and a tab, which trim() took
    return line.find('\t') != std::string_view::npos ? std::optional<char>('\t') : std::nullopt;
  }
  const char separator = text[4];
  if (separator == '"') return std::nullopt;
  return separator;
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
    // The row was one cell that a spreadsheet cut at its limit (see unpack_row).
    bool cut_at_cell_limit = false;
    // Its text without line ends, in bytes: a line of exactly 32,767 was one cell Excel cut.
    std::size_t bytes = 0;
  };

  // How the header line's cells are separated: by `outer`, or, when the line is one cell
  // holding the header (`one_cell`), by `inner` inside it.
  struct Detection {
    char outer = ',';
    char inner = ',';
    bool one_cell = false;
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

  // The separator, chosen from the header line before libcsv sees any text: the decoded text is
  // held back until that line is complete (or `held` reaches its cap, or the input ends).
  char separator = ',';
  bool separator_known = false;
  std::string held;
  std::size_t held_line_start = 0;   // where the line being looked at starts in `held`
  std::size_t held_scanned = 0;      // how far `held` was searched for that line's end
  bool separator_from_line = false;  // a "sep=X" line named it
  // A row a spreadsheet kept whole in its first cell holds the real row, separated by this (the
  // file was opened with another list separator and saved). `one_cell_rows`: every row is such,
  // starting with the header.
  char inner_separator = ',';
  bool one_cell_rows = false;
  Detection detection_;
  std::size_t first_candidate = std::string::npos;  // in `held`: the first line that could be
  std::size_t header_found = std::string::npos;     // the header, and the one that is
  // The header is not the first line: rows of data come before it (a sheet sorted with its
  // header row among the data). read_header() keeps them and returns them first.
  bool header_further_down = false;

  // Line accounting: a line ends at LF, at CR, or at CRLF (counted once).
  std::uint64_t line = 1;
  bool prev_cr = false;
  std::uint64_t rows_started = 0;  // rows with content, and lines without any: the sheet's rows
  std::uint64_t blank_rows = 0;
  bool row_in_progress = false;
  std::uint64_t row_start = 0;
  std::size_t row_bytes = 0;   // of the row in progress, line ends left out
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
  int last_mapped_column = -1;  // the highest index in column_index
  CsvShape shape = CsvShape::kOther;
  std::uint64_t records = 0;
  std::vector<bool> unnamed_column_noted;  // data under a header cell without a name, said once
  bool row_limit_noted = false;

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
    csv_set_delim(&parser, static_cast<unsigned char>(separator));
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
      ready.push_back(Row{std::move(fields), row_start, false, row_bytes});
    }
    fields.clear();
    too_many_fields = false;
    row_in_progress = false;
    row_bytes = 0;
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
    row_bytes = 0;
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
      const bool outside_row = !row_in_progress;
      if (has_content && !row_in_progress) {
        row_in_progress = true;
        row_start = line;
        ++rows_started;
      }
      if (row_in_progress) {
        row_bytes += segment.size() - (end_of_line == std::string_view::npos ? 0 : 1);
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
        const std::uint64_t before = line;
        count_line_end(data[end_of_line]);
        if (line > before && !has_content && outside_row) ++blank_rows;
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
    if (!separator_known) {
      held.append(text);
      const bool complete = header_line_ready();  // also notes a "sep=" line
      if (!complete && !at_end) return;
      choose_separator();
      text.swap(held);
      std::string().swap(held);
    }
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

  // A line longer than this is no header (the rest of it is refused as an oversize field
  // anyway): the search stops at it, so a 1 GB line costs no more than before.
  std::size_t held_cap() const { return std::max<std::size_t>(2 * options.max_field_bytes, 4096); }
  // How far the header is looked for when the first lines are data (a sheet sorted with its
  // header row among the data): a few thousand rows of hash file.
  static constexpr std::size_t kHeaderSearchBytes = 16 * 1024 * 1024;

  // Is `header_text` (one line) a header, and with which separator? The separator that splits it
  // into the most known column names, the serial among them, wins; failing that, a line that is one
  // quoted cell holding such a header (the file was opened with another list separator and saved:
  // every row is then one cell holding the real row).
  std::optional<Detection> detect_header(std::string_view header_text) const {
    std::size_t best = 0;
    Detection found;
    for (char candidate : kSeparators) {
      const auto [count, serial] =
          known_columns(split_cells(header_text, candidate, options.max_fields_per_row));
      if (serial && count > best) {
        best = count;
        found.outer = found.inner = candidate;
      }
    }
    if (best > 0) return found;
    // Any outer separator isolates a quoted cell; the one that also explains the empty cells a
    // spreadsheet wrote after it ("...";;) splits the line into the most cells.
    std::size_t best_cells = 0;
    for (char outer : kSeparators) {
      const auto cells = split_cells(header_text, outer, options.max_fields_per_row);
      const bool one_cell = !cells.empty() && !blank_text(cells[0]) &&
                            std::all_of(cells.begin() + 1, cells.end(),
                                        [](const std::string& c) { return blank_text(c); });
      if (!one_cell) continue;
      for (char inner : kSeparators) {
        const auto [count, serial] =
            known_columns(split_cells(cells[0], inner, options.max_fields_per_row));
        if (serial && (count > best || (count == best && cells.size() > best_cells))) {
          best = count;
          best_cells = cells.size();
          found = Detection{outer, inner, true};
        }
      }
    }
    if (best > 0) return found;
    return std::nullopt;
  }

  // The header line is complete in `held` (each byte is searched once): the first line that can
  // be one normally, else a later one when the first are data rows (a sorted sheet). True also
  // when the search must stop: a line too long, or kHeaderSearchBytes held.
  bool header_line_ready() {
    while (held_scanned < held.size()) {
      std::size_t end = held_scanned;
      while (end < held.size() && held[end] != '\n' && held[end] != '\r') ++end;
      if (end == held.size()) {
        held_scanned = end;
        break;
      }
      const std::string_view candidate =
          std::string_view(held).substr(held_line_start, end - held_line_start);
      if (auto named = separator_line(candidate);
          named && !separator_from_line && first_candidate == std::string::npos) {
        separator = *named;  // "sep=;" before the header
        separator_from_line = true;
      } else if (is_header_candidate(candidate)) {
        if (first_candidate == std::string::npos) first_candidate = held_line_start;
        if (separator_from_line) {
          header_found = held_line_start;
          return true;
        }
        if (auto detection = detect_header(candidate)) {
          header_found = held_line_start;
          detection_ = *detection;
          return true;
        }
      }
      held_line_start = end + 1;
      held_scanned = end + 1;
    }
    return held.size() - std::min(held_line_start, held.size()) >= held_cap() ||
           held.size() >= kHeaderSearchBytes;
  }

  // How many of `cells` name a column Hangar knows (each column counted once); whether one of
  // them is the serial number.
  static std::pair<std::size_t, bool> known_columns(const std::vector<std::string>& cells) {
    std::array<bool, kCsvColumnCount> seen{};
    std::size_t count = 0;
    for (const auto& cell : cells) {
      std::string name = cell;
      strip_wrapping_quotes(name);
      if (auto column = column_for(trim(name));
          column && !seen[static_cast<std::size_t>(*column)]) {
        seen[static_cast<std::size_t>(*column)] = true;
        ++count;
      }
    }
    return {count, seen[static_cast<std::size_t>(CsvColumn::kSerialNumber)]};
  }

  // Sets up libcsv with the separator of the header line found (see header_line_ready), or of
  // the line at the end of what was held (a file of one line without a line end). Failing both,
  // a comma: the first line is then refused as a header with what it holds. The data never
  // decides, so a hash or a group tag cannot tip it.
  void choose_separator() {
    separator_known = true;
    if (header_found == std::string::npos && !separator_from_line) {
      std::string_view last = std::string_view(held).substr(std::min(held_line_start, held.size()));
      last = last.substr(0, std::min(last.find_first_of("\r\n"), last.size()));
      if (is_header_candidate(last)) {
        if (first_candidate == std::string::npos) first_candidate = held_line_start;
        if (auto detection = detect_header(last)) {
          header_found = held_line_start;
          detection_ = *detection;
        }
      }
    }
    if (separator_from_line) {
      inner_separator = separator;
    } else {
      separator = detection_.outer;
      inner_separator = detection_.inner;
      one_cell_rows = detection_.one_cell;
    }
    header_further_down = header_found != std::string::npos && first_candidate != header_found;
    reset_parser();
  }

  std::optional<Row> next_row() {
    while (ready.empty() && !input_done) pump();
    if (ready.empty()) return std::nullopt;
    Row row = std::move(ready.front());
    ready.pop_front();
    return row;
  }

  static bool blank_row(const Row& row) {
    return std::all_of(row.fields.begin(), row.fields.end(),
                       [](const std::string& f) { return blank_text(f); });
  }

  static bool type_line(const Row& row) {
    if (row.fields.empty()) return false;
    std::string_view first = row.fields[0];
    while (!first.empty() && is_blank(first.front())) first.remove_prefix(1);
    return first.substr(0, 5) == "#TYPE";
  }

  // A row a spreadsheet kept whole in its first cell (the other cells empty) is split into the
  // cells it holds. In a file of such rows (one_cell_rows) every row is one, separated like the
  // header. Elsewhere a single row can be (pasted from a file with another separator): it is
  // split with the first separator that gives it a serial and another value, so that a lone
  // value with a comma in it stays what it is. Returns the separator used, or 0.
  char unpack_row(Row& row) const {
    if (row.fields.empty()) return 0;
    const std::string& first = row.fields[0];
    const bool candidate = one_cell_rows ? first.find(inner_separator) != std::string::npos
                                         : first.find_first_of(",;\t") != std::string::npos;
    if (!candidate) return 0;
    for (std::size_t i = 1; i < row.fields.size(); ++i) {
      if (!blank_text(row.fields[i])) return 0;
    }
    std::vector<std::string> cells;
    char used = 0;
    if (one_cell_rows) {
      cells = split_cells(first, inner_separator, options.max_fields_per_row);
      used = cells.size() >= 2 ? inner_separator : 0;
    } else {
      const int serial = column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)];
      if (header.size() < 2 || serial < 0) return 0;
      for (char inner : kSeparators) {
        if (first.find(inner) == std::string::npos) continue;
        cells = split_cells(first, inner, options.max_fields_per_row);
        const auto filled = std::count_if(cells.begin(), cells.end(),
                                          [](const std::string& c) { return !trim(c).empty(); });
        if (static_cast<std::size_t>(serial) < cells.size() &&
            !trim(cells[static_cast<std::size_t>(serial)]).empty() && filled >= 2) {
          used = inner;
          break;
        }
      }
    }
    if (used == 0) return 0;
    row.cut_at_cell_limit =
        first.size() >= kExcelCellCharacters && excel_characters(first) == kExcelCellCharacters;
    row.fields = std::move(cells);
    return used;
  }

  struct HeaderMap {
    std::vector<std::string> names;  // trimmed, without quotes a spreadsheet wrapped them in
    std::array<int, kCsvColumnCount> index{};
    std::vector<std::string> unknown;  // quoted for messages
    std::vector<std::string> twice;
  };

  static HeaderMap map_header(const std::vector<std::string>& cells) {
    HeaderMap map;
    map.index.fill(-1);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      std::string name = cells[i];
      strip_wrapping_quotes(name);
      name = trim(name);
      const auto column = column_for(name);
      if (!column) {
        if (!name.empty()) map.unknown.push_back(quote_name(name));
      } else if (map.index[static_cast<std::size_t>(*column)] >= 0) {
        map.twice.push_back(name);
      } else {
        map.index[static_cast<std::size_t>(*column)] = static_cast<int>(i);
      }
      map.names.push_back(std::move(name));
    }
    return map;
  }

  void use_header(HeaderMap map) {
    header = std::move(map.names);
    column_index = map.index;
    last_mapped_column = *std::max_element(column_index.begin(), column_index.end());
    unnamed_column_noted.assign(header.size(), false);
  }

  // Reads the first non-blank line as the header and maps its columns. When the header is further
  // down (header_further_down), the rows before it are kept and put back to be read first.
  Status read_header() {
    std::optional<Row> row;
    bool separator_line_skipped = false;
    std::vector<Row> before;  // data rows above the header
    std::uint64_t first_line = 0;
    while ((row = next_row())) {
      if (one_cell_rows) unpack_row(*row);
      if (blank_row(*row)) continue;
      // Export-Csv without -NoTypeInformation starts with "#TYPE System.Management...".
      if (type_line(*row)) {
        diag(row->line, "", "skipped PowerShell type line (#TYPE ...)", Severity::kWarning);
        continue;
      }
      if (separator_from_line && !separator_line_skipped &&
          fold_header(trim(row->fields[0])) == "sep=") {
        separator_line_skipped = true;
        continue;
      }
      if (first_line == 0) first_line = row->line;
      if (header_further_down &&
          map_header(row->fields).index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) {
        // The separator came from a header further down (found within kHeaderSearchBytes), so
        // this ends there; were it lost anyway, the first row is refused as the header below.
        before.push_back(std::move(*row));
        continue;
      }
      break;
    }
    if (!row && !before.empty()) {
      row = std::move(before.front());
      before.clear();
    }
    if (!before.empty()) {
      diag(row->line, "",
           "the header is on line " + std::to_string(row->line) + ", below " +
               std::to_string(before.size()) +
               " row(s) of data (the sheet was sorted with its header among the data?); the rows "
               "above it are read with its columns",
           Severity::kWarning);
      for (auto it = before.rbegin(); it != before.rend(); ++it) ready.push_front(std::move(*it));
    }
    if (!first_dropped.empty() && (!row || first_dropped_line <= std::max(first_line, row->line))) {
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
    HeaderMap map = map_header(row->fields);
    for (const auto& name : map.twice) {
      diag(header_line, name,
           "column " + quote_name(name) + " appears twice; the first one is used",
           Severity::kWarning);
    }
    const std::vector<std::string> unknown = map.unknown;
    use_header(std::move(map));
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
              "Hash]', separated by commas, semicolons or tabs");
    }
    if (!unknown.empty()) {
      std::string names;
      for (std::size_t i = 0; i < unknown.size(); ++i) names += (i ? ", " : "") + unknown[i];
      diag(header_line, "",
           "unknown column" + std::string(unknown.size() > 1 ? "s " : " ") + names + " ignored",
           Severity::kWarning);
    }
    if (one_cell_rows) {
      diag(header_line, "",
           "each line is one cell holding a whole " + separator_name(inner_separator) +
               "-separated row: the file was opened in a spreadsheet that separates columns "
               "with a " +
               separator_name(separator) +
               " and saved again; every line was read as the row it holds",
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

  // The header again further down: files pasted together in a spreadsheet. With the same columns
  // the line is skipped; with other columns the rows after it are read with those.
  bool repeated_header(const Row& row) {
    const int serial = column_index[static_cast<std::size_t>(CsvColumn::kSerialNumber)];
    if (serial < 0 || static_cast<std::size_t>(serial) >= row.fields.size()) return false;
    // Cheap first: the serial cell of a header row is a column name.
    const std::string& cell = row.fields[static_cast<std::size_t>(serial)];
    if (cell.size() > 64) return false;
    std::string name = trim(cell);
    strip_wrapping_quotes(name);
    if (!column_for(trim(name))) return false;
    HeaderMap map = map_header(row.fields);
    if (map.index[static_cast<std::size_t>(CsvColumn::kSerialNumber)] < 0) return false;
    if (map.index == column_index) {
      diag(row.line, "",
           "the header line again (files pasted together in a spreadsheet?); the line is skipped",
           Severity::kWarning);
      return true;
    }
    diag(row.line, "",
         "another header line, with other columns (files pasted together in a spreadsheet?); "
         "the lines after it are read with its columns",
         Severity::kWarning);
    use_header(std::move(map));
    return true;
  }

  // The rows of a sheet are as wide as its widest: empty cells after the last column are the
  // separators a spreadsheet writes for them. Values past the header, too few cells for its
  // columns, and data under a header cell without a name are reported.
  void check_width(const Row& row) {
    std::size_t filled = row.fields.size();
    while (filled > 0 && blank_text(row.fields[filled - 1])) --filled;
    if (filled > header.size()) {
      diag(row.line, field_name(header.size()),
           "the line has values after the header's " + std::to_string(header.size()) +
               " columns; they are ignored",
           Severity::kWarning);
    } else if (last_mapped_column >= 0 &&
               row.fields.size() <= static_cast<std::size_t>(last_mapped_column)) {
      diag(row.line, "",
           "the line has " + std::to_string(row.fields.size()) + " fields, the header has " +
               std::to_string(header.size()),
           Severity::kWarning);
    }
    for (std::size_t i = 0; i < filled && i < header.size(); ++i) {
      if (!header[i].empty() || unnamed_column_noted[i] || blank_text(row.fields[i])) continue;
      unnamed_column_noted[i] = true;
      diag(row.line, "column " + std::to_string(i + 1),
           "the column has no name in the header but holds data (from this line on); it is "
           "ignored",
           Severity::kWarning);
    }
  }

  // A hash a spreadsheet cut at one of its cell limits (the cell is exactly that long and the
  // hash ends early): the reason to report instead of the structure error alone. Empty otherwise.
  static std::string cut_reason(const Row& row, const std::string& cell) {
    if (row.cut_at_cell_limit || row.bytes == kExcelCellCharacters) {
      return "the line was one cell, and a spreadsheet cut it at 32,767 characters (Excel's limit "
             "for a cell): the hash is incomplete; take the row from the original file";
    }
    const bool near_legacy = cell.size() >= kLegacyCellCharacters && cell.size() <= 4 * 255;
    const bool near_cell = cell.size() >= kExcelCellCharacters && cell.size() <= 4 * 32767;
    if (!near_legacy && !near_cell) return {};
    const std::size_t characters = excel_characters(cell);
    if (characters == kLegacyCellCharacters) {
      return "the cell holds exactly 255 characters: a spreadsheet cut the hash there (older "
             "Excel versions, and text Excel passes through VBA or links, keep 255 characters); "
             "take the hash from the original file";
    }
    if (characters == kExcelCellCharacters) {
      return "the cell holds exactly 32,767 characters: a spreadsheet cut the hash there "
             "(Excel's limit for a cell); take the hash from the original file";
    }
    return {};
  }

  std::optional<CsvRecord> next_record() {
    while (auto row = next_row()) {
      const char unpacked = unpack_row(*row);
      if (blank_row(*row)) continue;
      if (type_line(*row)) {
        diag(row->line, "",
             "skipped PowerShell type line (#TYPE ...) (files pasted together in a spreadsheet?)",
             Severity::kWarning);
        continue;
      }
      if (repeated_header(*row)) continue;
      if (unpacked != 0 && !one_cell_rows) {
        diag(row->line, "",
             "the line is one quoted cell holding the whole row (a spreadsheet kept it in one "
             "cell); read as the " +
                 separator_name(unpacked) + "-separated row it holds",
             Severity::kWarning);
      }
      check_width(*row);
      const int hash_index = column_index[static_cast<std::size_t>(CsvColumn::kHardwareHash)];
      std::string cut;
      if (hash_index >= 0 && static_cast<std::size_t>(hash_index) < row->fields.size()) {
        cut = cut_reason(*row, row->fields[static_cast<std::size_t>(hash_index)]);
      }
      std::size_t quoted = 0;
      std::string first_quoted;
      for (std::size_t i = 0; i < row->fields.size(); ++i) {
        if (!strip_wrapping_quotes(row->fields[i])) continue;
        if (quoted++ == 0) first_quoted = field_name(i);
      }
      if (quoted > 0) {
        diag(row->line, first_quoted,
             "the value is wrapped in quotes of its own (a spreadsheet doubled the file's quotes "
             "and added more)" +
                 (quoted > 1 ? " and so are " + std::to_string(quoted - 1) + " more on the line"
                             : std::string()) +
                 "; read without them",
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
      if (hash_index >= 0 && static_cast<std::size_t>(hash_index) < row->fields.size()) {
        // Whitespace and line breaks inside the cell are tolerated by the base64 decoder.
        const std::string& hash_text = row->fields[static_cast<std::size_t>(hash_index)];
        if (!trim(hash_text).empty()) {
          auto bytes = decode_base64_bytes(hash_text);
          if (!bytes) {
            record.hash_error =
                cut.empty() ? bytes.error().message : cut + " (" + bytes.error().message + ")";
          } else if (cut.empty()) {
            d.hardware_hash = std::move(*bytes);
          } else if (auto parsed = parse_hardware_hash(*bytes); !parsed) {
            record.hash_error = cut + " (" + parsed.error().message + ")";
          } else {
            d.hardware_hash = std::move(*bytes);  // that long and whole after all
          }
        }
      }
      ++records;
      return record;
    }
    if (!row_limit_noted && rows_started + blank_rows == kExcelRows) {
      row_limit_noted = true;
      diag(0, "",
           "the file has exactly 1,048,576 rows, the most an Excel sheet holds: if it went "
           "through Excel, the rows after that were dropped when it was opened; take them from "
           "the original file",
           Severity::kWarning);
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
char CsvReader::separator() const { return impl_->inner_separator; }
bool CsvReader::one_cell_rows() const { return impl_->one_cell_rows; }
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
