// The named-pipe transport on its own: I/O, timeouts, cancellation, squatting protection, the DACL
// and peer identity. Runs under Wine in the cross build and natively on Windows.
#include <windows.h>

#include <aclapi.h>
#include <sddl.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "hangar/ipc/transport.h"

namespace hangar::ipc {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string unique_pipe() {
  static std::atomic<int> counter{0};
  return R"(\\.\pipe\hangar-pipe-test-)" + std::to_string(::GetCurrentProcessId()) + "-" +
         std::to_string(counter++) + "-" + std::to_string(::GetTickCount64() % 100000);
}

std::span<const std::byte> bytes_of(const std::string& text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

// Reads exactly `size` bytes (or fails the test).
std::string read_exactly(Stream& stream, std::size_t size, Duration timeout = 5s) {
  std::string out;
  std::vector<std::byte> buffer(size);
  while (out.size() < size) {
    auto n = stream.read_some(std::span(buffer).first(size - out.size()), timeout);
    if (!n.ok()) {
      ADD_FAILURE() << "read failed: " << n.error().code << ": " << n.error().message;
      return out;
    }
    if (*n == 0) {
      ADD_FAILURE() << "unexpected end of stream after " << out.size() << " bytes";
      return out;
    }
    out.append(reinterpret_cast<const char*>(buffer.data()), *n);
  }
  return out;
}

std::unique_ptr<Listener> must_listen(const std::string& name, const ListenOptions& options = {}) {
  auto listener = listen(name, options);
  EXPECT_TRUE(listener.ok()) << listener.error().code << ": " << listener.error().message;
  return listener.ok() ? std::move(listener).value() : nullptr;
}

std::unique_ptr<Stream> must_connect(const std::string& name) {
  auto stream = connect(name, 5s);
  EXPECT_TRUE(stream.ok()) << stream.error().code << ": " << stream.error().message;
  return stream.ok() ? std::move(stream).value() : nullptr;
}

std::unique_ptr<Stream> must_accept(Listener& listener) {
  auto stream = listener.accept();
  EXPECT_TRUE(stream.ok()) << stream.error().code << ": " << stream.error().message;
  return stream.ok() ? std::move(stream).value() : nullptr;
}

// Echoes every connection's first `size` bytes back until the listener stops.
class EchoServer {
 public:
  EchoServer(std::unique_ptr<Listener> listener, std::size_t size)
      : listener_(std::move(listener)), thread_([this, size] { run(size); }) {}
  ~EchoServer() {
    listener_->stop();
    thread_.join();
    for (auto& worker : workers_) worker.join();
  }

 private:
  void run(std::size_t size) {
    for (;;) {
      auto stream = listener_->accept();
      if (!stream.ok()) return;
      workers_.emplace_back([s = std::shared_ptr<Stream>(std::move(stream).value()), size] {
        std::string data = read_exactly(*s, size);
        EXPECT_TRUE(s->write_all(bytes_of(data), 5s).ok());
        std::vector<std::byte> rest(1);
        (void)s->read_some(rest, 5s);  // wait for the client to hang up
        s->close();
      });
    }
  }
  std::unique_ptr<Listener> listener_;
  std::vector<std::thread> workers_;
  std::thread thread_;
};

TEST(NamedPipe, RoundTrip) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  EXPECT_EQ(listener->endpoint(), name);
  auto server = std::async(std::launch::async, [&] {
    auto stream = must_accept(*listener);
    if (!stream) return std::string();
    std::string request = read_exactly(*stream, 5);
    EXPECT_TRUE(stream->write_all(bytes_of("pong:" + request), 5s).ok());
    return request;
  });
  auto client = must_connect(name);
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->write_all(bytes_of("hello"), 5s).ok());
  EXPECT_EQ(read_exactly(*client, 10), "pong:hello");
  EXPECT_EQ(server.get(), "hello");
}

TEST(NamedPipe, BareNameGetsThePipePrefix) {
  const std::string full = unique_pipe();
  const std::string bare = full.substr(std::strlen(R"(\\.\pipe\)"));
  auto listener = must_listen(bare);
  ASSERT_TRUE(listener);
  EXPECT_EQ(listener->endpoint(), full);
  auto server = std::async(std::launch::async, [&] { return must_accept(*listener); });
  auto client = must_connect(bare);
  EXPECT_TRUE(client);
  EXPECT_TRUE(server.get());
}

TEST(NamedPipe, ManyConcurrentClients) {
  const std::string name = unique_pipe();
  constexpr int kClients = 24;
  EchoServer echo(must_listen(name), 8);
  std::vector<std::future<std::string>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::async(std::launch::async, [&name, i] {
      auto client = must_connect(name);
      if (!client) return std::string();
      char message[9];
      std::snprintf(message, sizeof(message), "msg%05d", i);
      EXPECT_TRUE(client->write_all(bytes_of(message), 5s).ok());
      return read_exactly(*client, 8);
    }));
  }
  for (int i = 0; i < kClients; ++i) {
    char expected[9];
    std::snprintf(expected, sizeof(expected), "msg%05d", i);
    EXPECT_EQ(clients[static_cast<std::size_t>(i)].get(), expected);
  }
}

TEST(NamedPipe, SilentClientTimesOutWhileAnotherIsServed) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);

  auto silent = std::async(std::launch::async, [&] { return must_connect(name); });
  auto silent_server = must_accept(*listener);
  ASSERT_TRUE(silent_server);
  auto silent_client = silent.get();
  ASSERT_TRUE(silent_client);

  auto timed_read = std::async(std::launch::async, [&] {
    std::vector<std::byte> buffer(16);
    const auto start = Clock::now();
    auto result = silent_server->read_some(buffer, 1500ms);
    return std::make_pair(result.ok() ? std::string("ok") : result.error().code,
                          Clock::now() - start);
  });

  // While the silent client holds its reader, another client gets a full round trip.
  const auto start = Clock::now();
  auto other = std::async(std::launch::async, [&] { return must_connect(name); });
  auto other_server = must_accept(*listener);
  ASSERT_TRUE(other_server);
  auto other_client = other.get();
  ASSERT_TRUE(other_client);
  ASSERT_TRUE(other_client->write_all(bytes_of("ping"), 5s).ok());
  EXPECT_EQ(read_exactly(*other_server, 4), "ping");
  ASSERT_TRUE(other_server->write_all(bytes_of("pong"), 5s).ok());
  EXPECT_EQ(read_exactly(*other_client, 4), "pong");
  EXPECT_LT(Clock::now() - start, 1000ms) << "the second client waited for the silent one";

  auto [code, elapsed] = timed_read.get();
  EXPECT_EQ(code, "timeout");
  EXPECT_GE(elapsed, 1400ms);
  EXPECT_LT(elapsed, 5000ms);
}

TEST(NamedPipe, CloseFromAnotherThreadUnblocksRead) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);

  auto reading = std::async(std::launch::async, [&] {
    std::vector<std::byte> buffer(16);
    auto result = server->read_some(buffer, 30s);
    return result.ok() ? std::string("ok") : result.error().code;
  });
  std::this_thread::sleep_for(200ms);
  const auto start = Clock::now();
  server->close();
  ASSERT_EQ(reading.wait_for(5s), std::future_status::ready) << "close() did not unblock read";
  EXPECT_EQ(reading.get(), "closed");
  EXPECT_LT(Clock::now() - start, 2s);

  // Closing really hangs up: the client sees the end of the stream, and later calls say "closed".
  std::vector<std::byte> buffer(16);
  auto eof = client->read_some(buffer, 5s);
  ASSERT_TRUE(eof.ok()) << eof.error().message;
  EXPECT_EQ(*eof, 0u);
  auto again = server->read_some(buffer, 1s);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, "closed");
  server->close();  // idempotent
}

TEST(NamedPipe, DataWrittenBeforeCloseStillArrives) {
  // The server answers "busy" and hangs up at once; the client must still read the answer.
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);
  ASSERT_TRUE(server->write_all(bytes_of("busy"), 5s).ok());
  server->close();
  server.reset();
  EXPECT_EQ(read_exactly(*client, 4), "busy");
  std::vector<std::byte> buffer(4);
  auto eof = client->read_some(buffer, 5s);
  ASSERT_TRUE(eof.ok()) << eof.error().message;
  EXPECT_EQ(*eof, 0u);
}

TEST(NamedPipe, ClientHangUpIsEndOfStream) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);
  client->close();
  std::vector<std::byte> buffer(4);
  auto eof = server->read_some(buffer, 5s);
  ASSERT_TRUE(eof.ok()) << eof.error().message;
  EXPECT_EQ(*eof, 0u);
  auto write = server->write_all(bytes_of("late"), 2s);
  EXPECT_FALSE(write.ok());
}

TEST(NamedPipe, StopUnblocksAccept) {
  auto listener = must_listen(unique_pipe());
  ASSERT_TRUE(listener);
  auto accepting = std::async(std::launch::async, [&] {
    auto stream = listener->accept();
    return stream.ok() ? std::string("ok") : stream.error().code;
  });
  std::this_thread::sleep_for(200ms);
  listener->stop();
  ASSERT_EQ(accepting.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(accepting.get(), "stopped");
  auto after = listener->accept();
  ASSERT_FALSE(after.ok());
  EXPECT_EQ(after.error().code, "stopped");
}

TEST(NamedPipe, SecondListenOnSameNameIsEndpointInUse) {
  const std::string name = unique_pipe();
  auto first = must_listen(name);
  ASSERT_TRUE(first);
  auto second = listen(name, {});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, "endpoint_in_use");
  EXPECT_NE(second.error().message.find(name), std::string::npos) << second.error().message;

  // Once the first listener is gone the name is free again.
  first.reset();
  auto third = listen(name, {});
  EXPECT_TRUE(third.ok()) << third.error().message;
}

TEST(NamedPipe, ConnectToMissingPipeIsUnavailableQuickly) {
  const std::string name = unique_pipe();
  const auto start = Clock::now();
  auto stream = connect(name, 10s);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code, "unavailable");
  EXPECT_NE(stream.error().message.find(name), std::string::npos) << stream.error().message;
  EXPECT_NE(stream.error().message.find("not running"), std::string::npos)
      << stream.error().message;
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST(NamedPipe, ReadTimeoutThenDataStillArrives) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);
  std::vector<std::byte> buffer(8);
  auto timed_out = server->read_some(buffer, 100ms);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().code, "timeout");
  // The cancelled read must not have eaten anything: the stream stays usable.
  ASSERT_TRUE(client->write_all(bytes_of("after"), 5s).ok());
  EXPECT_EQ(read_exactly(*server, 5), "after");
}

struct Ace {
  std::string sid;
  ACCESS_MASK mask = 0;
};

std::string sid_text(PSID sid) {
  char* text = nullptr;
  if (!::ConvertSidToStringSidA(sid, &text)) return {};
  std::string out(text);
  ::LocalFree(text);
  return out;
}

std::string well_known(WELL_KNOWN_SID_TYPE type) {
  std::vector<unsigned char> sid(SECURITY_MAX_SID_SIZE);
  DWORD size = static_cast<DWORD>(sid.size());
  if (!::CreateWellKnownSid(type, nullptr, sid.data(), &size)) return {};
  return sid_text(sid.data());
}

TEST(NamedPipe, DaclGrantsAdminsFullAndUsersNoPipeCreation) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  // Open the pipe the way a client does and read its security back from the handle.
  std::wstring wide(name.begin(), name.end());
  HANDLE pipe = ::CreateFileW(wide.c_str(), GENERIC_READ | FILE_WRITE_DATA, 0, nullptr,
                              OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(pipe, INVALID_HANDLE_VALUE) << "CreateFileW failed: " << ::GetLastError();
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  const DWORD error = ::GetSecurityInfo(pipe, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr,
                                        nullptr, &dacl, nullptr, &descriptor);
  ::CloseHandle(pipe);
  ASSERT_EQ(error, static_cast<DWORD>(ERROR_SUCCESS));
  ASSERT_NE(dacl, nullptr);

  SECURITY_DESCRIPTOR_CONTROL control = 0;
  DWORD revision = 0;
  ASSERT_TRUE(::GetSecurityDescriptorControl(descriptor, &control, &revision));
  EXPECT_TRUE(control & SE_DACL_PROTECTED) << "the DACL must not inherit anything";

  std::vector<Ace> aces;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* raw = nullptr;
    ASSERT_TRUE(::GetAce(dacl, i, &raw));
    auto* header = static_cast<ACE_HEADER*>(raw);
    ASSERT_EQ(header->AceType, ACCESS_ALLOWED_ACE_TYPE) << "only allow ACEs are expected";
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(raw);
    aces.push_back({sid_text(&allowed->SidStart), allowed->Mask});
  }
  ::LocalFree(descriptor);

  auto mask_of = [&](const std::string& sid) -> std::optional<ACCESS_MASK> {
    for (const auto& ace : aces) {
      if (ace.sid == sid) return ace.mask;
    }
    return std::nullopt;
  };
  const auto system = mask_of(well_known(WinLocalSystemSid));
  const auto admins = mask_of(well_known(WinBuiltinAdministratorsSid));
  const auto users = mask_of(well_known(WinAuthenticatedUserSid));
  ASSERT_TRUE(system && admins && users);
  EXPECT_EQ(*system & FILE_ALL_ACCESS, static_cast<ACCESS_MASK>(FILE_ALL_ACCESS));
  EXPECT_EQ(*admins & FILE_ALL_ACCESS, static_cast<ACCESS_MASK>(FILE_ALL_ACCESS));
  EXPECT_TRUE(*users & FILE_READ_DATA);
  EXPECT_TRUE(*users & FILE_WRITE_DATA);
  EXPECT_FALSE(*users & FILE_CREATE_PIPE_INSTANCE) << "users could squat the pipe";
  EXPECT_FALSE(*users & (WRITE_DAC | WRITE_OWNER | DELETE));
  EXPECT_FALSE(mask_of(well_known(WinWorldSid))) << "Everyone (incl. anonymous) has no entry";
}

TEST(NamedPipe, AMissingOperatorsGroupIsAStartUpError) {
  ListenOptions options;
  options.operators_group = "hangar-no-such-group-" + std::to_string(::GetCurrentProcessId());
  auto listener = listen(unique_pipe(), options);
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, "config_error");
  EXPECT_NE(listener.error().message.find(options.operators_group), std::string::npos)
      << listener.error().message;
}

TEST(NamedPipe, OperatorsGroupGetsAnAce) {
  // "Users" exists on every Windows (and Wine) installation.
  const std::string name = unique_pipe();
  ListenOptions options;
  options.operators_group = "Users";
  auto listener = must_listen(name, options);
  ASSERT_TRUE(listener);
  std::wstring wide(name.begin(), name.end());
  HANDLE pipe = ::CreateFileW(wide.c_str(), GENERIC_READ | FILE_WRITE_DATA, 0, nullptr,
                              OPEN_EXISTING, 0, nullptr);
  ASSERT_NE(pipe, INVALID_HANDLE_VALUE);
  PACL dacl = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  ASSERT_EQ(::GetSecurityInfo(pipe, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION, nullptr, nullptr,
                              &dacl, nullptr, &descriptor),
            static_cast<DWORD>(ERROR_SUCCESS));
  ::CloseHandle(pipe);
  const std::string users = well_known(WinBuiltinUsersSid);
  bool found = false;
  for (DWORD i = 0; i < dacl->AceCount; ++i) {
    void* raw = nullptr;
    ASSERT_TRUE(::GetAce(dacl, i, &raw));
    auto* allowed = static_cast<ACCESS_ALLOWED_ACE*>(raw);
    if (sid_text(&allowed->SidStart) != users) continue;
    found = true;
    EXPECT_TRUE(allowed->Mask & FILE_WRITE_DATA);
    EXPECT_FALSE(allowed->Mask & FILE_CREATE_PIPE_INSTANCE);
  }
  ::LocalFree(descriptor);
  EXPECT_TRUE(found) << "no ACE for the operators group";
}

TEST(NamedPipe, PeerIsTheTestProcessAndMayWrite) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);
  ASSERT_TRUE(client->write_all(bytes_of("req"), 5s).ok());
  EXPECT_EQ(read_exactly(*server, 3), "req");

  const PeerIdentity& peer = server->peer();
  EXPECT_NE(peer.user, "unknown");
  EXPECT_NE(peer.user.find('\\'), std::string::npos) << "expected DOMAIN\\user, got " << peer.user;
  EXPECT_EQ(peer.pid, static_cast<long long>(::GetCurrentProcessId()));
  EXPECT_TRUE(peer.can_write) << "the service's own account may write";
  EXPECT_TRUE(peer.is_admin) << "the service's own account may change the credentials";
  // Cached: the same object comes back and the answer does not change.
  EXPECT_EQ(&server->peer(), &peer);

  // Impersonation must have been reverted: this thread is ourselves again.
  HANDLE token = nullptr;
  EXPECT_FALSE(::OpenThreadToken(::GetCurrentThread(), TOKEN_QUERY, TRUE, &token));
  EXPECT_EQ(::GetLastError(), static_cast<DWORD>(ERROR_NO_TOKEN));
  if (token) ::CloseHandle(token);
}

TEST(NamedPipe, WriteTimesOutWhenThePeerDoesNotRead) {
  const std::string name = unique_pipe();
  auto listener = must_listen(name);
  ASSERT_TRUE(listener);
  auto connecting = std::async(std::launch::async, [&] { return must_connect(name); });
  auto server = must_accept(*listener);
  ASSERT_TRUE(server);
  auto client = connecting.get();
  ASSERT_TRUE(client);
  const std::string big(4 * 1024 * 1024, 'x');  // far beyond the 64 KiB pipe buffer
  const auto start = Clock::now();
  auto written = server->write_all(bytes_of(big), 300ms);
  ASSERT_FALSE(written.ok());
  EXPECT_EQ(written.error().code, "timeout");
  EXPECT_LT(Clock::now() - start, 5s);
}

}  // namespace
}  // namespace hangar::ipc
