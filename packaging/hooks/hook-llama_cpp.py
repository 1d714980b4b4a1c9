"""PyInstaller hook: llama_cpp loads libllama/libggml* with ctypes from llama_cpp/lib,
which PyInstaller's import analysis cannot see."""

from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp")
datas = collect_data_files("llama_cpp")
