// Editing a PATH-style list ("C:\a;C:\b"): the MSI puts the install folder on the machine PATH
// and takes it off again (hangard setup). Plain strings, so the rules are tested on every OS.
#pragma once

#include <string>
#include <string_view>

namespace hangar::service {

// True when `list` has `dir` as an entry. Entries compare like Windows paths: ASCII case
// ignored, a trailing backslash and surrounding quotes or blanks ignored.
bool path_list_contains(std::string_view list, std::string_view dir);
// `list` with `dir` appended, or unchanged when it is already there; never an empty entry.
std::string path_list_with(std::string_view list, std::string_view dir);
// `list` without any entry equal to `dir`; the other entries keep their order and spelling.
std::string path_list_without(std::string_view list, std::string_view dir);

}  // namespace hangar::service
