// POSIX-only transport checks: directory and socket permissions, stale sockets, SO_PEERCRED.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <future>
#include <thread>

#include "hangar/ipc/transport.h"
#include "test_support.h"

namespace hangar::ipc {
namespace {

using namespace std::chrono_literals;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

TEST(UnixSocket, DirectoryIs0750AndSocketIs0660) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  EXPECT_EQ(mode_of((dir.path() / "run").string()), 0750u);
  EXPECT_EQ(mode_of(endpoint), 0660u);
}

TEST(UnixSocket, ExistingDirectoryIsTightenedTo0750) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "run");
  ::chmod((dir.path() / "run").c_str(), 0755);
  auto listener = listen(test::unique_endpoint(dir), {});
  ASSERT_TRUE(listener.ok());
  EXPECT_EQ(mode_of((dir.path() / "run").string()), 0750u);
}

// Black-box round 9: an empty world-writable directory was tightened, and a group-writable one
// holding other files was served from; others may write to both, so both are refused, unchanged.
TEST(UnixSocket, ADirectoryOthersMayWriteToIsRefusedEmptyOrNot) {
  test::TempDir dir;
  const auto open_to_all = dir.path() / "all";
  const auto open_to_group = dir.path() / "group";
  std::filesystem::create_directories(open_to_all);
  std::filesystem::create_directories(open_to_group);
  std::ofstream(open_to_group / "theirs.txt") << "x";
  ASSERT_EQ(::chmod(open_to_all.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(open_to_group.c_str(), 0775), 0);
  for (const auto& [where, mode] :
       {std::pair{open_to_all, 0777u}, std::pair{open_to_group, 0775u}}) {
    auto listener = listen((where / "hangar.sock").string(), {});
    ASSERT_FALSE(listener.ok()) << where;
    EXPECT_NE(listener.error().message.find("is shared"), std::string::npos)
        << listener.error().message;
    EXPECT_EQ(mode_of(where.string()), mode) << where;
  }
}

// Black-box round 8: `--endpoint /tmp/hangar.sock` set /tmp to 0750. A directory that holds
// other files is not the service's to change: a shared one (others may write) is refused, and any
// other keeps its mode.
TEST(UnixSocket, ASharedDirectoryIsRefusedAndLeftAsItWas) {
  test::TempDir dir;
  const auto shared = dir.path() / "shared";
  std::filesystem::create_directories(shared);
  std::ofstream(shared / "someone-elses.txt") << "x";
  ASSERT_EQ(::chmod(shared.c_str(), 01777), 0);
  auto listener = listen((shared / "hangar.sock").string(), {});
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, "insecure_endpoint");
  EXPECT_NE(listener.error().message.find("is shared (mode 1777)"), std::string::npos)
      << listener.error().message;
  EXPECT_NE(listener.error().message.find((shared / "hangar").string() + "/hangar.sock"),
            std::string::npos)
      << listener.error().message;
  EXPECT_EQ(mode_of(shared.string()), 01777u);
  EXPECT_FALSE(std::filesystem::exists(shared / "hangar.sock"));
}

TEST(UnixSocket, ADirectoryHoldingOtherFilesKeepsItsMode) {
  test::TempDir dir;
  const auto home = dir.path() / "home";
  std::filesystem::create_directories(home);
  std::ofstream(home / "notes.txt") << "x";
  ASSERT_EQ(::chmod(home.c_str(), 0755), 0);
  const std::string endpoint = (home / "hangar.sock").string();
  auto listener = listen(endpoint, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  EXPECT_EQ(mode_of(home.string()), 0755u);
  EXPECT_EQ(mode_of(endpoint), 0660u);
}

TEST(UnixSocket, StaleSocketFromACrashedServiceIsReplaced) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  std::filesystem::create_directories(std::filesystem::path(endpoint).parent_path());
  // What a crashed service leaves behind: a socket file with nobody listening on it.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, endpoint.c_str(), sizeof(addr.sun_path) - 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  ASSERT_TRUE(std::filesystem::is_socket(endpoint));
  auto listener = listen(endpoint, {});
  ASSERT_TRUE(listener.ok()) << listener.error().message;
  auto client = connect(endpoint, 1s);
  EXPECT_TRUE(client.ok());
}

TEST(UnixSocket, CleanShutdownRemovesTheSocket) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  {
    auto listener = listen(endpoint, {});
    ASSERT_TRUE(listener.ok());
  }
  EXPECT_FALSE(std::filesystem::exists(endpoint));
}

TEST(UnixSocket, RegularFileAtTheEndpointIsNotDeleted) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  std::filesystem::create_directories(std::filesystem::path(endpoint).parent_path());
  std::ofstream(endpoint) << "precious";
  auto listener = listen(endpoint, {});
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, "endpoint_in_use");
  EXPECT_TRUE(std::filesystem::exists(endpoint));
}

TEST(UnixSocket, PeerCredentialsIdentifyTheCaller) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint, {});
  ASSERT_TRUE(listener.ok());
  auto client = connect(endpoint, 1s);
  ASSERT_TRUE(client.ok());
  auto server_side = (*listener)->accept();
  ASSERT_TRUE(server_side.ok());
  const PeerIdentity& peer = (*server_side)->peer();
  EXPECT_EQ(peer.pid, static_cast<long long>(::getpid()));
  EXPECT_NE(peer.user.find("uid " + std::to_string(::getuid())), std::string::npos) << peer.user;
  EXPECT_TRUE(peer.can_write) << "the service's own account may write";
  EXPECT_TRUE(peer.is_admin) << "the service's own account may change the credentials";
}

TEST(UnixSocket, OverlongPathIsAClearError) {
  auto listener = listen("/tmp/" + std::string(200, 'x') + ".sock", {});
  ASSERT_FALSE(listener.ok());
  EXPECT_EQ(listener.error().code, "invalid_endpoint");
}

TEST(UnixSocket, StopWakesABlockedAccept) {
  test::TempDir dir;
  auto listener = listen(test::unique_endpoint(dir), {});
  ASSERT_TRUE(listener.ok());
  auto pending = std::async(std::launch::async, [&] { return (*listener)->accept(); });
  std::this_thread::sleep_for(50ms);
  (*listener)->stop();
  ASSERT_EQ(pending.wait_for(2s), std::future_status::ready);
  auto result = pending.get();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().code, "stopped");
}

TEST(UnixSocket, CloseFromAnotherThreadWakesARead) {
  test::TempDir dir;
  std::string endpoint = test::unique_endpoint(dir);
  auto listener = listen(endpoint, {});
  auto client = connect(endpoint, 1s);
  auto server_side = (*listener)->accept();
  ASSERT_TRUE(server_side.ok());
  Stream& stream = **server_side;
  auto pending = std::async(std::launch::async, [&] {
    std::array<std::byte, 8> buffer{};
    return stream.read_some(buffer, 30s);
  });
  std::this_thread::sleep_for(50ms);
  stream.close();
  ASSERT_EQ(pending.wait_for(2s), std::future_status::ready);
  auto result = pending.get();
  EXPECT_TRUE(!result.ok() || *result == 0);
}

}  // namespace
}  // namespace hangar::ipc
