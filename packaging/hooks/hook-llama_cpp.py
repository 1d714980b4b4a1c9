"""PyInstaller hook: llama_cpp loads libllama and libggml* with ctypes from llama_cpp/lib,
which PyInstaller's import analysis cannot see. Its headers and the vendored llama.cpp
sources are not needed at run time, so only the shared libraries are collected."""

from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp")
