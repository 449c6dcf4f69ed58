// hostile_client: the attacks of issue 11 as a separate program, so the hostile-client suite can
// run them as unprivileged users it creates (setpriv). Each command prints one JSON object.
//
//   send ENDPOINT KIND SIZE           one frame (KIND: deep-cbor, deep-json, wide-cbor,
//                                     long-json-string, long-cbor-text, long-cbor-bytes; SIZE:
//                                     depth or bytes); prints the reply's code and message
//   flood ENDPOINT KIND SIZE COUNT    COUNT connections send it at once; counts replies by code
//   declare ENDPOINT BYTES COUNT MS   COUNT connections declare BYTES and send ten; held MS
//   hold ENDPOINT COUNT MS EVERY      opens COUNT connections that ping every EVERY ms for MS
//   idle ENDPOINT MS                  connects, sends nothing; when did the service hang up?
//   call ENDPOINT JSON                one request as given; prints the reply
//   listen ENDPOINT SECONDS FILE      serves ENDPOINT (as an impostor), counting bytes received
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "attacks.h"
#include "hangar/ipc/frame.h"
#include "hangar/ipc/protocol.h"
#include "hangar/ipc/transport.h"

namespace {

using namespace std::chrono_literals;
using hangar::ipc::Json;
namespace attack = hangar::test::attack;

std::string payload_of(const std::string& kind, std::size_t size) {
  if (kind == "deep-cbor") return attack::deep_cbor(size);
  if (kind == "deep-json") return attack::deep_json(size);
  if (kind == "wide-cbor") return attack::wide_cbor(size);
  if (kind == "long-json-string") return attack::long_json_string(size);
  if (kind == "long-cbor-text") return attack::long_cbor_string(size, false);
  if (kind == "long-cbor-bytes") return attack::long_cbor_string(size, true);
  return {};
}

// Sends `bytes` on a new connection and reads one reply. {"code": ...} with "ok" for a success,
// the error code otherwise, or the transport's failure.
Json exchange_frame(const std::string& endpoint, const std::string& bytes) {
  auto stream = hangar::ipc::connect(endpoint, 5s);
  if (!stream) return Json{{"code", stream.error().code}, {"message", stream.error().message}};
  // The service may answer (and hang up) before the whole frame is out: the reply still says why.
  (void)(*stream)->write_all(std::as_bytes(std::span(bytes.data(), bytes.size())), 60s);
  auto frame = hangar::ipc::read_frame(**stream, {60s, 60s});
  if (!frame) return Json{{"code", "no_reply"}, {"message", frame.error().message}};
  auto reply = hangar::ipc::parse_reply(*frame);
  if (!reply) return Json{{"code", "bad_reply"}, {"message", reply.error().message}};
  if (reply->ok) return Json{{"code", "ok"}, {"result", reply->result}};
  return Json{{"code", reply->error.code}, {"message", reply->error.message}};
}

int cmd_send(const std::vector<std::string>& a) {
  std::cout
      << exchange_frame(a.at(0), attack::frame(payload_of(a.at(1), std::stoul(a.at(2))))).dump()
      << "\n";
  return 0;
}

int cmd_flood(const std::vector<std::string>& a) {
  const std::string bytes = attack::frame(payload_of(a.at(1), std::stoul(a.at(2))));
  const int count = std::stoi(a.at(3));
  std::mutex mutex;
  std::map<std::string, int> codes;
  std::map<std::string, std::string> messages;  // the first message of each code
  std::string message;
  std::vector<std::thread> threads;
  for (int i = 0; i < count; ++i) {
    threads.emplace_back([&] {
      Json reply = exchange_frame(a.at(0), bytes);
      std::lock_guard lock(mutex);
      const std::string code = reply.value("code", "");
      ++codes[code];
      if (message.empty()) message = reply.value("message", "");
      if (!messages.contains(code)) messages[code] = reply.value("message", "");
    });
  }
  for (auto& t : threads) t.join();
  std::cout << Json{{"codes", codes}, {"message", message}, {"messages", messages}}.dump() << "\n";
  return 0;
}

int cmd_declare(const std::vector<std::string>& a) {
  const auto bytes = static_cast<std::uint32_t>(std::stoul(a.at(1)));
  const int count = std::stoi(a.at(2));
  const auto hold = std::chrono::milliseconds(std::stol(a.at(3)));
  std::vector<std::unique_ptr<hangar::ipc::Stream>> streams;
  const std::string start = attack::frame_header(bytes) + "0123456789";
  for (int i = 0; i < count; ++i) {
    auto stream = hangar::ipc::connect(a.at(0), 5s);
    if (!stream) continue;
    if ((*stream)->write_all(std::as_bytes(std::span(start.data(), start.size())), 5s)) {
      streams.push_back(std::move(stream).value());
    }
  }
  const std::size_t opened = streams.size();
  std::this_thread::sleep_for(hold);
  std::cout << Json{{"opened", opened}}.dump() << "\n";
  return 0;
}

int cmd_hold(const std::vector<std::string>& a) {
  const int count = std::stoi(a.at(1));
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(std::stol(a.at(2)));
  const auto every = std::chrono::milliseconds(std::stol(a.at(3)));
  const std::string ping = attack::frame(attack::kPing);
  std::vector<std::unique_ptr<hangar::ipc::Stream>> kept;
  int busy = 0, failed = 0;
  std::string busy_message;
  const auto ping_on = [&](hangar::ipc::Stream& stream) -> Json {
    // A refused connection is answered and closed at once: the write may fail, the reply is
    // still there to read.
    (void)stream.write_all(std::as_bytes(std::span(ping.data(), ping.size())), 5s);
    auto frame = hangar::ipc::read_frame(stream, {5s, 5s});
    if (!frame) return Json{{"code", "closed"}};
    auto reply = hangar::ipc::parse_reply(*frame);
    if (!reply) return Json{{"code", "bad_reply"}};
    return reply->ok ? Json{{"code", "ok"}}
                     : Json{{"code", reply->error.code}, {"message", reply->error.message}};
  };
  std::size_t dropped = 0;
  auto last_round = std::chrono::steady_clock::now();
  // Keeps every held connection busy enough not to be idle: also while more are being opened,
  // which on a slow machine (a sanitizer build) takes longer than the idle timeout.
  std::string drop_reason;
  const auto started = std::chrono::steady_clock::now();
  const auto ping_all = [&] {
    for (auto& held : kept) {
      if (!held) continue;
      Json reply = ping_on(*held);
      if (reply["code"] != "ok") {
        held.reset();
        ++dropped;
        if (drop_reason.empty()) {
          drop_reason = reply.dump() + " after " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - started)
                                           .count()) +
                        " ms, " +
                        std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                           std::chrono::steady_clock::now() - last_round)
                                           .count()) +
                        " ms since the last round";
        }
      }
    }
    last_round = std::chrono::steady_clock::now();
  };
  for (int i = 0; i < count; ++i) {
    if (std::chrono::steady_clock::now() - last_round >= every) ping_all();
    auto stream = hangar::ipc::connect(a.at(0), 5s);
    if (!stream) {
      ++failed;
      continue;
    }
    Json reply = ping_on(**stream);
    if (reply["code"] == "ok") {
      kept.push_back(std::move(stream).value());
    } else if (reply["code"] == "busy") {
      ++busy;
      if (busy_message.empty()) busy_message = reply.value("message", "");
    } else {
      ++failed;
    }
  }
  const std::size_t accepted = kept.size();
  while (std::chrono::steady_clock::now() < until) {
    // The next round is due `every` after the last one, wherever that was.
    std::this_thread::sleep_until(std::min(until, last_round + every));
    ping_all();
  }
  std::cout << Json{{"accepted", accepted},       {"busy", busy},
                    {"failed", failed},           {"dropped", dropped},
                    {"drop_reason", drop_reason}, {"busy_message", busy_message}}
                   .dump()
            << "\n";
  return 0;
}

int cmd_idle(const std::vector<std::string>& a) {
  auto stream = hangar::ipc::connect(a.at(0), 5s);
  if (!stream) {
    std::cout << Json{{"code", stream.error().code}, {"message", stream.error().message}}.dump()
              << "\n";
    return 0;
  }
  const auto started = std::chrono::steady_clock::now();
  const auto limit = std::chrono::milliseconds(std::stol(a.at(1)));
  std::array<std::byte, 64> buffer{};
  long long closed_after = -1;
  while (std::chrono::steady_clock::now() - started < limit) {
    auto n = (*stream)->read_some(buffer, 200ms);
    if (n && *n == 0) {
      closed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
      break;
    }
    if (!n && n.error().code != "timeout") {
      closed_after = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - started)
                         .count();
      break;
    }
  }
  std::cout << Json{{"closed_after_ms", closed_after}}.dump() << "\n";
  return 0;
}

int cmd_call(const std::vector<std::string>& a) {
  std::cout << exchange_frame(a.at(0), attack::frame(a.at(1))).dump() << "\n";
  return 0;
}

int cmd_listen(const std::vector<std::string>& a) {
  auto listener = hangar::ipc::listen(a.at(0), {});
  if (!listener) {
    std::cout << Json{{"code", listener.error().code}, {"message", listener.error().message}}.dump()
              << "\n";
    return 1;
  }
  std::atomic<std::size_t> received{0};
  std::atomic<int> connections{0};
  std::thread acceptor([&] {
    for (;;) {
      auto stream = (*listener)->accept();
      if (!stream) return;
      ++connections;
      std::array<std::byte, 4096> buffer{};
      for (;;) {
        auto n = (*stream)->read_some(buffer, 500ms);
        if (n && *n > 0) {
          received += *n;
          continue;
        }
        if (!n && n.error().code == "timeout") continue;
        break;
      }
    }
  });
  std::cout << Json{{"listening", true}}.dump() << std::endl;
  std::this_thread::sleep_for(std::chrono::seconds(std::stol(a.at(1))));
  (*listener)->stop();
  acceptor.join();
  std::ofstream(a.at(2))
      << Json{{"bytes", received.load()}, {"connections", connections.load()}}.dump();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() < 2) {
    std::cerr << "usage: hostile_client send|flood|declare|hold|idle|call|listen ENDPOINT ...\n";
    return 2;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  try {
    if (args[0] == "send") return cmd_send(rest);
    if (args[0] == "flood") return cmd_flood(rest);
    if (args[0] == "declare") return cmd_declare(rest);
    if (args[0] == "hold") return cmd_hold(rest);
    if (args[0] == "idle") return cmd_idle(rest);
    if (args[0] == "call") return cmd_call(rest);
    if (args[0] == "listen") return cmd_listen(rest);
  } catch (const std::exception& e) {
    std::cerr << "hostile_client: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "hostile_client: unknown command " << args[0] << "\n";
  return 2;
}
