// OutputFile (issue 11): the files merge -o and export -o write are created under fresh names
// without following links, and renamed over the target, so a link another user planted in the
// output folder (under the final name or any temporary one) never redirects the write.
#include "hangar/core/output_file.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace hangar::core {
namespace {

using testing::TempDir;

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A symbolic link, or why this system cannot make one (Wine without symlink support, say).
std::string plant_link(const std::filesystem::path& target, const std::filesystem::path& link) {
  std::error_code ec;
  std::filesystem::create_symlink(target, link, ec);
  return ec ? ec.message() : std::string();
}

TEST(OutputFile, WritesTheContentUnderTheTargetNameAndLeavesNothingElse) {
  TempDir dir;
  const auto target = dir.path() / "out.json";
  ASSERT_TRUE(write_output_file(target, "[1,2,3]\n").ok());
  EXPECT_EQ(read_file(target), "[1,2,3]\n");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.json"});
  // Again: the existing file is replaced whole (shorter content, no stale tail).
  ASSERT_TRUE(write_output_file(target, "[]\n").ok());
  EXPECT_EQ(read_file(target), "[]\n");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"out.json"});
}

TEST(OutputFile, WritesInPiecesAndTheTemporaryNameIsFreshEachTime) {
  TempDir dir;
  const auto target = dir.path() / "big.csv";
  auto first = OutputFile::create(target);
  auto second = OutputFile::create(target);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_NE(first->temporary(), second->temporary());
  EXPECT_EQ(first->temporary().parent_path(), dir.path());
  const std::string name = first->temporary().filename().string();
  EXPECT_EQ(name.rfind("big.csv.", 0), 0U) << name;
  EXPECT_EQ(name.size(), std::string("big.csv.").size() + 16 + std::string(".partial").size());
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const std::string row = "row " + std::to_string(i) + "\r\n";
    ASSERT_TRUE(first->write(row).ok());
    expected += row;
  }
  EXPECT_FALSE(std::filesystem::exists(target)) << "the target appears only on commit";
  ASSERT_TRUE(first->commit().ok());
  EXPECT_EQ(read_file(target), expected);
  second->discard();
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"big.csv"});
}

TEST(OutputFile, AnAbandonedFileLeavesTheTargetAsItWas) {
  TempDir dir;
  const auto target = dir.path() / "kept.csv";
  ASSERT_TRUE(write_output_file(target, "old\n").ok());
  {
    auto file = OutputFile::create(target);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->write("half a ro").ok());
  }  // destroyed without commit: a failure or an exception in the caller
  EXPECT_EQ(read_file(target), "old\n");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"kept.csv"});
}

TEST(OutputFile, AMissingFolderOrAFolderAsTargetIsAClearError) {
  TempDir dir;
  auto missing = write_output_file(dir.path() / "no-such-folder" / "out.csv", "x");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, kOutputWriteFailedCode);
  EXPECT_NE(missing.error().message.find("no-such-folder"), std::string::npos)
      << missing.error().message;
  EXPECT_NE(missing.error().message.find("does the folder exist"), std::string::npos);

  std::filesystem::create_directories(dir.path() / "folder");
  auto folder = write_output_file(dir.path() / "folder", "x");
  ASSERT_FALSE(folder.ok());
  EXPECT_NE(folder.error().message.find("cannot replace"), std::string::npos)
      << folder.error().message;
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"folder"}) << "no temporary file left";
  EXPECT_TRUE(std::filesystem::is_empty(dir.path() / "folder"));

  auto nameless = write_output_file(dir.path() / "", "x");
  ASSERT_FALSE(nameless.ok());
  EXPECT_NE(nameless.error().message.find("names no file"), std::string::npos);
}

// The tester's attack: a link at the final name pointing at a file outside the folder. The write
// replaces the link with the new file; the file it pointed at keeps its content.
TEST(OutputFile, ALinkPlantedAtTheTargetNameIsReplacedNotFollowed) {
  TempDir dir;
  const auto victim = dir.path() / "victim";
  std::filesystem::create_directories(dir.path() / "share");
  ASSERT_TRUE(write_output_file(victim, "precious\n").ok());
  const auto target = dir.path() / "share" / "q.json";
  if (auto why = plant_link(victim, target); !why.empty()) {
    GTEST_SKIP() << "cannot create a symbolic link here: " << why;
  }
  ASSERT_TRUE(write_output_file(target, "[]\n").ok());
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_FALSE(std::filesystem::is_symlink(target));
  EXPECT_TRUE(std::filesystem::is_regular_file(target));
  EXPECT_EQ(read_file(target), "[]\n");
  EXPECT_EQ(names_in(dir.path() / "share"), std::vector<std::string>{"q.json"});
}

// Links planted under the temporary names: the predictable "q.json.partial" of old, and the very
// names the name source will return (the real one is random; a test can make it known). Each is
// skipped as taken, never opened; the file is created under the next free name.
TEST(OutputFile, LinksPlantedAtTemporaryNamesAreNeverFollowed) {
  TempDir dir;
  const auto victim = dir.path() / "victim";
  const auto dangling = dir.path() / "created-through-a-link";
  const auto share = dir.path() / "share";
  std::filesystem::create_directories(share);
  ASSERT_TRUE(write_output_file(victim, "precious\n").ok());
  const auto target = share / "up.csv";
  if (auto why = plant_link(victim, share / "up.csv.partial"); !why.empty()) {
    GTEST_SKIP() << "cannot create a symbolic link here: " << why;
  }
  ASSERT_EQ(plant_link(victim, share / "up.csv.guess1.partial"), "");
  ASSERT_EQ(plant_link(dangling, share / "up.csv.guess2.partial"), "");
  std::vector<std::string> suffixes{"guess1", "guess2", "free"};
  std::size_t next = 0;
  auto file = OutputFile::create(target, [&] { return suffixes.at(next++); });
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->temporary(), share / "up.csv.free.partial");
  ASSERT_TRUE(file->write("Device Serial Number\r\n").ok());
  ASSERT_TRUE(file->commit().ok());
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_FALSE(std::filesystem::exists(dangling)) << "a dangling link's target was created";
  EXPECT_EQ(read_file(target), "Device Serial Number\r\n");
  EXPECT_TRUE(std::filesystem::is_symlink(share / "up.csv.guess1.partial"));
  EXPECT_TRUE(std::filesystem::is_symlink(share / "up.csv.guess2.partial"));

  // Every name taken: a clear error after a bounded number of tries, nothing written anywhere.
  next = 0;
  auto cornered = OutputFile::create(target, [&] { return next++ % 2 ? "guess1" : "guess2"; });
  ASSERT_FALSE(cornered.ok());
  EXPECT_NE(cornered.error().message.find("were all taken"), std::string::npos)
      << cornered.error().message;
  EXPECT_EQ(next, 16U);
  EXPECT_EQ(read_file(victim), "precious\n");
  EXPECT_FALSE(std::filesystem::exists(dangling));
}

// The same without links (Wine cannot make them): files that already have the temporary names are
// skipped, never opened or truncated, on every platform.
TEST(OutputFile, FilesAtTheTemporaryNamesAreNeverOpened) {
  TempDir dir;
  const auto target = dir.path() / "up.csv";
  ASSERT_TRUE(write_output_file(dir.path() / "up.csv.taken.partial", "someone else's\n").ok());
  std::vector<std::string> suffixes{"taken", "free"};
  std::size_t next = 0;
  auto file = OutputFile::create(target, [&] { return suffixes.at(next++); });
  ASSERT_TRUE(file.ok()) << file.error().message;
  EXPECT_EQ(file->temporary(), dir.path() / "up.csv.free.partial");
  ASSERT_TRUE(file->write("mine\n").ok());
  ASSERT_TRUE(file->commit().ok());
  EXPECT_EQ(read_file(target), "mine\n");
  EXPECT_EQ(read_file(dir.path() / "up.csv.taken.partial"), "someone else's\n");

  auto cornered = OutputFile::create(target, [] { return std::string("taken"); });
  ASSERT_FALSE(cornered.ok());
  EXPECT_NE(cornered.error().message.find("were all taken"), std::string::npos)
      << cornered.error().message;
  EXPECT_EQ(read_file(dir.path() / "up.csv.taken.partial"), "someone else's\n");
  EXPECT_EQ(read_file(target), "mine\n");
}

}  // namespace
}  // namespace hangar::core
