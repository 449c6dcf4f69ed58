// The base fixture of the CLI tests against a fake service (see cli_service_test.h).
#include "cli_service_test.h"

#include "hangar/ipc/commands.h"
#include "hangar/ipc/protocol.h"

namespace hangar::cli {

using Json = nlohmann::json;

void CliServiceTest::SetUp() { endpoint_ = test::unique_endpoint(dir_); }

void CliServiceTest::TearDown() {
  if (server_) server_->stop();
}

int CliServiceTest::run(std::vector<std::string> args) {
  args.insert(args.begin(), {"--endpoint", endpoint_});
  out_.str("");
  err_.str("");
  return cli::run(args, out_, err_);
}

int CliServiceTest::run(std::vector<std::string> args, const std::string& input) {
  args.insert(args.begin(), {"--endpoint", endpoint_});
  out_.str("");
  err_.str("");
  std::istringstream in(input);
  return cli::run(args, in, out_, err_);
}

void CliServiceTest::start_service(FakeService answer) {
  answer_ = std::move(answer);
  std::vector<ipc::Binding> bindings;
  for (const auto& info : ipc::kCommands) {
    bindings.push_back({info.name,
                        [this, name = std::string(info.name)](
                            const Json& args, const ipc::CallContext&) -> core::Result<Json> {
                          {
                            std::lock_guard lock(mutex_);
                            requests_.push_back({name, args});
                          }
                          return answer_(name, args);
                        }});
  }
  auto dispatcher = ipc::Dispatcher::create(std::move(bindings));
  ASSERT_TRUE(dispatcher.ok()) << dispatcher.error().message;
  dispatcher_ = std::make_unique<ipc::Dispatcher>(std::move(dispatcher).value());
  auto listener = ipc::listen(endpoint_, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  server_ = std::make_unique<ipc::Server>(std::move(listener).value(), *dispatcher_,
                                          ipc::ServerOptions{});
  server_->start();
}

std::vector<std::pair<std::string, Json>> CliServiceTest::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

std::vector<Json> CliServiceTest::requests_named(const std::string& command) const {
  std::lock_guard lock(mutex_);
  std::vector<Json> out;
  for (const auto& [name, args] : requests_) {
    if (name == command) out.push_back(args);
  }
  return out;
}

}  // namespace hangar::cli
