// An HttpTransport that hands requests straight to CloudSim::handle, the pipeline hangar-cloudsim
// serves over HTTP: the real GraphClient against the simulated cloud without sockets, for tests
// and bench/activity. Header names are lower-cased both ways, as an HTTP stack would present them.
#pragma once

#include <cctype>
#include <chrono>
#include <string>
#include <vector>

#include "hangar/cloud/graph_client.h"
#include "hangar/cloud/http.h"
#include "hangar/cloudsim/service.h"

namespace hangar::test {

// The GraphClient settings for the simulator's default tenant and app, reached at `origin`.
inline cloud::GraphConfig sim_graph_config(const std::string& origin) {
  cloud::GraphConfig graph;
  graph.authority_url = origin;
  graph.graph_url = origin + "/beta";
  graph.tenant_id = "11111111-1111-4111-8111-111111111111";
  graph.client_id = "22222222-2222-4222-8222-222222222222";
  graph.client_secret = "hangar-cloudsim-secret";
  return graph;
}

class SimTransport final : public cloud::HttpTransport {
 public:
  // `origin` ("http://127.0.0.1:9") is what the client's URLs start with; it is never dialled.
  SimTransport(cloudsim::CloudSim& sim, std::string origin)
      : sim_(sim), origin_(std::move(origin)) {}

  core::Result<cloud::HttpResponse> send(const cloud::HttpRequest& request,
                                         std::chrono::milliseconds) override {
    urls.push_back(request.method + " " + request.url);
    cloudsim::HttpRequest in;
    in.method = request.method;
    in.target = request.url.substr(origin_.size());
    for (const auto& [name, value] : request.headers) in.headers[lower(name)] = value;
    in.headers["host"] = origin_.substr(origin_.find("://") + 3);
    in.body = request.body;
    const auto started = std::chrono::steady_clock::now();
    const cloudsim::HttpResponse out = sim_.handle(in);
    sim_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    cloud::HttpResponse response;
    response.status = out.status;
    for (const auto& [name, value] : out.headers) response.headers[lower(name)] = value;
    response.body = out.body;
    return response;
  }

  std::vector<std::string> urls;  // "GET https://..." for every request, in order
  double sim_seconds = 0;         // time spent inside the simulator (the cloud's share)

 private:
  static std::string lower(std::string text) {
    for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return text;
  }
  cloudsim::CloudSim& sim_;
  std::string origin_;
};

}  // namespace hangar::test
