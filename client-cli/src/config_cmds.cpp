// hangar config show | set-credentials | clear-credentials (see config_cmds.h).
#include "config_cmds.h"

#include <atomic>
#include <csignal>
#include <iostream>
#include <istream>
#include <sstream>

#ifdef _WIN32
#include <windows.h>

#include "hangar/core/win_text.h"
#else
#include <termios.h>
#include <unistd.h>
#endif

#include "hangar/core/credential_checks.h"
#include "hangar/core/text_wrap.h"
#include "hangar/ipc/messages/config.h"
#include "hangar/ipc/protocol.h"
#include "list_view.h"
#include "suggest.h"

namespace hangar::cli {

namespace {

constexpr const char* kSetSynopsis =
    "set-credentials --tenant GUID --client-id GUID [--secret-stdin] [--no-verify] [--force]";

// Best-effort scrubbing of the secret in this process's memory once it is sent.
void wipe(std::string& text) {
  volatile char* p = text.data();
  for (std::size_t i = 0; i < text.size(); ++i) p[i] = '\0';
  text.clear();
}

using ipc::msg::ConfigReply;

#ifndef _WIN32
// The terminal's settings while echo is off, restored by the signal handler on Ctrl-C.
termios g_saved_terminal{};
std::atomic<bool> g_echo_off{false};

extern "C" void restore_terminal_and_reraise(int signal_number) {
  if (g_echo_off.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}
#else
DWORD g_saved_console_mode = 0;
std::atomic<bool> g_echo_off{false};

BOOL WINAPI restore_console(DWORD) {
  if (g_echo_off.exchange(false)) {
    ::SetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), g_saved_console_mode);
  }
  return FALSE;  // and let the default handler end the process
}
#endif

// A value that is not a GUID is not repeated: it may be the secret pasted into the wrong place.
std::string not_shown(const std::string& value) {
  return " (" + std::to_string(value.size()) + " characters, not repeated here in case it is the " +
         "secret)";
}

// Refuses the secret as an argument with the reason, instead of "unknown option".
bool secret_on_command_line(const std::vector<std::string>& args, Io& io) {
  for (const auto& arg : args) {
    const std::string name = arg.substr(0, arg.find('='));
    if (name == "--secret" || name == "--client-secret" || name == "--password") {
      io.err << "hangar config set-credentials: the secret is never taken as an argument: other "
                "users of this machine can read a command line (ps, Task Manager) and shells "
                "keep it in their history.\n"
                "Type it at the prompt (hidden), or pipe it: ... | hangar config set-credentials "
                "--tenant GUID --client-id GUID --secret-stdin\n";
      return true;
    }
  }
  return false;
}

// The service's answer to a credentials command's `check`: the exit code when it refuses (its
// error printed), nullopt when the command may go on; `stored` (clear-credentials) tells whether
// anything is stored to remove.
std::optional<int> credentials_refusal(const Globals& g, Io& io, const std::string& command,
                                       const Json& check, bool* stored = nullptr) {
  auto answer = call(g, io, command, check);
  if (auto* code = std::get_if<int>(&answer)) return *code;
  const Json& reply = std::get<Json>(answer);
  if (stored != nullptr) *stored = reply.value("stored", true);
  return std::nullopt;
}

int cmd_set_credentials(const Globals& g, const std::vector<std::string>& args, Io& io) {
  const char* command = "config set-credentials";
  if (secret_on_command_line(args, io)) return kUsage;
  auto parsed =
      parse_args(args, {"--tenant", "--client-id"}, {"--secret-stdin", "--no-verify", "--force"});
  if (!parsed) return usage_error(io, command, parsed.error().message);
  if (!parsed->positional.empty()) {
    return usage_error(io, command,
                       "unexpected argument \"" + parsed->positional.front() +
                           "\" (the secret is read from a prompt or --secret-stdin, never from "
                           "the command line)");
  }
  const auto tenant_text = parsed->value("--tenant");
  if (!tenant_text) {
    return usage_error(io, command,
                       "--tenant is required: the directory (tenant) ID, a GUID (Entra ID > "
                       "Overview)");
  }
  const auto tenant = core::normalize_guid(*tenant_text);
  if (!tenant) {
    return usage_error(io, command,
                       "--tenant must be the directory (tenant) ID, a GUID such as "
                       "72f988bf-86f1-41af-91ab-2d7cd011db47 (Entra ID > Overview); the value "
                       "given is not one" +
                           not_shown(*tenant_text));
  }
  const auto client_text = parsed->value("--client-id");
  if (!client_text) {
    return usage_error(io, command,
                       "--client-id is required: the app registration's Application (client) "
                       "ID, a GUID");
  }
  const auto client = core::normalize_guid(*client_text);
  if (!client) {
    return usage_error(io, command,
                       "--client-id must be the app registration's Application (client) ID, a "
                       "GUID such as 0b6f3b8a-3f5d-4c1e-9a57-6f0d2c4e8b1a; the value given is "
                       "not one" +
                           not_shown(*client_text));
  }

  core::Result<std::string> secret = std::string();
  if (parsed->has("--secret-stdin")) {
    if (!io.in) return usage_error(io, command, "no standard input to read the secret from");
    secret = read_secret_from(*io.in);
  } else if (io.in && io.in_is_terminal) {
    // The service's refusal (not an administrator; devices pending in another tenant) before the
    // admin types a secret (black-box round 11: an operator typed it, then was refused).
    Json check{
        {"tenant_id", *tenant}, {"client_id", *client}, {"client_secret", "-"}, {"check", true}};
    if (parsed->has("--force")) check["force"] = true;
    if (auto refused = credentials_refusal(g, io, "set-credentials", check)) return *refused;
    secret = read_secret_from_terminal(
        "Client secret (the Value, not the Secret ID) for app " + *client + ": ", io.err);
    if (secret) {
      if (auto problem = core::client_secret_problem(*secret)) {
        wipe(*secret);
        secret = core::make_error("invalid_secret", *problem);
      }
    }
  } else {
    return usage_error(io, command,
                       "standard input is not a terminal, so there is no one to ask for the "
                       "secret: pipe it and pass --secret-stdin");
  }
  if (!secret) {
    io.err << "hangar " << command << ": " << secret.error().message << "\n";
    // A secret that is missing, on several lines or malformed is bad input, as a bad GUID is
    // (black-box round 12: an empty --secret-stdin exited 1).
    return secret.error().code == "invalid_secret" ? kUsage : kFailed;
  }
  if (core::normalize_guid(*secret)) {
    io.err << "hangar " << command
           << ": warning: the secret looks like a GUID, which is usually the secret's ID; "
              "Entra ID needs its Value\n";
  }

  ipc::msg::SetCredentialsRequest typed{*tenant, *client, *secret, !parsed->has("--no-verify"),
                                        parsed->has("--force")};
  wipe(*secret);
  Json request = typed.to_json();
  wipe(typed.client_secret);
  auto client_or = connect(g);
  if (!client_or) {
    wipe(request["client_secret"].get_ref<std::string&>());
    return report_error(client_or.error(), g, io);
  }
  auto reply = client_or->call("set-credentials", request, g.timeout);
  wipe(request["client_secret"].get_ref<std::string&>());
  if (!reply) return report_error(in_user_terms(g, "set-credentials", reply.error()), g, io);
  auto parsed_reply = ipc::msg::SetCredentialsReply::from_json(*reply);
  if (!parsed_reply) return report_error(parsed_reply.error(), g, io);
  const ipc::msg::SetCredentialsReply& r = *parsed_reply;
  if (g.json) {
    Json out = *reply;
    out["ok"] = true;
    io.out << json_text(out) << "\n";
    return kOk;
  }
  io.out << "credentials set: tenant " << r.tenant_id.value_or("") << ", client id "
         << r.client_id.value_or("") << "\n";
  io.out << "  secret     stored in " << r.secret.store << "\n"
         << "             " << r.secret.protection << "\n";
  if (r.verified) {
    io.out << "  verified   the cloud issued a token for these credentials\n";
  } else if (r.verify_error) {
    io.out << "  verified   no: the cloud could not be reached to check them (" << *r.verify_error
           << "); they are stored and used from the next token request\n";
  } else {
    io.out << "  verified   no (--no-verify); they are used from the next token request\n";
  }
  io.out << "  cloud      " << r.graph_url << "\n";
  return kOk;
}

void print_config(const ConfigReply& r, const std::string& endpoint, std::ostream& to) {
  // Written whole, then fitted to the terminal (piped, left whole).
  std::ostringstream out;
  out << "Cloud configuration of the service at " << endpoint << "\n";
  out << "  cloud        " << r.graph_url << " ("
      << (r.mode == "simulated" ? "the simulated cloud: no tenant configured"
          : r.mode == "tenant"  ? "tenant"
                                : "NOT CONFIGURED")
      << ")\n";
  out << "  authority    " << r.authority_url << " (token scope " << r.scope << ")\n";
  const std::string origin = r.source == "set-credentials"
                                 ? "set with hangar config set-credentials"
                             : r.source == "config_file" ? "from " + r.config_file
                             : r.source == "simulated"   ? "the simulated cloud's test tenant"
                                                         : "";
  out << "  tenant       " << r.tenant_id.value_or("(none)")
      << (origin.empty() ? "" : "  (" + origin + ")") << "\n";
  out << "  client id    " << r.client_id.value_or("(none)") << "\n";
  out << "  secret       ";
  if (r.secret.source == "environment") {
    out << "set, from HANGAR_CLIENT_SECRET in the service's environment (it overrides a stored "
           "secret)\n";
  } else if (r.secret.source == "store") {
    out << "set, stored in " << r.secret.store << "\n"
        << "               " << r.secret.protection << "\n";
  } else if (r.secret.source == "simulated") {
    out << "the simulated cloud's published test secret\n";
  } else {
    out << "not set (stored in " << r.secret.store << " once set)\n";
  }
  if (r.secret.error) out << "  secret error " << *r.secret.error << "\n";
  if (r.set_at) {
    out << "  changed      " << format_time(*r.set_at);
    if (r.set_by) out << " by " << *r.set_by;
    out << "\n";
  }
  if (r.problem) out << "  problem      " << *r.problem << "\n";
  if (r.refused) {
    out << "  REFUSED      by the cloud"
        << (r.refused_since ? " since " + format_time(*r.refused_since) : std::string()) << ": "
        << *r.refused
        << "; nothing is sent until they work: set new ones with hangar config set-credentials\n";
  }
  to << fit_to_terminal(out.str());
}

int cmd_show_config(const Globals& g, const std::vector<std::string>& args, Io& io) {
  if (!args.empty())
    return usage_error(io, "config show", "unexpected argument \"" + args[0] + "\"");
  auto result = call_typed<ConfigReply>(g, io);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const auto& typed = std::get<Typed<ConfigReply>>(result);
  if (g.json) {
    io.out << json_text(typed.json) << "\n";
  } else {
    print_config(typed.reply, g.endpoint, io.out);
  }
  return kOk;
}

int cmd_clear_credentials(const Globals& g, const std::vector<std::string>& args, Io& io) {
  const char* command = "config clear-credentials";
  auto parsed = parse_args(args, {}, {"--yes", "--force"});
  if (!parsed) return usage_error(io, command, parsed.error().message);
  if (!parsed->positional.empty()) {
    return usage_error(io, command, "unexpected argument \"" + parsed->positional.front() + "\"");
  }
  if (!parsed->has("--yes")) {
    if (!io.in || !io.in_is_terminal) {
      return usage_error(io, command, "pass --yes to confirm (standard input is not a terminal)");
    }
    // Refused (rights, devices pending) or nothing to remove: said before the question.
    Json check{{"check", true}};
    if (parsed->has("--force")) check["force"] = true;
    bool stored = true;
    if (auto refused = credentials_refusal(g, io, "clear-credentials", check, &stored)) {
      return *refused;
    }
    if (!stored) {
      io.out << "no credentials are stored: nothing to remove\n";
      return kOk;
    }
    if (!confirm("Remove the cloud credentials stored in the service? It then uploads to the "
                 "simulated cloud (no tenant configured) until new ones are set.",
                 io)) {
      io.err << "nothing removed (answered no)\n";
      return kOk;
    }
  }
  Json request = Json::object();
  if (parsed->has("--force")) request["force"] = true;
  auto result = call_typed<ipc::msg::ClearCredentialsReply>(g, io, request);
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto& typed = std::get<Typed<ipc::msg::ClearCredentialsReply>>(result);
  if (g.json) {
    Json out = std::move(typed.json);
    out["ok"] = true;
    io.out << json_text(out) << "\n";
    return kOk;
  }
  io.out << (typed.reply.cleared ? "stored credentials removed\n" : "no credentials were stored\n");
  print_config(typed.reply, g.endpoint, io.out);
  return kOk;
}

}  // namespace

std::string config_usage() {
  // Wrapped as every help text is: 80 columns (black-box round 9: 104).
  return core::wrap_lines(
      std::string("usage: hangar config show\n"
                  "       hangar config ") +
      kSetSynopsis +
      "\n"
      "       hangar config clear-credentials [--yes] [--force]\n\n"
      "set-credentials stores the tenant id, the app's client id and its client secret in the\n"
      "service (the secret protected: a 0600 file on Linux, DPAPI on Windows) and uses them\n"
      "from the next token request. The secret is asked for without echo, or read from\n"
      "standard input with --secret-stdin; never pass it as an argument. The service asks\n"
      "the cloud for a token first and changes nothing if the credentials are refused\n"
      "(--no-verify skips that). Switching tenants, or clearing the credentials, while\n"
      "devices are Registration Pending needs --force. Only an administrator (root) or the "
      "service's account may change them.\n");
}

core::Result<std::string> read_secret_from(std::istream& in) {
  std::string data;
  char buffer[512];
  // Read a little more than the longest secret, so an oversized input is refused, not cut.
  const std::size_t limit = core::kMaxClientSecretLength + 3;
  while (data.size() <= limit && in.read(buffer, sizeof buffer).gcount() > 0) {
    data.append(buffer, static_cast<std::size_t>(in.gcount()));
  }
  auto fail = [&data](std::string message) -> core::Result<std::string> {
    wipe(data);
    return core::make_error("invalid_secret", std::move(message));
  };
  if (data.empty()) return fail("no secret on standard input (--secret-stdin)");
  if (data.back() == '\n') data.pop_back();
  if (!data.empty() && data.back() == '\r') data.pop_back();
  if (data.find('\n') != std::string::npos) {
    return fail("standard input holds more than one line; pipe only the secret");
  }
  if (auto problem = core::client_secret_problem(data)) return fail(*problem);
  return data;
}

bool stdin_is_terminal() {
#ifdef _WIN32
  DWORD mode = 0;
  return ::GetConsoleMode(::GetStdHandle(STD_INPUT_HANDLE), &mode) != 0;
#else
  return ::isatty(STDIN_FILENO) != 0;
#endif
}

core::Result<std::string> read_secret_from_terminal(const std::string& prompt, std::ostream& err) {
  if (!stdin_is_terminal()) return core::make_error("usage", "standard input is not a terminal");
  std::string secret;
#ifdef _WIN32
  HANDLE input = ::GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  if (!::GetConsoleMode(input, &mode)) {
    return core::make_error("io_error",
                            "cannot read the console: " + core::win::error_text(::GetLastError()));
  }
  g_saved_console_mode = mode;
  err << prompt << std::flush;
  g_echo_off = true;
  ::SetConsoleCtrlHandler(restore_console, TRUE);
  ::SetConsoleMode(input, (mode & ~static_cast<DWORD>(ENABLE_ECHO_INPUT)) | ENABLE_LINE_INPUT);
  std::wstring wide;
  wchar_t chunk[256];
  bool done = false;
  while (!done) {
    DWORD read = 0;
    if (!::ReadConsoleW(input, chunk, 256, &read, nullptr) || read == 0) break;
    for (DWORD i = 0; i < read; ++i) {
      if (chunk[i] == L'\r' || chunk[i] == L'\n') {
        done = true;
        break;
      }
      wide += chunk[i];
    }
    ::SecureZeroMemory(chunk, sizeof chunk);
  }
  if (g_echo_off.exchange(false)) ::SetConsoleMode(input, mode);
  ::SetConsoleCtrlHandler(restore_console, FALSE);
  err << "\n";
  secret = core::win::to_utf8(wide);
  ::SecureZeroMemory(wide.data(), wide.size() * sizeof(wchar_t));
#else
  if (::tcgetattr(STDIN_FILENO, &g_saved_terminal) != 0) {
    return core::make_error("io_error", "cannot read the terminal's settings");
  }
  err << prompt << std::flush;
  termios quiet = g_saved_terminal;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  quiet.c_lflag |= ECHONL;  // the Enter still moves to the next line
  auto previous_int = std::signal(SIGINT, restore_terminal_and_reraise);
  auto previous_term = std::signal(SIGTERM, restore_terminal_and_reraise);
  auto previous_hup = std::signal(SIGHUP, restore_terminal_and_reraise);
  g_echo_off = true;
  ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  std::getline(std::cin, secret);
  if (g_echo_off.exchange(false)) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_terminal);
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  std::signal(SIGHUP, previous_hup);
#endif
  if (!secret.empty() && secret.back() == '\r') secret.pop_back();
  if (secret.empty()) return core::make_error("invalid_secret", "no secret entered");
  return secret;
}

int cmd_config(const Globals& g, const std::vector<std::string>& args, Io& io) {
  if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? io.err : io.out) << config_usage();
    return args.empty() ? kUsage : kOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  // A refusal names the command as typed ("config clear-credentials"), not just "config".
  Globals sub = g;
  sub.command = "config " + args[0];
  if (args[0] == "show") return cmd_show_config(sub, rest, io);
  if (args[0] == "set-credentials") return cmd_set_credentials(sub, rest, io);
  if (args[0] == "clear-credentials") return cmd_clear_credentials(sub, rest, io);
  io.err << "hangar config: unknown subcommand \"" << args[0] << "\""
         << did_you_mean(args[0], {"show", "set-credentials", "clear-credentials"}) << "\n\n"
         << config_usage();
  return kUsage;
}

}  // namespace hangar::cli
