# Every external dependency is found here, once. All of them are Debian packages that
# scripts/setup.sh installs.
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)

# A torch translation unit costs 10-20 s here: ccache makes rebuilds nearly free.
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
endif()

set(CMAKE_AUTOMOC ON)
set(CMAKE_AUTORCC ON)

# Gui without Widgets: the imagefolder plugin reads PNG/JPEG with QImage even in a CLI-only build.
set(MS_QT_COMPONENTS Core Gui Sql Concurrent Network)
if(MODELSTUDIO_BUILD_GUI)
  list(APPEND MS_QT_COMPONENTS Widgets PrintSupport Svg)
endif()
if(MODELSTUDIO_BUILD_TESTS)
  list(APPEND MS_QT_COMPONENTS Test)
endif()
find_package(Qt6 6.4 REQUIRED COMPONENTS ${MS_QT_COMPONENTS})

# Debian's libtorch-dev: /usr/lib/x86_64-linux-gnu/cmake/Torch
find_package(Torch REQUIRED)

if(MODELSTUDIO_BUILD_GUI)
  find_package(QCustomPlotQt6 REQUIRED)
endif()

find_package(ZLIB REQUIRED)
# libzip-dev: TorchServe .mar archives (core/export). Through pkg-config: Debian 12's
# libzip-config.cmake also declares the zipcmp/zipmerge tools of libzip-tools and fails
# without them.
# libdlib-dev: the sweep's model-based sampler (dlib::global_function_search, core/optimize).
# The library alone: its CMake target also links PNG, JPEG, BLAS, LAPACK and SQLite into
# whatever uses it, none of which the sampler calls.
find_library(MS_DLIB_LIBRARY NAMES dlib REQUIRED)
# glog (libgoogle-glog-dev, which libtorch-dev depends on): LibTorch's c10d logs through it, and
# core/train/Distributed.cpp quiets it where the studio's own messages say what happened.
find_library(MS_GLOG_LIBRARY NAMES glog REQUIRED)
# c10d's ProcessGroupGloo.hpp includes Gloo's headers (libgloo-dev).
find_path(MS_GLOO_INCLUDE_DIR gloo/config.h REQUIRED)
find_path(MS_DLIB_INCLUDE_DIR dlib/global_optimization.h REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(LIBZIP REQUIRED IMPORTED_TARGET libzip)
# libsentencepiece-dev: the spm-bpe and spm-unigram tokenizers of language models, linked only
# by the module core/spm (never by a studio binary: core/spm/SpmApi.h says why).
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
