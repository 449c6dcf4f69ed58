// POSIX trust checks on the data directory, the config file and the logs (see trust.h).
#include "../trust.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace hangar::service {

namespace {

std::string account(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  std::string text = "uid " + std::to_string(uid);
  if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) == 0 && found) {
    text += std::string(" (") + found->pw_name + ")";
  }
  return text;
}

bool trusted_owner(uid_t uid) { return uid == 0 || uid == ::geteuid(); }

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

core::Error untrusted(std::string message) {
  return core::make_error("untrusted_path", std::move(message));
}

// One path, no links followed: its owner, and its write bits (`itself`: the path hangard uses,
// which may not be writable by others even with the sticky bit).
core::Status check_one(const std::filesystem::path& path, const struct stat& st, bool itself,
                       std::string_view what, const std::filesystem::path& used) {
  const std::string role = itself ? std::string(what) + " " + path.string()
                                  : "directory " + path.string() + " (above the " +
                                        std::string(what) + " " + used.string() + ")";
  if (!trusted_owner(st.st_uid)) {
    return untrusted(role + " belongs to " + account(st.st_uid) + ", not to root or " +
                     account(::geteuid()) +
                     " (the service's account): another user could have prepared it; give it to "
                     "root or the service's account (chown), or choose another path");
  }
  const bool sticky_directory = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0 && (itself || !sticky_directory)) {
    return untrusted(role + " may be written by " +
                     ((st.st_mode & S_IWOTH) ? std::string("every user") : "its group") +
                     " (mode " + octal(st.st_mode) +
                     "): another user could change it; remove that (chmod go-w)");
  }
  return {};
}

core::Status check_chain(const std::filesystem::path& used, std::string_view what, int links) {
  std::error_code ec;
  const std::filesystem::path absolute = std::filesystem::absolute(used, ec).lexically_normal();
  if (ec) return untrusted("cannot resolve " + used.string() + ": " + ec.message());
  bool itself = true;
  for (std::filesystem::path path = absolute;; path = path.parent_path()) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
      return untrusted("cannot check " + path.string() + ": " + std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      // The link itself lives in the directory checked next; what it points to is checked too.
      if (links > 8) return untrusted(used.string() + ": too many symbolic links");
      const std::filesystem::path target = std::filesystem::canonical(path, ec);
      if (ec) return untrusted("cannot resolve " + path.string() + ": " + ec.message());
      if (!trusted_owner(st.st_uid)) {
        return untrusted("link " + path.string() + " (on the way to the " + std::string(what) +
                         " " + used.string() + ") belongs to " + account(st.st_uid) +
                         ", not to root or the service's account");
      }
      if (auto status = check_chain(target, what, links + 1); !status) return status;
    } else if (auto status = check_one(path, st, itself, what, used); !status) {
      return status;
    }
    itself = false;
    if (path == path.root_path() || path.parent_path() == path) break;
  }
  return {};
}

}  // namespace

core::Status check_trusted_path(const std::filesystem::path& path, std::string_view what) {
  return check_chain(path, what, 0);
}

core::Status check_trusted_directory(const std::filesystem::path& dir, std::string_view what) {
  if (auto status = check_trusted_path(dir, what); !status) return status;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0) continue;  // gone meanwhile
    if (!trusted_owner(st.st_uid)) {
      return untrusted(std::string(what) + " " + dir.string() + " holds " +
                       it->path().filename().string() + ", which belongs to " + account(st.st_uid) +
                       ": another user put it there; hangard uses nothing it did not make. "
                       "Remove it (or give it to root) and start again");
    }
  }
  if (ec) return untrusted("cannot list " + dir.string() + ": " + ec.message());
  return {};
}

}  // namespace hangar::service
