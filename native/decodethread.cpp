// Runs every llama_decode of the process on one persistent thread.
//
// Why: llama.cpp's CPU backend, built with OpenMP as its own tools are, starts one OpenMP thread
// team per calling thread. koffi runs `.async` calls on libuv's worker threads (four by
// default), so decodes issued from JavaScript land on up to four different threads and make up
// to four teams. With more OpenMP threads than cores, libgomp stops spin-waiting at its barriers
// and sleeps on a futex at every graph sync point: on stories260K, 20 chunks of 512, quanteval
// made ~10,000 futex calls against llama-perplexity's ~3,800 and ran at 0.92x its speed on an
// idle 2-core machine (0.99x with one libuv thread; bench/README.md). Routing every decode
// through this one thread gives one team, as in llama-perplexity, whichever libuv thread the
// call came from. Decodes are serialised, which is also what one set of cores can run well.
//
// Loaded with koffi (src/backends/decodeThread.ts), built at first use with the system C++
// compiler by src/util/nativeBuild.ts. No llama.h is needed: llama_decode is looked up with
// dlsym in the already loaded libllama, and the batch is passed through as the bytes koffi
// laid out (struct llama_batch, checked against llama.h in src/backends/llamaStructs.ts).
#include <dlfcn.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

namespace {

// struct llama_batch of the pinned llama.cpp: int32 n_tokens, then six pointers.
struct Batch {
  int32_t n_tokens;
  void* token;
  void* embd;
  void* pos;
  void* n_seq_id;
  void* seq_id;
  void* logits;
};
using DecodeFn = int32_t (*)(void*, Batch);

struct Job {
  void* ctx;
  Batch batch;
  int32_t rc;
  bool done;
};

DecodeFn decode_fn = nullptr;
// Never destroyed: the worker may still wait on them while the process exits.
std::mutex* mu = new std::mutex();
std::condition_variable* cv = new std::condition_variable();
Job* pending = nullptr;

void worker() {
  std::unique_lock<std::mutex> lk(*mu);
  for (;;) {
    cv->wait(lk, [] { return pending != nullptr && !pending->done; });
    Job* j = pending;
    lk.unlock();
    const int32_t rc = decode_fn(j->ctx, j->batch);
    lk.lock();
    j->rc = rc;
    j->done = true;
    pending = nullptr;
    cv->notify_all();
  }
}

}  // namespace

extern "C" {

int32_t qe_decodethread_version() { return 1; }

// Finds llama_decode in the libllama already loaded from `path` and starts the thread.
// Returns 0 on success, 1 if the library is not loaded, 2 if it has no llama_decode.
int32_t qe_decode_init(const char* path) {
  static std::once_flag once;
  static int32_t status = 0;
  std::call_once(once, [path] {
    void* h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
    if (h == nullptr) {
      status = 1;
      return;
    }
    decode_fn = reinterpret_cast<DecodeFn>(dlsym(h, "llama_decode"));
    if (decode_fn == nullptr) {
      status = 2;
      return;
    }
    std::thread(worker).detach();
  });
  return status;
}

// llama_decode(ctx, batch), run on the decode thread; waits for any decode in progress first.
int32_t qe_decode(void* ctx, Batch batch) {
  Job j{ctx, batch, 0, false};
  std::unique_lock<std::mutex> lk(*mu);
  cv->wait(lk, [] { return pending == nullptr; });
  pending = &j;
  cv->notify_all();
  cv->wait(lk, [&j] { return j.done; });
  return j.rc;
}

}  // extern "C"
