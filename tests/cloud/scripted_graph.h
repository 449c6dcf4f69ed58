// The scripted transport and the GraphClient fixture shared by the Graph client's tests
// (graph_client_test.cpp, graph_reads_test.cpp, cloud_error_test.cpp).
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <nlohmann/json.hpp>

#include "hangar/cloud/graph_client.h"

namespace hangar::cloud::graphtest {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Every request must be expected, in order; an unexpected one fails the test.
class ScriptedTransport final : public HttpTransport {
 public:
  struct Step {
    std::string method;
    std::string url_prefix;
    core::Result<HttpResponse> answer;
  };

  void expect(std::string method, std::string url_prefix, int status, std::string body = "{}",
              std::map<std::string, std::string> headers = {}) {
    HttpResponse response{status, std::move(headers), std::move(body)};
    steps_.push_back({std::move(method), std::move(url_prefix), response});
  }
  void expect_failure(std::string method, std::string url_prefix, std::string code) {
    steps_.push_back(
        {std::move(method), std::move(url_prefix), core::make_error(std::move(code), "boom")});
  }
  void expect_token(std::string token = "tok-1", int expires_in = 3600) {
    expect(
        "POST", "https://login.example/tenant-1/oauth2/v2.0/token", 200,
        Json{{"access_token", token}, {"expires_in", expires_in}, {"token_type", "Bearer"}}.dump());
  }

  core::Result<HttpResponse> send(const HttpRequest& request,
                                  std::chrono::milliseconds timeout) override {
    sent.push_back(request);
    timeouts.push_back(timeout);
    if (steps_.empty()) {
      ADD_FAILURE() << "unexpected request " << request.method << " " << request.url;
      return core::make_error(kErrNetwork, "unexpected");
    }
    Step step = std::move(steps_.front());
    steps_.pop_front();
    EXPECT_EQ(request.method, step.method);
    EXPECT_EQ(request.url.rfind(step.url_prefix, 0), 0u)
        << request.url << " does not start with " << step.url_prefix;
    return step.answer;
  }

  bool done() const { return steps_.empty(); }
  std::vector<HttpRequest> sent;
  std::vector<std::chrono::milliseconds> timeouts;  // each request's, in order

 private:
  std::deque<Step> steps_;
};

inline constexpr const char* kGraph = "https://graph.example/beta";

class GraphClientTest : public ::testing::Test {
 protected:
  std::unique_ptr<GraphClient> make() {
    GraphConfig config;
    config.authority_url = "https://login.example/";
    config.graph_url = kGraph;
    config.tenant_id = "tenant-1";
    config.client_id = "client-1";
    config.client_secret = "s3cret value&more";
    auto client = GraphClient::create(config, transport_, clock_);
    EXPECT_TRUE(client.ok()) << client.error().message;
    return std::move(client).value();
  }
  void TearDown() override { EXPECT_TRUE(transport_.done()) << "expected requests were not made"; }

  ScriptedTransport transport_;
  core::FakeClock clock_;
};

}  // namespace hangar::cloud::graphtest
