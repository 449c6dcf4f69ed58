// Who may open the pipe (its security descriptor) and who may write (the peer's identity), private
// to the named-pipe transport. Header-only because named_pipe.cpp is its only user.
#pragma once

#include "win32.h"

#include <sddl.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "hangar/ipc/transport.h"
#include "unique_handle.h"
#include "win_text.h"

namespace hangar::ipc::win {

// Access masks spelled out in hex so the DACL says exactly what it grants: SDDL's "GW" would map
// to FILE_GENERIC_WRITE, which includes FILE_APPEND_DATA == FILE_CREATE_PIPE_INSTANCE, and anyone
// holding that can create their own instance of our pipe and impersonate the service to clients.
inline constexpr DWORD kFullControl = 0x001F01FF;  // FILE_ALL_ACCESS
// FILE_GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES (read/write data and pipe state).
inline constexpr DWORD kOperatorAccess = 0x0012018B;
// FILE_GENERIC_READ | FILE_WRITE_DATA: enough to send requests and read replies, nothing more.
inline constexpr DWORD kUserAccess = 0x0012008B;
// What clients ask for in CreateFileW. Not GENERIC_WRITE: that maps to FILE_GENERIC_WRITE and
// would request FILE_APPEND_DATA, which the DACL deliberately withholds from ordinary users.
inline constexpr DWORD kClientAccess = GENERIC_READ | FILE_WRITE_DATA;

using SidBytes = std::vector<unsigned char>;

inline PSID as_sid(const SidBytes& sid) {
  return sid.empty() ? nullptr : const_cast<unsigned char*>(sid.data());
}

inline std::string sid_string(PSID sid) {
  if (sid == nullptr) return {};
  wchar_t* text = nullptr;
  if (!::ConvertSidToStringSidW(sid, &text)) return {};
  LocalPtr<wchar_t> owned(text);
  return to_utf8(text);
}

inline SidBytes copy_sid(PSID sid) {
  if (sid == nullptr || !::IsValidSid(sid)) return {};
  auto* bytes = static_cast<unsigned char*>(sid);
  return SidBytes(bytes, bytes + ::GetLengthSid(sid));
}

inline SidBytes well_known_sid(WELL_KNOWN_SID_TYPE type) {
  SidBytes sid(SECURITY_MAX_SID_SIZE);
  DWORD size = static_cast<DWORD>(sid.size());
  if (!::CreateWellKnownSid(type, nullptr, sid.data(), &size)) return {};
  sid.resize(size);
  return sid;
}

// The user SID of a token (TokenUser), empty on failure.
inline SidBytes token_user_sid(HANDLE token) {
  DWORD size = 0;
  ::GetTokenInformation(token, TokenUser, nullptr, 0, &size);
  if (size == 0) return {};
  std::vector<unsigned char> buffer(size);
  if (!::GetTokenInformation(token, TokenUser, buffer.data(), size, &size)) return {};
  return copy_sid(reinterpret_cast<TOKEN_USER*>(buffer.data())->User.Sid);
}

inline SidBytes process_user_sid() {
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(::GetCurrentProcess(), TOKEN_QUERY, &raw)) return {};
  UniqueHandle token(raw);
  return token_user_sid(token.get());
}

// Resolves a local account or group name; empty when it does not exist (listen() refuses a
// configured operators group that does not).
inline SidBytes lookup_account_sid(const std::string& name) {
  if (name.empty()) return {};
  const std::wstring wide = to_wide(name);
  DWORD sid_size = 0;
  DWORD domain_size = 0;
  SID_NAME_USE use{};
  ::LookupAccountNameW(nullptr, wide.c_str(), nullptr, &sid_size, nullptr, &domain_size, &use);
  if (sid_size == 0) return {};
  SidBytes sid(sid_size);
  std::wstring domain(domain_size + 1, L'\0');
  if (!::LookupAccountNameW(nullptr, wide.c_str(), sid.data(), &sid_size, domain.data(),
                            &domain_size, &use)) {
    return {};
  }
  return sid;
}

// "DOMAIN\user", or the SID string when the account cannot be named (a deleted account, or a
// domain account while the domain controller is unreachable).
inline std::string account_name(PSID sid) {
  DWORD name_size = 0;
  DWORD domain_size = 0;
  SID_NAME_USE use{};
  ::LookupAccountSidW(nullptr, sid, nullptr, &name_size, nullptr, &domain_size, &use);
  if (name_size > 0) {
    std::wstring name(name_size, L'\0');
    std::wstring domain(domain_size + 1, L'\0');
    if (::LookupAccountSidW(nullptr, sid, name.data(), &name_size, domain.data(), &domain_size,
                            &use)) {
      name.resize(name_size);
      domain.resize(domain_size);
      return domain.empty() ? to_utf8(name) : to_utf8(domain + L"\\" + name);
    }
  }
  std::string text = sid_string(sid);
  return text.empty() ? std::string("unknown") : text;
}

// The accounts that may run write commands, resolved once per listener and shared by its streams.
struct AccessPolicy {
  SidBytes operators;     // empty when not configured or the group does not exist
  SidBytes service_user;  // the account this process runs as
};

inline AccessPolicy make_access_policy(const std::string& operators_group) {
  return AccessPolicy{lookup_account_sid(operators_group), process_user_sid()};
}

// Builds the pipe's protected DACL (D:P, so nothing is inherited): SYSTEM and Administrators full
// control; this process's own account full control, because creating the second and later pipe
// instances needs FILE_CREATE_PIPE_INSTANCE and a console-mode hangard may run as a plain user;
// operators read/write; Authenticated Users read plus FILE_WRITE_DATA only.
inline std::string pipe_sddl(const AccessPolicy& policy) {
  auto ace = [](DWORD mask, const std::string& trustee) {
    char hex[16];
    std::snprintf(hex, sizeof(hex), "0x%08lx", static_cast<unsigned long>(mask));
    return "(A;;" + std::string(hex) + ";;;" + trustee + ")";
  };
  std::string sddl = "D:P" + ace(kFullControl, "SY") + ace(kFullControl, "BA");
  const SidBytes system = well_known_sid(WinLocalSystemSid);
  if (!policy.service_user.empty() && policy.service_user != system) {
    if (auto user = sid_string(as_sid(policy.service_user)); !user.empty()) {
      sddl += ace(kFullControl, user);
    }
  }
  if (auto operators = sid_string(as_sid(policy.operators)); !operators.empty()) {
    sddl += ace(kOperatorAccess, operators);
  }
  sddl += ace(kUserAccess, "AU");
  return sddl;
}

// Undoes ImpersonateNamedPipeClient on every path. If reverting fails the thread would keep
// running as the client, so there is no safe way to continue.
class RevertOnExit {
 public:
  RevertOnExit() = default;
  RevertOnExit(const RevertOnExit&) = delete;
  RevertOnExit& operator=(const RevertOnExit&) = delete;
  ~RevertOnExit() {
    if (!::RevertToSelf()) std::abort();
  }
};

inline bool token_is_member(HANDLE token, const SidBytes& sid) {
  BOOL member = FALSE;
  return !sid.empty() && ::CheckTokenMembership(token, as_sid(sid), &member) && member;
}

// True when `token` holds `sid` as an enabled group (not deny-only). TokenGroups needs only
// TOKEN_QUERY, unlike CheckTokenMembership, which wants an impersonation token.
inline bool token_has_enabled_group(HANDLE token, const SidBytes& sid) {
  if (sid.empty()) return false;
  DWORD size = 0;
  ::GetTokenInformation(token, TokenGroups, nullptr, 0, &size);
  if (size == 0) return false;
  std::vector<unsigned char> buffer(size);
  if (!::GetTokenInformation(token, TokenGroups, buffer.data(), size, &size)) return false;
  const auto* groups = reinterpret_cast<const TOKEN_GROUPS*>(buffer.data());
  for (DWORD i = 0; i < groups->GroupCount; ++i) {
    const SID_AND_ATTRIBUTES& group = groups->Groups[i];
    if ((group.Attributes & SE_GROUP_ENABLED) == 0 ||
        (group.Attributes & SE_GROUP_USE_FOR_DENY_ONLY) != 0) {
      continue;
    }
    if (::EqualSid(group.Sid, as_sid(sid))) return true;
  }
  return false;
}

// The account a process runs as, from its primary token. `user` is empty when the token could not
// be read (another user's process, for a caller without the right to open it).
struct ProcessAccount {
  SidBytes user;
  bool admin = false;           // SYSTEM, or Administrators enabled in the token (elevated)
  bool hangar_service = false;  // the token holds the service SID NT SERVICE\Hangar
};

inline ProcessAccount process_account(DWORD pid) {
  ProcessAccount account;
  UniqueHandle process(::OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid));
  if (!process) return account;
  HANDLE raw = nullptr;
  if (!::OpenProcessToken(process.get(), TOKEN_QUERY, &raw)) return account;
  UniqueHandle token(raw);
  account.user = token_user_sid(token.get());
  account.admin = account.user == well_known_sid(WinLocalSystemSid) ||
                  token_has_enabled_group(token.get(), well_known_sid(WinBuiltinAdministratorsSid));
  account.hangar_service =
      token_has_enabled_group(token.get(), lookup_account_sid("NT SERVICE\\Hangar"));
  return account;
}

// The client's check of the pipe's server, before it sends anything (see ipc::connect): the
// server process must run as LocalSystem, as the Hangar service, or as this process's own user
// (a console-mode hangard). When its token cannot be read (a plain user may not open a service's
// token), a server in session 0 is accepted: only services run there, and users cannot start one.
inline core::Status verify_pipe_server(HANDLE pipe, const std::string& name) {
  const std::string refused = "refusing to talk to " + name + ": ";
  ULONG pid = 0;
  if (!::GetNamedPipeServerProcessId(pipe, &pid)) {
    return core::make_error("untrusted_server",
                            refused + "cannot tell which process serves it; nothing was sent");
  }
  const ProcessAccount server = process_account(pid);
  if (server.user.empty()) {
    ULONG session = 0;
    if (::GetNamedPipeServerSessionId(pipe, &session) && session == 0) return {};
    return core::make_error("untrusted_server",
                            refused + "its server (process " + std::to_string(pid) +
                                ") is not a service and its account cannot be read; nothing was "
                                "sent");
  }
  const SidBytes own = process_user_sid();
  if (server.user == well_known_sid(WinLocalSystemSid) || server.hangar_service ||
      (!own.empty() && server.user == own)) {
    return {};
  }
  return core::make_error("untrusted_server",
                          refused + "it is served by " + account_name(as_sid(server.user)) +
                              " (process " + std::to_string(pid) +
                              "), not by LocalSystem, the Hangar service or you; nothing was sent");
}

// Whom a new connection counts against in the server's limits: the account of the client's
// process (GetNamedPipeClientProcessId works before any data, impersonation does not). Clients
// whose process cannot be opened (other users', when hangard runs in console mode as a plain
// user) share one key, so failing to be identified never earns a fresh allowance.
inline ConnectionOwner identify_connection_owner(HANDLE pipe, const AccessPolicy& policy) {
  ULONG pid = 0;
  if (!::GetNamedPipeClientProcessId(pipe, &pid)) return ConnectionOwner{"unidentified", false};
  const ProcessAccount account = process_account(pid);
  if (account.user.empty()) return ConnectionOwner{"unidentified", false};
  const bool service = !policy.service_user.empty() && account.user == policy.service_user;
  return ConnectionOwner{account_name(as_sid(account.user)), account.admin || service};
}

// Identifies the client of a server pipe end. Impersonation only works after data has been read
// from the pipe; until then (or if it fails) the caller is "unknown" and may not write.
inline PeerIdentity identify_client(HANDLE pipe, const AccessPolicy& policy) {
  PeerIdentity peer;
  peer.user = "unknown";
  ULONG pid = 0;
  if (::GetNamedPipeClientProcessId(pipe, &pid)) peer.pid = static_cast<long long>(pid);

  UniqueHandle token;
  {
    if (!::ImpersonateNamedPipeClient(pipe)) return peer;
    RevertOnExit revert;
    HANDLE raw = nullptr;
    // OpenAsSelf: the client only granted SecurityIdentification, which is enough to query the
    // token but not to open it while acting as the client.
    if (!::OpenThreadToken(::GetCurrentThread(), TOKEN_QUERY, TRUE, &raw)) return peer;
    token.reset(raw);
  }

  const SidBytes user = token_user_sid(token.get());
  if (user.empty()) return peer;
  peer.user = account_name(as_sid(user));
  // Admin (the cloud credentials): SYSTEM, an elevated administrator or the service's own account.
  // CheckTokenMembership honours UAC: a filtered (not elevated) token is not an administrator.
  peer.is_admin = token_is_member(token.get(), well_known_sid(WinLocalSystemSid)) ||
                  token_is_member(token.get(), well_known_sid(WinBuiltinAdministratorsSid)) ||
                  (!policy.service_user.empty() && user == policy.service_user);
  peer.can_write = peer.is_admin || token_is_member(token.get(), policy.operators);
  return peer;
}

}  // namespace hangar::ipc::win
