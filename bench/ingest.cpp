// bench/ingest: `hangar import` of a generated hash CSV into hangard vs sqlite3's .import of it.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_support.h"
#include "child_process.h"
#include "hangar/core/hash_builder.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
using hangar::bench::kOems;
using hangar::bench::tail_of;
using hangar::bench::WorkDir;
using namespace std::chrono_literals;

constexpr std::size_t kDefaultDevices = 50000;
// Several alternating runs and their medians: on a shared 2-core VM one run's CPU speed can differ
// from the next by 2x, which a single pair of timings would report as a change in the ratio.
constexpr int kDefaultRuns = 3;
constexpr std::size_t kHashBytes = 4096;  // a real hash is ~4 KB before base64
constexpr double kTargetRatio = 2.0;
constexpr double kTargetServiceRssMb = 64.0;
constexpr const char* kOsBuild = "10.0.22631.2861";

double to_mb(double bytes) { return bytes / (1024.0 * 1024.0); }

struct Finished {
  int code = -1;  // 128+signal when killed
  double seconds = 0;
  double max_rss_mb = 0;
  double cpu_seconds = 0;  // user + system
};

double seconds_of(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}

// Runs a command to completion with stdin from `input` (or /dev/null) and stdout/stderr to `log`.
// wait4 rather than Process::wait: the rusage of this one child gives its peak RSS and CPU time,
// and blocking (no polling) keeps the wall clock exact.
std::optional<Finished> run_to_end(const std::vector<std::string>& argv, const fs::path& log,
                                   const fs::path& input = "/dev/null") {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, input.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    std::cerr << "ingest: cannot start " << argv[0] << ": " << std::strerror(spawned) << "\n";
    return std::nullopt;
  }
  int status = 0;
  rusage usage{};
  while (::wait4(pid, &status, 0, &usage) < 0) {
    if (errno != EINTR) return std::nullopt;
  }
  Finished done;
  done.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  done.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  done.max_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB
  done.cpu_seconds = seconds_of(usage.ru_utime) + seconds_of(usage.ru_stime);
  return done;
}

// Writes the header and one row per device exactly as Get-WindowsAutoPilotInfo does (CRLF, the
// product ID left empty as the current script leaves it). Returns the file's size in bytes.
std::optional<std::uintmax_t> write_csv(const fs::path& path, std::size_t devices) {
  std::ofstream out(path, std::ios::binary);
  out << "Device Serial Number,Windows Product ID,Hardware Hash\r\n";
  char serial[32];
  for (std::size_t i = 0; i < devices; ++i) {
    const hangar::bench::Oem& oem = kOems[i % kOems.size()];
    std::snprintf(serial, sizeof serial, "%s%08zu", oem.serial_prefix, i);
    // A distinct seed per device makes every hash (and its fingerprint) unique.
    out << serial << ",,"
        << hangar::core::HardwareHashBuilder::realistic(serial, oem.manufacturer, oem.model,
                                                        kOsBuild, i + 1, kHashBytes)
               .build_base64()
        << "\r\n";
  }
  out.close();
  if (!out) return std::nullopt;
  return fs::file_size(path);
}

// A /proc/<pid>/status field in kB ("VmHWM:  12345 kB"), as MB.
std::optional<double> proc_status_mb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(field + ":", 0) == 0) {
      return std::stod(line.substr(field.size() + 1)) / 1024.0;
    }
  }
  return std::nullopt;
}

// User + system CPU seconds a still-running process has used, from /proc/<pid>/stat.
double proc_cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The command name may hold spaces; the fields after its closing parenthesis do not.
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int index = 0; fields >> field && index <= 12; ++index) {
    if (index == 11 || index == 12) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// CPU seconds the whole machine (every core) has been busy, from /proc/stat. The difference to the
// measured processes' own CPU time shows whether something else competed for the 2 cores.
double machine_busy_seconds() {
  std::ifstream in("/proc/stat");
  std::string cpu;
  double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  return (user + nice + system + irq + softirq + steal) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// The database file and its -wal/-shm companions, without logs or lock files beside them.
double database_mb(const fs::path& database) {
  std::uintmax_t total = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(database.parent_path(), ec)) {
    if (entry.path().filename().string().rfind(database.filename().string(), 0) == 0 &&
        entry.is_regular_file(ec)) {
      total += entry.file_size(ec);
    }
  }
  return to_mb(static_cast<double>(total));
}

struct Arguments {
  std::size_t devices = kDefaultDevices;
  int runs = kDefaultRuns;
  bool keep = false;
};

std::optional<long long> positive_number(const std::string& text) {
  try {
    std::size_t used = 0;
    const long long n = std::stoll(text, &used);
    if (used == text.size() && n >= 1) return n;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

std::optional<Arguments> parse_arguments(int argc, char** argv) {
  Arguments parsed;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--keep") {
      parsed.keep = true;
    } else if (arg == "--devices" && i + 1 < argc) {
      auto n = positive_number(argv[++i]);
      if (!n) return std::nullopt;
      parsed.devices = static_cast<std::size_t>(*n);
    } else if (arg == "--runs" && i + 1 < argc) {
      auto n = positive_number(argv[++i]);
      if (!n || *n > 100) return std::nullopt;
      parsed.runs = static_cast<int>(*n);
    } else {
      return std::nullopt;
    }
  }
  return parsed;
}

// A loopback TCP port that refuses connections while this object lives: bound, never listening, so
// nobody else can take it. hangard's registration engine is pointed there, which keeps the run an
// import and nothing else (the engine stays offline) even when a hangar-cloudsim from the demo
// listens on the default cloud URL.
class RefusingPort {
 public:
  RefusingPort() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof address;
    if (fd_ >= 0 && ::bind(fd_, reinterpret_cast<sockaddr*>(&address), size) == 0 &&
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
      port_ = ntohs(address.sin_port);
    }
  }
  ~RefusingPort() {
    if (fd_ >= 0) ::close(fd_);
  }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const { return port_; }

 private:
  int fd_;
  int port_ = 0;
};

struct HangarFigures {
  Finished cli;
  double other_cpu_seconds = 0;  // busy CPU time not spent by hangar or hangard
  double service_cpu_seconds = 0;
  double service_ready_rss_mb = 0;  // VmRSS once it answers ping, before the import
  double service_peak_rss_mb = 0;
};

struct SqliteFigures {
  Finished shell;
  double other_cpu_seconds = 0;
  double database_mb = 0;
};

// The durable queue's side: the real CLI reads, validates and sends; the real service validates
// again and inserts. Failures are reported here and return nothing.
std::optional<HangarFigures> measure_hangar(const fs::path& dir, const fs::path& csv,
                                            std::size_t devices) {
  const std::string endpoint = (dir / "hangar.sock").string();
  const fs::path data_dir = dir / "data";
  const fs::path service_log = dir / "hangard.out";
  RefusingPort offline;
  if (offline.port() == 0) {
    std::cerr << "ingest: cannot reserve a loopback port: " << std::strerror(errno) << "\n";
    return std::nullopt;
  }
  hangar::test::Process service(
      {HANGAR_BENCH_HANGARD, "--data-dir", data_dir.string(), "--endpoint", endpoint, "--log-level",
       "warn", "--cloud-url", "http://127.0.0.1:" + std::to_string(offline.port())},
      service_log);
  // The service is always stopped the way an operator stops it, so its shutdown path runs too.
  struct Stop {
    hangar::test::Process& service;
    ~Stop() {
      service.signal(SIGTERM);
      if (!service.wait(10s)) std::cerr << "ingest: hangard did not stop within 10 s\n";
    }
  } stop{service};
  if (!service.started()) {
    std::cerr << "ingest: cannot start " << HANGAR_BENCH_HANGARD << "\n";
    return std::nullopt;
  }

  const fs::path ping_log = dir / "ping.out";
  bool ready = false;
  for (int attempt = 0; attempt < 200 && !ready && service.running(); ++attempt) {
    auto ping = run_to_end({HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "ping"}, ping_log);
    if (!ping) return std::nullopt;
    ready = ping->code == 0;
    if (!ready) std::this_thread::sleep_for(50ms);
  }
  if (!ready) {
    std::cerr << "ingest: hangard did not answer ping\n" << tail_of(service_log);
    return std::nullopt;
  }

  HangarFigures figures;
  figures.service_ready_rss_mb = proc_status_mb(service.pid(), "VmRSS").value_or(0);
  const double cpu_before = proc_cpu_seconds(service.pid());
  const double busy_before = machine_busy_seconds();
  const fs::path import_log = dir / "import.out";
  auto cli = run_to_end({HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "import", csv.string(),
                         "--profile", "standard"},
                        import_log);
  if (!cli) return std::nullopt;
  if (cli->code != 0) {
    std::cerr << "ingest: hangar import exited with " << cli->code << "\n"
              << tail_of(import_log) << "\nhangard:\n"
              << tail_of(service_log);
    return std::nullopt;
  }
  figures.cli = *cli;
  figures.service_cpu_seconds = proc_cpu_seconds(service.pid()) - cpu_before;
  figures.other_cpu_seconds =
      machine_busy_seconds() - busy_before - cli->cpu_seconds - figures.service_cpu_seconds;
  // Read before stopping: the high-water mark is gone once the process is reaped.
  auto hwm = proc_status_mb(service.pid(), "VmHWM");
  if (!hwm) {
    std::cerr << "ingest: no VmHWM in /proc/" << service.pid() << "/status\n";
    return std::nullopt;
  }
  figures.service_peak_rss_mb = *hwm;

  // The exit code says the CLI saw no error; the queue depth says every device is really stored.
  const fs::path status_log = dir / "status.out";
  auto status =
      run_to_end({HANGAR_BENCH_HANGAR, "--endpoint", endpoint, "--json", "status"}, status_log);
  if (!status || status->code != 0) {
    std::cerr << "ingest: hangar status failed\n" << tail_of(status_log);
    return std::nullopt;
  }
  const auto reply = nlohmann::json::parse(hangar::test::read_file(status_log), nullptr, false);
  const auto depth = reply.is_object() ? reply.value("queue_depth", std::int64_t{-1}) : -1;
  if (depth != static_cast<std::int64_t>(devices)) {
    std::cerr << "ingest: queue depth after the import is " << depth << ", expected " << devices
              << "\n"
              << tail_of(import_log);
    return std::nullopt;
  }
  return figures;
}

// The baseline: the sqlite3 shell loads the same file into a table of the devices table's shape,
// with the pragmas the store uses, in the single transaction .import opens.
std::optional<SqliteFigures> measure_sqlite(const fs::path& dir, std::size_t devices,
                                            const std::string& script) {
  fs::create_directories(dir / "plain");
  const fs::path database = dir / "plain" / "devices.db";
  const fs::path script_path = dir / "import.sql";
  std::ofstream(script_path) << script;
  const fs::path log = dir / "sqlite3.out";
  const double busy_before = machine_busy_seconds();
  auto shell = run_to_end({"sqlite3", "-bail", database.string()}, log, script_path);
  const double busy_after = machine_busy_seconds();
  if (!shell || shell->code != 0) {
    std::cerr << "ingest: sqlite3 .import failed (is the sqlite3 shell installed?)\n"
              << tail_of(log);
    return std::nullopt;
  }
  SqliteFigures figures;
  figures.shell = *shell;
  figures.other_cpu_seconds = busy_after - busy_before - shell->cpu_seconds;
  figures.database_mb = database_mb(database);

  const fs::path count_log = dir / "count.out";
  auto count =
      run_to_end({"sqlite3", database.string(), "SELECT count(*) FROM devices;"}, count_log);
  const std::string rows = hangar::test::read_file(count_log);
  if (!count || count->code != 0 || std::strtoull(rows.c_str(), nullptr, 10) != devices) {
    std::cerr << "ingest: sqlite3 holds " << rows << " row(s), expected " << devices << "\n"
              << tail_of(log);
    return std::nullopt;
  }
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  const auto arguments = parse_arguments(argc, argv);
  if (!arguments) {
    std::cerr
        << "usage: ingest [--devices N] [--runs R] [--keep]\n"
           "  --devices N  devices in the generated CSV (default "
        << kDefaultDevices
        << ")\n"
           "  --runs R     alternating hangar/sqlite3 runs, medians reported (default "
        << kDefaultRuns
        << ")\n"
           "  --keep       keep the work directory (CSV, logs, databases) and print its path\n";
    return 2;
  }
  const std::size_t devices = arguments->devices;
  WorkDir dir("hangar-ingest-", arguments->keep);
  const fs::path csv = dir.path() / "devices.csv";
  const auto generate_start = std::chrono::steady_clock::now();
  auto csv_bytes = write_csv(csv, devices);
  if (!csv_bytes) {
    std::cerr << "ingest: cannot write " << csv << "\n";
    return 1;
  }
  const double generate_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - generate_start).count();

  const std::string script =
      "PRAGMA journal_mode = WAL;\n"
      "PRAGMA synchronous = NORMAL;\n"
      "CREATE TABLE devices (serial TEXT NOT NULL COLLATE NOCASE UNIQUE,\n"
      "  product_id TEXT, hardware_hash TEXT);\n"
      ".mode csv\n"
      ".import --skip 1 \"" +
      csv.string() + "\" devices\n";

  std::printf(
      "ingest: %zu devices, %zu-byte hashes (base64 in the file), CSV %.1f MB, "
      "generated in %.1f s\n",
      devices, kHashBytes, to_mb(static_cast<double>(*csv_bytes)), generate_seconds);
  std::printf(
      "hangar : hangar import FILE --profile standard against a fresh hangard: the CLI\n"
      "         parses and validates every row and hash, sends batches of 250 over a\n"
      "         Unix socket; hangard decodes and validates again, checks serial and hash\n"
      "         duplicates and inserts each batch (row + history) in one transaction.\n"
      "         Its registration engine runs offline (--cloud-url is a refusing port).\n");
  std::printf("sqlite3: sqlite3 -bail FILE.db < script, one transaction, no validation:\n");
  std::istringstream lines(script);
  for (std::string line; std::getline(lines, line);) std::printf("           %s\n", line.c_str());
  std::fflush(stdout);

  const auto per_second = [&](double seconds) { return static_cast<double>(devices) / seconds; };
  std::printf("\n%3s | %8s %9s %8s %8s | %8s %9s %8s | %6s | %s\n", "run", "hangar s", "devices/s",
              "CLI CPU", "svc CPU", "sqlite s", "devices/s", "CPU", "ratio",
              "other CPU (hangar/sqlite3)");
  std::vector<double> hangar_seconds, sqlite_seconds, ratios;
  double service_ready_rss = 0, service_rss = 0, cli_rss = 0, sqlite_rss = 0, hangar_disk = 0,
         sqlite_disk = 0;
  for (int run = 1; run <= arguments->runs; ++run) {
    // Each run starts from an empty queue and an empty database, so every run inserts N devices.
    const fs::path run_dir = dir.path() / ("run-" + std::to_string(run));
    fs::create_directories(run_dir);
    auto hangar = measure_hangar(run_dir, csv, devices);
    if (!hangar) return 1;
    // Measured once hangard has stopped and folded its write-ahead log back into the file.
    hangar_disk = database_mb(run_dir / "data" / "hangar.db");
    auto sqlite = measure_sqlite(run_dir, devices, script);
    if (!sqlite) return 1;
    sqlite_disk = sqlite->database_mb;
    if (!arguments->keep) {
      std::error_code ec;
      fs::remove_all(run_dir, ec);
    }

    const Finished& cli = hangar->cli;
    const Finished& shell = sqlite->shell;
    hangar_seconds.push_back(cli.seconds);
    sqlite_seconds.push_back(shell.seconds);
    ratios.push_back(cli.seconds / shell.seconds);
    service_ready_rss = std::max(service_ready_rss, hangar->service_ready_rss_mb);
    service_rss = std::max(service_rss, hangar->service_peak_rss_mb);
    cli_rss = std::max(cli_rss, cli.max_rss_mb);
    sqlite_rss = std::max(sqlite_rss, shell.max_rss_mb);
    std::printf("%3d | %8.2f %9.0f %8.2f %8.2f | %8.2f %9.0f %8.2f | %5.2fx | %.2f / %.2f\n", run,
                cli.seconds, per_second(cli.seconds), cli.cpu_seconds, hangar->service_cpu_seconds,
                shell.seconds, per_second(shell.seconds), shell.cpu_seconds, ratios.back(),
                hangar->other_cpu_seconds, sqlite->other_cpu_seconds);
    std::fflush(stdout);
  }

  const double hangar_median = median(hangar_seconds);
  const double sqlite_median = median(sqlite_seconds);
  const double ratio = median(ratios);
  std::printf(
      "\n(CPU in seconds, user + system; svc = hangard during the import; other = CPU the rest of\n"
      " the machine used meanwhile, other processes and kernel writeback, near 0 when quiet)\n");
  std::printf("\nmedian of %d run(s):\n", arguments->runs);
  std::printf("  hangar import     %7.2f s  %7.0f devices/s   on disk %6.1f MB\n", hangar_median,
              per_second(hangar_median), hangar_disk);
  std::printf("  sqlite3 .import   %7.2f s  %7.0f devices/s   on disk %6.1f MB\n", sqlite_median,
              per_second(sqlite_median), sqlite_disk);
  std::printf(
      "  ratio (hangar / sqlite3, median of the runs' ratios): %.2fx   target <= %.1fx: %s\n",
      ratio, kTargetRatio, ratio <= kTargetRatio ? "met" : "MISSED");
  std::printf("  hangard peak RSS (VmHWM, max over runs): %.1f MB   target < %.0f MB: %s\n",
              service_rss, kTargetServiceRssMb,
              service_rss < kTargetServiceRssMb ? "met" : "MISSED");
  std::printf("  hangard RSS when ready, before the import (VmRSS): %.1f MB\n", service_ready_rss);
  std::printf("  hangar CLI peak RSS (wait4 maxrss): %.1f MB;  sqlite3 shell: %.1f MB\n", cli_rss,
              sqlite_rss);
  return 0;
}
