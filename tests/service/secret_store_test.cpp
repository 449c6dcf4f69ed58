// SecretStore on this platform: round trip, replacement, removal, owner-only files (0600 on POSIX,
// DPAPI-protected on Windows), and a clear error for a damaged or foreign file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "secret_store.h"
#include "test_support.h"

#ifndef _WIN32
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace hangar::service {
namespace {

namespace fs = std::filesystem;

constexpr const char* kSecret = "Qx8~abcDEF.ghij_KLMN-opqr~stuVWXyz0123456";

std::string read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_raw(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class SecretStoreTest : public ::testing::Test {
 protected:
  test::TempDir dir_;
  SecretStore store_{dir_.path()};
};

TEST_F(SecretStoreTest, MissingSecretIsNothingNotAnError) {
  auto loaded = store_.load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_FALSE(loaded->has_value());
  EXPECT_TRUE(store_.remove().ok()) << "removing nothing is fine";
}

TEST_F(SecretStoreTest, RoundTripReplaceAndRemove) {
  ASSERT_TRUE(store_.save(kSecret).ok());
  auto loaded = store_.load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, kSecret);

  ASSERT_TRUE(store_.save("second-secret-value").ok());
  EXPECT_EQ(**store_.load(), "second-secret-value");

  // Only the secret file is left behind: no temporary file survives a save.
  int files = 0;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    ++files;
    EXPECT_EQ(entry.path(), store_.path());
  }
  EXPECT_EQ(files, 1);

  ASSERT_TRUE(store_.remove().ok());
  EXPECT_FALSE(fs::exists(store_.path()));
  EXPECT_FALSE(store_.load()->has_value());
}

TEST_F(SecretStoreTest, DamagedFileIsAClearErrorNamingTheFileAndTheFix) {
  write_raw(store_.path(), std::string("\x01\x02garbage\x00\x7f", 12));
  auto loaded = store_.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, kErrSecretStore);
  EXPECT_NE(loaded.error().message.find(store_.path().filename().string()), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("set-credentials"), std::string::npos)
      << loaded.error().message;

  write_raw(store_.path(), "");
  auto empty = store_.load();
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("set-credentials"), std::string::npos);

  // Saving again repairs it.
  ASSERT_TRUE(store_.save(kSecret).ok());
  EXPECT_EQ(**store_.load(), kSecret);
}

TEST_F(SecretStoreTest, ProtectionIsDescribedWithoutTheSecret) {
  EXPECT_FALSE(SecretStore::protection().empty());
  ASSERT_TRUE(store_.save(kSecret).ok());
  EXPECT_EQ(SecretStore::protection().find(kSecret), std::string::npos);
}

TEST_F(SecretStoreTest, WriteIsAtomicAndOwnerOnlyForOtherFilesToo) {
  const fs::path file = dir_.path() / "credentials.json";
  ASSERT_TRUE(write_private_file(file, "{\"a\":1}\n").ok());
  EXPECT_EQ(read_all(file), "{\"a\":1}\n");
  ASSERT_TRUE(write_private_file(file, "{}").ok());
  EXPECT_EQ(read_all(file), "{}");
#ifndef _WIN32
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
#endif
  auto missing_dir = write_private_file(dir_.path() / "no-such-dir" / "x", "y");
  ASSERT_FALSE(missing_dir.ok());
  EXPECT_EQ(missing_dir.error().code, kErrSecretStore);
}

TEST(SecretWipe, ClearsTheString) {
  std::string secret = kSecret;
  wipe(secret);
  EXPECT_TRUE(secret.empty());
}

#ifndef _WIN32

TEST_F(SecretStoreTest, PosixFileIsTheDataDirsClientSecretWithMode0600EvenUnderAWideUmask) {
  EXPECT_EQ(store_.path(), dir_.path() / "client-secret");
  const mode_t old_umask = ::umask(0);  // the widest: a careless creat() would give 0666
  auto saved = store_.save(kSecret);
  ::umask(old_umask);
  ASSERT_TRUE(saved.ok()) << saved.error().message;
  struct stat st {};
  ASSERT_EQ(::stat(store_.path().c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(read_all(store_.path()), kSecret) << "plain bytes, no newline";
}

TEST_F(SecretStoreTest, PosixHandWrittenFileWithNewlineStillWorksAndALooseModeIsTightened) {
  write_raw(store_.path(), std::string(kSecret) + "\r\n");
  ASSERT_EQ(::chmod(store_.path().c_str(), 0644), 0);
  auto loaded = store_.load();
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  EXPECT_EQ(**loaded, kSecret);
  struct stat st {};
  ASSERT_EQ(::stat(store_.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "tightened on read";
}

TEST_F(SecretStoreTest, PosixSymlinkAndDirectoryAreRefused) {
  const fs::path elsewhere = dir_.path() / "elsewhere";
  write_raw(elsewhere, kSecret);
  fs::create_symlink(elsewhere, store_.path());
  auto linked = store_.load();
  ASSERT_FALSE(linked.ok());
  EXPECT_NE(linked.error().message.find("symbolic link"), std::string::npos);
  // Saving replaces the link itself, never writes through it.
  ASSERT_TRUE(store_.save("replacement-secret").ok());
  EXPECT_FALSE(fs::is_symlink(store_.path()));
  EXPECT_EQ(read_all(elsewhere), kSecret);

  fs::remove(store_.path());
  fs::create_directory(store_.path());
  auto directory = store_.load();
  ASSERT_FALSE(directory.ok());
  EXPECT_NE(directory.error().message.find("not a regular file"), std::string::npos);
}

TEST_F(SecretStoreTest, PosixMultiLineFileIsDamaged) {
  write_raw(store_.path(), "first-line\nsecond-line\n");
  auto loaded = store_.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("damaged"), std::string::npos);
}

#else

TEST_F(SecretStoreTest, WindowsFileIsADpapiBlobWithoutThePlaintext) {
  EXPECT_EQ(store_.path(), dir_.path() / "client-secret.dpapi");
  ASSERT_TRUE(store_.save(kSecret).ok());
  const std::string bytes = read_all(store_.path());
  EXPECT_EQ(bytes.rfind("hangar-client-secret dpapi v1\n", 0), 0u);
  EXPECT_EQ(bytes.find(kSecret), std::string::npos) << "the file must not hold the plaintext";
  EXPECT_GT(bytes.size(), 64u);
  EXPECT_EQ(**store_.load(), kSecret);
}

TEST_F(SecretStoreTest, WindowsTamperedBlobFailsToDecryptWithAClearError) {
  ASSERT_TRUE(store_.save(kSecret).ok());
  std::string bytes = read_all(store_.path());
  bytes[bytes.size() - 5] = static_cast<char>(bytes[bytes.size() - 5] ^ 0x5a);
  write_raw(store_.path(), bytes);
  auto loaded = store_.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.error().code, kErrSecretStore);
  EXPECT_NE(loaded.error().message.find("cannot decrypt"), std::string::npos)
      << loaded.error().message;
  EXPECT_NE(loaded.error().message.find("set-credentials"), std::string::npos);
}

TEST_F(SecretStoreTest, WindowsPlainTextInTheDpapiFileIsNotAccepted) {
  write_raw(store_.path(), std::string(kSecret) + "\r\n");
  auto loaded = store_.load();
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.error().message.find("not a protected Hangar client secret"), std::string::npos)
      << loaded.error().message;
}

#endif

}  // namespace
}  // namespace hangar::service
