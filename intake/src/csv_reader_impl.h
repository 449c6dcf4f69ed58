// CsvReader::Impl, the reader's state, shared by the files that implement it:
//   csv_reader.cpp  the public API, diagnostics
//   csv_lines.cpp   bounded line reading: bytes -> UTF-8 -> libcsv, one physical line at a time
//   csv_header.cpp  finding the header line, its separator and the file's shape
//   csv_rows.cpp    turning rows into records (spreadsheet quirks, widths, cut hashes)
#pragma once

#include <csv.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hangar/core/result.h"
#include "hangar/core/text_encoding.h"
#include "hangar/intake/csv_reader.h"

namespace hangar::core {

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
  std::uint64_t lines_skipped = 0;  // every dropped line, counted (see lines_skipped())

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

  void init_parser();

  void reset_parser();

  void diag(std::uint64_t at_line, std::string field, std::string message, Severity severity);

  // Before the header is known (the first chunk is parsed whole) a placeholder "#<index>" is
  // stored; read_header() replaces it with the column's name.
  std::string field_name(std::size_t index) const;

  void name_early_fields();

  static void on_field(void* data, std::size_t len, void* self);
  static void on_row(int /*terminator*/, void* self) { static_cast<Impl*>(self)->row_done(); }

  void field_done(const char* data, std::size_t len);

  void row_done();

  void count_line_end(char c);

  void oversize(std::size_t field_index);

  // The first line dropped unread: a header must not be among them.
  void note_dropped(std::uint64_t at_line, const std::string& why);

  // Forgets the row in progress, parser state included.
  void abandon_row();
  // Forgets the fields and text of the row just ended or abandoned (not the parser's state).
  void clear_row();

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
  std::string replay_after_open_quote(std::string_view rest);

  // Feeds decoded UTF-8 to libcsv one physical line at a time.
  void parse_text(std::string_view input);

  void take_decoder_issues();

  // Reads and parses one chunk; at the end of input flushes the decoder and the parser.
  void pump();

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
  std::optional<Detection> detect_header(std::string_view header_text) const;

  // The header line is complete in `held` (each byte is searched once): the first line that can
  // be one normally, else a later one when the first are data rows (a sorted sheet). True also
  // when the search must stop: a line too long, or kHeaderSearchBytes held.
  bool header_line_ready();

  // How many of `cells` name a column Hangar knows (each column counted once); whether one of
  // them is the serial number.
  static std::pair<std::size_t, bool> known_columns(const std::vector<std::string>& cells);

  // Sets up libcsv with the separator of the header line found (see header_line_ready), or of
  // the line at the end of what was held (a file of one line without a line end). Failing both,
  // a comma: the first line is then refused as a header with what it holds. The data never
  // decides, so a hash or a group tag cannot tip it.
  void choose_separator();

  std::optional<Row> next_row();

  static bool blank_row(const Row& row);

  static bool type_line(const Row& row);

  // A row a spreadsheet kept whole in its first cell (the other cells empty) is split into the
  // cells it holds. In a file of such rows (one_cell_rows) every row is one, separated like the
  // header. Elsewhere a single row can be (pasted from a file with another separator): it is
  // split with the first separator that gives it a serial and another value, so that a lone
  // value with a comma in it stays what it is. Returns the separator used, or 0.
  char unpack_row(Row& row) const;

  struct HeaderMap {
    std::vector<std::string> names;  // trimmed, without quotes a spreadsheet wrapped them in
    std::array<int, kCsvColumnCount> index{};
    std::vector<std::string> unknown;  // quoted for messages
    std::vector<std::string> twice;
  };

  static HeaderMap map_header(const std::vector<std::string>& cells);

  void use_header(HeaderMap map);

  // Reads the first non-blank line as the header and maps its columns. When the header is further
  // down (header_further_down), the rows before it are kept and put back to be read first.
  Status read_header();

  bool has(CsvColumn column) const { return column_index[static_cast<std::size_t>(column)] >= 0; }

  CsvShape classify() const;

  std::string cell(const Row& row, CsvColumn column) const;

  // The header again further down: files pasted together in a spreadsheet. With the same columns
  // the line is skipped; with other columns the rows after it are read with those.
  bool repeated_header(const Row& row);

  // The rows of a sheet are as wide as its widest: empty cells after the last column are the
  // separators a spreadsheet writes for them. Values past the header, too few cells for its
  // columns, and data under a header cell without a name are reported.
  void check_width(const Row& row);

  // A hash a spreadsheet cut at one of its cell limits (the cell is exactly that long and the
  // hash ends early): the reason to report instead of the structure error alone. Empty otherwise.
  static std::string cut_reason(const Row& row, const std::string& cell);

  std::optional<CsvRecord> next_record();
};

}  // namespace hangar::core
