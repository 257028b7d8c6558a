# node-gyp build of the CPU addon, for tools that only know node-gyp (electron-rebuild, prebuildify).
# `npm install` does not use it: scripts/build-native.mjs (cmake-js + CMakeLists.txt) is the main
# build and also builds the CUDA/Vulkan variants. Both link node-llama-cpp's prebuilt llama.cpp
# and produce the same build/Release/bge_gguf.node; nothing is downloaded when npm's nodedir is set.
{
  "targets": [
    {
      "target_name": "bge_gguf",
      "sources": ["native/addon.cpp", "native/common.cpp", "native/model.cpp", "native/context.cpp", "native/threadpool.cpp", "native/heads.cpp"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node scripts/llama-source.mjs)/include",
        "<!(node scripts/llama-source.mjs)/ggml/include"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "BGE_GGUF_DYNAMIC_BACKENDS=1"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-fvisibility=hidden"],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
      "libraries": [
        "<!(node scripts/prebuilt.mjs libs-dir)/<!(node scripts/prebuilt.mjs llama-lib)",
        "<!(node scripts/prebuilt.mjs libs-dir)/<!(node scripts/prebuilt.mjs ggml-lib)",
        "<!(node scripts/prebuilt.mjs libs-dir)/libggml-base.so",
        "-Wl,-rpath,<!(node scripts/prebuilt.mjs libs-dir)"
      ]
    }
  ]
}
