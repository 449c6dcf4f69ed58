// What every hangar command shares: global options, output streams, the service call with its
// error reporting, command-local flag parsing and small formatting helpers.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <istream>
#include <map>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "cli.h"
#include "hangar/core/device.h"
#include "hangar/core/result.h"
#include "hangar/ipc/client.h"

namespace hangar::cli {

using ipc::Json;

struct Globals {
  std::string endpoint;
  bool json = false;
  std::chrono::milliseconds timeout{std::chrono::seconds(30)};
  // The command as the user typed it (run() sets it): refusals name it, not the request sent.
  std::string command;
};

struct Io {
  std::ostream& out;
  std::ostream& err;
  // Progress output (a bar that redraws itself) only when stderr is a terminal.
  bool err_is_terminal = false;
  // Standard input (config set-credentials reads the secret from it); null when there is none.
  std::istream* in = nullptr;
  // True only for the process's real stdin on a terminal: then a secret is asked for without echo.
  bool in_is_terminal = false;
  // --json: a usage error is also printed as a JSON error object on standard output.
  bool json = false;
};

using CommandFn = std::function<int(const Globals&, const std::vector<std::string>&, Io&)>;

struct Command {
  std::string_view name;
  std::string_view synopsis;  // the arguments, for help
  std::string_view summary;
  CommandFn run;
  // `hangar COMMAND --help`: what it reads and each option; empty: the general help is shown.
  std::string_view details = {};
};

// JSON as the CLI prints it: indented by `indent` (-1: one line). Text that is not valid UTF-8 (a
// file name from another code page, say) is printed with U+FFFD in its place, never thrown on.
std::string json_text(const Json& value, int indent = 2);

// The advice after an "untrusted_server" refusal: someone else serves the endpoint, maybe an
// impostor; naming that account in HANGAR_SERVICE_ACCOUNT is right only for hangard's own.
std::string untrusted_server_advice(std::string_view refusal);

// Prints the error (as JSON with --json) and returns the exit code: kUnreachable when no service
// answered, kFailed otherwise.
// `one_line`: with --json, the error object on one line (a stream of JSON lines: `watch`).
int report_error(const core::Error& error, const Globals& globals, Io& io, bool one_line = false);

// Connects (error code "unavailable" naming the endpoint when nothing listens).
core::Result<ipc::Client> connect(const Globals& globals);

// A refusal of `service_command` as the user's command: `hangar sync` sends "refresh", and a
// message saying "refresh" changes the queue would name a command the user never ran.
core::Error in_user_terms(const Globals& globals, std::string_view service_command,
                          core::Error error);

// Connects and runs one request; on failure prints the error (in_user_terms) and returns the exit
// code.
std::variant<Json, int> call(const Globals& globals, Io& io, const std::string& command,
                             const Json& args = Json::object());

// A reply of a typed message (ipc/messages/): the JSON as the service sent it (what --json prints,
// unchanged) and the message parsed from it, strictly.
template <typename Reply>
struct Typed {
  Json json;
  Reply reply;
};

// call() for a typed reply: a reply that is not the message (a field missing, of another type) is
// reported as malformed_reply naming the field, never read as a default.
template <typename Reply>
std::variant<Typed<Reply>, int> call_typed(const Globals& globals, Io& io,
                                           const Json& args = Json::object()) {
  auto result = call(globals, io, std::string(Reply::kCommand), args);
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto parsed = Reply::from_json(std::get<Json>(result));
  if (!parsed) return report_error(parsed.error(), globals, io);
  return Typed<Reply>{std::move(std::get<Json>(result)), std::move(parsed).value()};
}

// simple_write() for a typed reply: `say` prints from the parsed message.
template <typename Reply>
int simple_write(const Globals& g, Io& io, const Json& args,
                 const std::function<std::string(const Reply&)>& say) {
  auto result = call_typed<Reply>(g, io, args);
  if (auto* code = std::get_if<int>(&result)) return *code;
  auto& typed = std::get<Typed<Reply>>(result);
  if (g.json) {
    Json out = std::move(typed.json);
    out["ok"] = true;
    io.out << json_text(out) << "\n";
  } else {
    io.out << say(typed.reply) << "\n";
  }
  return kOk;
}

// --state and --profile values, parsed by core's one table of names (any accepted spelling); the
// error ("usage") names the value and the accepted ones. list, export, watch and import share
// them.
core::Result<core::DeviceState> state_argument(const std::string& text);
core::Result<core::Profile> profile_argument(const std::string& text);

// Asks `question` on stderr; true for "y"/"yes" (any case) read from io.in.
bool confirm(const std::string& question, Io& io);

// What an operator command that may wait for the cloud (deliver, deregister, remove --force)
// tells the service it waits (its wait_ms): --timeout less operator_reply_margin(), so the
// service's answer (done, failed, in doubt, "try again in N s") always arrives before the CLI
// gives up: exit 3 then means only that no service answered. A --timeout that leaves less than
// ipc::kMinOperatorWait is a usage error ("usage"), saying what to give instead.
core::Result<std::uint64_t> operator_wait_ms(const Globals& globals);
std::chrono::milliseconds operator_reply_margin(std::chrono::milliseconds timeout);

// A write whose reply needs one line: under --json the reply with "ok": true, else say(reply).
int simple_write(const Globals& g, Io& io, const std::string& command, const Json& args,
                 const std::function<std::string(const Json&)>& say);

// Command-local flags: `--name VALUE`, `--name=VALUE`, and switches. Everything else is
// positional. Fails with a usage message naming an unknown flag or a missing value.
struct ParsedArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::string> values;
  std::set<std::string> switches;

  std::optional<std::string> value(const std::string& flag) const;
  bool has(const std::string& flag) const { return switches.count(flag) != 0; }
};
// A flag given twice is refused (the last silently winning would hide which one was meant). Values
// and positional arguments must be UTF-8 text (a serial or a tag in another code page would be
// sent as U+FFFD or not at all), except file names: -o, --output, --combined and, with
// ArgumentText::kFileNames, the positional arguments.
enum class ArgumentText { kText, kFileNames };
core::Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& switch_flags = {},
                                    ArgumentText positional_text = ArgumentText::kText);

// "the value of --user "\xE9@x.com" is not UTF-8 text ...", or nothing when `text` is UTF-8.
std::optional<std::string> not_utf8_problem(std::string_view what, std::string_view text);
// `text` with bytes outside printable ASCII as \xNN, for a message that quotes an argument.
std::string printable_argument(std::string_view text);

// Prints "hangar <command>: <message>" (and, under --json, {"ok": false, "error": {"code":
// "usage", ...}} on standard output) and returns kUsage.
int usage_error(Io& io, std::string_view command, const std::string& message);

// "2026-11-25 10:42:07Z" for Unix milliseconds (UTC: staging rooms and support share logs).
std::string format_time(std::int64_t unix_ms);

// A --since value: an ISO date or date-time ("2026-11-25", "2026-11-25T10:00[:00][Z]") in UTC,
// or an age ("30m", "12h", "7d") before `now_ms`. Fails naming the accepted forms.
core::Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ms);

// The command groups, defined in their own files.
int cmd_validate(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_merge(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_import(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_list(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_show(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_deliver(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_remove(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_deregister(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_export(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_config(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_watch(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_version(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_ping(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_status(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_refresh(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_sync(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_retry(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_pause(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_resume(const Globals& g, const std::vector<std::string>& args, Io& io);
int cmd_capture(const Globals& g, const std::vector<std::string>& args, Io& io);

}  // namespace hangar::cli
