// Helpers of the Excel file tests (excel_files_test.cpp, excel_edits_test.cpp): Excel's encodings
// and a reader + validator run over a file.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "hangar/core/hardware_hash.h"
#include "hangar/intake/csv_reader.h"
#include "hangar/intake/validation.h"
#include "test_support.h"

namespace hangar::core::excel_testing {

using testing::fake_hash;
using testing::read_all;
using testing::reader_for;
using testing::TempDir;
using testing::to_utf16;

// UTF-8 text in Windows-1252, as Excel's "CSV" saves it in western locales. The tests only use
// ASCII and Latin-1 letters, which 1252 keeps at the same code points.
inline std::string cp1252(std::string_view utf8) {
  std::string out;
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    const auto c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      continue;
    }
    EXPECT_TRUE(c == 0xC2 || c == 0xC3) << "not Latin-1";
    const auto next = static_cast<unsigned char>(utf8[++i]);
    out.push_back(static_cast<char>(((c & 0x1F) << 6) | (next & 0x3F)));
  }
  return out;
}

inline std::string separator_name_for_test(char separator) {
  return separator == '\t' ? "tab" : std::string(1, separator);
}

inline std::string csv_utf8(std::string_view text) { return "\xEF\xBB\xBF" + std::string(text); }
inline std::string unicode_text(std::string_view text) { return to_utf16(text, true, true); }

inline const Diagnostic* find(const std::vector<Diagnostic>& diagnostics, std::string_view text) {
  for (const auto& d : diagnostics) {
    if (d.message.find(text) != std::string::npos) return &d;
  }
  return nullptr;
}

inline std::vector<RecordResult> all_results(const Validator& validator) {
  std::vector<RecordResult> out;
  for (std::size_t i = 0; i < validator.size(); ++i) out.push_back(validator.result(i));
  return out;
}

struct Checked {
  std::vector<CsvRecord> records;
  std::vector<Diagnostic> reader_diagnostics;
  Validator validator;
};

inline Checked check(CsvReader& reader, ValidationOptions options = {}) {
  Checked out{read_all(reader), reader.diagnostics(), Validator(options)};
  for (const auto& r : out.records) out.validator.add(r);
  out.validator.finish();
  return out;
}

}  // namespace hangar::core::excel_testing
