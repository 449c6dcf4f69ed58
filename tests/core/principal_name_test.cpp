// Entra ID's user principal name rule, the one check behind the CSV's Assigned User column,
// `import --user` and `deliver --user` (issue 13): its edges, each with what the message says.
#include "hangar/core/principal_name.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace hangar::core {
namespace {

TEST(PrincipalName, AcceptsWhatEntraIdAccepts) {
  for (const std::string& upn : std::vector<std::string>{
           "ada@contoso.com", "a@b", "o'brien@contoso.com", "first.last@sub.contoso.co.uk",
           "x-y_z!#^~@host-1.example", "UPPER@CONTOSO.COM", "1234@5678",
           std::string(64, 'n') + "@" + std::string(48, 'd')}) {
    EXPECT_TRUE(is_user_principal_name(upn)) << upn << ": " << user_principal_name_problem(upn);
  }
}

TEST(PrincipalName, RefusesEachBrokenRuleAndSaysWhich) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "is empty"},
      {"ada", "has no @ (name@domain)"},
      {"ada@contoso@com", "has more than one @"},
      {"@contoso.com", "has nothing before the @"},
      {"ada@", "has no domain after the @"},
      {"ada lovelace@contoso.com",
       "has a space before the @ (only letters, digits and "
       "' . - _ ! # ^ ~)"},
      {"ada+tag@contoso.com", "has '+' before the @ (only letters, digits and ' . - _ ! # ^ ~)"},
      {"ada@contoso.com?$select=id", "has '?' in its domain (only letters, digits, '.' and '-')"},
      {"ada@contoso.com/x", "has '/' in its domain (only letters, digits, '.' and '-')"},
      {"ada@contoso.com ", "has a space in its domain (only letters, digits, '.' and '-')"},
      {"ada\n@contoso.com",
       "has a line break before the @ (only letters, digits and "
       "' . - _ ! # ^ ~)"},
      {"j\xC3\xB6rg@contoso.com",
       "has byte 0xC3 (not ASCII) before the @ (only letters, "
       "digits and ' . - _ ! # ^ ~)"},
      {"ada.@contoso.com", "has a period right before the @"},
      {"ada@contoso.", "has an empty part in its domain \"contoso.\""},
      {"ada@.contoso.com", "has an empty part in its domain \".contoso.com\""},
      {"ada@contoso..com", "has an empty part in its domain \"contoso..com\""},
      {std::string(65, 'n') + "@contoso.com", "has 65 characters before the @; Entra ID takes 64"},
      {"ada@" + std::string(49, 'd'), "has 49 characters after the @; Entra ID takes 48"},
  };
  for (const auto& [upn, says] : cases) {
    EXPECT_FALSE(is_user_principal_name(upn)) << upn;
    EXPECT_EQ(user_principal_name_problem(upn), says) << upn;
  }
}

// Issue 13, finding 3: the one trim of a user or a tag, the CSV's cells' and --user's.
TEST(PrincipalName, BlanksAroundANameAreNotPartOfIt) {
  EXPECT_EQ(trim_blanks(" ada@contoso.com"), "ada@contoso.com");
  EXPECT_EQ(trim_blanks("\tada@contoso.com \r\n"), "ada@contoso.com");
  EXPECT_EQ(trim_blanks("\v\f ada@contoso.com\f"), "ada@contoso.com");
  EXPECT_EQ(trim_blanks("ada lovelace@contoso.com"), "ada lovelace@contoso.com");  // inside stays
  EXPECT_EQ(trim_blanks("  \t\r\n"), "");
  EXPECT_EQ(trim_blanks(""), "");
  EXPECT_TRUE(is_user_principal_name(trim_blanks("  ada@contoso.com  ")));
}

}  // namespace
}  // namespace hangar::core
