// The CLI as an admin meets it (issue 13, items 6 to 10): the real hangar against the real hangard
// (and hangar-cloudsim where devices must register), in a pipe and, where layout matters, in a
// terminal of 80 columns through tmux.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "child_process.h"
#include "cloudsim_process.h"
#include "hangar/core/hash_builder.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

const std::string kHangard = HANGAR_TEST_HANGARD;
const std::string kHangar = HANGAR_TEST_HANGAR;
const std::string kCloudsim = HANGAR_TEST_CLOUDSIM;

const std::vector<std::string> kCommands{"version", "ping",  "status",  "validate", "merge",
                                         "import",  "list",  "show",    "deliver",  "remove",
                                         "export",  "retry", "pause",   "resume",   "refresh",
                                         "sync",    "watch", "capture", "config"};

std::string hash_for(const std::string& serial, const std::string& build = "10.0.22631.2861",
                     const std::string& model = "Laptop 7") {
  return core::HardwareHashBuilder::realistic(serial, "Contoso", model, build, 0, 1200)
      .build_base64();
}

// Columns as a terminal shows them: UTF-8 continuation bytes take none.
std::size_t columns(const std::string& line) {
  std::size_t n = 0;
  for (const char c : line) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// tmux as found on PATH (the test's child processes are started without a PATH search).
std::string tmux_binary() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const auto candidate = std::filesystem::path(dir) / "tmux";
    if (!dir.empty() && std::filesystem::exists(candidate)) return candidate.string();
  }
  return "/usr/bin/tmux";
}

// A terminal of 80 x 60 in a private tmux server; the command's output stays on the screen.
class Terminal {
 public:
  Terminal(const std::filesystem::path& dir, const std::string& command)
      : dir_(dir), tmux_(tmux_binary()), socket_(next_socket(dir)) {
    // The shell keeps the pane open after the command, and says how it ended.
    const std::string shell = command + "; echo \"[exit $?]\"; sleep 600";
    auto started = run_command({tmux_, "-S", socket_, "new-session", "-d", "-s", "t", "-x", "80",
                                "-y", "60", "sh", "-c", shell},
                               dir_, 10s, {"TERM=xterm"});
    EXPECT_EQ(started.code, 0) << started.output;
  }
  ~Terminal() { run_command({tmux_, "-S", socket_, "kill-server"}, dir_, 10s); }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // Types `keys` and Enter into the pane.
  void type(const std::string& keys) {
    auto typed =
        run_command({tmux_, "-S", socket_, "send-keys", "-t", "t", keys, "Enter"}, dir_, 10s);
    EXPECT_EQ(typed.code, 0) << typed.output;
  }
  // A server of its own for each terminal: a second one on the first's socket could meet the
  // first server still exiting ("server exited unexpectedly").
  static std::string next_socket(const std::filesystem::path& dir) {
    static std::atomic<int> count{0};
    return (dir / ("tmux-" + std::to_string(count++) + ".sock")).string();
  }
  std::string screen() {
    return run_command({tmux_, "-S", socket_, "capture-pane", "-p", "-t", "t"}, dir_, 10s).output;
  }
  // Waits until the screen shows `text`; returns the screen either way.
  std::string wait_for(const std::string& text, std::chrono::seconds limit = 60s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string now = screen();
    while (now.find(text) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(200ms);
      now = screen();
    }
    return now;
  }

 private:
  std::filesystem::path dir_;
  std::string tmux_;
  std::string socket_;
};

class CliE2E : public ::testing::Test {
 protected:
  void SetUp() override { endpoint_ = unique_endpoint(dir_); }

  void start_cloud(const Json& scenario = {{"seed", 13},
                                           {"time_scale", 600},
                                           {"registration", {{"delay_seconds", 60}}}}) {
    std::string why;
    auto url = start_cloudsim(kCloudsim, scenario, dir_.path(), cloud_, why);
    ASSERT_TRUE(url.has_value()) << "hangar-cloudsim did not start: " << why;
    url_ = *url;
  }

  void start_service(const std::string& config_json = "{}") {
    const auto config = dir_.path() / "hangar.json";
    std::ofstream(config) << config_json;
    std::vector<std::string> argv{kHangard,       "--data-dir", (dir_.path() / "data").string(),
                                  "--endpoint",   endpoint_,    "--config",
                                  config.string()};
    if (!url_.empty()) argv.insert(argv.end(), {"--cloud-url", url_, "--poll-interval", "0.5"});
    service_ = std::make_unique<Process>(argv, dir_.path() / "hangard.out");
    const auto deadline = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (hangar({"ping"}).code == 0) return;
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "hangard did not come up: " << read_file(dir_.path() / "hangard.out");
  }

  RunResult hangar(std::vector<std::string> args) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    return run_command(args, dir_.path(), 120s);
  }

  Json hangar_json(std::vector<std::string> args, int expected_code = 0) {
    args.insert(args.begin(), "--json");
    auto result = hangar(args);
    EXPECT_EQ(result.code, expected_code) << result.output;
    const auto start = result.output.find_first_of("{[");
    if (start == std::string::npos) return Json();
    return Json::parse(result.output.substr(start), nullptr, false);
  }

  // A Get-WindowsAutoPilotInfo file: `count` devices PREFIX-0001..., on `build`.
  std::filesystem::path hash_file(const std::string& name, const std::string& prefix, int count,
                                  const std::string& build = "10.0.22631.2861",
                                  const std::string& model = "Laptop 7") {
    const auto path = dir_.path() / name;
    std::ofstream out(path, std::ios::binary);
    out << "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
    for (int i = 1; i <= count; ++i) {
      char serial[64];
      std::snprintf(serial, sizeof serial, "%s-%04d", prefix.c_str(), i);
      out << serial << ",," << hash_for(serial, build, model) << "\r\n";
    }
    return path;
  }

  std::string shell_command(const std::vector<std::string>& args) {
    std::string command = kHangar + " --endpoint '" + endpoint_ + "'";
    for (const auto& a : args) command += " '" + a + "'";
    return command;
  }

  TempDir dir_;
  std::string endpoint_;
  std::string url_;
  std::unique_ptr<Process> cloud_;
  std::unique_ptr<Process> service_;
};

// Item 6: every command explains itself, with examples that name it, both ways of asking.
TEST_F(CliE2E, EveryCommandHasHelpWithASynopsisOptionsAndExamples) {
  set_time_limit(60s);
  const auto overview = hangar({"help"});
  ASSERT_EQ(overview.code, 0) << overview.output;
  // Black-box round 8: the states sentence ran on into "environment:" when wrapped.
  EXPECT_NE(overview.output.find("\nenvironment: HANGAR_ENDPOINT"), std::string::npos)
      << overview.output;
  EXPECT_NE(overview.output.find("\nexit codes: 0 ok"), std::string::npos) << overview.output;
  for (const auto& command : kCommands) {
    EXPECT_NE(overview.output.find("  " + command), std::string::npos) << command;
    const auto asked = hangar({command, "--help"});
    EXPECT_EQ(asked.code, 0) << command << ": " << asked.output;
    EXPECT_NE(asked.output.find("usage: hangar"), std::string::npos) << asked.output;
    EXPECT_NE(asked.output.find("examples:\n  hangar "), std::string::npos) << asked.output;
    EXPECT_NE(asked.output.find("hangar " + command), std::string::npos) << asked.output;
    EXPECT_NE(asked.output.find("exit codes: 0 ok, 1 failed, 2 usage error, 3 service"),
              std::string::npos)
        << asked.output;
    const auto help = hangar({"help", command});
    EXPECT_EQ(help.code, 0) << help.output;
    EXPECT_EQ(help.output, asked.output) << command;
  }
  const auto list = hangar({"list", "--help"});
  for (const char* option : {"--state", "--profile", "--since", "--limit", "--wide"}) {
    EXPECT_NE(list.output.find(option), std::string::npos) << option;
  }
  const auto watch = hangar({"help", "watch"});
  for (const char* option : {"--from-seq", "--since", "--count", "-v"}) {
    EXPECT_NE(watch.output.find(option), std::string::npos) << option;
  }
}

// Issue 13, finding 5: every help text fits a terminal of 80 columns: the overview (help and
// --help), each command `hangar help` lists (asked both ways), and hangard's --help.
TEST_F(CliE2E, EveryHelpTextFitsEightyColumns) {
  set_time_limit(60s);
  std::vector<std::pair<std::string, RunResult>> texts;
  const auto overview = hangar({"help"});
  ASSERT_EQ(overview.code, 0) << overview.output;
  // Black-box round 8: the states sentence ran on into "environment:" when wrapped.
  EXPECT_NE(overview.output.find("\nenvironment: HANGAR_ENDPOINT"), std::string::npos)
      << overview.output;
  EXPECT_NE(overview.output.find("\nexit codes: 0 ok"), std::string::npos) << overview.output;
  texts.emplace_back("hangar help", overview);
  texts.emplace_back("hangar --help", hangar({"--help"}));
  // The commands as the overview lists them ("  NAME ..." under "commands:"), so a command added
  // later is checked too.
  std::vector<std::string> commands;
  std::istringstream lines(overview.output.substr(overview.output.find("commands:\n")));
  std::string line;
  std::getline(lines, line);
  while (std::getline(lines, line) && !line.empty()) {
    if (line.starts_with("  ") && line[2] != ' ')
      commands.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  ASSERT_GE(commands.size(), kCommands.size()) << overview.output;
  for (const auto& command : commands) {
    if (command == "help") continue;  // the overview, above
    texts.emplace_back("hangar " + command + " --help", hangar({command, "--help"}));
    texts.emplace_back("hangar help " + command, hangar({"help", command}));
  }
  texts.emplace_back("hangard --help", run_command({kHangard, "--help"}, dir_.path(), 30s));
  // Black-box round 11: the simulator's help ran to 94 columns.
  texts.emplace_back("hangar-cloudsim --help",
                     run_command({kCloudsim, "--help"}, dir_.path(), 30s));
  // Black-box round 9: `hangar config` alone (a usage error, exit 2) printed 104 columns.
  for (const auto& args : {std::vector<std::string>{"config"}, {"config", "bogus"}}) {
    const auto usage = hangar(args);
    EXPECT_EQ(usage.code, 2) << usage.output;
    std::istringstream text(usage.output);
    for (std::string row; std::getline(text, row);) EXPECT_LE(row.size(), 80u) << row;
  }
  for (const auto& [asked, result] : texts) {
    EXPECT_EQ(result.code, 0) << asked << ": " << result.output;
    std::istringstream text(result.output);
    int number = 0;
    for (std::string row; std::getline(text, row);) {
      ++number;
      EXPECT_LE(row.size(), 80u) << asked << ", line " << number << " has " << row.size()
                                 << " columns:\n"
                                 << row;
    }
  }
}

// Issue 13, finding 1: a tag_profiles key the import rule refuses (only spaces, spaces around it)
// stops hangard at start-up with the key and what is wrong.
TEST_F(CliE2E, HangardRefusesATagProfilesKeyWithSpacesAtStartUp) {
  set_time_limit(60s);
  const auto config = dir_.path() / "bad.json";
  std::ofstream(config) << R"({"tag_profiles": {"Sales": "standard", "Sales ": "power-user"}})";
  const auto result = run_command({kHangard, "--data-dir", (dir_.path() / "data").string(),
                                   "--endpoint", endpoint_, "--config", config.string()},
                                  dir_.path(), 30s);
  EXPECT_NE(result.code, 0) << result.output;
  EXPECT_NE(result.output.find("\"tag_profiles\".\"Sales \": the group tag ends with a space"),
            std::string::npos)
      << result.output;
}

// Item 6: mistakes are usage errors (2) that suggest what was meant; 3 only when no service runs.
TEST_F(CliE2E, UsageErrorsExitTwoWithDidYouMeanAndOnlyAMissingServiceIsThree) {
  set_time_limit(60s);
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases{
      {{"lsit"}, "unknown command \"lsit\" (did you mean \"list\"?)"},
      {{"stauts"}, "(did you mean \"status\"?)"},
      {{"help", "wacth"}, "(did you mean \"watch\"?)"},
      {{"list", "--stat", "ready"}, "unknown option \"--stat\" (did you mean \"--state\"?)"},
      {{"merge", "a.csv", "-o", "x.csv", "--no-splt"}, "(did you mean \"--no-split\"?)"},
      {{"list", "--state", "bogus"}, "unknown state \"bogus\""},
      {{"export", "--format", "csv", "--state", "bogus"}, "unknown state \"bogus\""},
      {{"watch", "--state", "bogus"}, "unknown state \"bogus\""},
      {{"watch", "--since", "0"}, "use --from-seq N"},
      {{"watch", "--from-seq", "x"}, "--from-seq takes a change number"},
      {{"list", "--since", "yesterday"}, "--since takes a date"},
      {{"status", "now"}, "takes no arguments"},
      {{"export"}, "--format csv|json is required"},
      {{"export", "--format", "xml"}, "--format \"xml\" is not one of csv|json"},
      {{"deliver", "S1", "--user", "a b@c.com"}, "--user takes the user's principal name"},
      {{"--json", "export", "--format", "csv"}, "needs -o FILE"},
  };
  // No service runs: every one of these is still a usage error, found before connecting.
  for (const auto& c : cases) {
    const auto result = hangar(c.args);
    EXPECT_EQ(result.code, 2) << c.args.front() << ": " << result.output;
    EXPECT_NE(result.output.find(c.says), std::string::npos) << c.says << "\n" << result.output;
  }
  const auto absent = hangar({"list"});
  EXPECT_EQ(absent.code, 3) << absent.output;
  EXPECT_NE(absent.output.find(endpoint_), std::string::npos) << absent.output;

  // With a service: every spelling of a state is the same state.
  start_service();
  for (const char* spelling : {"Ready for user", "ready-for-user", "READY_FOR_USER", "ReadyForUser",
                               "ready", "registration pending", "Pending", "RegistrationFailed",
                               "failed", "queued", "Active", "inactive"}) {
    const auto result = hangar({"list", "--state", spelling});
    EXPECT_EQ(result.code, 0) << spelling << ": " << result.output;
  }
}

// Items 6 and 7: the count, the order, 80 columns in a terminal, --wide, and --json everywhere.
TEST_F(CliE2E, ListSaysHowManyMatchedKeepsItsOrderAndFitsEightyColumns) {
  set_time_limit(120s);  // 1,519 devices imported and listed
  start_service();
  const auto file = hash_file("room.csv", "STAGING-ROOM-SERIAL", 1519, "10.0.22631.2861",
                              "Surface Laptop Studio 2 for Business with a very long model name");
  const auto imported = hangar({"import", file.string(), "--profile", "sensitive-data"});
  ASSERT_EQ(imported.code, 0) << imported.output;

  const auto page = hangar({"list", "--limit", "50"});
  ASSERT_EQ(page.code, 0) << page.output;
  EXPECT_NE(page.output.find("50 of 1,519 device(s), in the order they were queued"),
            std::string::npos)
      << page.output;
  const auto json = hangar_json({"list", "--limit", "50"});
  EXPECT_EQ(json["total"], 1519);
  EXPECT_EQ(json["shown"], 50);
  ASSERT_EQ(json["devices"].size(), 50u);
  // Stable: the same order every time, the order they were queued.
  const auto again = hangar_json({"list", "--limit", "50"});
  for (std::size_t i = 0; i < 50; ++i) {
    EXPECT_EQ(json["devices"][i]["serial"], again["devices"][i]["serial"]);
    char serial[64];
    std::snprintf(serial, sizeof serial, "STAGING-ROOM-SERIAL-%04zu", i + 1);
    EXPECT_EQ(json["devices"][i]["serial"], serial);
  }
  const auto all = hangar({"list"});
  EXPECT_NE(all.output.find("\n1,519 device(s), in the order they were queued"), std::string::npos)
      << all.output.substr(all.output.size() - 200);

  // In a terminal of 80 columns: no line wraps, long values end with an ellipsis.
  {
    Terminal terminal(dir_.path(), shell_command({"list", "--limit", "20"}));
    const std::string screen = terminal.wait_for("[exit 0]");
    const auto lines = lines_of(screen);
    ASSERT_GE(lines.size(), 23u) << screen;
    EXPECT_EQ(lines[0].rfind("SERIAL", 0), 0u) << screen;
    for (std::size_t i = 1; i <= 20; ++i) {
      EXPECT_EQ(lines[i].rfind("STAGING-ROOM-SERIAL-", 0), 0u) << "wrapped? " << screen;
      EXPECT_LE(columns(lines[i]), 80u) << lines[i];
      EXPECT_NE(lines[i].find("\u2026"), std::string::npos) << lines[i];
    }
    EXPECT_EQ(lines[21], "20 of 1,519 device(s), in the order they were queued") << screen;
  }
  // --wide: everything in full (a terminal would wrap it; a pipe shows it).
  const auto wide = hangar({"list", "--limit", "2", "--wide"});
  // (Queued, or "Queued (sending)" when the service is uploading it just then: seen under ASan.)
  const std::regex wide_row(
      R"(STAGING-ROOM-SERIAL-0001  Queued(?: \(sending\))?  +sensitive-data)");
  EXPECT_TRUE(std::regex_search(wide.output, wide_row)) << wide.output;
  EXPECT_NE(wide.output.find("Surface Laptop Studio 2 for Business with a very long model name"),
            std::string::npos)
      << wide.output;

  // export --json: the devices as JSON, or a summary when written to a file.
  const auto exported = hangar_json({"export"});
  ASSERT_TRUE(exported.is_array());
  EXPECT_EQ(exported.size(), 1519u);
  const auto summary =
      hangar_json({"export", "--format", "csv", "-o", (dir_.path() / "upload.csv").string()});
  EXPECT_EQ(summary["ok"], true);
  EXPECT_EQ(summary["devices"], 1519);
  ASSERT_EQ(summary["files"].size(), 4u) << summary.dump();
  EXPECT_NE(summary["files"][0].get<std::string>().find("upload-001.csv"), std::string::npos);
}

// Black-box round 7: `status` ran to 274 columns (a Graph error's start), and showed a "next
// retry" already past while uploads were paused. In a terminal each line now wraps under its
// value; the retry is "held" while paused, never in the past.
TEST_F(CliE2E, StatusFitsEightyColumnsAndItsNextRetryIsNeverPast) {
  set_time_limit(120s);
  std::string why;
  auto url = start_cloudsim(
      kCloudsim,
      {{"seed", 13}, {"faults", {{"endpoints", {"imported.import"}}, {"error_rate", 1.0}}}},
      dir_.path(), cloud_, why);
  ASSERT_TRUE(url.has_value()) << "hangar-cloudsim did not start: " << why;
  url_ = *url;
  start_service();
  const auto imported =
      hangar({"import", hash_file("a.csv", "ST", 3).string(), "--profile", "standard"});
  ASSERT_EQ(imported.code, 0) << imported.output;
  Json status;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  do {
    std::this_thread::sleep_for(200ms);
    status = hangar_json({"status"});
  } while (!status["cloud"].contains("last_error") && std::chrono::steady_clock::now() < deadline);
  ASSERT_TRUE(status["cloud"].contains("last_error")) << status.dump();
  ASSERT_EQ(hangar({"pause"}).code, 0);
  // Long enough for a backoff to end: an attempt that is due is due now, not at a past time.
  std::this_thread::sleep_for(3s);
  status = hangar_json({"status"});
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  ASSERT_TRUE(status["cloud"].contains("next_retry_at")) << status.dump();
  EXPECT_GE(status["cloud"]["next_retry_at"].get<std::int64_t>(), now_ms - 2000) << status.dump();

  Terminal terminal(dir_.path(), shell_command({"status"}));
  const std::string screen = terminal.wait_for("[exit 0]");
  const auto lines = lines_of(screen);
  ASSERT_GE(lines.size(), 6u) << screen;
  EXPECT_NE(screen.find("held while uploads are paused"), std::string::npos) << screen;
  EXPECT_NE(screen.find("last error"), std::string::npos) << screen;
  for (const auto& line : lines) {
    if (line.empty() || line.rfind("Hangar service", 0) == 0 || line.rfind("[exit", 0) == 0) {
      continue;
    }
    // A line the terminal wrapped would go on at column 0; ours go on under their value.
    EXPECT_EQ(line.rfind("  ", 0), 0u) << "wrapped by the terminal? " << line << "\n" << screen;
    EXPECT_LE(columns(line), 80u) << line;
  }
}

// Item 8: a replay longer than the live queue (16 here, 4,096 by default) reads the history as far
// as asked, without a gap, and --count ends it.
TEST_F(CliE2E, WatchReplaysTheHistoryHoweverLongAndCountAlwaysEndsIt) {
  start_service(R"({"event_queue_size": 16})");
  const auto file = hash_file("batch.csv", "REPLAY", 60);
  ASSERT_EQ(hangar({"import", file.string(), "--profile", "standard"}).code, 0);

  const auto five = hangar({"watch", "--from-seq", "0", "--count", "5"});
  ASSERT_EQ(five.code, 0) << five.output;
  EXPECT_EQ(count_of(five.output, " -> Queued"), 5u) << five.output;
  EXPECT_EQ(five.output.find("not shown"), std::string::npos) << five.output;

  const auto replay = hangar({"--json", "watch", "--from-seq", "0", "--count", "60"});
  ASSERT_EQ(replay.code, 0) << replay.output;
  std::vector<std::int64_t> seqs;
  for (const auto& line : lines_of(replay.output)) {
    if (line.empty() || line.front() != '{') continue;
    const Json change = Json::parse(line);
    EXPECT_EQ(change["type"], "change") << line;
    seqs.push_back(change["seq"]);
  }
  ASSERT_EQ(seqs.size(), 60u) << replay.output;
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);

  // --since is a time here too; the changes of the last hour are all of them.
  const auto recent = hangar({"watch", "--since", "1h", "--count", "60"});
  ASSERT_EQ(recent.code, 0) << recent.output;
  EXPECT_EQ(count_of(recent.output, " -> Queued"), 60u);
  const auto middle = hangar({"watch", "--from-seq", "50", "--count", "10"});
  ASSERT_EQ(middle.code, 0) << middle.output;
  EXPECT_NE(middle.output.find("#51  REPLAY-0051"), std::string::npos) << middle.output;
}

// Item 8: in a terminal a burst is one line a state; -v (or a pipe) gives a line per device.
TEST_F(CliE2E, AWatchInATerminalSumsUpABurstAndVerboseShowsEachDevice) {
  set_time_limit(120s);
  start_cloud();
  start_service();
  Terminal summary(dir_.path(), shell_command({"watch"}));
  ASSERT_NE(summary.wait_for("watching").find("watching"), std::string::npos);
  const auto file = hash_file("burst.csv", "BURST", 40);
  ASSERT_EQ(hangar({"import", file.string(), "--profile", "standard"}).code, 0);
  std::string screen = summary.wait_for("40 devices Queued");
  EXPECT_NE(screen.find("40 devices Queued (#1-#40)"), std::string::npos) << screen;
  screen = summary.wait_for("devices Ready for user", 90s);
  EXPECT_NE(screen.find("devices Ready for user"), std::string::npos) << screen;
  EXPECT_EQ(screen.find("BURST-0001"), std::string::npos) << "summed up, not listed: " << screen;

  const auto verbose = hangar({"watch", "--from-seq", "0", "--count", "40", "-v"});
  ASSERT_EQ(verbose.code, 0) << verbose.output;
  EXPECT_NE(verbose.output.find("BURST-0040  (new) -> Queued"), std::string::npos)
      << verbose.output;
}

// Round 9: deregister asked "Delete ...? [y/N]" before the service had looked the device up, so
// another team's device was refused only after the admin's "y". The look-up comes first; the
// question names the Autopilot id; "n" changes nothing and is not a failure.
TEST_F(CliE2E, DeregisterInATerminalLooksTheDeviceUpBeforeItAsks) {
  set_time_limit(120s);
  const auto device = [](const char* serial, const char* tag) {
    return Json{{"serial_number", serial},
                {"group_tag", tag},
                {"manufacturer", "Fabrikam"},
                {"model", "Book 3"}};
  };
  start_cloud({{"seed", 14},
               {"time_scale", 600},
               {"tenant",
                {{"devices",
                  {device("OTHER-1", "AnotherTeam"),
                   device("OURS-1", "Microsoft365Managed_Autopilot")}}}}});
  start_service();

  std::string screen;
  {
    Terminal refused(dir_.path(), shell_command({"deregister", "OTHER-1"}));
    screen = refused.wait_for("[exit ");
    EXPECT_NE(screen.find("not Hangar's"), std::string::npos) << screen;
    EXPECT_NE(screen.find("[exit 1]"), std::string::npos) << screen;
    EXPECT_EQ(screen.find("[y/N]"), std::string::npos) << "refused before any question: " << screen;
  }
  Terminal declined(dir_.path(), shell_command({"deregister", "OURS-1"}));
  screen = declined.wait_for("[y/N]");
  EXPECT_NE(screen.find("Delete the Windows Autopilot registration of OURS-1 ("), std::string::npos)
      << screen;
  declined.type("n");
  screen = declined.wait_for("[exit ");
  EXPECT_NE(screen.find("nothing deleted (answered no)"), std::string::npos) << screen;
  EXPECT_NE(screen.find("[exit 0]"), std::string::npos) << screen;

  // Nothing was deleted by the look-up or the "n": the deletion happens now.
  auto deleted = hangar({"deregister", "OURS-1", "--yes"});
  EXPECT_EQ(deleted.code, 0) << deleted.output;
  EXPECT_NE(deleted.output.find("deleted the Windows Autopilot registration of OURS-1"),
            std::string::npos)
      << deleted.output;
}

// Item 9: merge splits at the portal's 500 rows, tags, prints the builds, and its counts add up;
// --expect-build mismatches are summed up, fail validate and are refused by import.
TEST_F(CliE2E, MergeSplitsAtFiveHundredAndBuildMismatchesAreCaught) {
  const auto good = hash_file("good.csv", "GOOD", 1100, "10.0.22631.2861");
  const auto stray = hash_file("stray.csv", "STRAY", 7, "10.0.19045.3803");
  {
    // A duplicate row and an invalid one, so every count is there.
    std::ofstream out(dir_.path() / "mixed.csv", std::ios::binary);
    out << "Device Serial Number,Windows Product ID,Hardware Hash\r\n"
        << "GOOD-0001,," << hash_for("GOOD-0001") << "\r\n"
        << "BROKEN-1,,not-a-hash\r\n";
  }
  const auto out = dir_.path() / "upload.csv";
  const auto merged =
      hangar({"merge", good.string(), stray.string(), (dir_.path() / "mixed.csv").string(), "-o",
              out.string(), "--group-tag", "Sales", "--expect-build", "22631"});
  EXPECT_EQ(merged.code, 1) << merged.output;  // rows were left out
  EXPECT_NE(merged.output.find("OS builds in the hashes (check the image):  10.0.19045.3803 x7  "
                               "10.0.22631.2861 x1100"),
            std::string::npos)
      << merged.output;
  EXPECT_NE(merged.output.find("7 on 10.0.19045.3803: STRAY-0001, STRAY-0002, STRAY-0003, "
                               "STRAY-0004, STRAY-0005 and 2 more"),
            std::string::npos)
      << merged.output;
  EXPECT_NE(merged.output.find("1109 row(s) read = 1100 written + 1 duplicate(s) + 1 invalid + 0 "
                               "unfit for the portal's format + 7 on another OS build"),
            std::string::npos)
      << merged.output;
  for (const char* part : {"upload-001.csv", "upload-002.csv", "upload-003.csv"}) {
    EXPECT_TRUE(std::filesystem::exists(dir_.path() / part)) << part << "\n" << merged.output;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "upload-004.csv"));
  const auto first = lines_of(read_file(dir_.path() / "upload-001.csv"));
  EXPECT_EQ(first.size(), 501u);
  EXPECT_NE(first[1].find(",Sales,"), std::string::npos) << first[1];
  EXPECT_EQ(lines_of(read_file(dir_.path() / "upload-003.csv")).size(), 101u);

  const auto json =
      hangar_json({"merge", good.string(), stray.string(), "-o", (dir_.path() / "all.csv").string(),
                   "--no-split", "--expect-build", "22631", "--allow-build-mismatch"});
  EXPECT_EQ(json["ok"], true) << json.dump();
  EXPECT_EQ(json["counts"]["read"], 1107);
  EXPECT_EQ(json["counts"]["written"], 1107);
  EXPECT_EQ(json["build_mismatches"]["builds"]["10.0.19045.3803"]["count"], 7);
  EXPECT_EQ(lines_of(read_file(dir_.path() / "all.csv")).size(), 1108u);

  const auto checked = hangar({"validate", stray.string(), "--expect-build", "22631"});
  EXPECT_EQ(checked.code, 1) << checked.output;
  EXPECT_EQ(
      hangar({"validate", stray.string(), "--expect-build", "22631", "--allow-build-mismatch"})
          .code,
      0);

  start_service();
  const auto small = hash_file("small.csv", "OK", 3, "10.0.22631.2861");
  const auto imported = hangar({"import", small.string(), stray.string(), "--profile", "standard",
                                "--expect-build", "22631"});
  EXPECT_EQ(imported.code, 1) << imported.output;
  EXPECT_NE(imported.output.find("STRAY-0001: captured on OS build 10.0.19045.3803, not the "
                                 "expected 22631: not imported"),
            std::string::npos)
      << imported.output;
  EXPECT_NE(imported.output.find("3 accepted, 0 already queued, 7 rejected"), std::string::npos)
      << imported.output;
  EXPECT_EQ(hangar({"show", "STRAY-0001"}).code, 1);
  EXPECT_EQ(hangar({"show", "OK-0001"}).code, 0);
}

#ifndef _WIN32
// Item 10: capture says whether anything was saved, and its last words fit that. On Linux no hash
// can be read, so nothing is saved: no registration was started, so the seed's "do not power it on
// until its registration is complete" would send the admin waiting for one that never comes
// (attack round 2, finding 09); the advice is to fix the cause and capture again.
TEST_F(CliE2E, CaptureSaysWhetherAnythingWasSavedAndEndsWithTheSeedsWarning) {
  const auto result = hangar({"capture", "--no-queue", "--output", dir_.path().string()});
  EXPECT_EQ(result.code, 1) << result.output;
  EXPECT_NE(result.output.find("Saved: NOTHING was saved for this device."), std::string::npos)
      << result.output;
  EXPECT_EQ(result.output.find("until its registration is complete"), std::string::npos)
      << result.output;
  const auto advice = result.output.find("No registration was started for this device");
  ASSERT_NE(advice, std::string::npos) << result.output;
  EXPECT_NE(result.output.find("run `hangar capture` again", advice), std::string::npos);
  EXPECT_EQ(result.output.find('\n', advice), result.output.size() - 1) << "the last words";
  const auto json = hangar_json({"capture", "--no-queue", "--output", dir_.path().string()}, 1);
  EXPECT_EQ(json["saved"], false);
  EXPECT_EQ(json["warning"].get<std::string>().find("shut this device down"), std::string::npos);
  EXPECT_NE(json["warning"].get<std::string>().find("capture` again"), std::string::npos);
}
#endif

}  // namespace
}  // namespace hangar::test
