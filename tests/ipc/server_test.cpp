// The server over the real platform transport (Unix socket or named pipe): concurrency, timeouts,
// bad frames, shutdown. Runs natively and under Wine.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <future>
#include <random>
#include <string>
#include <thread>

#include "hangar/ipc/client.h"
#include "hangar/ipc/server.h"
#include "test_support.h"
#include "waits.h"

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
                          [this, name = std::string(info.name)](
                              const Json& args, const CallContext& call) -> core::Result<Json> {
                            // `subscribe` streams with the test's task, when it set one.
                            if (name == "subscribe" && stream_task_ && call.stream_after) {
                              *call.stream_after = stream_task_;
                            }
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

  // Waits until the server serves `count` connections; false if it did not within `limit`.
  bool wait_for_connections(std::size_t count, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (server_->active_connections() != count) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  test::TempDir dir_;
  std::string endpoint_;
  StreamTask stream_task_;  // what `subscribe` streams with (set before start())
  std::unique_ptr<Dispatcher> dispatcher_;
  std::unique_ptr<Server> server_;
};

TEST_F(ServerTest, RoundTripCarriesArgsAndPeer) {
  start();
  auto client = Client::connect(endpoint_);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto result = client->call("list", Json{{"limit", 7}});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ((*result)["cmd"], "list");
  EXPECT_EQ((*result)["args"]["limit"], 7);
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

// A stream task that writes nothing until its client leaves, as a subscriber of a quiet service.
struct QuietStream {
  std::atomic<int> probes{0};
  std::atomic<bool> ended{false};
  StreamTask task() {
    return [this](const FrameWriter&, const PeerLeft& peer_left) {
      while (!peer_left()) {
        ++probes;
        std::this_thread::sleep_for(20ms);
      }
      ended.store(true);
    };
  }
};

TEST_F(ServerTest, AStreamLearnsThatItsClientHungUpWithoutWritingToIt) {
  QuietStream quiet;
  stream_task_ = quiet.task();
  start();
  {
    auto client = Client::connect(endpoint_);
    ASSERT_TRUE(client.ok()) << client.error().message;
    ASSERT_TRUE(client->subscribe().ok());
    std::this_thread::sleep_for(300ms);
    // Connected and silent, as a subscriber must be: the stream goes on.
    EXPECT_GT(quiet.probes.load(), 3);
    EXPECT_FALSE(quiet.ended.load());
    EXPECT_EQ(server_->active_connections(), 1u);
  }  // the client hangs up
  const auto closed = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_for_connections(0, 2s)) << "the stream still holds its connection";
  EXPECT_TRUE(quiet.ended.load());
  EXPECT_LT(std::chrono::steady_clock::now() - closed, 1s);
  EXPECT_LT(timed_ping(), 1000ms);
}

TEST_F(ServerTest, AStreamingClientThatSendsAnythingIsToldWhyAndDropped) {
  QuietStream quiet;
  stream_task_ = quiet.task();
  start();
  auto stream = raw_connect();
  ASSERT_TRUE(stream);
  ASSERT_TRUE(write_frame(*stream, R"({"v":1,"id":5,"cmd":"subscribe"})", 1s).ok());
  auto ack = parse_reply(*read_frame(*stream, {5s, 5s}));
  ASSERT_TRUE(ack.ok());
  ASSERT_TRUE(ack->ok);
  // A subscriber has nothing to say on its stream: another request there is a protocol error.
  ASSERT_TRUE(write_frame(*stream, R"({"v":1,"id":6,"cmd":"ping"})", 1s).ok());
  auto refusal_frame = read_frame(*stream, {5s, 5s});
  ASSERT_TRUE(refusal_frame.ok()) << refusal_frame.error().message;
  auto refusal = parse_reply(*refusal_frame);
  ASSERT_TRUE(refusal.ok());
  EXPECT_FALSE(refusal->ok);
  EXPECT_EQ(refusal->id, 5u) << "the refusal answers the streaming request";
  EXPECT_EQ(refusal->error.code, errc::kMalformedRequest);
  EXPECT_NE(refusal->error.message.find("must not send"), std::string::npos)
      << refusal->error.message;
  EXPECT_FALSE(read_frame(*stream, {5s, 5s}).ok()) << "the connection should be closed";
  EXPECT_TRUE(wait_for_connections(0, 2s));
  EXPECT_TRUE(quiet.ended.load());
}

TEST_F(ServerTest, StopEndsAQuietStreamPromptly) {
  QuietStream quiet;
  stream_task_ = quiet.task();
  start();
  auto client = Client::connect(endpoint_);
  ASSERT_TRUE(client.ok());
  ASSERT_TRUE(client->subscribe().ok());
  ASSERT_TRUE(wait_for_connections(1, 1s));
  const auto started = std::chrono::steady_clock::now();
  server_->stop();
  EXPECT_TRUE(quiet.ended.load());
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
}

// Stream::probe over the platform's transport: never blocks, consumes nothing.
TEST(StreamProbe, TellsAQuietPeerFromOneThatSentDataOrHungUp) {
  test::TempDir dir;
  const std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  auto accepting = std::async(std::launch::async, [&] { return (*listener)->accept(); });
  auto client = connect(endpoint, 2s);
  ASSERT_TRUE(client.ok()) << client.error().message;
  auto accepted = accepting.get();
  ASSERT_TRUE(accepted.ok()) << accepted.error().message;
  Stream& server = **accepted;
  // Polls the probe until it says `wanted` (data and hang-ups travel, if only a little).
  const auto becomes = [&server](PeerActivity wanted) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    while (server.probe() != wanted) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(5ms);
    }
    return true;
  };

  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(server.probe(), PeerActivity::kQuiet);
  EXPECT_LT(std::chrono::steady_clock::now() - asked, 100ms) << "probe() must not wait";

  const std::string sent = "x";
  ASSERT_TRUE((*client)->write_all(std::as_bytes(std::span(sent.data(), sent.size())), 1s).ok());
  ASSERT_TRUE(becomes(PeerActivity::kData));
  EXPECT_EQ(server.probe(), PeerActivity::kData) << "probing consumed the byte";
  std::array<std::byte, 8> buffer{};
  auto n = server.read_some(buffer, 1s);
  ASSERT_TRUE(n.ok()) << n.error().message;
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(static_cast<char>(buffer[0]), 'x');
  EXPECT_EQ(server.probe(), PeerActivity::kQuiet);

  client->reset();  // the peer hangs up
  EXPECT_TRUE(becomes(PeerActivity::kClosed));
  server.close();
  EXPECT_EQ(server.probe(), PeerActivity::kClosed);
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

namespace hangar::ipc {
namespace {

// Server::stop() at random moments (accepting, mid-frame, mid-call, with idle clients), hundreds
// of times: each must return within two seconds, whatever its clients were doing.
TEST_F(ServerTest, StopAtRandomMomentsReturnsPromptly) {
  std::mt19937 random(1201);
  for (int round = 0; round < 200; ++round) {
    start();
    std::vector<std::unique_ptr<Stream>> idle;
    std::vector<std::thread> callers;
    for (auto n = random() % 4; n > 0; --n) {
      switch (random() % 3) {
        case 0:  // connected, silent
          if (auto stream = connect(endpoint_, 2s)) idle.push_back(std::move(stream).value());
          break;
        case 1:  // half a frame header, then nothing
          if (auto stream = connect(endpoint_, 2s)) {
            const std::array<std::byte, 2> half{std::byte{8}, std::byte{0}};
            (void)(*stream)->write_all(half, 1s);
            idle.push_back(std::move(stream).value());
          }
          break;
        default:  // calls that may be cut off by the stop
          callers.emplace_back([endpoint = endpoint_] {
            if (auto client = Client::connect(endpoint, 1s)) {
              for (int i = 0; i < 5; ++i) {
                if (!client->call("ping", Json::object(), 1s)) break;
              }
            }
          });
      }
    }
    test::spin_for(std::chrono::microseconds(random() % 2000));
    std::atomic<bool> stopped{false};
    std::thread stopper([&] {
      server_->stop();
      stopped = true;
    });
    test::within_or_abort([&] { return stopped.load(); }, 2000ms,
                          "round " + std::to_string(round) + ": Server::stop()");
    stopper.join();
    // A caller cut off by the stop, or still in the endpoint's backlog, hears so at once.
    const auto joined = std::chrono::steady_clock::now();
    for (auto& caller : callers) caller.join();
    EXPECT_LT(std::chrono::steady_clock::now() - joined, 500ms) << "round " << round;
    server_.reset();
  }
}

}  // namespace
}  // namespace hangar::ipc
