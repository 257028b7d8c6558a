// bge_gguf_loader.node: loads node-llama-cpp's llama.cpp libraries by the absolute paths JavaScript
// computed at run time, before the addon that links them is required. The dynamic linker then finds
// the addon's dependencies already loaded (by soname / module name), so no path is baked into the
// addon and the installed folder can move. Handles stay open for the life of the process.
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#include <windows.h>
#else
#include <dlfcn.h>
#endif

static napi_value Fail(napi_env env, const char* what, const char* path) {
  char message[2048];
  snprintf(message, sizeof message, "%s %s", what, path);
  napi_throw_error(env, NULL, message);
  return NULL;
}

static const char* OpenLibrary(const char* path) {
#ifdef _WIN32
  wchar_t wide[4096];
  if (MultiByteToWideChar(CP_UTF8, 0, path, -1, wide, 4096) == 0) return "path too long:";
  return LoadLibraryExW(wide, NULL, LOAD_WITH_ALTERED_SEARCH_PATH) ? NULL : "LoadLibrary failed:";
#else
  if (dlopen(path, RTLD_NOW | RTLD_LOCAL)) return NULL;
  const char* error = dlerror();
  return error ? error : "dlopen failed:";
#endif
}

// preload(paths: string[]): void, in dependency order.
static napi_value Preload(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  uint32_t count = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_array_length(env, argv[0], &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "preload(paths: string[])");
    return NULL;
  }
  for (uint32_t i = 0; i < count; ++i) {
    napi_value item;
    char path[4096];
    size_t length = 0;
    if (napi_get_element(env, argv[0], i, &item) != napi_ok ||
        napi_get_value_string_utf8(env, item, path, sizeof path, &length) != napi_ok || length >= sizeof path - 1) {
      napi_throw_type_error(env, NULL, "preload: every path must be a string shorter than 4095 bytes");
      return NULL;
    }
    const char* error = OpenLibrary(path);
    if (error) return Fail(env, error, error[strlen(error) - 1] == ':' ? path : "");
  }
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  if (napi_create_function(env, "preload", NAPI_AUTO_LENGTH, Preload, NULL, &fn) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "preload", fn);
  return exports;
}
