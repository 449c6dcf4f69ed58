// Shared pieces of the hangar commands (see cli_common.h).
#include "cli_common.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "hangar/core/principal_name.h"
#include "hangar/core/text_encoding.h"
#include "hangar/ipc/commands.h"
#include "hangar/ipc/protocol.h"
#include "suggest.h"

namespace hangar::cli {

std::string json_text(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string untrusted_server_advice(std::string_view refusal) {
  // The transport names the server's account as "served by <who>, which ..." (POSIX) or "served
  // by <account> (process N), not by ..." (Windows).
  std::string who;
  if (const auto at = refusal.find("served by "); at != std::string_view::npos) {
    const auto begin = at + std::string_view("served by ").size();
    const auto end = refusal.find(", ", begin);
    who = std::string(refusal.substr(begin, end == std::string_view::npos ? end : end - begin));
    if (const auto process = who.find(" (process "); process != std::string::npos) {
      who.erase(process);
    }
  }
  if (who.empty()) {
    return "hangar: whatever listens there is not the service as far as this machine can tell, and "
           "may be an impostor: check --endpoint / HANGAR_ENDPOINT\n";
  }
  return "hangar: the endpoint is served by " + who +
         ", which is not root (LocalSystem) or the service's account: it may be an impostor. "
         "Check --endpoint / HANGAR_ENDPOINT; only if " +
         who +
         " really is the dedicated account hangard was installed to run as, name it in "
         "HANGAR_SERVICE_ACCOUNT\n";
}

int report_error(const core::Error& error, const Globals& globals, Io& io, bool one_line) {
  const bool unreachable = error.code == ipc::errc::kUnavailable ||
                           error.code == ipc::errc::kTimeout || error.code == "invalid_endpoint";
  if (globals.json) {
    Json reply{{"ok", false}, {"error", {{"code", error.code}, {"message", error.message}}}};
    // A line of a stream says what it is, as its other lines do.
    if (one_line) reply["type"] = "error";
    io.out << json_text(reply, one_line ? -1 : 2) << "\n";
  } else {
    io.err << "hangar: " << error.message << "\n";
    if (error.code == ipc::errc::kUnavailable &&
        error.message.find("listening") != std::string::npos) {
      io.err << "hangar: start the service (hangard) or pass --endpoint / HANGAR_ENDPOINT\n";
    }
    if (error.code == "untrusted_server") io.err << untrusted_server_advice(error.message);
    // The service's refusal says who may run it (the operators group is not enough for the
    // credentials); the generic hint is only for a refusal that does not.
    if (error.code == ipc::errc::kPermissionDenied &&
        error.message.find("run it as") == std::string::npos) {
      io.err << "hangar: run it as an administrator, or ask for membership of the operators "
                "group configured for the service\n";
    }
  }
  return unreachable ? kUnreachable : kFailed;
}

core::Result<ipc::Client> connect(const Globals& globals) {
  return ipc::Client::connect(globals.endpoint,
                              std::min(globals.timeout, std::chrono::milliseconds(10'000)));
}

core::Error in_user_terms(const Globals& globals, std::string_view service_command,
                          core::Error error) {
  if (error.code != ipc::errc::kPermissionDenied || globals.command.empty() ||
      globals.command == service_command) {
    return error;
  }
  // The service's refusal starts with the request's name in quotes (ipc's dispatcher).
  const std::string quoted = "\"" + std::string(service_command) + "\"";
  if (error.message.rfind(quoted, 0) == 0) {
    error.message = "\"" + globals.command + "\"" + error.message.substr(quoted.size());
  } else {
    error.message = "\"" + globals.command + "\" was refused: " + error.message;
  }
  return error;
}

std::variant<Json, int> call(const Globals& globals, Io& io, const std::string& command,
                             const Json& args) {
  auto client = connect(globals);
  if (!client) return report_error(client.error(), globals, io);
  auto result = client->call(command, args, globals.timeout);
  if (!result) return report_error(in_user_terms(globals, command, result.error()), globals, io);
  return std::move(result).value();
}

core::Result<core::DeviceState> state_argument(const std::string& text) {
  auto state = core::parse_device_state(text);
  if (!state) {
    return core::make_error("usage", "unknown state \"" + printable_argument(text) + "\"; use " +
                                         core::accepted_state_names());
  }
  return *state;
}

core::Result<core::Profile> profile_argument(const std::string& text) {
  auto profile = core::parse_profile(text);
  if (!profile) {
    return core::make_error("usage", "unknown profile \"" + printable_argument(text) + "\"; use " +
                                         std::string(core::profile_spellings()));
  }
  return *profile;
}

bool confirm(const std::string& question, Io& io) {
  io.err << question << " [y/N] " << std::flush;
  std::string answer;
  if (!io.in || !std::getline(*io.in, answer)) {
    io.err << "\n";  // Ctrl-D left the cursor after the question
    return false;
  }
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes" || answer == "YES";
}

namespace {
// "2 s", "4.5 s": a duration as the --timeout it is compared with.
std::string seconds_text(std::chrono::milliseconds duration) {
  const auto ms = duration.count();
  std::string text = std::to_string(ms / 1000);
  if (ms % 1000 != 0) {
    std::string fraction = std::to_string(1000 + ms % 1000).substr(1);
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    text += "." + fraction;
  }
  return text + " s";
}
}  // namespace

std::chrono::milliseconds operator_reply_margin(std::chrono::milliseconds timeout) {
  // A quarter of the wait, 3 to 5 s: covers connecting, the second the service gives work under
  // way past its deadline (ipc::kOperatorAnswerLatest) and the answer's way back.
  return std::clamp(timeout / 4, ipc::kOperatorReplyMargin, std::chrono::milliseconds(5'000));
}

core::Result<std::uint64_t> operator_wait_ms(const Globals& globals) {
  const std::chrono::milliseconds wait = globals.timeout - operator_reply_margin(globals.timeout);
  if (wait < ipc::kMinOperatorWait) {
    const auto least = ipc::kMinOperatorWait + ipc::kOperatorReplyMargin;
    return core::make_error(
        "usage", "--timeout " + seconds_text(globals.timeout) +
                     " is too short for a command that waits for Microsoft's cloud: the service "
                     "needs " +
                     seconds_text(ipc::kMinOperatorWait) + " for a cloud call and the answer " +
                     seconds_text(ipc::kOperatorReplyMargin) + " to come back; give --timeout " +
                     std::to_string(least.count() / 1000) + " or more (30 by default)");
  }
  return static_cast<std::uint64_t>(wait.count());
}

int simple_write(const Globals& g, Io& io, const std::string& command, const Json& args,
                 const std::function<std::string(const Json&)>& say) {
  auto result = call(g, io, command, args);
  if (auto* code = std::get_if<int>(&result)) return *code;
  const Json& reply = std::get<Json>(result);
  if (g.json) {
    Json out = reply;
    out["ok"] = true;
    io.out << json_text(out) << "\n";
  } else {
    io.out << say(reply) << "\n";
  }
  return kOk;
}

namespace {
// Flags whose value is a file or folder name: opened as given, whatever its encoding.
const std::set<std::string> kPathFlags{"-o", "--output", "--combined"};
}  // namespace

std::optional<std::string> ParsedArgs::value(const std::string& flag) const {
  auto it = values.find(flag);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::string printable_argument(std::string_view text) {
  // UTF-8 text is shown as it is; the bytes of anything else (Latin-1, say) as \xNN.
  const bool utf8 = core::is_valid_utf8(text);
  std::string shown;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte >= 0x80 && !utf8) || byte < 0x20 || byte == 0x7F) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02X", static_cast<unsigned>(byte));
      shown += hex;
    } else {
      shown += c;
    }
  }
  return shown;
}

std::optional<std::string> not_utf8_problem(std::string_view what, std::string_view text) {
  if (core::is_valid_utf8(text)) return std::nullopt;
  return std::string(what) + " \"" + printable_argument(text) +
         "\" is not UTF-8 text (typed or pasted in another code page?): give it in UTF-8";
}

core::Result<ParsedArgs> parse_args(const std::vector<std::string>& args,
                                    const std::set<std::string>& value_flags,
                                    const std::set<std::string>& switch_flags,
                                    ArgumentText positional_text) {
  ParsedArgs parsed;
  bool only_positional = false;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      // File names may come from another code page (they are opened as they are); everything
      // else goes into a request or a message as text.
      if (positional_text == ArgumentText::kText) {
        if (auto problem = not_utf8_problem("the argument", arg)) {
          return core::make_error("usage", *problem);
        }
      }
      parsed.positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    const auto eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    if (value_flags.count(name)) {
      std::string value;
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return core::make_error("usage", name + " needs a value");
      }
      if (auto given = parsed.values.find(name); given != parsed.values.end()) {
        // Which one was meant is a guess: the last one silently winning would hide the mistake.
        return core::make_error("usage", name + " was given twice (\"" +
                                             printable_argument(given->second) + "\" and \"" +
                                             printable_argument(value) + "\"): give it once");
      }
      if (!kPathFlags.count(name)) {
        if (auto problem = not_utf8_problem("the value of " + name, value)) {
          return core::make_error("usage", *problem);
        }
      }
      // A user or a tag pasted with blanks around it is still that user or tag: the trim the CSV
      // reader gives the Assigned User and Group Tag cells (core::trim_blanks).
      if (name == "--user" || name == "--group-tag") value = std::string(core::trim_blanks(value));
      parsed.values[name] = value;
    } else if (switch_flags.count(name) && eq == std::string::npos) {
      // As for a value: "any option given twice" is a usage error (black-box round 12).
      if (!parsed.switches.insert(name).second) {
        return core::make_error("usage", name + " was given twice: give it once");
      }
    } else {
      std::vector<std::string_view> known(value_flags.begin(), value_flags.end());
      known.insert(known.end(), switch_flags.begin(), switch_flags.end());
      return core::make_error("usage",
                              "unknown option \"" + arg + "\"" + did_you_mean(name, known));
    }
  }
  return parsed;
}

int usage_error(Io& io, std::string_view command, const std::string& message) {
  io.err << "hangar " << command << ": " << message << "\n"
         << "run `hangar help` for the commands and their options\n";
  if (io.json) {
    // `hangar --json ... | jq` gets an answer to parse for a usage error too.
    io.out << json_text(Json{{"ok", false}, {"error", {{"code", "usage"}, {"message", message}}}})
           << "\n";
  }
  return kUsage;
}

std::string format_time(std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
#ifdef _WIN32
  gmtime_s(&utc, &seconds);
#else
  gmtime_r(&seconds, &utc);
#endif
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &utc);
  return buffer;
}

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_number(std::string_view text, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > text.size()) return false;
  auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
  return ec == std::errc() && end == text.data() + pos + len;
}

}  // namespace

core::Result<std::int64_t> parse_since(std::string_view text, std::int64_t now_ms) {
  const auto bad = [&] {
    return core::make_error("usage",
                            "--since takes a date (2026-11-25), a UTC date and time "
                            "(2026-11-25T10:00) or an age (30m, 12h, 7d), not \"" +
                                std::string(text) + "\"");
  };
  if (text.empty()) return bad();
  const char unit = text.back();
  if (unit == 'm' || unit == 'h' || unit == 'd') {
    std::int64_t amount = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, amount);
    if (ec != std::errc() || end != text.data() + text.size() - 1 || amount < 0) return bad();
    const std::int64_t unit_ms = unit == 'm' ? 60'000 : unit == 'h' ? 3'600'000 : 86'400'000;
    // An age reaching before 1970 (99999999999d) would overflow: nothing is that old.
    if (amount > now_ms / unit_ms) {
      return core::make_error("usage", "--since " + std::string(text) +
                                           " reaches back before 1970: give an age or a date "
                                           "since then");
    }
    return now_ms - amount * unit_ms;
  }
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!read_number(text, 0, 4, year) || text.size() < 10 || text[4] != '-' ||
      !read_number(text, 5, 2, month) || text[7] != '-' || !read_number(text, 8, 2, day) ||
      month < 1 || month > 12 || day < 1 || day > 31) {
    return bad();
  }
  std::string_view rest = text.substr(10);
  if (!rest.empty() && rest.back() == 'Z') rest.remove_suffix(1);
  if (!rest.empty()) {
    if ((rest[0] != 'T' && rest[0] != ' ') || !read_number(rest, 1, 2, hour) || rest.size() < 6 ||
        rest[3] != ':' || !read_number(rest, 4, 2, minute) || hour > 23 || minute > 59) {
      return bad();
    }
    if (rest.size() > 6) {
      if (rest.size() != 9 || rest[6] != ':' || !read_number(rest, 7, 2, second) || second > 59) {
        return bad();
      }
    }
  }
  const std::int64_t days =
      days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  return ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1000;
}

}  // namespace hangar::cli
