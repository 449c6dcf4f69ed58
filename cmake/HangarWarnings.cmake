# Warnings applied to every Hangar target through hangar_warnings (an interface library).
add_library(hangar_warnings INTERFACE)
if(MSVC)
  target_compile_options(hangar_warnings INTERFACE /W4 /permissive- /utf-8)
  if(HANGAR_WERROR)
    target_compile_options(hangar_warnings INTERFACE /WX)
  endif()
else()
  target_compile_options(hangar_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                                                   -Wnon-virtual-dtor -Wconversion -Wsign-conversion
                                                   -Wno-missing-field-initializers)
  if(HANGAR_WERROR)
    target_compile_options(hangar_warnings INTERFACE -Werror)
  endif()
endif()
