// The cpprestsdk transport against peers that misbehave at the socket level (a raw TCP server in
// the test): one that never answers (the stop must end the request at once), an answer longer than
// Hangar reads, declared or streamed, and one trickled a byte at a time (bounded as a whole).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hangar/cloud/http.h"

namespace hangar::cloud {
namespace {

using namespace std::chrono_literals;

// Accepts connections on 127.0.0.1 and hands each to `serve` (which may write and sleep) on the
// accepting thread; the connection stays open until the server is destroyed.
class RawServer {
 public:
  explicit RawServer(std::function<void(int fd, const std::atomic<bool>& done)> serve)
      : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 8);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (;;) {
        const int client = ::accept(fd_, nullptr, nullptr);
        if (client < 0 || done_) {
          if (client >= 0) ::close(client);
          return;
        }
        clients_.push_back(client);
        ++accepted;
        char request[4096];
        (void)::recv(client, request, sizeof request, 0);  // the request head; not checked
        serve_(client, done_);
      }
    });
  }
  ~RawServer() {
    done_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int client : clients_) ::close(client);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/beta/x"; }
  std::atomic<int> accepted{0};

 private:
  std::function<void(int, const std::atomic<bool>&)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> done_{false};
  std::vector<int> clients_;
  std::thread thread_;
};

void write_all(int fd, const std::string& text) {
  std::size_t sent = 0;
  while (sent < text.size()) {
    const auto n = ::send(fd, text.data() + sent, text.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

TEST(HttpTransport, CancelAllEndsARequestThePeerNeverAnswersAndRefusesNewOnes) {
  RawServer silent([](int, const std::atomic<bool>&) {});
  auto transport = make_cpprest_transport();
  auto pending = std::async(std::launch::async, [&] {
    return transport->send({"GET", silent.url(), {}, {}}, 30s);
  });
  while (silent.accepted == 0) std::this_thread::sleep_for(10ms);
  std::this_thread::sleep_for(200ms);
  const auto cancelled_at = std::chrono::steady_clock::now();
  transport->cancel_all();
  ASSERT_EQ(pending.wait_for(5s), std::future_status::ready) << "the stop did not end the request";
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, 2s);
  auto result = pending.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_NE(result.error().message.find("cancelled"), std::string::npos) << result.error().message;

  auto later = transport->send({"GET", silent.url(), {}, {}}, 30s);
  ASSERT_FALSE(later.ok());
  EXPECT_NE(later.error().message.find("stopping"), std::string::npos);
}

TEST(HttpTransport, AnAnswerDeclaredLongerThanTheLimitIsRefusedUnread) {
  RawServer huge([](int fd, const std::atomic<bool>&) {
    write_all(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 300000000\r\n\r\n{");
  });
  auto transport = make_cpprest_transport();
  auto result = transport->send({"GET", huge.url(), {}, {}}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_NE(result.error().message.find("300000000 bytes, more than the 16 MiB"), std::string::npos)
      << result.error().message;
}

TEST(HttpTransport, AStreamedAnswerLongerThanTheLimitIsCutOff) {
  RawServer chunked([](int fd, const std::atomic<bool>& done) {
    write_all(
        fd,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
    const std::string chunk(1 << 20, 'x');
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    for (int i = 0; i < 40 && !done; ++i) write_all(fd, size + chunk + "\r\n");
  });
  auto transport = make_cpprest_transport();
  auto result = transport->send({"GET", chunked.url(), {}, {}}, 20s);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().message.find("longer than the 16 MiB"), std::string::npos)
      << result.error().message;
}

TEST(HttpTransport, AnAnswerTrickledAByteAtATimeEndsAtTheTimeout) {
  RawServer trickle([](int fd, const std::atomic<bool>& done) {
    write_all(fd,
              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
    for (int i = 0; i < 1000 && !done; ++i) {
      write_all(fd, " ");
      std::this_thread::sleep_for(50ms);
    }
  });
  auto transport = make_cpprest_transport();
  const auto started = std::chrono::steady_clock::now();
  auto result = transport->send({"GET", trickle.url(), {}, {}}, 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - started, 4s);
}

// Attack round 2, finding 07: a server that never answers is a timeout in the admin's words, not
// cpprest's "Failed to read HTTP status line".
TEST(HttpTransport, NoAnswerIsATimeoutThatSaysSo) {
  RawServer silent([](int, const std::atomic<bool>& done) {
    while (!done) std::this_thread::sleep_for(20ms);
  });
  auto transport = make_cpprest_transport();
  auto result = transport->send({"POST", silent.url(), {}, "{}"}, 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrTimeout);
  EXPECT_NE(result.error().message.find("the cloud did not answer within 1 s"), std::string::npos)
      << result.error().message;
  EXPECT_EQ(result.error().message.find("status line"), std::string::npos)
      << result.error().message;
}

// Black-box round 10: another local user listening on the simulated cloud's port received every
// hardware hash, and its answers made devices Ready for user. The transport asks who listens.
TEST(HttpTransport, ALoopbackPortServedByAnotherUserIsRefusedUnsent) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to listen as another user";
  int report[2];
  ASSERT_EQ(::pipe(report), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The other user: nobody, listening on a free loopback port until killed.
    if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) _exit(1);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 4) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      _exit(1);
    }
    const int port = ntohs(addr.sin_port);
    if (::write(report[1], &port, sizeof port) != sizeof port) _exit(1);
    for (;;) ::pause();
  }
  ::close(report[1]);
  int port = 0;
  const bool reported = ::read(report[0], &port, sizeof port) == sizeof port;
  ::close(report[0]);
  std::optional<core::Status> outcome;
  if (reported) {
    auto transport = make_cpprest_transport();
    auto result = transport->send(
        {"POST", "http://127.0.0.1:" + std::to_string(port) + "/beta/import", {}, "{}"}, 2s);
    outcome = result ? core::Status{} : core::Status{result.error()};
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  ASSERT_TRUE(reported) << "the other user's listener did not start";
  ASSERT_FALSE(outcome->ok());
  EXPECT_TRUE(never_sent(outcome->error()));
  EXPECT_NE(outcome->error().message.find("another user's process (uid 65534)"), std::string::npos)
      << outcome->error().message;
}

// A loopback port nothing listens on: bound, then closed.
int closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// A request that never left (refused connection, unresolvable name, failed TLS handshake) is
// kNotSent, a network failure that cannot have been done; one the peer read and dropped may have
// arrived. Decided by where cpprest failed, not by its words.
TEST(HttpTransport, ARefusedConnectionIsNeverSent) {
  auto transport = make_cpprest_transport();
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port()) + "/beta/import";
  auto result = transport->send({"POST", url, {}, "{}"}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_EQ(failure_of(result.error()), Failure::kNotSent) << result.error().message;
  EXPECT_TRUE(never_sent(result.error()));
  EXPECT_NE(result.error().message.find("POST " + url), std::string::npos)
      << result.error().message;
}

TEST(HttpTransport, AnUnresolvableHostIsNeverSent) {
  auto transport = make_cpprest_transport();
  // .invalid never resolves (RFC 6761), with or without a DNS server.
  auto result = transport->send({"POST", "https://hangar-test.invalid/beta/import", {}, "{}"}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_TRUE(never_sent(result.error())) << result.error().message;
}

TEST(HttpTransport, AFailedTlsHandshakeIsNeverSent) {
  // Answers the ClientHello with plain text: the handshake fails before the request is written.
  RawServer plain([](int fd, const std::atomic<bool>&) {
    write_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    ::shutdown(fd, SHUT_RDWR);
  });
  std::string url = plain.url();
  url.replace(0, 4, "https");
  auto transport = make_cpprest_transport();
  auto result = transport->send({"POST", url, {}, "{}"}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_TRUE(never_sent(result.error())) << result.error().message;
  EXPECT_EQ(plain.accepted, 1);
}

TEST(HttpTransport, ARequestThePeerReadAndDroppedMayHaveArrived) {
  RawServer dropper([](int fd, const std::atomic<bool>&) { ::shutdown(fd, SHUT_RDWR); });
  auto transport = make_cpprest_transport();
  auto result = transport->send({"POST", dropper.url(), {}, "{}"}, 10s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, kErrNetwork);
  EXPECT_EQ(failure_of(result.error()), Failure::kNetwork) << result.error().message;
  EXPECT_FALSE(never_sent(result.error()));
  EXPECT_EQ(dropper.accepted, 1);
}

// OpenSSL must not clean up at exit: cpprest's pool threads may still free TLS objects while the
// exit handlers run, and spin forever on the locks OpenSSL's cleanup destroyed (a test process hung
// at 100% CPU after its tests passed). The handler below is registered before OpenSSL starts, so it
// runs after any cleanup OpenSSL registered; after a cleanup OpenSSL can no longer be initialised.
void exit_with_openssl_state() { std::_Exit(OPENSSL_init_crypto(0, nullptr) == 1 ? 0 : 3); }

TEST(HttpTransport, OpenSslOutlivesTheExitHandlers) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        std::atexit(exit_with_openssl_state);
        RawServer plain([](int fd, const std::atomic<bool>&) { ::shutdown(fd, SHUT_RDWR); });
        std::string url = plain.url();
        url.replace(0, 4, "https");
        auto transport = make_cpprest_transport();
        (void)transport->send({"GET", url, {}, {}}, 10s);
        std::exit(0);
      },
      ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hangar::cloud
