// The one vocabulary of cloud failures. Every cloud call fails with a core::Error whose `code` is
// one of the kErr* codes below (stable: they cross the IPC boundary and the engine retries on
// them), whose `http_status`, `request_id`, `client_request_id`, `retry_after` and `remote_code`
// (Graph's error.code) come from the answer, and whose `category` is a cloud::Failure: the finer
// cause, decided once where the answer is read (graph_client) so that no pass or handler has to
// search the message text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hangar/core/result.h"

namespace hangar::cloud {

// Transport failures (never an HTTP status: a 500 is a response, not an error).
// kErrNetwork: refused, reset, DNS, dropped mid-answer. Its cause (failure_of) tells whether the
// request may have reached the cloud (kNetwork) or certainly never left (kNotSent).
inline constexpr char kErrNetwork[] = "network";
inline constexpr char kErrTimeout[] = "timeout";           // no complete answer in time
inline constexpr char kErrInsecureUrl[] = "insecure_url";  // http:// to a host that is not loopback
// Answers. The engine decides from them whether to retry.
inline constexpr char kErrThrottled[] = "throttled";  // 429: wait Error::retry_after or back off
inline constexpr char kErrTransient[] = "transient";  // 5xx, StorageError: retry with backoff
inline constexpr char kErrAuth[] = "auth";            // credentials refused: needs the admin
inline constexpr char kErrRejected[] = "rejected";    // 4xx about the request itself
inline constexpr char kErrNotConfigured[] = "not_configured";
// A write was answered 2xx but the answer was cut off or not JSON: the cloud may have done it. The
// caller must find out (look the devices up) before it sends the same write again.
inline constexpr char kErrInDoubt[] = "in_doubt";

// The cause of a cloud failure, HTTP call or import record. The first group maps one to one onto
// the codes above, except kNotSent (kErrNetwork too); the HTTP refusals (kNotFound .. kRejected)
// all carry kErrRejected; the import record outcomes (kAlreadyRegistered ..) are Intune's
// state.deviceErrorCode/deviceErrorName.
enum class Failure : std::uint8_t {
  kNone = 0,           // no failure, or an error that no cloud call produced
  kNetwork,            // kErrNetwork
  kTimeout,            // kErrTimeout
  kInsecureUrl,        // kErrInsecureUrl
  kNotConfigured,      // kErrNotConfigured
  kThrottled,          // 429
  kTransient,          // 5xx, a StorageError body, an answer that cannot be read
  kAuth,               // 401, 403, the token endpoint's 400
  kInDoubt,            // kErrInDoubt
  kNotFound,           // 404: the object does not exist (or is not a member)
  kInvalidHash,        // 400 on the hardware hash ("... the expected type 'Edm.Binary'")
  kAlreadyExists,      // 400 "One or more added object references already exist"
  kRejected,           // any other 4xx
  kAlreadyRegistered,  // 806 ZtdDeviceAlreadyAssigned: in this tenant already
  kOtherTenant,        // 808 ZtdDeviceAssignedToOtherTenant
  kDuplicated,         // ZtdDeviceDuplicated: the same hash under another serial
  kDeviceNotFound,     // ZtdDeviceNotFound, DeviceNotFound
  kImportFailed,       // any other import error code or name
  // kErrNetwork, and the request certainly never left this machine: the access token could not be
  // had, the name did not resolve, no connection (refused, unreachable, no answer to the connect),
  // the TLS handshake failed, or the request's head was never written whole. A write that failed
  // so was not done: it can be sent again (or given up) without looking anything up.
  kNotSent,
};

// The wire name of each cause ("not_found", "invalid_hash", "other_tenant", ...): for logs and
// replies; one table, parse_failure reads it back.
std::string_view failure_name(Failure failure);
std::optional<Failure> parse_failure(std::string_view name);

// The kErr* code a cause travels under (kNotFound .. kRejected: kErrRejected; import outcomes:
// kErrRejected too, they are refusals of one device).
const char* failure_code(Failure failure);

// The cause of a failed call: `category` when the cloud client set it, else read from `code`
// (transport errors made before any answer).
Failure failure_of(const core::Error& error);

// Graph's error body, read once: {"error":{"code":..,"message":..,"innerError":{"request-id":..,
// "client-request-id":..}}}, Intune's JSON document inside `message` unwrapped to its Message,
// OAuth2's {"error":"invalid_client","error_description":..}; `text` is what a person reads
// ("code: message"; anything that is not such a body: its first 200 characters).
struct GraphErrorBody {
  std::string code;
  std::string message;
  std::string request_id;
  std::string client_request_id;
  std::string text;
};
GraphErrorBody parse_graph_error(std::string_view body);

// The cause of a non-2xx answer from its status and body: the one place that reads an error
// answer's meaning.
Failure classify_answer(int status, std::string_view body);
// The cause of an import record's error (state.deviceErrorCode / deviceErrorName).
Failure classify_import_error(std::optional<long long> code, std::string_view name);

// Sets `category` and `code` (failure_code) together.
void set_failure(core::Error& error, Failure failure);

// The cloud could not be reached (kErrNetwork or kErrTimeout, whether or not the request left):
// the caller works offline and probes again later.
bool unreachable(const core::Error& error);
// The request certainly never left (kNotSent): no write of it can have been done.
bool never_sent(const core::Error& error);

}  // namespace hangar::cloud
