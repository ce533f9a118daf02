# Cross toolchain for aarch64 Linux with Debian's cross compiler (gcc-aarch64-linux-gnu) and the
# multiarch arm64 -dev packages (libxxhash-dev:arm64 ...), as installed by .ci/cross-aarch64.
#   cmake -S . -B build/aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
# Tests run under qemu-user: CMAKE_CROSSCOMPILING_EMULATOR prefixes every test executable.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(GK_CROSS_TRIPLE aarch64-linux-gnu)

set(CMAKE_C_COMPILER ${GK_CROSS_TRIPLE}-gcc)
set(CMAKE_AR ${GK_CROSS_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${GK_CROSS_TRIPLE}-ranlib CACHE FILEPATH "")
set(CMAKE_STRIP ${GK_CROSS_TRIPLE}-strip CACHE FILEPATH "")

# Debian multiarch: the arm64 libraries live in /usr/lib/aarch64-linux-gnu of the host root, the
# C library in /usr/aarch64-linux-gnu. Search both for libraries and headers, never for programs.
set(CMAKE_FIND_ROOT_PATH /usr/${GK_CROSS_TRIPLE} /)
set(CMAKE_LIBRARY_ARCHITECTURE ${GK_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# pkg-config: only the arm64 .pc files (never the host's), paths as written in them.
set(ENV{PKG_CONFIG_LIBDIR} /usr/lib/${GK_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig)
set(ENV{PKG_CONFIG_PATH} "")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "")

# Run target executables (ctest, try_run) under qemu-user with the arm64 dynamic loader/libs.
find_program(GK_QEMU_AARCH64 NAMES qemu-aarch64 qemu-aarch64-static)
if(GK_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GK_QEMU_AARCH64} -L /)
endif()
