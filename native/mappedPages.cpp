// llama.cpp maps the whole model file and faults every page in (MAP_POPULATE), then copies most
// weights into other buffers (the CPU backend's repacked AMX/SIMD layouts, or a GPU) and keeps the
// mapping resident beside those copies: all-MiniLM-L6-v2 Q8_0 on an AMX Xeon held its 23 MiB mapped
// next to 12 MiB repacked, and a 7B model would hold twice its size. The mapping is read-only and
// shared, so dropping its resident pages (MADV_DONTNEED) loses nothing: they stay in the page cache,
// and what decodes still read through the mapping (token embedding rows, norms) faults back in on first use.
#include "mappedPages.h"

#ifdef __linux__
#include <sys/mman.h>

#include <climits>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#endif

namespace bge {

void ReleaseMappedPages(const std::string& path) {
#ifdef __linux__
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return;
  const std::string file(resolved);
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    // start-end perms offset dev inode pathname
    std::istringstream fields(line);
    std::string range, perms, offset, device, inode, name;
    if (!(fields >> range >> perms >> offset >> device >> inode) || !std::getline(fields >> std::ws, name)) continue;
    if (name != file || perms.find('w') != std::string::npos) continue;  // never a writable mapping
    const size_t dash = range.find('-');
    const uintptr_t start = std::strtoull(range.substr(0, dash).c_str(), nullptr, 16);
    const uintptr_t end = std::strtoull(range.substr(dash + 1).c_str(), nullptr, 16);
    if (end > start) madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
#else
  (void)path;
#endif
}

}  // namespace bge
