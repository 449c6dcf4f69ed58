// The fixture of the hostile-client suite (hostile_e2e_test.cpp, hostile_paths_e2e_test.cpp):
// the accounts it creates as root, the ping watch, and hangard started as a service account.
#pragma once

#include <gtest/gtest.h>

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <future>
#include <optional>
#include <set>
#include <thread>

#include "child_process.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/commands.h"
#include "test_support.h"

namespace hangar::test {

using namespace std::chrono_literals;
using Json = nlohmann::json;

inline const std::string kHangard = HANGAR_TEST_HANGARD;
inline const std::string kHangar = HANGAR_TEST_HANGAR;
inline const std::string kHostile = HANGAR_TEST_HOSTILE_CLIENT;
inline const std::string kDevicegen = HANGAR_TEST_DEVICEGEN;
inline const std::string kSetpriv = "/usr/bin/setpriv";

// The bound of the issue: hangard stays under 64 MB through every hostile input. Sanitizers keep
// freed memory in quarantine and shadow every byte, so there the figure is reported, not checked.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCheckMemory = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kCheckMemory = false;
#else
constexpr bool kCheckMemory = true;
#endif
#else
constexpr bool kCheckMemory = true;
#endif
constexpr long kMemoryBoundKb = 64 * 1024;
// A ping while attacks run; generous for a debug build on a shared 2-core machine.
constexpr auto kPromptPing = 1000ms;

inline std::string why_not_runnable() {
  if (::geteuid() != 0) return "the hostile-client suite creates users: run it as root";
  for (const char* tool : {"/usr/sbin/useradd", "/usr/sbin/userdel", "/usr/sbin/groupadd",
                           "/usr/sbin/groupdel", "/usr/bin/setpriv"}) {
    if (::access(tool, X_OK) != 0) return std::string(tool) + " is missing";
  }
  return {};
}

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

// The users and groups of one test run, removed when the suite ends (even after a failure).
class Accounts {
 public:
  explicit Accounts(std::filesystem::path scratch) : scratch_(std::move(scratch)) {}
  ~Accounts() {
    for (auto it = users_.rbegin(); it != users_.rend(); ++it) {
      run_command({"/usr/sbin/userdel", *it}, scratch_);
    }
    for (auto it = groups_.rbegin(); it != groups_.rend(); ++it) {
      run_command({"/usr/sbin/groupdel", *it}, scratch_);
    }
  }

  std::string group(const std::string& role) {
    const std::string name = prefix() + role;
    auto r = run_command({"/usr/sbin/groupadd", "--system", name}, scratch_);
    EXPECT_EQ(r.code, 0) << r.output;
    groups_.push_back(name);
    return name;
  }

  // A system user with its own primary group (named like it), in `groups` as well.
  Account user(const std::string& role, const std::vector<std::string>& groups = {}) {
    const std::string name = prefix() + role;
    std::vector<std::string> argv{"/usr/sbin/useradd", "--system", "--user-group",
                                  "--no-create-home",  "--shell",  "/usr/sbin/nologin"};
    if (!groups.empty()) {
      std::string list;
      for (const auto& g : groups) list += (list.empty() ? "" : ",") + g;
      argv.insert(argv.end(), {"--groups", list});
    }
    argv.push_back(name);
    auto r = run_command(argv, scratch_);
    EXPECT_EQ(r.code, 0) << r.output;
    users_.push_back(name);
    groups_.push_back(name);  // --user-group; userdel removes it, groupdel then finds none
    Account account{name, 0, 0};
    if (passwd* pw = ::getpwnam(name.c_str())) {
      account.uid = pw->pw_uid;
      account.gid = pw->pw_gid;
    }
    return account;
  }

 private:
  static std::string prefix() { return "hgt" + std::to_string(::getpid() % 100000); }
  std::filesystem::path scratch_;
  std::vector<std::string> users_;
  std::vector<std::string> groups_;
};

// argv run as `account` (its groups included).
inline std::vector<std::string> as(const Account& account, std::vector<std::string> argv) {
  std::vector<std::string> wrapped{kSetpriv, "--reuid=" + account.name,
                                   "--regid=" + std::to_string(account.gid), "--init-groups", "--"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return wrapped;
}

inline gid_t gid_of(const std::string& group) {
  struct group* g = ::getgrnam(group.c_str());
  return g ? g->gr_gid : static_cast<gid_t>(-1);
}

inline long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return -1;
}

// Pings the service every 100 ms from this process (root: it may use the slots kept for
// administrators) while an attack runs; the slowest answer and the failures are kept.
class PingWatch {
 public:
  explicit PingWatch(std::string endpoint) : endpoint_(std::move(endpoint)) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const auto started = std::chrono::steady_clock::now();
        auto client = ipc::Client::connect(endpoint_, 5s);
        const bool ok = client && client->call("ping", Json::object(), 5s).ok();
        const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - started);
        if (!ok) ++failures_;
        ++pings_;
        long long previous = slowest_ms_.load();
        while (took.count() > previous &&
               !slowest_ms_.compare_exchange_weak(previous, took.count())) {
        }
        std::this_thread::sleep_for(100ms);
      }
    });
  }
  ~PingWatch() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::chrono::milliseconds slowest() const {
    return std::chrono::milliseconds(slowest_ms_.load());
  }
  int failures() const { return failures_.load(); }
  int pings() const { return pings_.load(); }

 private:
  std::string endpoint_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<long long> slowest_ms_{0};
  std::atomic<int> failures_{0};
  std::atomic<int> pings_{0};
};

class HostileE2E : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!why_not_runnable().empty()) return;
    scratch_ = new TempDir();
    accounts_ = new Accounts(scratch_->path());
    ops_group_ = accounts_->group("ops");
    service_ = accounts_->user("svc", {ops_group_});  // the dedicated service account
    other_service_ = accounts_->user("svx");          // an account outside the ops group
    operator_ = accounts_->user("op", {ops_group_});
    operator2_ = accounts_->user("oq", {ops_group_});
    operator3_ = accounts_->user("or", {ops_group_});
    reader_ = accounts_->user("rd", {service_.name});  // reaches svc's socket, may only read
    mallory_ = accounts_->user("ev");                  // in no group of ours
  }
  static void TearDownTestSuite() {
    delete accounts_;
    delete scratch_;
    accounts_ = nullptr;
    scratch_ = nullptr;
  }

  void SetUp() override {
    if (auto reason = why_not_runnable(); !reason.empty()) GTEST_SKIP() << reason;
    std::filesystem::permissions(dir_.path(), std::filesystem::perms(0755));
    endpoint_ = (dir_.path() / "run" / "hangar.sock").string();
    data_dir_ = dir_.path() / "data";
    ::unsetenv("HANGAR_SERVICE_ACCOUNT");
  }

  // hangard, as root or as `account` (whose data and socket directories are made for it first).
  std::unique_ptr<Process> start(const std::vector<std::string>& extra = {},
                                 const std::optional<Account>& account = std::nullopt,
                                 const Json& config = Json()) {
    std::vector<std::string> argv{kHangard,  "--data-dir",  data_dir_.string(),  "--endpoint",
                                  endpoint_, "--cloud-url", "http://127.0.0.1:9"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    if (!config.is_null()) {
      std::filesystem::create_directories(data_dir_);
      std::ofstream(data_dir_ / "hangar.json") << config.dump();
    }
    if (account) {
      for (const auto& dir : {data_dir_, dir_.path() / "run"}) {
        std::filesystem::create_directories(dir);
        EXPECT_EQ(::chown(dir.c_str(), account->uid, account->gid), 0);
        ::chmod(dir.c_str(), 0750);
      }
      if (!config.is_null()) {
        EXPECT_EQ(::chown((data_dir_ / "hangar.json").c_str(), account->uid, account->gid), 0);
      }
      ::setenv("HANGAR_SERVICE_ACCOUNT", account->name.c_str(), 1);
      argv = as(*account, argv);
    }
    return std::make_unique<Process>(argv, dir_.path() / "hangard.out");
  }

  bool wait_ready(Process& service) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (service.wait(0ms)) return false;
      if (auto client = ipc::Client::connect(endpoint_, 1s); client && client->call("ping").ok()) {
        return true;
      }
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // hostile_client run as `who`, its JSON answer.
  Json hostile(const Account& who, std::vector<std::string> args,
               std::chrono::milliseconds timeout = 120s) {
    args.insert(args.begin(), kHostile);
    const char* service_account = std::getenv("HANGAR_SERVICE_ACCOUNT");
    std::vector<std::string> env;
    if (service_account) env.push_back(std::string("HANGAR_SERVICE_ACCOUNT=") + service_account);
    auto r = run_command(as(who, args), dir_.path(), timeout, env);
    EXPECT_EQ(r.code, 0) << r.output;
    const auto start = r.output.find('{');
    if (start == std::string::npos) return Json::object();
    try {
      return Json::parse(r.output.substr(start, r.output.find('\n', start) - start));
    } catch (const std::exception&) {
      ADD_FAILURE() << "not JSON: " << r.output;
      return Json::object();
    }
  }

  // The CLI as `who` (root when not given).
  RunResult hangar(std::vector<std::string> args, const std::optional<Account>& who = std::nullopt,
                   const std::optional<std::string>& input = std::nullopt) {
    args.insert(args.begin(), {kHangar, "--endpoint", endpoint_});
    std::vector<std::string> env;
    if (const char* account = std::getenv("HANGAR_SERVICE_ACCOUNT")) {
      env.push_back(std::string("HANGAR_SERVICE_ACCOUNT=") + account);
    }
    return run_command(who ? as(*who, args) : args, dir_.path(), 60s, env, input);
  }

  // The service is alive, answers ping promptly now, and stayed under its memory bound.
  void expect_healthy(Process& service, const char* after) {
    ASSERT_FALSE(service.wait(0ms).has_value()) << "hangard died after " << after << ":\n"
                                                << read_file(dir_.path() / "hangard.out");
    const auto started = std::chrono::steady_clock::now();
    auto client = ipc::Client::connect(endpoint_, 5s);
    ASSERT_TRUE(client.ok()) << after << ": " << client.error().message;
    ASSERT_TRUE(client->call("ping").ok()) << after;
    EXPECT_LT(std::chrono::steady_clock::now() - started, kPromptPing) << after;
    const long peak = status_kb(service.pid(), "VmHWM");
    const long now = status_kb(service.pid(), "VmRSS");
    std::cout << "[ figures  ] after " << after << ": hangard VmRSS " << now << " kB, VmHWM "
              << peak << " kB\n";
    if (kCheckMemory) {
      EXPECT_LT(peak, kMemoryBoundKb) << after;
    }
  }

  void report(const PingWatch& watch, const char* during) {
    std::cout << "[ figures  ] during " << during << ": " << watch.pings() << " pings, slowest "
              << watch.slowest().count() << " ms, " << watch.failures() << " failed\n";
    EXPECT_EQ(watch.failures(), 0) << during;
    EXPECT_LT(watch.slowest(), kPromptPing) << during;
  }

  static TempDir* scratch_;
  static Accounts* accounts_;
  static std::string ops_group_;
  static Account service_, other_service_, operator_, operator2_, operator3_, reader_, mallory_;
  TempDir dir_;
  std::string endpoint_;
  std::filesystem::path data_dir_;
};

}  // namespace hangar::test
