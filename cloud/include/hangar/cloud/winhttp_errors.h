// Whether a request WinHTTP failed with a given error code can have reached the server: the
// Windows transport's "never sent" rule (cpprest's WinHTTP client keeps WinHTTP's own code). A pure
// function over the numbers, so every platform compiles and tests it.
//
// The codes and their meanings are Microsoft's: "Error Messages (Winhttp.h)",
// https://learn.microsoft.com/windows/win32/winhttp/error-messages
#pragma once

#include <cstdint>

namespace hangar::cloud::winhttp {

// Before the request: the URL itself was refused.
// ERROR_WINHTTP_INVALID_URL
inline constexpr std::uint32_t kInvalidUrl = 12005;
// ERROR_WINHTTP_UNRECOGNIZED_SCHEME
inline constexpr std::uint32_t kUnrecognizedScheme = 12006;
// Before the connection: "The server name cannot be resolved."
// ERROR_WINHTTP_NAME_NOT_RESOLVED
inline constexpr std::uint32_t kNameNotResolved = 12007;
// "Returned if connection to the server failed."
// ERROR_WINHTTP_CANNOT_CONNECT
inline constexpr std::uint32_t kCannotConnect = 12029;
// The TLS handshake, which ends before a byte of the request is written: the server's
// certificate refused (date, name, untrusted root, revocation, usage, invalid), a secure channel
// (SEC_E_*) error, or "One or more errors were found in the SSL certificate sent by the server".
// ERROR_WINHTTP_SECURE_CERT_DATE_INVALID
inline constexpr std::uint32_t kSecureCertDateInvalid = 12037;
// ERROR_WINHTTP_SECURE_CERT_CN_INVALID
inline constexpr std::uint32_t kSecureCertCnInvalid = 12038;
// ERROR_WINHTTP_SECURE_INVALID_CA
inline constexpr std::uint32_t kSecureInvalidCa = 12045;
// ERROR_WINHTTP_SECURE_CERT_REV_FAILED
inline constexpr std::uint32_t kSecureCertRevFailed = 12057;
// ERROR_WINHTTP_SECURE_CHANNEL_ERROR
inline constexpr std::uint32_t kSecureChannelError = 12157;
// ERROR_WINHTTP_SECURE_INVALID_CERT
inline constexpr std::uint32_t kSecureInvalidCert = 12169;
// ERROR_WINHTTP_SECURE_CERT_REVOKED
inline constexpr std::uint32_t kSecureCertRevoked = 12170;
// ERROR_WINHTTP_SECURE_FAILURE
inline constexpr std::uint32_t kSecureFailure = 12175;
// ERROR_WINHTTP_SECURE_CERT_WRONG_USAGE
inline constexpr std::uint32_t kSecureCertWrongUsage = 12179;

// In doubt: the request can have been written before these.
// "The request has timed out" (also TCP/IP's own time-out): after the write as well as before.
// ERROR_WINHTTP_TIMEOUT
inline constexpr std::uint32_t kTimeout = 12002;
// "The operation was canceled, usually because the handle ... was closed": at any point.
// ERROR_WINHTTP_OPERATION_CANCELLED
inline constexpr std::uint32_t kOperationCancelled = 12017;
// "The connection with the server has been reset or terminated, or an incompatible SSL protocol
// was encountered": the code does not say whether before or after the request was written (a
// server that reset the connection after reading the request gives it too).
// ERROR_WINHTTP_CONNECTION_ERROR
inline constexpr std::uint32_t kConnectionError = 12030;
// "The WinHTTP function failed. The desired function can be retried on the same request handle."
// ERROR_WINHTTP_RESEND_REQUEST
inline constexpr std::uint32_t kResendRequest = 12032;
// "The server response cannot be parsed": a server answered, so it had the request.
// ERROR_WINHTTP_INVALID_SERVER_RESPONSE
inline constexpr std::uint32_t kInvalidServerResponse = 12152;

// True when WinHTTP's `code` says the request never left (the URL refused, the name not resolved,
// the connect or the TLS handshake failed): it is safe to send again as a first attempt. False for
// every other code, the unknown ones included (a write in doubt must be settled by reading the
// cloud's state, never by assuming it was not done).
bool never_sent(std::uint32_t code);

}  // namespace hangar::cloud::winhttp
