// The owner of a loopback listener (loopback_listener.h): /proc/net/tcp{,6} on Linux, the TCP
// table with owning processes on Windows.
#include "loopback_listener.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <vector>

#include "hangar/cloud/cloud_error.h"

#ifdef _WIN32
// winsock2.h before windows.h, iphlpapi.h after both.
#include <winsock2.h>
// clang-format off
#include <ws2tcpip.h>
#include <windows.h>
#include <iphlpapi.h>
// clang-format on
#else
#include <unistd.h>

#include <fstream>
#include <sstream>
#endif

namespace hangar::cloud {

namespace {

// "http://127.0.0.1:8710/beta" -> 8710; 80 without a port; nullopt when it is not a number.
std::optional<std::uint16_t> port_of(const std::string& url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  std::string authority = url.substr(scheme_end + 3);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const auto at = authority.rfind('@'); at != std::string::npos) {
    authority = authority.substr(at + 1);
  }
  std::size_t colon = std::string::npos;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return std::nullopt;
    if (close + 1 < authority.size() && authority[close + 1] == ':') colon = close + 1;
  } else {
    colon = authority.find(':');
  }
  if (colon == std::string::npos) return std::uint16_t{80};
  const std::string digits = authority.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  const unsigned long value = std::stoul(digits);
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

core::Error refused(const std::string& url, const std::string& who) {
  core::Error error = core::make_error(
      kErrNetwork,
      "refusing " + url + ": that port is served by " + who +
          ", not by this service's account or the system's, and hardware hashes and a token "
          "would go to it (the request was not sent); stop that process, or point cloud_url at a "
          "simulated cloud started by the service's own account");
  set_failure(error, Failure::kNotSent);
  return error;
}

#ifdef _WIN32

// The TCP table's port: the low 16 bits, in network byte order (ntohs without ws2_32).
std::uint16_t network_port(DWORD value) {
  return static_cast<std::uint16_t>(((value & 0xFFu) << 8) | ((value >> 8) & 0xFFu));
}

// The pids listening on `port` (IPv4 and IPv6).
std::vector<DWORD> listener_pids(std::uint16_t port) {
  std::vector<DWORD> pids;
  for (const ULONG family : {static_cast<ULONG>(AF_INET), static_cast<ULONG>(AF_INET6)}) {
    ULONG size = 0;
    if (GetExtendedTcpTable(nullptr, &size, FALSE, family, TCP_TABLE_OWNER_PID_LISTENER, 0) !=
            ERROR_INSUFFICIENT_BUFFER ||
        size == 0) {
      continue;
    }
    std::vector<unsigned char> buffer(size);
    if (GetExtendedTcpTable(buffer.data(), &size, FALSE, family, TCP_TABLE_OWNER_PID_LISTENER, 0) !=
        NO_ERROR) {
      continue;
    }
    if (family == AF_INET) {
      const auto* table = reinterpret_cast<const MIB_TCPTABLE_OWNER_PID*>(buffer.data());
      for (DWORD i = 0; i < table->dwNumEntries; ++i) {
        if (network_port(table->table[i].dwLocalPort) == port) {
          pids.push_back(table->table[i].dwOwningPid);
        }
      }
    } else {
      const auto* table = reinterpret_cast<const MIB_TCP6TABLE_OWNER_PID*>(buffer.data());
      for (DWORD i = 0; i < table->dwNumEntries; ++i) {
        if (network_port(table->table[i].dwLocalPort) == port) {
          pids.push_back(table->table[i].dwOwningPid);
        }
      }
    }
  }
  return pids;
}

// The account (token user SID) of a process; empty when it cannot be told.
std::vector<unsigned char> account_of(HANDLE process) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(process, TOKEN_QUERY, &token)) return {};
  DWORD size = 0;
  GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  std::vector<unsigned char> user(size);
  const bool ok = size > 0 && GetTokenInformation(token, TokenUser, user.data(), size, &size);
  CloseHandle(token);
  if (!ok) return {};
  return user;
}

#endif

}  // namespace

core::Status check_loopback_listener(const std::string& url) {
  const auto port = port_of(url);
  if (!port) return {};
#ifdef _WIN32
  const auto mine = account_of(GetCurrentProcess());
  if (mine.empty()) return {};
  const PSID my_sid = reinterpret_cast<const TOKEN_USER*>(mine.data())->User.Sid;
  for (const DWORD pid : listener_pids(*port)) {
    if (pid == 0 || pid == GetCurrentProcessId()) continue;
    HANDLE process = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (process == nullptr) continue;  // cannot be told (see the header)
    const auto theirs = account_of(process);
    CloseHandle(process);
    if (theirs.empty()) continue;
    const PSID their_sid = reinterpret_cast<const TOKEN_USER*>(theirs.data())->User.Sid;
    if (EqualSid(my_sid, their_sid) || IsWellKnownSid(their_sid, WinLocalSystemSid)) continue;
    return refused(url, "the process " + std::to_string(pid) + " of another account");
  }
  return {};
#else
  // /proc/net/tcp: "sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid
  // ...", the address as hex "0100007F:1FFE" (the port in big-endian hex), st 0A = LISTEN. A
  // listener on any address (0.0.0.0, ::) serves the loopback one too.
  const uid_t me = ::geteuid();
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    if (!in || !std::getline(in, line)) continue;  // the header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits;
      long uid = -1;
      if (!(fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid)) {
        continue;
      }
      if (state != "0A") continue;
      const auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      unsigned long local_port = 0;
      try {
        local_port = std::stoul(local.substr(colon + 1), nullptr, 16);
      } catch (...) {
        continue;
      }
      if (local_port != *port) continue;
      if (uid == 0 || uid == static_cast<long>(me)) continue;
      return refused(url, "another user's process (uid " + std::to_string(uid) + ")");
    }
  }
  return {};
#endif
}

}  // namespace hangar::cloud
