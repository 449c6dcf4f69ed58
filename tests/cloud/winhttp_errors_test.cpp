// The Windows transport's "never sent" rule over WinHTTP's error codes, checked on every platform:
// a code wrongly taken for "never sent" would make a write in doubt be sent again as new.
#include "hangar/cloud/winhttp_errors.h"

#include <gtest/gtest.h>

namespace hangar::cloud::winhttp {
namespace {

TEST(WinHttpErrors, TheNumbersAreWinHttpsOwn) {
  // winhttp.h's values (Microsoft Learn, "Error Messages (Winhttp.h)"): a typo here would map a
  // code nobody sends.
  EXPECT_EQ(kTimeout, 12002u);
  EXPECT_EQ(kInvalidUrl, 12005u);
  EXPECT_EQ(kUnrecognizedScheme, 12006u);
  EXPECT_EQ(kNameNotResolved, 12007u);
  EXPECT_EQ(kOperationCancelled, 12017u);
  EXPECT_EQ(kCannotConnect, 12029u);
  EXPECT_EQ(kConnectionError, 12030u);
  EXPECT_EQ(kResendRequest, 12032u);
  EXPECT_EQ(kSecureCertDateInvalid, 12037u);
  EXPECT_EQ(kSecureCertCnInvalid, 12038u);
  EXPECT_EQ(kSecureInvalidCa, 12045u);
  EXPECT_EQ(kSecureCertRevFailed, 12057u);
  EXPECT_EQ(kInvalidServerResponse, 12152u);
  EXPECT_EQ(kSecureChannelError, 12157u);
  EXPECT_EQ(kSecureInvalidCert, 12169u);
  EXPECT_EQ(kSecureCertRevoked, 12170u);
  EXPECT_EQ(kSecureFailure, 12175u);
  EXPECT_EQ(kSecureCertWrongUsage, 12179u);
}

TEST(WinHttpErrors, FailuresBeforeTheRequestIsWrittenAreNeverSent) {
  for (std::uint32_t code :
       {kInvalidUrl, kUnrecognizedScheme, kNameNotResolved, kCannotConnect, kSecureCertDateInvalid,
        kSecureCertCnInvalid, kSecureInvalidCa, kSecureCertRevFailed, kSecureChannelError,
        kSecureInvalidCert, kSecureCertRevoked, kSecureFailure, kSecureCertWrongUsage}) {
    EXPECT_TRUE(never_sent(code)) << code;
  }
}

TEST(WinHttpErrors, FailuresThatCanFollowTheWriteAreInDoubt) {
  // A time-out, a reset connection, a cancel, an answer that could not be parsed: the server can
  // have the request.
  for (std::uint32_t code :
       {kTimeout, kConnectionError, kOperationCancelled, kResendRequest, kInvalidServerResponse}) {
    EXPECT_FALSE(never_sent(code)) << code;
  }
  // Codes this rule does not know, Windows' own (ERROR_NOT_ENOUGH_MEMORY 8) and none at all.
  for (std::uint32_t code : {0u, 8u, 12001u, 12004u, 12031u, 12044u, 12999u, 0xFFFFFFFFu}) {
    EXPECT_FALSE(never_sent(code)) << code;
  }
}

}  // namespace
}  // namespace hangar::cloud::winhttp
