// Tests for Validator and validate_files: per-record checks, duplicates, conflicts, expected build.
#include <gtest/gtest.h>

#include <chrono>
#include <streambuf>

#include "hangar/core/hardware_hash.h"
#include "hangar/intake/validation.h"
#include "test_support.h"
#include "watchdog.h"

namespace hangar::core {
namespace {

using testing::kSampleHash;
using testing::TempDir;

DeviceRecord device(const std::string& serial, const std::string& base64_hash,
                    const std::string& file = "a.csv", std::uint64_t line = 2) {
  DeviceRecord r;
  r.serial_number = serial;
  if (!base64_hash.empty()) r.hardware_hash = *decode_base64_bytes(base64_hash);
  r.source_file = file;
  r.source_line = line;
  return r;
}

std::string hash_for(const std::string& serial, const std::string& build = "10.0.22631.2861") {
  return testing::fake_hash(serial, "Contoso", "Laptop 7", build);
}

const Diagnostic* find(const Validator& v, std::string_view text) {
  for (const auto& d : v.diagnostics()) {
    if (d.message.find(text) != std::string::npos) return &d;
  }
  return nullptr;
}

TEST(ValidationRecord, SampleHashIsValidAndReportsItsBuild) {
  Validator v;
  const auto i = v.add(device("016520771357", std::string(kSampleHash)));
  v.finish();
  EXPECT_EQ(v.result(i).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(i).os_build, "10.0.17763.288");
  EXPECT_TRUE(v.diagnostics().empty());
}

TEST(ValidationRecord, BrokenHashesAreHardwareHashNotValid) {
  Validator v;
  const auto a = v.add(device("S1", ""), "not base64: invalid character '#' at offset 17");
  auto truncated = *decode_base64_bytes(hash_for("S2"));
  truncated.resize(2000);
  DeviceRecord b = device("S2", "");
  b.hardware_hash = truncated;
  const auto bi = v.add(b);
  const auto c =
      v.add(device("S3", HardwareHashBuilder().serial_number("S3").model("M").build_base64()));
  v.finish();
  for (auto i : {a, bi, c}) {
    EXPECT_EQ(v.result(i).verdict, Verdict::kInvalid);
    EXPECT_EQ(v.result(i).failure, FailureReason::kHardwareHashNotValid);
    EXPECT_EQ(v.result(i).reason.rfind("Hardware hash not valid: ", 0), 0U) << v.result(i).reason;
  }
  EXPECT_EQ(v.result(a).reason,
            "Hardware hash not valid: not base64: invalid character '#' at offset 17");
  EXPECT_EQ(v.result(c).reason, "Hardware hash not valid: no manufacturer inside");
  EXPECT_EQ(v.diagnostics()[0].field, "Hardware Hash");
  EXPECT_EQ(v.diagnostics()[0].severity, Severity::kError);
}

TEST(ValidationRecord, SerialMismatchIsAnErrorNamingBoth) {
  Validator v;
  const auto i = v.add(device("WRONG-1", hash_for("RIGHT-1")));
  EXPECT_EQ(v.result(i).verdict, Verdict::kInvalid);
  const Diagnostic* d = find(v, "'RIGHT-1'");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->severity, Severity::kError);
  EXPECT_NE(d->message.find("'WRONG-1'"), std::string::npos);
}

TEST(ValidationRecord, SerialExcelChangedIsReplacedByTheHashes) {
  Validator v;
  const auto i = v.add(device("1.65208E+11", hash_for("165207713570")));
  EXPECT_EQ(v.result(i).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(i).serial_number, "165207713570");
  EXPECT_TRUE(v.result(i).serial_replaced);
  EXPECT_EQ(v.serial_in_file(i), "1.65208E+11");
  ASSERT_EQ(v.diagnostics().size(), 1U);
  EXPECT_EQ(v.diagnostics()[0].to_string(),
            "a.csv:2: warning: Device Serial Number: Excel turned serial 165207713570 into "
            "1.65208E+11 (scientific notation); using the serial from the hardware hash");
  DeviceRecord kept = device("1.65208E+11", "");
  v.apply_corrections(i, kept);
  EXPECT_EQ(kept.serial_number, "165207713570");
  // A row left alone keeps its own serial (its case included).
  const auto same = v.add(device("pf3abc12", hash_for("PF3ABC12")));
  DeviceRecord other = device("pf3abc12", "");
  v.apply_corrections(same, other);
  EXPECT_EQ(other.serial_number, "pf3abc12");
  EXPECT_FALSE(v.result(same).serial_replaced);
  EXPECT_EQ(v.serial_in_file(same), "");
}

TEST(ValidationRecord, StrictRefusesEveryRowWhoseSerialIsNotItsHashs) {
  ValidationOptions options;
  options.strict_serials = true;
  Validator v(options);
  const auto excel = v.add(device("16520771357", hash_for("016520771357")));
  const auto other = v.add(device("WRONG-1", hash_for("RIGHT-1")));
  const auto fine = v.add(device("S1", hash_for("S1")));
  v.finish();
  EXPECT_EQ(v.result(excel).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(excel).reason,
            "Excel turned serial 016520771357 into 16520771357 (it read the serial as a number and "
            "dropped its leading zeros); refused (--strict): put the serial back in the file, or "
            "leave out --strict to use the serial from the hardware hash");
  EXPECT_EQ(v.result(other).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(other).reason,
            "the hardware hash says serial number 'RIGHT-1' but the file says 'WRONG-1': the hash "
            "is another device's (a row pasted from another device?); take the row from the "
            "original file or capture the device again");
  EXPECT_EQ(v.result(fine).verdict, Verdict::kValid);
}

// A serial that is not its hash's, and not as Excel would change it, means the row carries another
// device's hash: registering it would enrol the wrong PC. Unless the hash holds no serial at all
// but a firmware placeholder (a white-box PC): then the file's serial is all there is.
TEST(ValidationRecord, ARowWithAnotherDevicesHashIsRefusedButAPlaceholderSerialIsNot) {
  Validator v;
  const auto other = v.add(device("WRONG-1", hash_for("RIGHT-1")));
  const auto whitebox = v.add(device("LABEL-77", hash_for("To be filled by O.E.M.")));
  v.finish();
  EXPECT_EQ(v.result(other).verdict, Verdict::kInvalid);
  EXPECT_NE(v.result(other).reason.find("the hash is another device's"), std::string::npos)
      << v.result(other).reason;
  EXPECT_EQ(v.result(whitebox).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(whitebox).serial_number, "LABEL-77");
  bool warned = false;
  for (const auto& d : v.diagnostics()) {
    if (d.message.find("the hash holds the firmware's placeholder") != std::string::npos &&
        d.severity == Severity::kWarning) {
      warned = true;
    }
  }
  EXPECT_TRUE(warned);
  ValidationOptions strict;
  strict.strict_serials = true;
  Validator s(strict);
  EXPECT_EQ(s.result(s.add(device("LABEL-77", hash_for("Default string")))).verdict,
            Verdict::kInvalid);
}

TEST(ValidationRecord, ScientificSerialOfAnotherDeviceIsAnError) {
  Validator v;
  // 1.65208E+11 is not how Excel writes 165297713570: the row's own serial is lost.
  const auto i = v.add(device("1.65208E+11", hash_for("165297713570")));
  EXPECT_EQ(v.result(i).verdict, Verdict::kInvalid);
  EXPECT_NE(v.result(i).reason.find("Excel turned the row's serial into scientific notation, "
                                    "and the hash is another device's"),
            std::string::npos)
      << v.result(i).reason;
  // Without a hash a scientific serial can match no device.
  DeviceRecord partner = device("1,65208E+11", "");
  partner.manufacturer = "Contoso";
  partner.model = "Laptop 7";
  const auto p = v.add(partner);
  EXPECT_EQ(v.result(p).verdict, Verdict::kInvalid);
  EXPECT_NE(v.result(p).reason.find("no hardware hash to take the real one from"),
            std::string::npos);
}

TEST(ValidationAcross, DuplicatesAndConflictsUseTheHashesSerial) {
  Validator v;
  const std::string h = hash_for("165207713570");
  v.add(device("165207713570", h, "a.csv", 2));
  const auto copy = v.add(device("1.65208E+11", h, "b.csv", 4));  // the same device via Excel
  const auto other = v.add(device("1,65208E+11", hash_for("165207713570", "10.0.1.1"), "c.csv", 3));
  v.finish();
  EXPECT_EQ(v.result(copy).verdict, Verdict::kDuplicate);
  EXPECT_EQ(v.result(other).verdict, Verdict::kInvalid);
  ASSERT_NE(find(v, "conflict: serial 165207713570 is also at a.csv:2"), nullptr);
}

TEST(ValidationRecord, MissingSerialAndPartnerRows) {
  Validator v;
  const auto empty = v.add(device("", hash_for("S1")));
  DeviceRecord partner = device("P1", "");
  partner.manufacturer = "Contoso";
  partner.model = "Laptop 7";
  const auto ok = v.add(partner);
  const auto bare = v.add(device("P2", ""));
  v.finish();
  EXPECT_EQ(v.result(empty).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(empty).reason, "the serial number is empty");
  EXPECT_EQ(v.result(ok).verdict, Verdict::kValid);
  EXPECT_FALSE(v.result(ok).has_hash);
  EXPECT_EQ(v.result(bare).verdict, Verdict::kInvalid);
}

TEST(ValidationRecord, ExpectBuild) {
  ValidationOptions options;
  options.expect_build = "22631";
  Validator v(options);
  v.add(device("S1", hash_for("S1", "10.0.22631.2861")));
  const auto old = v.add(device("S2", hash_for("S2", "10.0.19045.3803")));
  EXPECT_EQ(v.result(old).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(old).os_build, "10.0.19045.3803");
  ASSERT_EQ(v.diagnostics().size(), 1U);
  EXPECT_NE(v.diagnostics()[0].message.find("10.0.19045.3803"), std::string::npos);
  EXPECT_NE(v.diagnostics()[0].message.find("22631"), std::string::npos);
  EXPECT_EQ(v.diagnostics()[0].severity, Severity::kWarning);
}

TEST(ValidationAcross, IdenticalDuplicateIsAWarningAndDropped) {
  Validator v;
  const std::string h = hash_for("S1");
  v.add(device("S1", h, "a.csv", 2));
  const auto dup = v.add(device("s1", h, "b.csv", 5));
  v.finish();
  EXPECT_EQ(v.result(dup).verdict, Verdict::kDuplicate);
  const Diagnostic* d = find(v, "a.csv:2");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->file, "b.csv");
  EXPECT_EQ(d->line, 5U);
  EXPECT_EQ(d->severity, Severity::kWarning);
  EXPECT_EQ(v.summary().valid, 1U);
  EXPECT_EQ(v.summary().duplicates, 1U);
}

TEST(ValidationAcross, SameSerialDifferentHashIsAConflictOnBoth) {
  Validator v;
  const auto first = v.add(device("S1", hash_for("S1"), "a.csv", 2));
  const auto second = v.add(device("S1", hash_for("S1", "10.0.1.1"), "b.csv", 9));
  EXPECT_EQ(v.result(first).verdict, Verdict::kValid);
  v.finish();
  EXPECT_EQ(v.result(first).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(second).verdict, Verdict::kInvalid);
  const Diagnostic* d = find(v, "conflict: serial S1 is also at a.csv:2");
  ASSERT_NE(d, nullptr);
  EXPECT_EQ(d->file, "b.csv");
  const Diagnostic* back = find(v, "also appears at b.csv:9");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->file, "a.csv");
  EXPECT_EQ(back->line, 2U);
}

TEST(ValidationAcross, SameHashDifferentSerial) {
  Validator v;
  // The hash names S1: the second row is refused as another device's hash, the first stands.
  const std::string h = hash_for("S1");
  const auto first = v.add(device("S1", h, "a.csv", 2));
  const auto second = v.add(device("S9", h, "a.csv", 3));
  // A hash whose firmware serial is a placeholder cannot tell which row is right: both refused.
  const std::string blank = hash_for("Default string");
  const auto third = v.add(device("S3", blank, "a.csv", 4));
  const auto fourth = v.add(device("S4", blank, "a.csv", 5));
  v.finish();
  EXPECT_EQ(v.result(first).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(second).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(third).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(fourth).verdict, Verdict::kInvalid);
  ASSERT_NE(find(v, "the same hash is at a.csv:4 with serial S3"), nullptr);
}

TEST(ValidationFiles, AcrossFilesWithAcceptedRecords) {
  TempDir dir;
  const std::string header = "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
  const auto a =
      dir.write("a.csv", header + "S1,," + hash_for("S1") + "\r\nS2,," + hash_for("S2") + "\r\n");
  const auto b = dir.write("b.csv", header + "S2,," + hash_for("S2") + "\r\nS3,,QUJD#\r\n");
  const auto c = dir.write("c.csv", "Name\r\nx\r\n");
  const std::vector<std::filesystem::path> files{a, b, c, dir.path() / "missing.csv"};
  auto result = validate_files(files);
  EXPECT_EQ(result.files_read, 2U);
  ASSERT_EQ(result.accepted.size(), 2U);
  EXPECT_EQ(result.accepted[0].serial_number, "S1");
  EXPECT_EQ(result.accepted[1].serial_number, "S2");
  const auto s = result.validator.summary();
  EXPECT_EQ(s.records, 4U);
  EXPECT_EQ(s.valid, 2U);
  EXPECT_EQ(s.duplicates, 1U);
  EXPECT_EQ(s.invalid, 1U);
  bool header_error = false;
  for (const auto& d : result.validator.diagnostics()) {
    if (d.file == path_to_utf8(c)) {
      header_error = true;
      EXPECT_EQ(d.line, 1U);
      EXPECT_EQ(d.message.rfind("not a hardware-hash CSV", 0), 0U) << d.message;
    }
  }
  EXPECT_TRUE(header_error);
}

// The validator keeps a compact row per record; result() spells it out as before.
TEST(ValidationResult, LocationIsFileAndLineForEveryFile) {
  Validator v;
  const auto a = v.add(device("S1", hash_for("S1"), "a.csv", 2));
  const auto b = v.add(device("S2", hash_for("S2"), "dir/b.csv", 40'000'000'000ULL));
  const auto again = v.add(device("S3", hash_for("S3"), "a.csv", 3));  // back to the first file
  const auto none = v.add(device("S4", hash_for("S4"), "", 4));
  const auto whole = v.add(device("S5", hash_for("S5"), "c.csv", 0));
  v.finish();
  EXPECT_EQ(v.size(), 5U);
  EXPECT_EQ(v.result(a).location, "a.csv:2");
  EXPECT_EQ(v.location(b), "dir/b.csv:40000000000");
  EXPECT_EQ(v.result(again).location, "a.csv:3");
  EXPECT_EQ(v.result(none).location, "<input>:4");
  EXPECT_EQ(v.result(whole).location, "c.csv");
  EXPECT_EQ(v.serial(b), "S2");
  EXPECT_EQ(v.result(b).serial_number, "S2");
}

TEST(ValidationResult, OnlyRowsThatHaveThemCarryABuildOrAReason) {
  Validator v;
  const auto hashed = v.add(device("S1", hash_for("S1", "10.0.22631.2861")));
  const auto other = v.add(device("S2", hash_for("S2", "10.0.19045.3803"), "a.csv", 3));
  DeviceRecord partner = device("P1", "", "a.csv", 4);
  partner.manufacturer = "Contoso";
  partner.model = "Laptop 7";
  const auto bare = v.add(partner);
  const auto broken = v.add(device("S3", ""), "not base64");
  v.finish();
  const RecordResult r = v.result(hashed);
  EXPECT_EQ(r.verdict, Verdict::kValid);
  EXPECT_TRUE(r.has_hash);
  EXPECT_EQ(r.os_build, "10.0.22631.2861");
  EXPECT_EQ(r.reason, "");
  EXPECT_EQ(r.failure, std::nullopt);
  EXPECT_EQ(v.os_build(other), "10.0.19045.3803");
  EXPECT_FALSE(v.has_hash(bare));
  EXPECT_EQ(v.result(bare).os_build, "");
  EXPECT_EQ(v.result(bare).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(broken).failure, FailureReason::kHardwareHashNotValid);
  EXPECT_EQ(v.reason(broken), "Hardware hash not valid: not base64");
}

TEST(ValidationResult, DuplicatesAndConflictsAcrossFilesNameBothPlaces) {
  Validator v;
  const std::string h = hash_for("S1");
  const auto first = v.add(device("S1", h, "first.csv", 2));
  const auto copy = v.add(device("S1", h, "second.csv", 7));
  const auto earlier = v.add(device("S2", hash_for("S2"), "first.csv", 3));
  const auto later = v.add(device("S2", hash_for("S2", "10.0.1.1"), "third.csv", 11));
  v.finish();
  EXPECT_EQ(v.result(first).verdict, Verdict::kValid);
  EXPECT_EQ(v.result(copy).verdict, Verdict::kDuplicate);
  EXPECT_EQ(v.result(copy).reason, "duplicate of first.csv:2");
  EXPECT_EQ(v.result(copy).location, "second.csv:7");
  EXPECT_EQ(v.result(earlier).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(earlier).reason, "conflicts with third.csv:11");
  EXPECT_EQ(v.result(later).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(later).reason,
            "conflict: serial S2 is also at first.csv:3 with a different hardware hash; neither is "
            "registered until one is removed");
  // The earlier row's own diagnostic is placed at its file and line, and names the later one.
  const Diagnostic* back = find(v, "also appears at third.csv:11");
  ASSERT_NE(back, nullptr);
  EXPECT_EQ(back->file, "first.csv");
  EXPECT_EQ(back->line, 3U);
  EXPECT_EQ(back->field, "Device Serial Number");
  EXPECT_EQ(back->to_string(),
            "first.csv:3: error: Device Serial Number: conflict: serial S2 / its hash also appears "
            "at third.csv:11 with different data; neither is registered");
}

TEST(ValidationResult, AnOverLongFieldKeepsOnlyAnExcerptOfSerialAndFile) {
  Validator v;
  const std::string file(5000, 'f');
  const auto i = v.add(device(std::string(1000, 'S'), hash_for("S1"), file, 9));
  v.finish();
  const RecordResult r = v.result(i);
  EXPECT_EQ(r.verdict, Verdict::kInvalid);
  EXPECT_LT(r.serial_number.size(), 200U);
  EXPECT_EQ(r.serial_number.substr(0, 100), std::string(100, 'S'));
  EXPECT_LT(r.location.size(), 4200U);
  EXPECT_EQ(r.location.substr(r.location.size() - 2), ":9");
}

// Attack round 5, finding 06: a cell holding terminal control sequences (ESC, BEL, a C1 control)
// is refused with file, line and column, the character shown escaped, never quoted raw.
TEST(ValidationRecord, AControlCharacterInAnyFieldIsRefusedWhereItIs) {
  Validator v;
  auto with_model = device("CTL-1", hash_for("CTL-1"), "e.csv", 4);
  with_model.manufacturer = "Contoso";
  with_model.model =
      "\x1b]0;PWNED\x07"
      "Evil";
  auto with_tag = device("CTL-2", hash_for("CTL-2"), "e.csv", 5);
  with_tag.group_tag =
      "Lab\xc2\x9b"
      "2J";
  auto clean = device("CTL-3", hash_for("CTL-3"), "e.csv", 6);
  clean.model =
      "Laptop 7 \xc2\xa0"
      "caf\xc3\xa9";  // no-break space and an accent are text
  const auto m = v.add(with_model);
  const auto t = v.add(with_tag);
  const auto c = v.add(clean);
  v.finish();
  EXPECT_EQ(v.result(m).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(t).verdict, Verdict::kInvalid);
  EXPECT_EQ(v.result(c).verdict, Verdict::kValid);
  ASSERT_EQ(v.diagnostics().size(), 2U);
  EXPECT_EQ(v.diagnostics()[0].to_string(),
            "e.csv:4: error: Model: Model holds a control character, \\x1b (character 1); device "
            "fields are plain text (remove it from the file: a terminal showing it would act on "
            "it)");
  EXPECT_NE(v.diagnostics()[1].to_string().find(
                "e.csv:5: error: Group Tag: Group Tag holds a control character, \\u009b "
                "(character 4)"),
            std::string::npos)
      << v.diagnostics()[1].to_string();
  for (const auto& d : v.diagnostics()) {
    EXPECT_EQ(d.to_string().find('\x1b'), std::string::npos);
  }
}

// Black-box round 15: the same device in a second file with a Group Tag the first copy lacks was
// dropped as a plain duplicate, its tag lost without a word. The warning names what differs.
TEST(ValidationRecord, ADuplicateThatNamesAnotherTagSaysSo) {
  Validator v;
  auto first = device("DUP-1", hash_for("DUP-1"), "a.csv", 2);
  auto again = device("DUP-1", hash_for("DUP-1"), "b.csv", 3);
  again.group_tag = "Sales";
  auto same = device("DUP-1", hash_for("DUP-1"), "c.csv", 4);
  v.add(first);
  const auto dropped = v.add(again);
  const auto plain = v.add(same);
  v.finish();
  EXPECT_EQ(v.result(dropped).verdict, Verdict::kDuplicate);
  EXPECT_EQ(v.result(plain).verdict, Verdict::kDuplicate);
  ASSERT_EQ(v.diagnostics().size(), 2U);
  const std::string told = v.diagnostics()[0].to_string();
  EXPECT_NE(told.find("Group Tag or Assigned User differ (this copy: Group Tag \"Sales\", "
                      "Assigned User none)"),
            std::string::npos)
      << told;
  EXPECT_EQ(v.diagnostics()[1].to_string().find("differ"), std::string::npos)
      << v.diagnostics()[1].to_string();
}

// Black-box round 14: a Model holding U+202E (right-to-left override) was valid, and showed the
// rest of its line reversed. The bidirectional controls are refused as the others are.
TEST(ValidationRecord, ABidirectionalControlIsRefusedWhereItIs) {
  Validator v;
  auto with_model = device("BIDI-1", hash_for("BIDI-1"), "b.csv", 2);
  with_model.manufacturer = "Contoso";
  with_model.model =
      "Laptop \xe2\x80\xae"
      "7";
  const auto m = v.add(with_model);
  v.finish();
  EXPECT_EQ(v.result(m).verdict, Verdict::kInvalid);
  ASSERT_EQ(v.diagnostics().size(), 1U);
  EXPECT_NE(v.diagnostics()[0].to_string().find(
                "b.csv:2: error: Model: Model holds a control character, \\u202e (a "
                "bidirectional control) (character 8)"),
            std::string::npos)
      << v.diagnostics()[0].to_string();
}

// Generates a CSV of `rows` identical rows without holding it in memory.
class RepeatBuf : public std::streambuf {
 public:
  RepeatBuf(std::string head, std::string row, std::size_t rows)
      : head_(std::move(head)), row_(std::move(row)), left_(rows) {}

 protected:
  int_type underflow() override {
    if (!head_.empty()) {
      cur_.swap(head_);
      head_.clear();
    } else if (left_ > 0) {
      cur_.clear();
      for (int i = 0; i < 64 && left_ > 0; ++i, --left_) cur_ += row_;
    } else {
      return traits_type::eof();
    }
    setg(cur_.data(), cur_.data(), cur_.data() + cur_.size());
    return traits_type::to_int_type(cur_[0]);
  }

 private:
  std::string head_, row_, cur_;
  std::size_t left_;
};

class RepeatStream : public std::istream {
 public:
  RepeatStream(std::string head, std::string row, std::size_t rows)
      : std::istream(nullptr), buf_(std::move(head), std::move(row), rows) {
    rdbuf(&buf_);
  }

 private:
  RepeatBuf buf_;
};

TEST(ValidationScale, HundredThousandDuplicateRows) {
  hangar::test::set_time_limit(std::chrono::seconds(60));
  const std::string hash = HardwareHashBuilder()
                               .os_build("10.0.22631.1")
                               .serial_number("DUP-1")
                               .manufacturer("Contoso")
                               .model("M")
                               .build_base64();
  const auto start = std::chrono::steady_clock::now();
  auto reader = CsvReader::from_stream(
      std::make_unique<RepeatStream>("Device Serial Number,Windows Product ID,Hardware Hash\r\n",
                                     "DUP-1,," + hash + "\r\n", 100000),
      "dups.csv");
  ASSERT_TRUE(reader.ok());
  Validator v;
  while (auto r = reader->next()) v.add(*r);
  v.finish();
  const auto s = v.summary();
  EXPECT_EQ(s.records, 100000U);
  EXPECT_EQ(s.valid, 1U);
  EXPECT_EQ(s.duplicates, 99999U);
  EXPECT_EQ(s.errors, 0U);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 60.0);  // generous for sanitizers and Wine; natively well under a second
}

}  // namespace
}  // namespace hangar::core
