// path_list_*: the installer's edits of the machine PATH add the install folder once, remove only
// it, and leave every other entry as it was.
#include <gtest/gtest.h>

#include "path_list.h"

namespace hangar::service {
namespace {

constexpr const char* kDir = "C:\\Program Files\\Hangar";

TEST(PathList, AddsTheFolderOnce) {
  EXPECT_EQ(path_list_with("C:\\Windows;C:\\Windows\\system32", kDir),
            "C:\\Windows;C:\\Windows\\system32;C:\\Program Files\\Hangar");
  const std::string once = path_list_with("C:\\Windows", kDir);
  EXPECT_EQ(path_list_with(once, kDir), once);
  // The same folder spelt differently is already there.
  for (const char* spelling : {"c:\\program files\\hangar", "C:\\Program Files\\Hangar\\",
                               "\"C:\\Program Files\\Hangar\"", "C:/Program Files/Hangar"}) {
    const std::string list = std::string("C:\\Windows;") + spelling;
    EXPECT_EQ(path_list_with(list, kDir), list) << spelling;
    EXPECT_TRUE(path_list_contains(list, kDir)) << spelling;
  }
}

TEST(PathList, NoEmptyEntries) {
  EXPECT_EQ(path_list_with("", kDir), kDir);
  EXPECT_EQ(path_list_with("C:\\Windows;", kDir), "C:\\Windows;C:\\Program Files\\Hangar");
}

TEST(PathList, RemovesOnlyTheFolder) {
  EXPECT_EQ(path_list_without("C:\\Windows;C:\\Program Files\\Hangar\\;%SystemRoot%\\x", kDir),
            "C:\\Windows;%SystemRoot%\\x");
  EXPECT_EQ(path_list_without("C:\\Program Files\\Hangar", kDir), "");
  // A folder that merely starts the same is another folder.
  EXPECT_EQ(path_list_without("C:\\Program Files\\Hangar2;C:\\Program Files\\Hangar\\bin", kDir),
            "C:\\Program Files\\Hangar2;C:\\Program Files\\Hangar\\bin");
  EXPECT_FALSE(path_list_contains("C:\\Program Files\\Hangar2", kDir));
  EXPECT_FALSE(path_list_contains("", kDir));
}

}  // namespace
}  // namespace hangar::service
