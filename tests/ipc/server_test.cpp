// The server over the real platform transport (Unix socket or named pipe): concurrency, timeouts,
// bad frames, shutdown. Runs natively and under Wine.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "hangar/ipc/client.h"
#include "hangar/ipc/server.h"
#include "test_support.h"

namespace hangar::ipc {
namespace {

using namespace std::chrono_literals;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = test::unique_endpoint(dir_);
    std::vector<Binding> bindings;
    for (const auto& info : kCommands) {
      bindings.push_back({info.name,
                          [name = std::string(info.name)](
                              const Json& args, const CallContext& call) -> core::Result<Json> {
                            return Json{{"cmd", name}, {"args", args}, {"user", call.peer.user}};
                          }});
    }
    dispatcher_ = std::make_unique<Dispatcher>(std::move(*Dispatcher::create(std::move(bindings))));
  }

  void start(ServerOptions options = {}) {
    auto listener = listen(endpoint_, {});
    ASSERT_TRUE(listener.ok()) << listener.error().message;
    server_ = std::make_unique<Server>(std::move(listener).value(), *dispatcher_, options);
    server_->start();
  }

  std::unique_ptr<Stream> raw_connect() {
    auto stream = connect(endpoint_, 2s);
    EXPECT_TRUE(stream.ok()) << stream.error().message;
    return stream.ok() ? std::move(stream).value() : nullptr;
  }

  // Calls ping on a fresh client and returns how long it took.
  std::chrono::milliseconds timed_ping() {
    auto start = std::chrono::steady_clock::now();
    auto client = Client::connect(endpoint_, 2s);
    EXPECT_TRUE(client.ok()) << client.error().message;
    if (!client.ok()) return 999'999ms;
    auto result = client->call("ping", Json::object(), 5s);
    EXPECT_TRUE(result.ok()) << result.error().message;
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
  }

  test::TempDir dir_;
  std::string endpoint_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoundTripCarriesArgsAndPeer) {
  start();
  auto client = Client::connect(endpoint_);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto result = client->call("status", Json{{"n", 7}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)["cmd"], "status");
  EXPECT_EQ((*result)["args"]["n"], 7);
  EXPECT_FALSE((*result)["user"].get<std::string>().empty());
  // Several requests on one connection.
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(client->call("ping").ok());
}

TEST_F(ServerTest, ServesManyClientsAtOnce) {
  start();
  constexpr int kClients = 16;
  std::vector<std::future<int>> results;
  for (int c = 0; c < kClients; ++c) {
    results.push_back(std::async(std::launch::async, [this] {
      auto client = Client::connect(endpoint_);
      if (!client) return 0;
      int ok = 0;
      for (int i = 0; i < 25; ++i) ok += client->call("ping").ok() ? 1 : 0;
      return ok;
    }));
  }
  for (auto& r : results) EXPECT_EQ(r.get(), 25);
}

TEST_F(ServerTest, SilentClientDoesNotBlockOthersAndIsDroppedAfterIdleTimeout) {
  ServerOptions options;
  options.timeouts.idle = 1500ms;
  start(options);
  auto silent = raw_connect();
  ASSERT_TRUE(silent);
  // While the silent client holds its connection, others are answered promptly.
  for (int i = 0; i < 5; ++i) EXPECT_LT(timed_ping(), 1000ms);
  // The server gives up on the silent one: its stream ends.
  std::array<std::byte, 16> buffer{};
  auto n = silent->read_some(buffer, 10s);
  EXPECT_TRUE(!n.ok() || *n == 0) << "server should have closed the idle connection";
}

TEST_F(ServerTest, ClientStallingMidFrameIsDropped) {
  ServerOptions options;
  options.timeouts.frame = 300ms;
  start(options);
  auto stalled = raw_connect();
  std::string partial = test::frame_bytes(R"({"v":1,"id":1,"cmd":"ping"})").substr(0, 6);
  ASSERT_TRUE(
      stalled->write_all(std::as_bytes(std::span(partial.data(), partial.size())), 1s).ok());
  EXPECT_LT(timed_ping(), 1000ms);
  std::array<std::byte, 16> buffer{};
  auto n = stalled->read_some(buffer, 5s);
  EXPECT_TRUE(!n.ok() || *n == 0);
}

TEST_F(ServerTest, OversizedFrameGetsAnErrorReplyThenTheConnectionCloses) {
  ServerOptions options;
  options.max_frame_size = 1024;
  start(options);
  auto stream = raw_connect();
  auto header = encode_frame_header(100u * 1024u * 1024u);
  ASSERT_TRUE(stream->write_all(header, 1s).ok());
  auto reply_frame = read_frame(*stream, {5s, 5s});
  ASSERT_TRUE(reply_frame.ok()) << reply_frame.error().message;
  auto reply = parse_reply(*reply_frame);
  ASSERT_TRUE(reply.ok());
  EXPECT_FALSE(reply->ok);
  EXPECT_EQ(reply->error.code, errc::kFrameTooLarge);
  auto after = read_frame(*stream, {5s, 5s});
  EXPECT_FALSE(after.ok());
  // Everyone else is still served.
  EXPECT_LT(timed_ping(), 1000ms);
}

TEST_F(ServerTest, MalformedJsonGetsAnErrorReplyThenTheConnectionCloses) {
  start();
  auto stream = raw_connect();
  ASSERT_TRUE(write_frame(*stream, "{this is not json", 1s).ok());
  auto reply = parse_reply(*read_frame(*stream, {5s, 5s}));
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->error.code, errc::kMalformedRequest);
  EXPECT_FALSE(read_frame(*stream, {5s, 5s}).ok());
  EXPECT_LT(timed_ping(), 1000ms);
}

TEST_F(ServerTest, UnknownCommandAndWrongVersionKeepTheConnection) {
  start();
  auto stream = raw_connect();
  ASSERT_TRUE(write_frame(*stream, R"({"v":1,"id":1,"cmd":"no-such"})", 1s).ok());
  auto r1 = parse_reply(*read_frame(*stream, {5s, 5s}));
  EXPECT_EQ(r1->error.code, errc::kUnknownCommand);
  ASSERT_TRUE(write_frame(*stream, R"({"v":42,"id":2,"cmd":"ping"})", 1s).ok());
  auto r2 = parse_reply(*read_frame(*stream, {5s, 5s}));
  EXPECT_EQ(r2->error.code, errc::kUnsupportedVersion);
  EXPECT_EQ(r2->id, 2u);
  ASSERT_TRUE(write_frame(*stream, R"({"v":1,"id":3,"cmd":"ping"})", 1s).ok());
  auto r3 = parse_reply(*read_frame(*stream, {5s, 5s}));
  EXPECT_TRUE(r3->ok);
}

TEST_F(ServerTest, ClientDisconnectingMidFrameDoesNotDisturbTheServer) {
  start();
  for (int i = 0; i < 5; ++i) {
    auto stream = raw_connect();
    std::string partial = test::frame_bytes(R"({"v":1,"id":1,"cmd":"ping"})").substr(0, 9);
    (void)stream->write_all(std::as_bytes(std::span(partial.data(), partial.size())), 1s);
  }  // each closed abruptly
  EXPECT_LT(timed_ping(), 1000ms);
}

TEST_F(ServerTest, BusyWhenAtTheConnectionLimit) {
  ServerOptions options;
  options.max_connections = 2;
  start(options);
  auto a = Client::connect(endpoint_);
  auto b = Client::connect(endpoint_);
  ASSERT_TRUE(a->call("ping").ok());
  ASSERT_TRUE(b->call("ping").ok());
  auto c = Client::connect(endpoint_);
  ASSERT_TRUE(c.ok());
  auto refused = c->call("ping", Json::object(), 5s);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code, errc::kBusy);
}

TEST_F(ServerTest, StopClosesIdleConnectionsPromptly) {
  start();
  std::vector<std::unique_ptr<Stream>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(raw_connect());
  auto started = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(ServerTest, SecondListenerOnTheSameEndpointIsRefused) {
  start();
  auto second = listen(endpoint_, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "endpoint_in_use");
  EXPECT_LT(timed_ping(), 1000ms) << "the first server must keep serving";
}

TEST_F(ServerTest, ConnectingWhereNothingListensIsUnavailable) {
  auto started = std::chrono::steady_clock::now();
  auto client = Client::connect(endpoint_, 2s);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.error().code, errc::kUnavailable);
  EXPECT_NE(client.error().message.find(endpoint_), std::string::npos) << client.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms);
}

}  // namespace
}  // namespace hangar::ipc
