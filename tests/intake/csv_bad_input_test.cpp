// Bad input for CsvReader: empty files, binary garbage, gigantic lines, truncated UTF-16, read
// errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <istream>
#include <memory>
#include <random>
#include <streambuf>

#include "hangar/intake/csv_reader.h"
#include "test_support.h"
#include "watchdog.h"

namespace hangar::core {
namespace {

using testing::fake_hash;
using testing::read_all;
using testing::reader_for;
using testing::TempDir;
using testing::to_utf16;

const std::string kHeader = "Device Serial Number,Windows Product ID,Hardware Hash\r\n";

bool has_diagnostic(const std::vector<Diagnostic>& diags, std::string_view text,
                    Severity severity) {
  for (const auto& d : diags) {
    if (d.severity == severity && d.message.find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(CsvBadInput, EmptyFileAndBlankFile) {
  TempDir dir;
  auto empty = CsvReader::open(dir.write("empty.csv", ""));
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.error().code, "csv.empty");
  EXPECT_NE(empty.error().message.find("the file is empty"), std::string::npos);
  auto blank = reader_for("\r\n  \n\t\n");
  ASSERT_FALSE(blank.ok());
  EXPECT_EQ(blank.error().code, "csv.empty");
  auto bom_only = reader_for("\xFF\xFE");
  ASSERT_FALSE(bom_only.ok());
}

TEST(CsvBadInput, MissingFileAndDirectory) {
  TempDir dir;
  auto missing = CsvReader::open(dir.path() / "nope.csv");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, "csv.open_failed");
  EXPECT_NE(missing.error().message.find("does not exist"), std::string::npos);
  auto directory = CsvReader::open(dir.path());
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("is a directory"), std::string::npos);
}

TEST(CsvBadInput, BinaryGarbageIsRejectedCleanly) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    std::string garbage(20000 + static_cast<std::size_t>(round) * 997, '\0');
    for (char& c : garbage) c = static_cast<char>(rng() & 0xFF);
    auto reader = reader_for(garbage);
    if (reader.ok()) {
      read_all(*reader);  // only needs to finish without crashing
    } else {
      EXPECT_FALSE(reader.error().message.empty());
    }
  }
}

TEST(CsvBadInput, HugeLineIsCappedAndReadingContinues) {
  // 20 MB in one field: libcsv's buffer may not grow past max_field_bytes.
  std::string text =
      kHeader + "S1,," + std::string(20 * 1024 * 1024, 'A') + "\r\nS2,," + fake_hash("S2") + "\r\n";
  auto reader = reader_for(std::move(text));
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "S2");
  EXPECT_EQ(records[0].device.source_line, 3U);
  ASSERT_FALSE(reader->diagnostics().empty());
  const Diagnostic& d = reader->diagnostics()[0];
  EXPECT_EQ(d.line, 2U);
  EXPECT_EQ(d.field, "Hardware Hash");
  EXPECT_EQ(d.severity, Severity::kError);
  EXPECT_NE(d.message.find("longer than 65536 bytes"), std::string::npos) << d.message;
}

// A stream that produces `prefix`, then `count` copies of one byte, then `suffix`, without ever
// holding the middle in memory: a 1 GB line costs the test nothing but reading time.
class GeneratedLine : public std::streambuf {
 public:
  GeneratedLine(std::string prefix, std::uint64_t count, char fill, std::string suffix)
      : prefix_(std::move(prefix)), suffix_(std::move(suffix)), remaining_(count), fill_(fill) {
    chunk_.assign(1 << 16, fill_);
  }

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (stage_ == 0) {
      stage_ = 1;
      if (!prefix_.empty()) return expose(prefix_.data(), prefix_.size());
    }
    if (stage_ == 1) {
      if (remaining_ > 0) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, chunk_.size()));
        remaining_ -= n;
        return expose(chunk_.data(), n);
      }
      stage_ = 2;
      return expose(suffix_.data(), suffix_.size());
    }
    return traits_type::eof();
  }

 private:
  int_type expose(char* data, std::size_t size) {
    setg(data, data, data + size);
    return traits_type::to_int_type(*data);
  }

  std::string prefix_, suffix_, chunk_;
  std::uint64_t remaining_;
  char fill_;
  int stage_ = 0;
};

TEST(CsvBadInput, GigabyteLineIsReadInBoundedMemory) {
  hangar::test::set_time_limit(std::chrono::seconds(120));  // a gigabyte through the reader
  constexpr std::uint64_t kGigabyte = 1ULL << 30;
  auto line = std::make_shared<GeneratedLine>(kHeader + "S1,,", kGigabyte, 'A',
                                              "\r\nS2,," + fake_hash("S2") + "\r\n");
  struct Owner : std::istream {
    explicit Owner(std::shared_ptr<GeneratedLine> b) : std::istream(b.get()), buf(std::move(b)) {}
    std::shared_ptr<GeneratedLine> buf;
  };
  auto reader = CsvReader::from_stream(std::make_unique<Owner>(line), "huge.csv");
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto records = read_all(*reader);
  // The giant row is refused with its line and field; the row after it is still read.
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "S2");
  EXPECT_EQ(records[0].device.source_line, 3U);
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "longer than 65536 bytes", Severity::kError));
}

TEST(CsvBadInput, HugeQuotedFieldAndTooManyFields) {
  CsvReaderOptions options;
  options.max_field_bytes = 8192;  // above a hash (~5.5 KB), below the junk
  std::string text = kHeader + "\"" + std::string(100000, 'x') + "\"\r\n" +
                     std::string(50000, ',') + "\r\nS3,," + fake_hash("S3") + "\r\n";
  auto reader = reader_for(std::move(text), options);
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].device.serial_number, "S3");
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "longer than 8192 bytes", Severity::kError));
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "more than 32 fields", Severity::kError));
}

// A stray opening quote (a hand-edited cell) would make libcsv read the rest of the file as one
// field: the line is reported by number and field, and every row after it is still read.
TEST(CsvBadInput, UnclosedQuoteLosesOnlyItsLine) {
  std::string text = kHeader + "S1,," + fake_hash("S1") + "\r\n\"S2,," + fake_hash("S2") + "\r\n";
  for (int i = 3; i <= 6; ++i) {
    const std::string serial = "S" + std::to_string(i);
    text += serial + ",," + fake_hash(serial) + "\r\n";
  }
  auto reader = reader_for(std::move(text));
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 5U);
  EXPECT_EQ(records[0].device.serial_number, "S1");
  for (std::size_t i = 1; i < records.size(); ++i) {
    EXPECT_EQ(records[i].device.serial_number, "S" + std::to_string(i + 2));
    EXPECT_EQ(records[i].device.source_line, i + 3);
    EXPECT_TRUE(records[i].hash_error.empty()) << records[i].hash_error;
  }
  const auto& diags = reader->diagnostics();
  ASSERT_EQ(std::count_if(diags.begin(), diags.end(),
                          [](const Diagnostic& d) { return d.severity == Severity::kError; }),
            1);
  const auto it = std::find_if(diags.begin(), diags.end(), [](const Diagnostic& d) {
    return d.message.find("quote opened on this line is never closed") != std::string::npos;
  });
  ASSERT_NE(it, diags.end());
  EXPECT_EQ(it->line, 3U);
  EXPECT_EQ(it->field, "Device Serial Number");
  // The lost line is counted, so a summary's rows add up to the file's (black-box round 6).
  EXPECT_EQ(reader->lines_skipped(), 1U);
  EXPECT_EQ(reader->records_read(), 5U);
}

// The same in a file large enough that the open field outgrows the field cap long before the end:
// the rows after the quote are read again, not skipped as one oversize field.
TEST(CsvBadInput, UnclosedQuoteInALargeFile) {
  CsvReaderOptions options;
  options.max_field_bytes = 16 * 1024;
  options.read_chunk_bytes = 4096;  // the open field crosses many chunks
  std::string text = kHeader + "\"BAD,," + fake_hash("BAD") + "\n";
  for (int i = 0; i < 200; ++i) {
    const std::string serial = "N" + std::to_string(i);
    text += serial + ",," + fake_hash(serial) + "\n";
  }
  text += "\"LAST,,";  // and another one, open at the end of the file
  auto reader = reader_for(std::move(text), options);
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 200U);
  EXPECT_EQ(records.front().device.serial_number, "N0");
  EXPECT_EQ(records.front().device.source_line, 3U);
  EXPECT_EQ(records.back().device.serial_number, "N199");
  EXPECT_EQ(records.back().device.source_line, 202U);
  std::vector<std::uint64_t> lines;
  for (const auto& d : reader->diagnostics()) {
    if (d.severity == Severity::kError) lines.push_back(d.line);
  }
  EXPECT_EQ(lines, (std::vector<std::uint64_t>{2, 203}));
  EXPECT_EQ(reader->lines_skipped(), 2U);
  EXPECT_FALSE(has_diagnostic(reader->diagnostics(), "longer than", Severity::kError));
}

// A header whose first cell opens a quote is no header: the file is refused, not read from line 2.
TEST(CsvBadInput, UnclosedQuoteInTheHeader) {
  auto reader = reader_for(
      "\"Device Serial Number,Windows Product ID,Hardware Hash\r\n"
      "Device Serial Number,Windows Product ID,Hardware Hash\r\nS1,,\r\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, "csv.bad_header");
  EXPECT_NE(reader.error().message.find("quote opened on line 1 is never closed"),
            std::string::npos)
      << reader.error().message;
}

// Every line opening a quote: the re-reading is bounded per file, and it ends.
TEST(CsvBadInput, ManyUnclosedQuotesEndInBoundedWork) {
  std::string text = kHeader;
  for (int i = 0; i < 20000; ++i) text += "\"Q" + std::to_string(i) + ",,\n";
  auto reader = reader_for(std::move(text));
  ASSERT_TRUE(reader.ok());
  (void)read_all(*reader);
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "never closed", Severity::kError));
}

TEST(CsvBadInput, HugeHeaderLine) {
  auto reader = reader_for(std::string(200000, 'H') + "\nS1\n");
  ASSERT_FALSE(reader.ok());
  EXPECT_EQ(reader.error().code, "csv.bad_header");
}

TEST(CsvBadInput, TruncatedUtf16KeepsRecordsAndSaysSo) {
  std::string bytes = to_utf16(kHeader + "S1,," + fake_hash("S1") + "\r\nS2,,", true, true);
  bytes.pop_back();
  auto reader = reader_for(bytes);
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].device.serial_number, "S1");
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "truncated UTF-16", Severity::kError));
}

// A stream whose device fails after `fail_at` bytes (a USB stick pulled out mid-read).
class FailingBuf : public std::streambuf {
 public:
  FailingBuf(std::string data, std::size_t fail_at) : data_(std::move(data)), fail_at_(fail_at) {}

 protected:
  int_type underflow() override {
    if (pos_ >= fail_at_) throw std::ios_base::failure("device removed");
    const std::size_t n = std::min<std::size_t>(1000, fail_at_ - pos_);
    chunk_ = data_.substr(pos_, n);
    pos_ += n;
    setg(chunk_.data(), chunk_.data(), chunk_.data() + chunk_.size());
    return traits_type::to_int_type(chunk_[0]);
  }

 private:
  std::string data_;
  std::string chunk_;
  std::size_t fail_at_;
  std::size_t pos_ = 0;
};

class FailingStream : public std::istream {
 public:
  FailingStream(std::string data, std::size_t fail_at)
      : std::istream(nullptr), buf_(std::move(data), fail_at) {
    rdbuf(&buf_);
  }

 private:
  FailingBuf buf_;
};

TEST(CsvBadInput, ReadErrorKeepsRecordsReadSoFar) {
  std::string text = kHeader;
  for (int i = 0; i < 50; ++i)
    text += "S" + std::to_string(i) + ",," + fake_hash("S" + std::to_string(i)) + "\r\n";
  const std::size_t fail_at = text.size() / 2;
  CsvReaderOptions options;
  options.read_chunk_bytes = 4096;
  auto reader =
      CsvReader::from_stream(std::make_unique<FailingStream>(text, fail_at), "usb.csv", options);
  ASSERT_TRUE(reader.ok());
  auto records = read_all(*reader);
  EXPECT_GT(records.size(), 15U);
  EXPECT_LT(records.size(), 30U);
  EXPECT_TRUE(reader->read_failed());
  EXPECT_TRUE(has_diagnostic(reader->diagnostics(), "read error after", Severity::kError));
  for (const auto& r : records)
    EXPECT_TRUE(r.hash_error.empty() || r.device.serial_number.size() > 0);
}

TEST(CsvBadInput, FileDeletedMidRead) {
  TempDir dir;
  std::string text = kHeader;
  for (int i = 0; i < 200; ++i)
    text += "S" + std::to_string(i) + ",," + fake_hash("S" + std::to_string(i)) + "\r\n";
  const auto path = dir.write("vanishing.csv", text);
  CsvReaderOptions options;
  options.read_chunk_bytes = 8192;
  auto reader = CsvReader::open(path, options);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE(reader->next().has_value());
  std::error_code ec;
  std::filesystem::remove(path, ec);  // POSIX: the open file stays readable; Windows: refused
  std::size_t count = 1;
  while (reader->next()) ++count;
  EXPECT_EQ(count, 200U);
  EXPECT_FALSE(reader->read_failed());
}

}  // namespace
}  // namespace hangar::core
