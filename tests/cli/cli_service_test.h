// The base fixture of the CLI tests that run `hangar` in-process against a fake service over the
// real transport: a private endpoint, an in-process IPC server whose every command is recorded and
// answered by the test's handler, and the CLI run against it with its output captured.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cli.h"
#include "hangar/ipc/dispatcher.h"
#include "hangar/ipc/server.h"
#include "test_support.h"

namespace hangar::cli {

// What the fake service answers `command` called with `args`: the reply's result, or an error.
// Called on the server's threads.
using FakeService = std::function<core::Result<nlohmann::json>(const std::string& command,
                                                               const nlohmann::json& args)>;

class CliServiceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Runs `hangar --endpoint E ARGS...` without a standard input and returns its exit code;
  // out_ and err_ hold what it wrote.
  int run(std::vector<std::string> args);
  // The same with `input` on its standard input.
  int run(std::vector<std::string> args, const std::string& input);
  std::string output() const { return out_.str() + err_.str(); }

  // Serves the endpoint: every command of the table is recorded, then answered by `answer`.
  void start_service(FakeService answer);

  // The requests the service received so far, in order: (command, args).
  std::vector<std::pair<std::string, nlohmann::json>> requests() const;
  // The args of those of them that called `command`.
  std::vector<nlohmann::json> requests_named(const std::string& command) const;

  test::TempDir dir_;
  std::string endpoint_;
  std::ostringstream out_, err_;

 private:
  mutable std::mutex mutex_;
  std::vector<std::pair<std::string, nlohmann::json>> requests_;  // under mutex_
  FakeService answer_;
  std::unique_ptr<ipc::Dispatcher> dispatcher_;
  std::unique_ptr<ipc::Server> server_;
};

}  // namespace hangar::cli
