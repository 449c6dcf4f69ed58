// Tests for lenient base64, the hardware hash structure walk and HardwareHashBuilder.
#include <gtest/gtest.h>

#include "hangar/core/hardware_hash.h"
#include "hangar/core/hash_builder.h"
#include "sha256.h"
#include "test_support.h"

namespace hangar::core {
namespace {

using testing::kSampleHash;

std::vector<std::uint8_t> bytes_of(std::string_view s) { return {s.begin(), s.end()}; }

std::string hex(std::span<const std::uint8_t> bytes) {
  std::string out;
  for (const auto b : bytes) {
    constexpr std::string_view digits = "0123456789abcdef";
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

// FIPS 180-4 examples, through whichever implementation the platform provides.
TEST(Sha256, MatchesTheStandardsVectors) {
  EXPECT_EQ(hex(detail::sha256({})),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(hex(detail::sha256(bytes_of("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      hex(detail::sha256(bytes_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::vector<std::uint8_t> million_a(1'000'000, 'a');
  EXPECT_EQ(hex(detail::sha256(million_a)),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

// The fast path (groups of four) and the per-character path must agree wherever they hand over.
TEST(HashBase64, FastAndSlowPathsAgree) {
  std::vector<std::uint8_t> data(300);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
  const std::string clean = encode_base64(data);
  for (std::size_t cut = 0; cut < 12; ++cut) {
    std::string spaced = clean;
    for (std::size_t at = cut; at < spaced.size(); at += 7 + cut)
      spaced.insert(at, cut % 2 ? "\r\n" : " ");
    auto decoded = decode_base64_lenient(spaced);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->bytes, data) << "whitespace every " << 7 + cut;
    EXPECT_EQ(decoded->normalized, clean);
  }
  for (std::size_t length = 0; length < 7; ++length) {
    const std::vector<std::uint8_t> part(data.begin(), data.begin() + static_cast<long>(length));
    auto bytes = decode_base64_bytes(encode_base64(part));
    if (length == 0) {
      EXPECT_FALSE(bytes.ok());
      continue;
    }
    ASSERT_TRUE(bytes.ok());
    EXPECT_EQ(*bytes, part);
  }
}

TEST(HashBase64, DecodesPaddedAndUnpadded) {
  auto padded = decode_base64_lenient("TWFu QQ==");
  ASSERT_TRUE(padded.ok());
  EXPECT_EQ(padded->bytes, bytes_of("ManA"));
  EXPECT_EQ(padded->normalized, "TWFuQQ==");
  auto unpadded = decode_base64_lenient("TWFuQQ");
  ASSERT_TRUE(unpadded.ok());
  EXPECT_EQ(unpadded->bytes, bytes_of("ManA"));
  EXPECT_EQ(unpadded->normalized, "TWFuQQ==");
  auto one_pad = decode_base64_lenient("TWFuQUI");
  ASSERT_TRUE(one_pad.ok());
  EXPECT_EQ(one_pad->normalized, "TWFuQUI=");
}

TEST(HashBase64, StripsWhitespaceAnywhere) {
  auto r = decode_base64_lenient(" TW\tFu\r\nQU\nJD \r\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->bytes, bytes_of("ManABC"));
  EXPECT_EQ(r->normalized, "TWFuQUJD");
}

TEST(HashBase64, RejectsInvalidCharacterWithOffset) {
  auto r = decode_base64_lenient("T0EeBAEAHAAAAAoAA#QBjRQ");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, kHashNotValidCode);
  EXPECT_EQ(r.error().message, "not base64: invalid character '#' at offset 17");
  auto nul = decode_base64_bytes(std::string_view("QUJD\0", 5));
  ASSERT_FALSE(nul.ok());
  EXPECT_EQ(nul.error().message, "not base64: invalid character byte 0x00 at offset 4");
}

TEST(HashBase64, RejectsBadLengthAndPadding) {
  EXPECT_FALSE(decode_base64_bytes("QUJDR").ok());  // dangling character
  EXPECT_FALSE(decode_base64_bytes("QQ===").ok());
  auto middle = decode_base64_bytes("QQ==QUJD");
  ASSERT_FALSE(middle.ok());
  EXPECT_NE(middle.error().message.find("after '=' padding"), std::string::npos);
  EXPECT_FALSE(decode_base64_bytes("   ").ok());
}

TEST(HashBase64, EncodeRoundTrip) {
  for (std::size_t n = 0; n < 40; ++n) {
    std::vector<std::uint8_t> data;
    for (std::size_t i = 0; i < n; ++i) data.push_back(static_cast<std::uint8_t>(i * 37 + 11));
    auto back = decode_base64_bytes(encode_base64(data));
    if (n == 0) {
      EXPECT_FALSE(back.ok());
      continue;
    }
    ASSERT_TRUE(back.ok()) << n;
    EXPECT_EQ(*back, data);
  }
}

TEST(HashParse, PublicSampleDecodes) {
  auto info = parse_hardware_hash_text(kSampleHash);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->serial_number, "016520771357");
  EXPECT_EQ(info->manufacturer, "Microsoft Corporation");
  EXPECT_EQ(info->model, "Surface Laptop");
  EXPECT_EQ(info->sku, "Surface_Laptop");
  EXPECT_EQ(info->family, "Surface");
  EXPECT_EQ(info->product_key_id, "3863475297787");
  EXPECT_EQ(info->part_number, "[RS2]X21-36311");
  EXPECT_EQ(info->os_build, "10.0.17763.288");
  EXPECT_EQ(info->os_base_build, "10.0.17763.1");
  EXPECT_EQ(info->body_length, 1054);
  EXPECT_TRUE(info->has_tpm_ek_public_key);
  EXPECT_EQ(info->tpm_version.rfind("TPM-Version:2.0", 0), 0U);
  // One byte short: the last byte of the checksum record; the 31 present bytes match SHA-256.
  EXPECT_EQ(info->missing_tail_bytes, 1U);
  EXPECT_EQ(info->checksum, HashChecksum::kValidTruncated);
  ASSERT_FALSE(info->records.empty());
  EXPECT_EQ(info->records.front().type, 1);
  EXPECT_EQ(info->records.back().offset, 1054U);
  EXPECT_EQ(info->records.back().length, 36);
}

TEST(HashParse, SampleWithWhitespaceAndLineBreaks) {
  std::string broken(kSampleHash);
  for (std::size_t i = 76; i < broken.size(); i += 78) broken.insert(i, "\r\n");
  broken = "  " + broken + " \n";
  auto info = parse_hardware_hash_text(broken);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->serial_number, "016520771357");
}

TEST(HashParse, PreciseFailures) {
  auto short_hash =
      parse_hardware_hash(bytes_of(std::string_view("OA\x10\x00"
                                                    "abcdefgh",
                                                    12)));
  ASSERT_FALSE(short_hash.ok());
  EXPECT_EQ(short_hash.error().message, "too short to be a hardware hash (12 bytes)");
  EXPECT_EQ(short_hash.error().code, kHashNotValidCode);

  auto sample = decode_base64_bytes(kSampleHash);
  ASSERT_TRUE(sample.ok());
  auto no_sig = *sample;
  no_sig[0] = 'X';
  EXPECT_EQ(parse_hardware_hash(no_sig).error().message, "does not start with the 'OA' signature");

  // Break a record in the middle: the CPU-name record at offset 90 claims 2000 bytes.
  auto broken = *sample;
  broken[92] = 0xD0;
  broken[93] = 0x07;
  EXPECT_EQ(parse_hardware_hash(broken).error().message,
            "record at offset 90 declares length 2000 beyond the end of the data (1001 bytes "
            "missing)");

  // Cut more than one base64 group off the end: not tolerated.
  std::vector<std::uint8_t> cut(sample->begin(), sample->end() - 4);
  auto cut_info = parse_hardware_hash(cut);
  ASSERT_FALSE(cut_info.ok());
  EXPECT_NE(
      cut_info.error().message.find("record at offset 1054 declares length 36 beyond the end"),
      std::string::npos);

  auto tiny_record = *sample;
  tiny_record[6] = 2;  // first record's length
  tiny_record[7] = 0;
  EXPECT_NE(parse_hardware_hash(tiny_record).error().message.find("less than its own"),
            std::string::npos);
}

TEST(HashParse, MissingSerialOrManufacturer) {
  auto no_serial =
      HardwareHashBuilder().os_build("10.0.1.2").manufacturer("Contoso").model("X").build();
  EXPECT_EQ(parse_hardware_hash(no_serial).error().message, "no serial number inside");
  auto no_make = HardwareHashBuilder().serial_number("S1").model("X").build();
  EXPECT_EQ(parse_hardware_hash(no_make).error().message, "no manufacturer inside");
}

TEST(HashParse, TrailingGarbageAndWrongChecksum) {
  auto good = HardwareHashBuilder::realistic("SER-1", "Contoso", "Laptop 7").build();
  auto extra = good;
  extra.push_back(0);
  EXPECT_NE(parse_hardware_hash(extra).error().message.find("unexpected bytes after the checksum"),
            std::string::npos);
  auto edited = good;
  edited[200] ^= 0xFF;
  auto info = parse_hardware_hash(edited);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->checksum, HashChecksum::kMismatch);
}

TEST(HashBuilder, RealisticHashIsAbout4KAndParses) {
  auto builder = HardwareHashBuilder::realistic("PF3ABCDE", "LENOVO", "ThinkPad T14 Gen 4",
                                                "10.0.22631.2861", 42);
  auto bytes = builder.build();
  EXPECT_EQ(bytes.size(), 4096U);
  auto info = parse_hardware_hash(bytes);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->serial_number, "PF3ABCDE");
  EXPECT_EQ(info->manufacturer, "LENOVO");
  EXPECT_EQ(info->model, "ThinkPad T14 Gen 4");
  EXPECT_EQ(info->os_build, "10.0.22631.2861");
  EXPECT_EQ(info->checksum, HashChecksum::kValid);
  EXPECT_TRUE(info->has_tpm_ek_public_key);
  // Base64 is ~5.5 KB, starts with "T0" like every real hash, and is deterministic.
  const std::string text = builder.build_base64();
  EXPECT_EQ(text.rfind("T0", 0), 0U);
  EXPECT_EQ(text, builder.build_base64());
  EXPECT_NE(text, testing::fake_hash("PF3ABCDF"));
}

TEST(HashBuilder, UnpaddedTextParses) {
  std::string text =
      HardwareHashBuilder::realistic("S-1", "Contoso", "M", "10.0.1.1", 0, 4001).build_base64();
  ASSERT_EQ(text.back(), '=');
  while (text.back() == '=') text.pop_back();
  auto info = parse_hardware_hash_text(text);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->serial_number, "S-1");
}

TEST(HashParse, OsBuildMatching) {
  EXPECT_TRUE(os_build_matches("10.0.17763.288", "17763"));
  EXPECT_TRUE(os_build_matches("10.0.17763.288", "17763.288"));
  EXPECT_TRUE(os_build_matches("10.0.17763.288", "10.0.17763"));
  EXPECT_TRUE(os_build_matches("10.0.17763.288", "10.0.17763.288"));
  EXPECT_TRUE(os_build_matches("10.0.17763.288", ""));
  EXPECT_FALSE(os_build_matches("10.0.17763.288", "22631"));
  EXPECT_FALSE(os_build_matches("10.0.17763.288", "17763.289"));
  EXPECT_FALSE(os_build_matches("", "17763"));
}

}  // namespace
}  // namespace hangar::core
