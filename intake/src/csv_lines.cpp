// CsvReader, bounded line reading: raw bytes -> TextDecoder (UTF-8) -> libcsv, one physical line at
// a time so every record knows the line it starts on; libcsv's field buffer is capped through
// csv_set_realloc_func so a gigantic line cannot exhaust memory: the refused growth ends that line
// with a diagnostic and reading resumes at the next line.
#include <cstdlib>
#include <cstring>

#include "csv_cells.h"
#include "csv_reader_impl.h"
#include "hangar/core/hardware_hash.h"
#include "hangar/intake/spreadsheet.h"

namespace hangar::core {

using namespace csv_cells;

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

}  // namespace

void CsvReader::Impl::init_parser() {
  csv_init(&parser, 0);  // lenient (non-strict): stray quotes are kept, as PowerShell would
  csv_set_delim(&parser, static_cast<unsigned char>(separator));
  csv_set_realloc_func(&parser, capped_realloc);
  csv_set_blk_size(&parser, std::min<std::size_t>(4096, options.max_field_bytes));
  parser_live = true;
}

void CsvReader::Impl::reset_parser() {
  csv_free(&parser);  // releases the (capped) field buffer
  init_parser();
}

void CsvReader::Impl::on_field(void* data, std::size_t len, void* self) {
  static_cast<Impl*>(self)->field_done(static_cast<const char*>(data), len);
}

void CsvReader::Impl::field_done(const char* data, std::size_t len) {
  if (too_many_fields) return;
  if (fields.size() >= options.max_fields_per_row) {
    too_many_fields = true;
    fields.clear();
    return;
  }
  fields.emplace_back(data == nullptr ? std::string() : std::string(data, len));
}

void CsvReader::Impl::row_done() {
  if (too_many_fields) {
    const std::string why = "more than " + std::to_string(options.max_fields_per_row) +
                            " fields on one line; the line was skipped";
    note_dropped(row_start, why);
    diag(row_start, "", why, Severity::kError);
  } else {
    ready.push_back(Row{std::move(fields), row_start, false, row_bytes});
  }
  clear_row();
}

void CsvReader::Impl::count_line_end(char c) {
  if (c == '\r') {
    ++line;
    prev_cr = true;
  } else {
    if (!prev_cr) ++line;
    prev_cr = false;
  }
}

void CsvReader::Impl::oversize(std::size_t field_index) {
  const std::uint64_t at_line = row_in_progress ? row_start : line;
  const std::string why =
      "field longer than " + std::to_string(options.max_field_bytes) +
      " bytes (no hardware hash is that long); the rest of the line was skipped";
  note_dropped(at_line, why);
  diag(at_line, field_name(field_index), why, Severity::kError);
  abandon_row();
  skipping_line = true;
}

void CsvReader::Impl::note_dropped(std::uint64_t at_line, const std::string& why) {
  ++lines_skipped;
  if (first_dropped.empty()) {
    first_dropped = why;
    first_dropped_line = at_line;
  }
}

void CsvReader::Impl::abandon_row() {
  reset_parser();
  clear_row();
}

void CsvReader::Impl::clear_row() {
  fields.clear();
  too_many_fields = false;
  row_in_progress = false;
  row_bytes = 0;
  row_text.clear();
  row_text_whole = true;
}

std::string CsvReader::Impl::replay_after_open_quote(std::string_view rest) {
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

void CsvReader::Impl::parse_text(std::string_view input) {
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
    const std::size_t stop = end_of_line == std::string_view::npos ? data.size() : end_of_line + 1;
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

void CsvReader::Impl::take_decoder_issues() {
  for (auto& issue : decoder.take_issues()) {
    diag(line, "", "encoding: " + issue.message,
         issue.error ? Severity::kError : Severity::kWarning);
  }
}

void CsvReader::Impl::pump() {
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

}  // namespace hangar::core
