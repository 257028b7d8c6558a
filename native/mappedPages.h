// Releasing the resident pages of a model file's mapping once llama.cpp has loaded it (mappedPages.cpp).
#pragma once

#include <string>

namespace bge {

// Drops this process's resident pages of every mapping of `path` (Linux; elsewhere nothing).
void ReleaseMappedPages(const std::string& path);

}  // namespace bge
