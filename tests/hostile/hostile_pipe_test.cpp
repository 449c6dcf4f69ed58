// The hostile-client suite over the named pipe (issue 11), under Wine in the cross build: the real
// hangard.exe in console mode on a private pipe, attacked in-process with the frames
// (100,000 levels deep in CBOR and JSON, 8 MiB of empty maps three at once, 32 connections that
// declare 8 MiB, a flood of connections). After each, the service must answer ping promptly and
// its peak working set must stay under the bound. The per-user limits need real accounts, which
// Wine does not have (every process runs as one user): the Linux suite covers those.
#include <gtest/gtest.h>

#include <windows.h>
// psapi.h needs windows.h first.
#include <psapi.h>

#include <future>
#include <string>
#include <thread>
#include <vector>

#include "attacks.h"
#include "hangar/ipc/client.h"
#include "hangar/ipc/frame.h"
#include "test_support.h"

namespace hangar::test {
namespace {

using namespace std::chrono_literals;
using ipc::Json;

// Under Wine an idle hangard.exe already has a working set of about 135 MB (Wine's own libraries
// and mappings), so the bound is on growth: what the attacks may add is what the 64 MB bound
// leaves above the Linux service's idle 16 MB.
constexpr SIZE_T kMemoryGrowthBytes = 48u * 1024u * 1024u;
constexpr auto kPromptPing = 2000ms;  // Wine's pipes are slow, and this is a shared machine

std::wstring widen(const std::string& text) { return std::wstring(text.begin(), text.end()); }

// hangard.exe next to this test (the build puts every program in bin/).
std::wstring hangard_path() {
  wchar_t self[MAX_PATH];
  const DWORD n = ::GetModuleFileNameW(nullptr, self, MAX_PATH);
  std::wstring path(self, n);
  return path.substr(0, path.find_last_of(L"\\/") + 1) + L"hangard.exe";
}

class HostilePipe : public ::testing::Test {
 protected:
  void SetUp() override {
    endpoint_ = unique_endpoint(dir_);
    std::wstring command = L"\"" + hangard_path() + L"\" console --data-dir \"" +
                           (dir_.path() / "data").wstring() + L"\" --endpoint " + widen(endpoint_) +
                           L" --cloud-url http://127.0.0.1:9";
    STARTUPINFOW startup{};
    startup.cb = sizeof(startup);
    ASSERT_TRUE(::CreateProcessW(nullptr, command.data(), nullptr, nullptr, FALSE, CREATE_NO_WINDOW,
                                 nullptr, nullptr, &startup, &process_))
        << "cannot start hangard.exe: " << ::GetLastError();
    started_ = true;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto client = ipc::Client::connect(endpoint_, 1s); client && client->call("ping").ok()) {
        idle_ = peak_working_set();
        std::cout << "[ figures  ] idle: hangard.exe peak working set " << idle_ / 1024 << " kB\n";
        return;
      }
      ASSERT_EQ(::WaitForSingleObject(process_.hProcess, 0), static_cast<DWORD>(WAIT_TIMEOUT))
          << "hangard.exe exited during start-up";
      std::this_thread::sleep_for(100ms);
    }
    FAIL() << "hangard.exe did not answer within 30 s";
  }

  SIZE_T peak_working_set() {
    PROCESS_MEMORY_COUNTERS counters{};
    counters.cb = sizeof(counters);
    if (!::GetProcessMemoryInfo(process_.hProcess, &counters, sizeof(counters))) return 0;
    return counters.PeakWorkingSetSize;
  }

  void TearDown() override {
    if (started_) {
      ::TerminateProcess(process_.hProcess, 0);
      ::WaitForSingleObject(process_.hProcess, 10'000);
      ::CloseHandle(process_.hThread);
      ::CloseHandle(process_.hProcess);
    }
  }

  // One frame on a new connection; the reply's error code ("ok" for a success).
  std::string exchange(const std::string& bytes) {
    auto stream = ipc::connect(endpoint_, 10s);
    if (!stream) return "connect: " + stream.error().message;
    (void)(*stream)->write_all(std::as_bytes(std::span(bytes.data(), bytes.size())), 60s);
    auto frame = ipc::read_frame(**stream, {60s, 60s});
    if (!frame) return "no_reply";
    auto reply = ipc::parse_reply(*frame);
    if (!reply) return "bad_reply";
    return reply->ok ? "ok" : reply->error.code + ": " + reply->error.message;
  }

  // `check_memory`: false where Wine, not the service, decides the figure (see the flood test).
  void expect_healthy(const char* after, bool check_memory = true) {
    ASSERT_EQ(::WaitForSingleObject(process_.hProcess, 0), static_cast<DWORD>(WAIT_TIMEOUT))
        << "hangard.exe died after " << after;
    const auto started = std::chrono::steady_clock::now();
    auto client = ipc::Client::connect(endpoint_, 10s);
    ASSERT_TRUE(client.ok()) << after << ": " << client.error().message;
    ASSERT_TRUE(client->call("ping").ok()) << after;
    EXPECT_LT(std::chrono::steady_clock::now() - started, kPromptPing) << after;
    PROCESS_MEMORY_COUNTERS counters{};
    counters.cb = sizeof(counters);
    if (::GetProcessMemoryInfo(process_.hProcess, &counters, sizeof(counters))) {
      std::cout << "[ figures  ] after " << after << ": hangard.exe working set "
                << counters.WorkingSetSize / 1024 << " kB, peak "
                << counters.PeakWorkingSetSize / 1024 << " kB\n";
      if (check_memory) {
        EXPECT_LT(counters.PeakWorkingSetSize, idle_ + kMemoryGrowthBytes) << after;
      }
    }
  }

  TempDir dir_;
  std::string endpoint_;
  PROCESS_INFORMATION process_{};
  bool started_ = false;
  SIZE_T idle_ = 0;  // the peak working set once the service answered
};

TEST_F(HostilePipe, DeepFramesAreRefusedAndTheServiceLives) {
  for (const auto& [name, payload] : {std::pair{"deep CBOR", attack::deep_cbor(100'000)},
                                      std::pair{"deep JSON", attack::deep_json(100'000)}}) {
    const std::string reply = exchange(attack::frame(payload));
    EXPECT_NE(reply.find("malformed_request: request is nested more than 64 levels deep"),
              std::string::npos)
        << name << ": " << reply;
    expect_healthy(name);
  }
}

TEST_F(HostilePipe, LargeAndDenseFramesStayWithinTheMemoryBound) {
  const std::string wide = attack::frame(attack::wide_cbor(8 * 1024 * 1024 - 64));
  EXPECT_NE(exchange(wide).find("more than 100000"), std::string::npos);
  expect_healthy("one 8 MiB frame of empty maps");
  std::vector<std::future<std::string>> three;
  for (int i = 0; i < 3; ++i) {
    three.push_back(std::async(std::launch::async, [&] { return exchange(wide); }));
  }
  for (auto& reply : three) {
    const std::string text = reply.get();
    EXPECT_TRUE(text.rfind("malformed_request", 0) == 0 || text.rfind("busy", 0) == 0 ||
                text == "no_reply")
        << text;
  }
  expect_healthy("three 8 MiB frames of empty maps at once");
  // 32 connections that declare 8 MiB and send ten bytes hold a few kilobytes each.
  std::vector<std::unique_ptr<ipc::Stream>> declared;
  const std::string start = attack::frame_header(8 * 1024 * 1024) + "0123456789";
  for (int i = 0; i < 32; ++i) {
    auto stream = ipc::connect(endpoint_, 10s);
    ASSERT_TRUE(stream.ok()) << stream.error().message;
    ASSERT_TRUE((*stream)->write_all(std::as_bytes(std::span(start.data(), start.size())), 5s));
    declared.push_back(std::move(stream).value());
  }
  std::this_thread::sleep_for(1s);
  expect_healthy("32 connections declaring 8 MiB");
}

TEST_F(HostilePipe, LongStringFramesAreRefusedBeforeTheyAreCopied) {
  constexpr std::size_t kFrame = 8 * 1024 * 1024;
  for (const auto& [name, payload] :
       {std::pair{"an 8 MiB JSON string", attack::long_json_string(kFrame)},
        std::pair{"an 8 MiB CBOR text string", attack::long_cbor_string(kFrame, false)},
        std::pair{"an 8 MiB CBOR byte string", attack::long_cbor_string(kFrame, true)}}) {
    const std::string bytes = attack::frame(payload);
    const std::string reply = exchange(bytes);
    EXPECT_NE(reply.find("longer than 65536 bytes"), std::string::npos) << name << ": " << reply;
    expect_healthy(name);
    std::vector<std::future<std::string>> four;
    for (int i = 0; i < 4; ++i) {
      four.push_back(std::async(std::launch::async, [&] { return exchange(bytes); }));
    }
    for (auto& each : four) {
      const std::string text = each.get();
      // As with the empty maps: a busy refusal may close the pipe before the reply is read.
      EXPECT_TRUE(text.rfind("malformed_request", 0) == 0 || text.rfind("busy", 0) == 0 ||
                  text == "no_reply")
          << text;
    }
    expect_healthy((std::string("four frames of ") + name + " at once").c_str());
  }
}

TEST_F(HostilePipe, AConnectionFloodLeavesRoomForThisAdministrator) {
  // Under Wine every process is the same user, and that user counts as an administrator, so the
  // flood is bounded by the total: the service answers busy beyond it, and keeps serving.
  std::vector<std::unique_ptr<ipc::Stream>> held;
  int busy = 0;
  for (int i = 0; i < 300; ++i) {
    auto stream = ipc::connect(endpoint_, 10s);
    if (!stream) continue;
    const std::string ping = attack::frame(attack::kPing);
    (void)(*stream)->write_all(std::as_bytes(std::span(ping.data(), ping.size())), 5s);
    auto frame = ipc::read_frame(**stream, {10s, 10s});
    if (!frame) continue;
    auto reply = ipc::parse_reply(*frame);
    if (reply && reply->ok) {
      held.push_back(std::move(stream).value());
    } else if (reply && reply->error.code == ipc::errc::kBusy) {
      ++busy;
    }
  }
  EXPECT_EQ(held.size(), 256u);
  EXPECT_GE(busy, 40);
  // A few slots free again: served, once the service noticed the hang-ups.
  held.resize(held.size() - 8);
  const auto deadline = std::chrono::steady_clock::now() + 3s;
  for (;;) {
    auto client = ipc::Client::connect(endpoint_, 5s);
    if (client && client->call("ping").ok()) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the freed slots were not served";
    std::this_thread::sleep_for(50ms);
  }
  // Reported, not checked: Wine commits each connection thread's whole stack (about 1 MB), which
  // Windows does not (it commits the pages a thread touches).
  expect_healthy("a flood of 300 connections", /*check_memory=*/false);
}

}  // namespace
}  // namespace hangar::test
