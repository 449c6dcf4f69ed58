// Starting real binaries from tests (POSIX): spawn with output to files, wait with a timeout,
// signal, and run-to-completion with captured output.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "watchdog.h"

extern char** environ;

namespace hangar::test {

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Process {
 public:
  // Starts argv[0] with stdout/stderr appended to `log`. Extra environment as "K=V". Standard
  // input is closed, or reads the file `input` when one is given.
  Process(const std::vector<std::string>& argv, const std::filesystem::path& log,
          const std::vector<std::string>& extra_env = {}, const std::filesystem::path& input = {}) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    if (input.empty()) {
      posix_spawn_file_actions_addclose(&actions, 0);
    } else {
      posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e; ++e) env_storage.emplace_back(*e);
    for (const auto& e : extra_env) env_storage.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_storage) envp.push_back(e.data());
    envp.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait(std::chrono::seconds(5));
    }
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  bool started() const { return pid_ > 0; }
  bool running() const { return pid_ > 0 && !exit_code_; }
  pid_t pid() const { return pid_; }
  void signal(int sig) const {
    if (running()) ::kill(pid_, sig);
  }
  // The exit code (128+signal when killed), or nothing if still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    } while (std::chrono::steady_clock::now() < deadline);
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

struct RunResult {
  int code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a command to completion (killed after `timeout`), with `input` on its standard input when
// given (through a file in `scratch`, removed afterwards).
inline RunResult run_command(const std::vector<std::string>& argv,
                             const std::filesystem::path& scratch,
                             std::chrono::milliseconds timeout = std::chrono::seconds(30),
                             const std::vector<std::string>& extra_env = {},
                             const std::optional<std::string>& input = std::nullopt) {
  static int counter = 0;
  const std::string name = "cmd-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  auto out = scratch / (name + ".out");
  std::filesystem::path in;
  if (input) {
    in = scratch / (name + ".in");
    std::ofstream(in, std::ios::binary) << *input;
  }
  RunResult result;
  {
    std::string command;
    for (const auto& arg : argv) command += (command.empty() ? "" : " ") + arg;
    if (command.size() > 200) command = command.substr(0, 200) + "...";
    WaitingFor waiting("`" + command + "` to finish (killed after " +
                       std::to_string(timeout.count()) + " ms)");
    Process p(argv, out, extra_env, in);
    auto code = p.wait(timeout);
    result.code = code ? *code : -1;
  }
  result.output = read_file(out);
  std::filesystem::remove(out);
  if (!in.empty()) std::filesystem::remove(in);
  return result;
}

}  // namespace hangar::test
