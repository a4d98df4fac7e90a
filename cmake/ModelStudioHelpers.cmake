# Small wrappers that own output folders, warnings and the allowed arrows between targets
# (the habit of Qt Creator's add_qtc_library / add_qtc_test). The arrows are checked: every
# ModelStudio target has a layer, and a DEPENDS that points where its layer may not fails the
# configure step (tests/build/tst_arrows.sh checks that it does).

set(CMAKE_RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/bin")
set(CMAKE_LIBRARY_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")
set(CMAKE_ARCHIVE_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/lib")

function(ms_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  # Not QT_NO_FOREACH here: qcustomplot.h uses foreach; core and the CLI add it themselves.
  target_compile_definitions(${target} PRIVATE QT_NO_CONTEXTLESS_CONNECT)
endfunction()

# The layers and where each may point (docs/architecture.md): app -> ui -> core,
# app -> serve -> core, ui -> serve, plugins -> core | ui. Tests and benches may use anything.
set(MS_ARROWS_core "")
set(MS_ARROWS_serve "core")
set(MS_ARROWS_ui "core;serve")
set(MS_ARROWS_app "ui;serve;core")
set(MS_ARROWS_plugin "core;ui")
set(MS_ARROWS_test "core;serve;ui;app;plugin")
set(MS_ARROWS_bench "core;serve;ui")

# The layer a ModelStudio target (or its ModelStudio:: alias) was declared with, or empty.
function(ms_layer_of out dep)
  set(target "${dep}")
  if(TARGET "${dep}")
    get_target_property(aliased "${dep}" ALIASED_TARGET)
    if(aliased)
      set(target "${aliased}")
    endif()
  endif()
  get_property(layer GLOBAL PROPERTY "MS_LAYER_${target}")
  set(${out} "${layer}" PARENT_SCOPE)
endfunction()

# Links `target` (of `layer`) to the ModelStudio targets in DEPENDS, after checking each arrow.
function(ms_link_checked target layer visibility)
  set_property(GLOBAL PROPERTY "MS_LAYER_${target}" "${layer}")
  foreach(dep IN LISTS ARGN)
    ms_layer_of(dep_layer "${dep}")
    if(NOT dep_layer)
      message(FATAL_ERROR "${target}: DEPENDS ${dep} is not a ModelStudio target (declare it "
                          "with ms_add_library first, or link it with LIBS)")
    endif()
    if(NOT dep_layer IN_LIST MS_ARROWS_${layer})
      message(FATAL_ERROR "${target} (${layer}) may not depend on ${dep} (${dep_layer}): the "
                          "allowed arrows are app -> ui -> core, app -> serve -> core, "
                          "ui -> serve, plugins -> core | ui (docs/architecture.md)")
    endif()
    target_link_libraries(${target} ${visibility} ${dep})
  endforeach()
endfunction()

# Links other libraries (Qt, torch...); a ModelStudio target among them is checked as DEPENDS
# would be, so no arrow slips past the check through LIBS.
function(ms_link_libs target layer visibility)
  foreach(lib IN LISTS ARGN)
    ms_layer_of(lib_layer "${lib}")
    if(lib_layer)
      ms_link_checked(${target} ${layer} ${visibility} ${lib})
    else()
      target_link_libraries(${target} ${visibility} ${lib})
    endif()
  endforeach()
endfunction()

# ms_add_library(NAME ALIAS Namespace::Name LAYER core|serve|ui TYPE SHARED|STATIC
#                SOURCES ... [DEPENDS ModelStudio targets...] [PUBLIC_LIBS ...] [PRIVATE_LIBS ...])
function(ms_add_library name)
  cmake_parse_arguments(ARG "" "ALIAS;LAYER;TYPE" "SOURCES;DEPENDS;PUBLIC_LIBS;PRIVATE_LIBS"
                        ${ARGN})
  add_library(${name} ${ARG_TYPE} ${ARG_SOURCES})
  add_library(${ARG_ALIAS} ALIAS ${name})
  target_include_directories(${name} PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
  ms_link_checked(${name} ${ARG_LAYER} PUBLIC ${ARG_DEPENDS})
  ms_link_libs(${name} ${ARG_LAYER} PUBLIC ${ARG_PUBLIC_LIBS})
  ms_link_libs(${name} ${ARG_LAYER} PRIVATE ${ARG_PRIVATE_LIBS})
  ms_set_warnings(${name})
  if(ARG_TYPE STREQUAL "SHARED")
    set_target_properties(${name} PROPERTIES VERSION ${PROJECT_VERSION} SOVERSION 0)
  endif()
endfunction()

# ms_add_executable(NAME LAYER app|bench SOURCES ... [DEPENDS ...] [LIBS ...])
function(ms_add_executable name)
  cmake_parse_arguments(ARG "" "LAYER" "SOURCES;DEPENDS;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  ms_link_checked(${name} ${ARG_LAYER} PRIVATE ${ARG_DEPENDS})
  ms_link_libs(${name} ${ARG_LAYER} PRIVATE ${ARG_LIBS})
  ms_set_warnings(${name})
endfunction()

# ms_add_test(NAME SOURCES... [DEPENDS ...] [LIBS ...] [LABELS ...] [TIMEOUT s])
# One Qt Test executable per unit, run by CTest on the offscreen platform with a home of its
# own (HOME and the XDG folders under the build tree), so no test touches the user's real
# workspace, settings or caches.
function(ms_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPENDS;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  ms_link_checked(${name} test PRIVATE ${ARG_DEPENDS})
  ms_link_libs(${name} test PRIVATE Qt6::Test ${ARG_LIBS})
  target_include_directories(${name} PRIVATE "${PROJECT_SOURCE_DIR}/tests")
  ms_set_warnings(${name})
  target_compile_definitions(${name} PRIVATE
    MS_TEST_BIN_DIR="${CMAKE_RUNTIME_OUTPUT_DIRECTORY}"
    MS_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)   # generous: a loaded 2-core machine runs the CLI tests 4x slower
  endif()
  set(home "${CMAKE_BINARY_DIR}/test-home/${name}")
  file(MAKE_DIRECTORY "${home}/.local/share" "${home}/.config" "${home}/.cache")
  set_tests_properties(${name} PROPERTIES
    TIMEOUT ${ARG_TIMEOUT}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "QT_QPA_PLATFORM=offscreen;MODELSTUDIO_WORKSPACE=;QT_LOGGING_RULES=qt.qpa.*=false;HOME=${home};XDG_DATA_HOME=${home}/.local/share;XDG_CONFIG_HOME=${home}/.config;XDG_CACHE_HOME=${home}/.cache")
endfunction()

# ms_add_tests(DIR LABEL [DEPENDS ...] [LIBS ...] [NEEDS targets...])
# A test per DIR/tst_*.cpp (globbed: a new unit test is one file), labelled LABEL; NEEDS names
# targets the tests run but do not link (the CLI, plugins).
function(ms_add_tests dir label)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LIBS;NEEDS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/${dir}/tst_*.cpp")
  set(names "")
  foreach(src IN LISTS sources)
    get_filename_component(name "${src}" NAME_WE)
    ms_add_test(${name} SOURCES "${src}" DEPENDS ${ARG_DEPENDS} LIBS ${ARG_LIBS}
                LABELS ${label})
    if(ARG_NEEDS)
      add_dependencies(${name} ${ARG_NEEDS})
    endif()
    list(APPEND names ${name})
  endforeach()
  set(MS_TESTS_${label} "${names}" PARENT_SCOPE)
endfunction()

# Plugins live in lib/modelstudio/plugins relative to the prefix, and the build tree mirrors it
# (bin/ beside lib/modelstudio/plugins), so PluginManager finds them from the executable's
# folder in both without a path compiled in.
set(MS_PLUGIN_SUBDIR "lib/modelstudio/plugins")

# ms_add_plugin(NAME SOURCES... [LIBS ...] [OUTPUT_DIR dir] [NO_INSTALL])
# A Qt plugin (MODULE library) against ModelStudio::Core (a window panel's plugin also names
# ModelStudio::Ui in LIBS: plugins may point at core and ui). OUTPUT_DIR and NO_INSTALL are for
# test plugins that must not land on the default search path.
function(ms_add_plugin name)
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  add_library(${name} MODULE ${ARG_SOURCES})
  ms_link_checked(${name} plugin PRIVATE ModelStudio::Core)
  ms_link_libs(${name} plugin PRIVATE ${ARG_LIBS})
  target_compile_definitions(${name} PRIVATE QT_NO_KEYWORDS QT_NO_FOREACH)
  ms_set_warnings(${name})
  if(NOT ARG_OUTPUT_DIR)
    set(ARG_OUTPUT_DIR "${CMAKE_BINARY_DIR}/${MS_PLUGIN_SUBDIR}")
  endif()
  # No "lib" prefix: the file is named as the plugin, and nothing links against it.
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIR}"
    # Installed next to the core's lib/ folder (the core is normally already loaded by the
    # executable, which satisfies the dependency by its soname anyway).
    INSTALL_RPATH "$ORIGIN/../..")
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION "${MS_PLUGIN_SUBDIR}" COMPONENT Plugins)
  endif()
endfunction()
